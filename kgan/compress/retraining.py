"""The Compact GAN's trainings of a generator against one discriminator.

The steps are those of a kgan trainer (`GAN`, `Pix2Pix`, any
`AdversarialModel`): its `train_step` with the discriminator learning (the
gate phase, the paper's Eq. 2) or frozen (the retraining of each smaller
generator). `trainer_for` picks the trainer from the networks' shapes.
"""

import keras
import tensorflow as tf

from kgan.models.gan import GAN
from kgan.models.pix2pix import Pix2Pix


class GeneratorTrainer:
    """Trains generators against one discriminator, with a kgan trainer's steps.

    Calling it retrains a generator against the discriminator frozen (see
    `AdversarialModel.freeze_discriminator`); `make_trainer(generator,
    trainer.discriminator)` gives the trainer of both, as slimming's gate
    phase uses it. It works on its own copy of the discriminator, so the
    one passed in is never changed; a joint phase updates the copy, and the
    retraining that follows judges with it.

    Args:
        discriminator: The trained discriminator.
        make_trainer: `fn(generator, discriminator) -> AdversarialModel`,
            e.g. `lambda g, d: Pix2Pix(g, d, l1_weight=100.0)`.
        latent_dim: Size of the generator's latent vectors, or `None` for
            a conditional generator, whose batches are `(conditions,
            images)` pairs (else images alone).
    """

    def __init__(self, discriminator, make_trainer, latent_dim=None):
        self.discriminator = keras.models.clone_model(discriminator)
        self.discriminator.set_weights(discriminator.get_weights())
        self.make_trainer = make_trainer
        self.latent_dim = latent_dim

    @property
    def conditional(self):
        return self.latent_dim is None

    def generator_inputs(self, data, seed=0):
        """The generator's inputs for `data`'s batches: their conditions,
        or one batch of normal latent vectors each (seeded by `seed` and the
        batch's index)."""
        if self.conditional:
            return data.map(lambda conditions, _: conditions)
        return data.enumerate().map(
            lambda index, images: tf.random.stateless_normal(
                (tf.shape(images)[0], self.latent_dim),
                seed=tf.stack([tf.constant(seed, tf.int64), index]),
            )
        )

    def _fit(self, trainer, data, steps, callbacks, verbose):
        history = trainer.fit(
            data,
            steps_per_epoch=steps,
            epochs=1,
            callbacks=list(callbacks),
            verbose=verbose,
        )
        return {name: float(values[-1]) for name, values in history.history.items()}

    def _trainer(self, generator, g_optimizer, d_optimizer=None, gate_optimizer=None):
        trainer = self.make_trainer(generator, self.discriminator)
        trainer.compile(g_optimizer=g_optimizer, d_optimizer=d_optimizer)
        trainer.use_gate_optimizer(gate_optimizer)
        return trainer

    def __call__(
        self,
        generator,
        data,
        steps,
        optimizer,
        callbacks=(),
        verbose=0,
        gate_optimizer=None,
    ):
        """Trains `generator` for `steps` batches against the frozen
        discriminator; returns the last losses. `gate_optimizer` updates its
        gates, if it has any (see `AdversarialModel.use_gate_optimizer`)."""
        if steps == 0:
            return {}
        trainer = self._trainer(generator, optimizer, gate_optimizer=gate_optimizer)
        trainer.freeze_discriminator()
        return self._fit(trainer, data, steps, callbacks, verbose)


def check_trainer(train_generator):
    """Fails clearly when a network is passed where the retraining callable
    belongs (`slim` and `magnitude_prune` once took the discriminator)."""
    if isinstance(train_generator, keras.Model) or not callable(train_generator):
        raise TypeError(
            "Pass the generator's retraining as a callable, e.g. "
            "`kgan.compress.retraining.pix2pix_trainer(discriminator)`. "
            f"Received: train_generator={type(train_generator).__name__}"
        )


def pix2pix_trainer(discriminator, l1_weight=100.0):
    """A `GeneratorTrainer` with pix2pix's steps: batches of
    `(conditions, images)`, the adversarial loss plus `l1_weight` times L1."""
    return GeneratorTrainer(
        discriminator,
        lambda generator, d: Pix2Pix(generator, d, l1_weight=l1_weight),
    )


def gan_trainer(discriminator, latent_dim, loss="non_saturating"):
    """A `GeneratorTrainer` with the GAN's steps: batches of images, noise of
    `latent_dim` drawn for the generator, `loss` as in `kgan.models.GAN`."""
    return GeneratorTrainer(
        discriminator,
        lambda generator, d: GAN(generator, d, latent_dim=latent_dim, loss=loss),
        latent_dim,
    )


def _shape(shape):
    return tuple(shape[1:])


def trainer_for(generator, discriminator, l1_weight=100.0, loss="non_saturating"):
    """The `GeneratorTrainer` for a pair of networks, chosen by their shapes.

    A generator of latent vectors `(batch, n)` whose discriminator takes its
    images trains as a GAN (`loss`); a generator of images from condition
    maps whose discriminator takes `[condition, image]` trains as pix2pix
    (`l1_weight`).
    """
    for name, network in (("generator", generator), ("discriminator", discriminator)):
        if not isinstance(network, keras.Model):
            raise TypeError(
                f"The {name} must be a Keras model. "
                f"Received: {name}={type(network).__name__}"
            )
    if len(generator.inputs) != 1 or len(generator.outputs) != 1:
        raise ValueError(
            "The generator must take one input and make one output. Received: "
            f"generator with {len(generator.inputs)} inputs and "
            f"{len(generator.outputs)} outputs"
        )
    made = _shape(generator.output_shape)
    takes = [_shape(t.shape) for t in discriminator.inputs]
    condition = _shape(generator.input_shape)
    if len(condition) == 1:
        if takes != [made]:
            raise ValueError(
                f"The discriminator must take the generator's images {made}. "
                f"Received: discriminator inputs={takes}"
            )
        return gan_trainer(discriminator, condition[0], loss)
    if takes != [condition, made]:
        raise ValueError(
            "A conditional generator's discriminator must take "
            f"[condition {condition}, image {made}]. "
            f"Received: discriminator inputs={takes}"
        )
    return pix2pix_trainer(discriminator, l1_weight)


def check_batches(data, generator, conditional):
    """Raises unless `data` is a `tf.data.Dataset` of the batches the
    generator's training takes: images of its output shape, or
    `(conditions, images)` pairs."""
    if not isinstance(data, tf.data.Dataset):
        raise TypeError(
            f"The data must be a tf.data.Dataset. Received: data={type(data).__name__}"
        )
    spec = data.element_spec
    image = _shape(generator.output_shape)
    if conditional:
        expected = (_shape(generator.input_shape), image)
        shapes = (
            tuple(_shape(s.shape) for s in spec)
            if isinstance(spec, tuple) and len(spec) == 2
            else None
        )
    else:
        expected = image
        shapes = _shape(spec.shape) if isinstance(spec, tf.TensorSpec) else None
    if shapes != expected:
        what = "(conditions, images) pairs" if conditional else "batches of images"
        raise ValueError(
            f"The data must hold {what} of shapes (batch, ...) {expected}. "
            f"Received: element_spec={spec}"
        )
