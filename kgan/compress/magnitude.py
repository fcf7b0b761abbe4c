"""Unstructured magnitude pruning: the baseline that zeroes single weights.

TensorFlow Model Optimization's `prune_low_magnitude` only accepts legacy
`tf_keras` models, not Keras 3 ones (tensorflow/model-optimization#1119),
so this is the same method written for Keras 3: each kernel's smallest
weights are zeroed on tfmot's polynomial schedule while the network
fine-tunes, and stay zero. The network keeps its shape; whether the zeros
save time is up to the runtime.
"""

import keras
import numpy as np

from kgan.compress.retraining import check_trainer

PRUNABLE = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)


def _check_sparsity(sparsity):
    if not isinstance(sparsity, (int, float)) or not 0.0 <= sparsity < 1.0:
        raise ValueError(
            f"`sparsity` must be in [0, 1). Received: sparsity={sparsity!r}"
        )


def prunable_kernels(model):
    """`{layer name: kernel variable}` of the model's convolutions and dense layers."""
    return {
        layer.name: layer.kernel
        for layer in model.layers
        if isinstance(layer, PRUNABLE)
    }


def magnitude_masks(model, sparsity):
    """Per kernel, a boolean mask that is False on its `sparsity` share of
    smallest-magnitude weights (ties broken by position)."""
    _check_sparsity(sparsity)
    masks = {}
    for name, kernel in prunable_kernels(model).items():
        magnitudes = np.abs(keras.ops.convert_to_numpy(kernel)).ravel()
        smallest = np.argsort(magnitudes, kind="stable")[
            : int(sparsity * magnitudes.size)
        ]
        mask = np.ones(magnitudes.size, dtype=bool)
        mask[smallest] = False
        masks[name] = mask.reshape(kernel.shape)
    return masks


def apply_masks(model, masks):
    """Zeroes the masked-out weights of `model`'s kernels, in place."""
    for name, mask in masks.items():
        kernel = model.get_layer(name).kernel
        kernel.assign(keras.ops.where(mask, kernel.value, 0.0))


def zero_share(model):
    """The share of exactly-zero weights over all prunable kernels."""
    kernels = [keras.ops.convert_to_numpy(k) for k in prunable_kernels(model).values()]
    return float(sum((k == 0).sum() for k in kernels) / sum(k.size for k in kernels))


def polynomial_sparsity(step, target, end_step, power=3):
    """tfmot's `PolynomialDecay` from 0: `target * (1 - (1 - step/end)^power)`,
    `target` from `end_step` on."""
    progress = min(max(step / end_step, 0.0), 1.0) if end_step > 0 else 1.0
    return target * (1.0 - (1.0 - progress) ** power)


class MagnitudePruning(keras.callbacks.Callback):
    """Prunes `pruned`'s kernels towards `sparsity` during `fit`.

    Every `frequency` steps up to `end_step` the masks are recomputed at the
    schedule's sparsity; after every step they are applied again, so that
    the optimizer cannot revive a pruned weight.

    Args:
        pruned: The model whose kernels are pruned (for a GAN, its
            generator, not the model being fitted).
        sparsity: Final share of zero weights in every kernel, in [0, 1).
        end_step: Step at which the final sparsity is reached.
        frequency: Steps between mask updates.
    """

    def __init__(self, pruned, sparsity, end_step, frequency=50):
        super().__init__()
        _check_sparsity(sparsity)
        if not isinstance(frequency, int) or frequency < 1:
            raise ValueError(
                "`frequency` must be a positive integer. "
                f"Received: frequency={frequency!r}"
            )
        self.pruned = pruned
        self.sparsity = sparsity
        self.end_step = end_step
        self.frequency = frequency
        self.step = 0
        self.masks = {}

    def on_train_batch_begin(self, batch, logs=None):
        if self.step % self.frequency == 0 and self.step <= self.end_step:
            self.masks = magnitude_masks(
                self.pruned,
                polynomial_sparsity(self.step, self.sparsity, self.end_step),
            )
            apply_masks(self.pruned, self.masks)

    def on_train_batch_end(self, batch, logs=None):
        apply_masks(self.pruned, self.masks)
        self.step += 1

    def on_train_end(self, logs=None):
        # However the steps fell, the model leaves at the final sparsity.
        self.masks = magnitude_masks(self.pruned, self.sparsity)
        apply_masks(self.pruned, self.masks)


def magnitude_prune(
    generator, train_generator, data, sparsity, steps, learning_rate=2e-4, verbose=0
):
    """A copy of `generator` with `sparsity` of every kernel zeroed,
    fine-tuned for `steps` with `train_generator` (as `slim` takes it).

    The sparsity rises on the polynomial schedule over the first two thirds
    of the steps and holds for the rest. `generator` is not changed.
    """
    _check_sparsity(sparsity)
    check_trainer(train_generator)
    pruned = keras.models.clone_model(generator)
    pruned.set_weights(generator.get_weights())
    schedule = MagnitudePruning(pruned, sparsity, end_step=2 * steps // 3)
    train_generator(
        pruned,
        data,
        steps,
        keras.optimizers.Adam(learning_rate, beta_1=0.5),
        callbacks=[schedule],
        verbose=verbose,
    )
    if steps == 0:
        apply_masks(pruned, magnitude_masks(pruned, sparsity))
    return pruned
