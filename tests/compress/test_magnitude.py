import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.compress.magnitude import (
    MagnitudePruning,
    apply_masks,
    magnitude_masks,
    magnitude_prune,
    polynomial_sparsity,
    prunable_kernels,
    zero_share,
)
from kgan.compress.retraining import pix2pix_trainer
from kgan.data.road_scenes import one_hot, road_scenes
from kgan.export import compare, to_litert
from kgan.models.pix2pix_networks import patch_discriminator, unet_generator

SIZE = 16


def _kernels(model):
    return {
        k: keras.ops.convert_to_numpy(v) for k, v in prunable_kernels(model).items()
    }


def test_masks_drop_the_smallest_share_of_each_kernel():
    keras.utils.set_random_seed(0)
    model = unet_generator(SIZE, filters=4, max_filters=8)
    kernels = _kernels(model)
    masks = magnitude_masks(model, 0.75)
    assert set(masks) == set(kernels)
    for name, kernel in kernels.items():
        mask = masks[name]
        assert mask.shape == kernel.shape
        assert (~mask).sum() == int(0.75 * kernel.size)
        assert np.abs(kernel[~mask]).max() <= np.abs(kernel[mask]).min()
    apply_masks(model, masks)
    for name, kernel in _kernels(model).items():
        np.testing.assert_array_equal(kernel[~masks[name]], 0.0)
        np.testing.assert_array_equal(kernel[masks[name]], kernels[name][masks[name]])
    total = sum(k.size for k in kernels.values())
    zeros = sum(int(0.75 * k.size) for k in kernels.values())
    assert np.isclose(zero_share(model), zeros / total)


def test_polynomial_schedule_matches_tfmot_formula():
    assert polynomial_sparsity(0, 0.8, 100) == 0.0
    assert np.isclose(polynomial_sparsity(50, 0.8, 100), 0.8 * (1 - 0.5**3))
    assert polynomial_sparsity(100, 0.8, 100) == 0.8
    assert polynomial_sparsity(150, 0.8, 100) == 0.8
    assert polynomial_sparsity(0, 0.8, 0) == 0.8


def test_callback_keeps_pruned_weights_at_zero_during_fit():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(0.1), "mse")
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(zero_share(model))

    pruning = MagnitudePruning(model, 0.5, end_step=6, frequency=2)
    model.fit(
        x, x[:, :1], batch_size=8, epochs=2, verbose=0, callbacks=[pruning, Record()]
    )
    # The schedule exactly: masks updated at steps 0, 2, 4 and 6 to the
    # polynomial sparsity, each kernel (8x16 and 16x1) losing its share, and
    # kept between updates (Adam revives nothing).
    expected = []
    for step in range(16):
        share = polynomial_sparsity(min(step, 6) // 2 * 2, 0.5, 6)
        expected.append((int(share * 128) + int(share * 16)) / 144)
    np.testing.assert_allclose(seen, expected)
    assert np.isclose(zero_share(model), (64 + 8) / 144)


def test_magnitude_prune_fine_tunes_a_sparse_copy(tmp_path):
    keras.utils.set_random_seed(0)
    generator = unet_generator(SIZE, filters=8, max_filters=16)
    discriminator = patch_discriminator(SIZE, filters=4, downsamplings=2)
    original = [w.numpy().copy() for w in generator.weights]
    frozen = [w.numpy().copy() for w in discriminator.weights]
    labels, images = road_scenes(16, SIZE, seed=0)
    data = (
        tf.data.Dataset.from_tensor_slices(
            (one_hot(labels), images.astype("float32") / 127.5 - 1.0)
        )
        .batch(8)
        .repeat()
    )
    train = pix2pix_trainer(discriminator)
    pruned = magnitude_prune(generator, train, data, 0.8, steps=6)
    assert pruned.count_params() == generator.count_params()
    assert abs(zero_share(pruned) - 0.8) < 0.01
    # The surviving weights were fine-tuned, not only masked.
    before, after = _kernels(generator), _kernels(pruned)
    for name, kernel in after.items():
        alive = kernel != 0
        assert not np.allclose(kernel[alive], before[name][alive]), name
    for old, new in zip(original, generator.weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())
    for old, new in zip(frozen, discriminator.weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())
    dense = to_litert(pruned, tmp_path / "dense.tflite")
    sparse = to_litert(pruned, tmp_path / "sparse.tflite", sparse=True)
    assert sparse.stat().st_size < dense.stat().st_size
    assert compare(sparse, pruned, n=2)["max_abs_diff"] < 1e-4


@pytest.mark.parametrize("sparsity", [1.0, -0.1, "half"])
def test_bad_sparsity(sparsity):
    model = unet_generator(SIZE, filters=4, max_filters=8)
    with pytest.raises(ValueError, match=f"sparsity={sparsity!r}"):
        magnitude_masks(model, sparsity)
