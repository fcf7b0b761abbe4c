"""Pix2pix: a conditional GAN from label maps to images, trained with `fit`."""

import keras
import tensorflow as tf

from kgan import losses as gan_losses
from kgan.models.adversarial import AdversarialModel
from kgan.models.gan import _regularization


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
        **kwargs: Base `keras.Model` keyword arguments such as `name`.

    Reference:
        - Isola et al., "Image-to-Image Translation with Conditional
          Adversarial Networks", CVPR 2017.
    """

    def __init__(self, generator, discriminator, l1_weight=100.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(l1_weight, (int, float)) or l1_weight < 0:
            raise ValueError(
                "`l1_weight` must be a non-negative number. "
                f"Received: l1_weight={l1_weight!r}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = float(l1_weight)
        self.discriminator_frozen = False
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "g_adversarial", "g_l1")
        }
        self.built = True  # both networks are built models

    @staticmethod
    def default_optimizer():
        """Pix2pix's Adam: learning rate 2e-4, beta1 0.5."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Configures the two optimizers (pix2pix's Adam when `None`)."""
        super().compile(
            g_optimizer or self.default_optimizer(),
            d_optimizer or self.default_optimizer(),
            **kwargs,
        )

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

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, conditions, training=False):
        return self.generator(conditions, training=training)

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
                + _regularization(self.generator, 1)
            )
            if train_discriminator:
                real_logits = self.discriminator([conditions, real], training=True)
                per_example = gan_losses.bce_discriminator(real_logits, fake_logits)
                d_loss = 0.5 * tf.reduce_mean(per_example) + _regularization(
                    self.discriminator, 1
                )
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply(g_tape.gradient(g_loss, g_vars), g_vars)
        if train_discriminator:
            d_vars = self.discriminator.trainable_variables
            self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
            self.trackers["d_loss"].update_state(d_loss)
        else:
            for variable, value in zip(statistics, saved, strict=True):
                variable.assign(value)
        self.trackers["g_loss"].update_state(g_loss)
        self.trackers["g_adversarial"].update_state(adversarial)
        self.trackers["g_l1"].update_state(l1)
        names = list(self.trackers)[0 if train_discriminator else 1 :]
        return {name: self.trackers[name].result() for name in names}

    def get_config(self):
        config = super().get_config()
        config["l1_weight"] = self.l1_weight
        return config
