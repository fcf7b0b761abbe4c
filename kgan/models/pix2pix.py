"""Pix2pix: a conditional GAN from label maps to images, trained with `fit`."""

import keras
import tensorflow as tf

from kgan import losses as gan_losses
from kgan.layers.scaling_gate import ScalingGate
from kgan.models.adversarial import AdversarialModel


@keras.saving.register_keras_serializable(package="kgan")
class Pix2Pix(AdversarialModel):
    """Image-to-image translation with an adversarial and an L1 loss.

    `fit` takes `(conditions, images)` batches. The generator minimises
    `-log D(c, G(c)) + l1_weight * mean|x - G(c)|` plus its own losses (the
    L1 penalty of scaling gates, when slimming); the discriminator
    minimises half the binary cross-entropy of real and generated pairs, as
    in pix2pix. `freeze_discriminator()` stops the discriminator's updates
    (and its BatchNorm statistics), for the Compact GAN's generator-only
    retraining.

    Args:
        generator: A Keras model from conditions to images in [-1, 1].
        discriminator: A Keras model from `[condition, image]` to logits
            (one per patch for a PatchGAN).
        l1_weight: Weight of the L1 reconstruction loss. Defaults to 100.
        **kwargs: Other `AdversarialModel` arguments (`ema`, `seed`) and
            base `keras.Model` keyword arguments such as `name`.

    Reference:
        - Isola et al., "Image-to-Image Translation with Conditional
          Adversarial Networks", CVPR 2017.
    """

    def __init__(self, generator, discriminator, l1_weight=100.0, **kwargs):
        if not isinstance(l1_weight, (int, float)) or l1_weight < 0:
            raise ValueError(
                "`l1_weight` must be a non-negative number. "
                f"Received: l1_weight={l1_weight!r}"
            )
        super().__init__(generator, discriminator, **kwargs)
        self.l1_weight = float(l1_weight)
        self.discriminator_frozen = False
        self.gate_optimizer = None
        self.track_losses("d_loss", "g_loss", "g_adversarial", "g_l1")
        self.built = True  # both networks are built models

    def freeze_discriminator(self, frozen=True):
        """Stops (or resumes) training the discriminator.

        A frozen discriminator keeps every weight, BatchNorm statistics
        included, yet judges as it did in training: its BatchNorm layers
        still normalise with the statistics of each batch, and the moving
        statistics that this updates are put back after every step.
        (Setting `trainable = False` instead would switch its BatchNorm to
        the moving statistics: a different function, which the generator
        quickly learns to fool.)
        """
        self.discriminator_frozen = bool(frozen)
        self.train_function = None  # trace again: the step changes

    def use_gate_optimizer(self, optimizer):
        """Updates the factors of the generator's `ScalingGate`s with
        `optimizer` and its other weights with the generator optimizer, so
        that the gates can learn at their own rate while slimming. `None`
        goes back to one optimizer. Not saved with the model."""
        self.gate_optimizer = optimizer
        self.train_function = None
        if optimizer is not None and not optimizer.built:
            optimizer.build(self._gate_variables())

    def _gate_variables(self):
        return [
            layer.scale
            for layer in self.generator.layers
            if isinstance(layer, ScalingGate) and layer.trainable
        ]

    def _apply_generator_gradients(self, gradients, variables):
        if self.gate_optimizer is None:
            self.g_optimizer.apply(gradients, variables)
            return
        gate_ids = {id(variable) for variable in self._gate_variables()}
        pairs = list(zip(gradients, variables, strict=True))
        for optimizer, is_gate in (
            (self.gate_optimizer, True),
            (self.g_optimizer, False),
        ):
            chosen = [(g, v) for g, v in pairs if (id(v) in gate_ids) == is_gate]
            if chosen:
                optimizer.apply(*zip(*chosen, strict=True))

    def train_step(self, data):
        conditions, real, _ = keras.utils.unpack_x_y_sample_weight(data)
        if real is None:
            raise ValueError(
                "Pix2Pix batches are (conditions, images) pairs. "
                f"Received: conditions alone, of shape {tuple(conditions.shape)}"
            )
        train_discriminator = not self.discriminator_frozen
        if not train_discriminator:
            statistics = self.discriminator.non_trainable_variables
            saved = [tf.identity(v.value) for v in statistics]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(conditions, training=True)
            fake_logits = self.discriminator([conditions, fake], training=True)
            adversarial = tf.reduce_mean(
                gan_losses.non_saturating_generator(fake_logits)
            )
            l1 = tf.reduce_mean(tf.abs(tf.cast(real, fake.dtype) - fake))
            g_loss = (
                adversarial
                + self.l1_weight * tf.cast(l1, "float32")
                + self.regularization(self.generator)
            )
            if train_discriminator:
                real_logits = self.discriminator([conditions, real], training=True)
                per_example = gan_losses.bce_discriminator(real_logits, fake_logits)
                d_loss = 0.5 * tf.reduce_mean(per_example) + self.regularization(
                    self.discriminator
                )
        g_vars = self.generator.trainable_variables
        self._apply_generator_gradients(g_tape.gradient(g_loss, g_vars), g_vars)
        if self.ema is not None:
            self.update_ema()
        losses = {"g_loss": g_loss, "g_adversarial": adversarial, "g_l1": l1}
        if train_discriminator:
            d_vars = self.discriminator.trainable_variables
            self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
            losses["d_loss"] = d_loss
        else:
            for variable, value in zip(statistics, saved, strict=True):
                variable.assign(value)
        logs = self.record_losses(**losses)
        if not train_discriminator:  # its tracker holds no step of this fit
            del logs["d_loss"]
        return logs

    def get_config(self):
        config = super().get_config()
        config["l1_weight"] = self.l1_weight
        return config


class GeneratorTrainer:
    """The Compact GAN's trainings of generators against one discriminator.

    Calling it retrains a generator against the discriminator frozen (see
    `Pix2Pix.freeze_discriminator`); `train_jointly` trains both, as GAN
    training does (the paper's Eq. (2) phase). The trainer works on its own
    copy of the discriminator, so the one passed in is never changed; the
    joint phase updates the copy, and the retraining that follows judges
    with it.

    Args:
        discriminator: A trained pix2pix discriminator.
        l1_weight: Weight of pix2pix's L1 loss (as in the trained run).
    """

    def __init__(self, discriminator, l1_weight=100.0):
        self.discriminator = keras.models.clone_model(discriminator)
        self.discriminator.set_weights(discriminator.get_weights())
        self.l1_weight = l1_weight

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
        trainer = Pix2Pix(generator, self.discriminator, l1_weight=self.l1_weight)
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
        """Trains `generator` for `steps` on `(conditions, images)` batches
        against the frozen discriminator; returns the last losses.
        `gate_optimizer` updates its gates, if it has any (see
        `Pix2Pix.use_gate_optimizer`)."""
        if steps == 0:
            return {}
        trainer = self._trainer(generator, optimizer, gate_optimizer=gate_optimizer)
        trainer.freeze_discriminator()
        return self._fit(trainer, data, steps, callbacks, verbose)

    def train_jointly(
        self, generator, data, steps, optimizer, d_optimizer, gate_optimizer=None,
        verbose=0,
    ):  # fmt: skip
        """Trains `generator` and the discriminator copy together for `steps`,
        as in GAN training; returns the last losses."""
        if steps == 0:
            return {}
        trainer = self._trainer(generator, optimizer, d_optimizer, gate_optimizer)
        return self._fit(trainer, data, steps, (), verbose)


def frozen_discriminator_trainer(discriminator, l1_weight=100.0):
    """The Compact GAN's retraining: a `GeneratorTrainer` on `discriminator`.

    It is what `kgan.compress.slim` and `magnitude_prune` take: a callable
    `train_generator(generator, data, steps, optimizer, callbacks=(),
    verbose=0)` that trains `generator` against the frozen discriminator
    and returns the last losses, with `train_jointly` for the joint gate
    phase.
    """
    return GeneratorTrainer(discriminator, l1_weight)
