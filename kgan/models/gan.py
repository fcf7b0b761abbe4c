"""The GAN trainer: a keras.Model whose `train_step` plays the adversarial game."""

import keras
import tensorflow as tf

from kgan import losses as gan_losses
from kgan.models.adversarial import AdversarialModel

UPDATES = ("alternating", "simultaneous")


@keras.saving.register_keras_serializable(package="kgan")
class GAN(AdversarialModel):
    """A generator and a discriminator trained against each other with `fit`.

    `fit` takes batches of real images in the generator's value range, or
    `(images, latents)` pairs where `latents` has shape
    `(batch, d_steps + 1, *latent_shape)`: one latent batch for every
    discriminator step and one for the generator step (`(batch, 1, ...)`
    with the simultaneous update), for experiments that must fix the noise.
    Losses are averaged over the global batch, so a step under
    `tf.distribute.MirroredStrategy` equals the same step on one device.

    Args:
        generator: A Keras model from latent vectors to images.
        discriminator: A Keras model from images to logits.
        latent_dim: Size of the latent vector; `generator.input_shape[1:]`
            must be `(latent_dim,)` unless `latent_shape` is given.
        loss: `"minimax"`, `"non_saturating"` (default), `"wgan_gp"`,
            `"hinge"` or `"lsgan"`.
        d_steps: Discriminator updates per generator update. Defaults to 1.
        ema: Decay of an exponential moving average of the generator's
            weights, e.g. `0.999`, or `None` (no average). When set,
            `generate` and `call` use the averaged generator.
        gp_weight: Weight lambda of the WGAN-GP gradient penalty. Defaults
            to 10.
        update: `"alternating"` (default): each discriminator step draws its
            own fakes and the generator step draws new ones against the
            updated discriminator, as Goodfellow et al.'s algorithm 1.
            `"simultaneous"`: one batch of fakes serves both networks, and
            both gradients are taken before either network is updated (as
            TensorFlow's DCGAN tutorial); it skips one generator and one
            discriminator forward pass per step. Needs `d_steps=1`.
        r1_gamma: Weight gamma of the R1 penalty
            `gamma / 2 * ||grad_x D(x)||^2` on real images (Mescheder et al.
            2018), added to the discriminator loss and logged as `r1`, or
            `None` (default: no penalty).
        latent_shape: Shape of one latent sample when it is not
            `(latent_dim,)` (recurrent generators draw one vector per step).
        seed: Integer seed of the train-step noise, or `None` for one from
            Keras' global seed.
        **kwargs: Base `keras.Model` keyword arguments such as `name`.

    Reference:
        - Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        loss="non_saturating",
        d_steps=1,
        ema=None,
        gp_weight=10.0,
        r1_gamma=None,
        update="alternating",
        latent_shape=None,
        seed=None,
        **kwargs,
    ):
        if not isinstance(latent_dim, int) or latent_dim <= 0:
            raise ValueError(
                "`latent_dim` must be a positive integer. "
                f"Received: latent_dim={latent_dim}"
            )
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(
                f"`d_steps` must be an integer >= 1. Received: d_steps={d_steps}"
            )
        if update not in UPDATES:
            raise ValueError(
                f"Unknown update. Expected one of {UPDATES}. "
                f"Received: update={update!r}"
            )
        if update == "simultaneous" and d_steps != 1:
            raise ValueError(
                "The simultaneous update makes one discriminator step per "
                f"generator step. Received: d_steps={d_steps}"
            )
        super().__init__(generator, discriminator, ema=ema, seed=seed, **kwargs)
        self.latent_dim = latent_dim
        self.loss = gan_losses.check_loss_name(loss)
        self.d_steps = d_steps
        self.update = update
        self.gp_weight = float(gp_weight)
        if r1_gamma is not None and not r1_gamma > 0:
            raise ValueError(
                f"`r1_gamma` must be positive or None. Received: r1_gamma={r1_gamma}"
            )
        self.r1_gamma = None if r1_gamma is None else float(r1_gamma)
        self.latent_shape = tuple(latent_shape) if latent_shape else (latent_dim,)
        expected = tuple(generator.input_shape[1:])
        if expected != self.latent_shape:
            raise ValueError(
                f"The generator takes inputs of shape {expected}, not the latent "
                f"shape {self.latent_shape}. Received: latent_dim={latent_dim}"
            )
        self.image_shape = tuple(generator.output_shape[1:])
        if tuple(discriminator.input_shape[1:]) != self.image_shape:
            raise ValueError(
                f"The generator makes images of shape {self.image_shape} but the "
                "discriminator takes "
                f"{tuple(discriminator.input_shape[1:])}. "
                f"Received: discriminator.input_shape={discriminator.input_shape}"
            )
        extra = (["gp"] if loss == "wgan_gp" else []) + (["r1"] if r1_gamma else [])
        self.track_losses("d_loss", "g_loss", *extra)
        self._d_loss_fn = gan_losses.discriminator_loss(loss)
        self._g_loss_fn = gan_losses.generator_loss(loss)
        self.built = True

    # ------------------------------------------------------------------ train
    def train_step(self, data):
        real, latents = self._unpack(data)
        local_batch = tf.shape(real)[0]
        replicas, global_batch = _global_batch(local_batch)

        def average(per_example):
            return tf.reduce_sum(per_example) / tf.cast(global_batch, tf.float32)

        if self.discriminator_frozen:
            return self._generator_step(latents, local_batch, average, replicas)
        if self.update == "simultaneous":
            z = self._latents(latents, 0, local_batch)
            with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
                fake = self.generator(z, training=True)
                d_loss, fake_logits, penalties = self._d_loss(real, fake, average)
                d_loss += self.regularization(self.discriminator, replicas)
                g_loss = self._g_loss(fake_logits, average, replicas)
            d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_variables)
            g_grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
            self.d_optimizer.apply(d_grads, self.discriminator.trainable_variables)
            self.apply_generator_gradients(g_grads, self.generator.trainable_variables)
        else:
            for step in range(self.d_steps):
                z = self._latents(latents, step, local_batch)
                with tf.GradientTape() as tape:
                    fake = self.generator(z, training=True)
                    d_loss, _, penalties = self._d_loss(real, fake, average)
                    d_loss += self.regularization(self.discriminator, replicas)
                grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
                self.d_optimizer.apply(grads, self.discriminator.trainable_variables)

            z = self._latents(latents, self.d_steps, local_batch)
            with tf.GradientTape() as tape:
                fake_logits = self.discriminator(
                    self.generator(z, training=True), training=True
                )
                g_loss = self._g_loss(fake_logits, average, replicas)
            grads = tape.gradient(g_loss, self.generator.trainable_variables)
            self.apply_generator_gradients(grads, self.generator.trainable_variables)
        if self.ema is not None:
            self.update_ema()

        # Each replica holds its share of the global mean; the trackers
        # average over replicas, so scale the shares back up.
        scale = tf.cast(replicas, tf.float32)
        losses = {"d_loss": d_loss * scale, "g_loss": g_loss * scale}
        losses.update({k: average(v) * scale for k, v in penalties.items()})
        return self.record_losses(**losses)

    def _generator_step(self, latents, local_batch, average, replicas):
        """A step of the generator alone, against the frozen discriminator
        (see `freeze_discriminator`); logs `g_loss` only."""
        saved = self.discriminator_statistics()
        z = self._latents(latents, self.latent_batches - 1, local_batch)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(
                self.generator(z, training=True), training=True
            )
            g_loss = self._g_loss(fake_logits, average, replicas)
        variables = self.generator.trainable_variables
        self.apply_generator_gradients(tape.gradient(g_loss, variables), variables)
        self.restore_discriminator_statistics(saved)
        if self.ema is not None:
            self.update_ema()
        logs = self.record_losses(g_loss=g_loss * tf.cast(replicas, tf.float32))
        return {"g_loss": logs["g_loss"]}

    def _d_loss(self, real, fake, average):
        """The discriminator's loss on `real` and `fake` with its penalties,
        the fakes' logits, and the penalties per example by log name."""
        penalties = {}
        if self.r1_gamma is None:
            real_logits = self.discriminator(real, training=True)
        else:
            penalties["r1"], real_logits = gan_losses.r1_penalty(
                self.discriminator, real
            )
        fake_logits = self.discriminator(fake, training=True)
        per_example = self._d_loss_fn(real_logits, fake_logits)
        if self.r1_gamma is not None:
            per_example += 0.5 * self.r1_gamma * penalties["r1"]
        if self.loss == "wgan_gp":
            alpha = tf.random.stateless_uniform(
                (tf.shape(real)[0],), seed=self._replica_seed()
            )
            penalties["gp"] = gan_losses.gradient_penalty(
                self.discriminator, real, fake, alpha
            )
            per_example += self.gp_weight * penalties["gp"]
        return average(per_example), fake_logits, penalties

    def _g_loss(self, fake_logits, average, replicas):
        return average(self._g_loss_fn(fake_logits)) + self.regularization(
            self.generator, replicas
        )

    def _unpack(self, data):
        if isinstance(data, (tuple, list)) and len(data) > 3:
            raise ValueError(
                "GAN batches are images or (images, latents). "
                f"Received: a tuple of {len(data)} elements"
            )
        # As Keras packs them: `fit(x)`, `fit(x, y)`, `train_on_batch(x)`.
        data, latents, _ = keras.utils.unpack_x_y_sample_weight(data)
        if latents is not None:
            expected = (self.latent_batches,) + self.latent_shape
            if tuple(latents.shape[1:]) != expected:
                raise ValueError(
                    "Latents must have shape "
                    f"(batch, {', '.join(map(str, expected))}): "
                    "one latent batch per discriminator step plus one for the "
                    "generator (one in all with the simultaneous update). "
                    f"Received: latents.shape={tuple(latents.shape)}"
                )
        if tuple(data.shape[1:]) != self.image_shape:
            raise ValueError(
                f"The networks work on images of shape {self.image_shape}. "
                f"Received: images.shape={tuple(data.shape)}"
            )
        return data, latents

    @property
    def latent_batches(self):
        """Latent batches a train step draws: `(batch, latent_batches,
        *latent_shape)` is the shape of `fit`'s explicit latents."""
        return 1 if self.update == "simultaneous" else self.d_steps + 1

    def _latents(self, latents, step, batch):
        if latents is not None:
            return latents[:, step]
        return tf.random.stateless_normal(
            tf.concat([[batch], self.latent_shape], 0), seed=self._replica_seed()
        )

    def _replica_seed(self):
        """A fresh seed that differs between replicas of a strategy."""
        seed = self.seed_generator.next()
        replica = tf.distribute.get_replica_context()
        if replica is None or replica.num_replicas_in_sync == 1:
            return seed
        offset = tf.cast(replica.replica_id_in_sync_group, seed.dtype)
        return seed + tf.stack([tf.zeros_like(offset), offset * 7919])

    # ------------------------------------------------------------ serialization
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "loss": self.loss,
                "d_steps": self.d_steps,
                "ema": self.ema,
                "gp_weight": self.gp_weight,
                "r1_gamma": self.r1_gamma,
                "update": self.update,
                "latent_shape": list(self.latent_shape),
            }
        )
        return config


def _global_batch(local_batch):
    """Returns (replicas in sync, examples in the global batch)."""
    replica = tf.distribute.get_replica_context()
    if replica is None or replica.num_replicas_in_sync == 1:
        return 1, local_batch
    total = replica.all_reduce(tf.distribute.ReduceOp.SUM, local_batch)
    return replica.num_replicas_in_sync, total
