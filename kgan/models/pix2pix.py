"""Pix2pix: a conditional GAN from label maps to images, trained with `fit`."""

import keras
import tensorflow as tf

from kgan import losses as gan_losses
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
    retraining (see `AdversarialModel.freeze_discriminator`).

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
        self.track_losses("d_loss", "g_loss", "g_adversarial", "g_l1")
        self.built = True  # both networks are built models

    def train_step(self, data):
        conditions, real, _ = keras.utils.unpack_x_y_sample_weight(data)
        if real is None:
            raise ValueError(
                "Pix2Pix batches are (conditions, images) pairs. "
                f"Received: conditions alone, of shape {tuple(conditions.shape)}"
            )
        train_discriminator = not self.discriminator_frozen
        if not train_discriminator:
            saved = self.discriminator_statistics()
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
        self.apply_generator_gradients(g_tape.gradient(g_loss, g_vars), g_vars)
        if self.ema is not None:
            self.update_ema()
        losses = {"g_loss": g_loss, "g_adversarial": adversarial, "g_l1": l1}
        if train_discriminator:
            d_vars = self.discriminator.trainable_variables
            self.d_optimizer.apply(d_tape.gradient(d_loss, d_vars), d_vars)
            losses["d_loss"] = d_loss
        else:
            self.restore_discriminator_statistics(saved)
        logs = self.record_losses(**losses)
        if not train_discriminator:  # its tracker holds no step of this fit
            del logs["d_loss"]
        return logs

    def get_config(self):
        config = super().get_config()
        config["l1_weight"] = self.l1_weight
        return config
