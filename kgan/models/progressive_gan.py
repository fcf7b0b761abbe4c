"""The Progressive GAN trainer: WGAN-GP with drift at the current level of
detail, fade-in driven by images shown, and a moving-average generator."""

import keras
import tensorflow as tf

from kgan import losses as gan_losses
from kgan.models.adversarial import AdversarialModel
from kgan.models.progressive import ProgressiveNetworks
from kgan.models.progressive_schedule import Phase


@keras.saving.register_keras_serializable(package="kgan")
class ProgressiveGAN(AdversarialModel):
    """Trains a `ProgressiveNetworks` pair one level at a time with `fit`.

    `set_phase(phase)` selects the level (and whether it fades in); `fit`
    then trains only that level's networks: the train function is traced
    again for each phase, so a step costs what its resolution costs. Real
    batches may come at any resolution that is a multiple of the level's:
    they are average-pooled to the level and, while it fades in, blended with
    their own 2x coarser version as the paper does. The fade-in alpha
    follows the images shown, a variable that checkpoints carry.

    Losses: WGAN-GP (lambda `gp_weight`, target 1, mixing weight U(0, 1) per
    sample) plus `drift * D(real)^2` for the discriminator, `-D(G(z))` for
    the generator. Compile with PGGAN's Adam(1e-3, 0, 0.99, 1e-8) from
    `default_optimizer()`.

    Args:
        resolution: Final resolution (power of two, at least 8).
        channels: Image channels.
        latent_dim: Size of z; defaults to the 4x4 feature maps.
        fmap_base: Feature-map budget of `ProgressiveNetworks`.
        fmap_max: Most feature maps of any layer.
        pixel_norm: Pixelwise feature normalization in the generator.
        minibatch_stddev: Minibatch stddev in the discriminator.
        equalized: Equalized learning rate layers.
        gp_weight: Weight of the gradient penalty. Defaults to 10.
        drift: Weight of the drift penalty. Defaults to 0.001.
        ema: Decay of the moving average of the generator used for samples,
            or `None`. Defaults to 0.999.
        ema_warmup: Warm the average up at each level's start: the decay
            is `min(ema, (1 + t) / (10 + t))` after `t` generator updates at
            the level, so that a new level's average does not keep its
            initial weights for thousands of steps (kgan's option; the
            official code uses a constant decay). Defaults to `False`.
        reset_optimizer_per_level: Zero both Adam optimizers' moments and
            iteration counts whenever a phase (a fade-in or a stable level)
            starts, as the official code's `reset_opt_for_new_lod=True`.
            Defaults to `True`.
        seed: Integer seed of the train-step noise, or `None` for one from
            Keras' global seed.
        **kwargs: Base `keras.Model` keyword arguments such as `name`.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018, sections 2, 3, 4 and A.1.
    """

    network_arguments = ()  # it builds its own networks from its config

    def __init__(
        self,
        resolution=32,
        channels=1,
        latent_dim=None,
        fmap_base=1024,
        fmap_max=128,
        pixel_norm=True,
        minibatch_stddev=True,
        equalized=True,
        gp_weight=10.0,
        drift=0.001,
        ema=0.999,
        ema_warmup=False,
        reset_optimizer_per_level=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(ema=ema, seed=seed, **kwargs)
        self.ema_warmup = bool(ema_warmup)
        self.reset_optimizer_per_level = bool(reset_optimizer_per_level)
        for name, value in (("gp_weight", gp_weight), ("drift", drift)):
            if not value >= 0:
                raise ValueError(
                    f"`{name}` must be non-negative. Received: {name}={value}"
                )
        self.networks = ProgressiveNetworks(
            resolution,
            channels,
            latent_dim,
            fmap_base,
            fmap_max,
            pixel_norm,
            minibatch_stddev,
            equalized,
        )
        self.resolution = resolution
        self.channels = channels
        self.latent_dim = self.networks.latent_dim
        self.latent_shape = (self.latent_dim,)
        self.gp_weight = float(gp_weight)
        self.drift = float(drift)
        # Lists of layers, so that Keras tracks (saves, restores) them all.
        self.network_layers = self.networks.all_layers
        self.ema_networks = None
        self.ema_layers = []
        if ema is not None:
            self.ema_networks = ProgressiveNetworks(**self.networks.config)
            self.ema_layers = self.ema_networks.all_layers
            for average, layer in zip(
                self.ema_layers, self.network_layers, strict=True
            ):
                average.set_weights(layer.get_weights())
        self.images_shown = self.add_weight(
            shape=(),
            dtype="float64",
            initializer="zeros",
            trainable=False,
            name="images_shown",
        )
        # Where the current phase and level began, saved with the model, so
        # that a run resumed inside a phase does not start it again.
        self.generator_updates = self._counter("generator_updates", "int64", 0)
        self.phase_start = self._counter("phase_start", "float64", -1)
        self.level_resolution = self._counter("level_resolution", "int64", 0)
        self.level_start_update = self._counter("level_start_update", "int64", 0)
        self.track_losses("d_loss", "g_loss", "gp")
        self.set_phase(Phase(4, False, 0.0, float("inf")))
        self.built = True

    # ------------------------------------------------------------------ setup
    def _counter(self, name, dtype, value):
        return self.add_weight(
            shape=(),
            dtype=dtype,
            initializer=keras.initializers.Constant(value),
            trainable=False,
            name=name,
        )

    @staticmethod
    def default_optimizer(learning_rate=1e-3):
        """PGGAN's Adam: learning rate 1e-3, beta1 0, beta2 0.99, eps 1e-8."""
        return keras.optimizers.Adam(
            learning_rate, beta_1=0.0, beta_2=0.99, epsilon=1e-8
        )

    # Every level's variables from the start: growing adds no optimizer slots.
    def generator_variables(self):
        return self._variables("g")

    def discriminator_variables(self):
        return self._variables("d")

    def _variables(self, prefix):
        return [
            v
            for layer in self.network_layers
            if layer.name.startswith(f"{prefix}_")
            for v in layer.trainable_variables
        ]

    def set_phase(self, phase):
        """Trains `phase.resolution` from now on, fading it in if `phase.fading`.

        The next `fit` traces a new train function for this level. A phase
        that starts (not one resumed inside) resets the optimizers if
        `reset_optimizer_per_level`, and a new resolution restarts the EMA
        warm-up.
        """
        self.phase = phase
        self.train_function = None
        if phase.start == float(self.phase_start.numpy()):
            return  # the same phase, e.g. after a resume
        self.phase_start.assign(phase.start)
        if self.reset_optimizer_per_level and self.compiled:
            for optimizer in (self.g_optimizer, self.d_optimizer):
                reset_optimizer(optimizer)
        if phase.resolution != int(self.level_resolution.numpy()):
            self.level_resolution.assign(phase.resolution)
            self.level_start_update.assign(self.generator_updates)

    def ema_decay(self):
        if not self.ema_warmup:
            return self.ema
        updates = self.generator_updates - self.level_start_update
        t = tf.cast(updates, tf.float32)
        return tf.minimum(tf.constant(self.ema, tf.float32), (1.0 + t) / (10.0 + t))

    # Methods, not properties: Keras saves the models that attributes hold,
    # and these change with the phase, so their layers would be saved under
    # paths that a model loading at another phase does not have.
    def level_generator(self):
        """The generator of the current level (the one trained)."""
        return self.networks.generator(self.phase.resolution, self.phase.fading)

    def level_discriminator(self):
        """The discriminator of the current level."""
        return self.networks.discriminator(self.phase.resolution, self.phase.fading)

    # ----------------------------------------------------------------- sample
    @property
    def sampler(self):
        """The generator of the current level used for samples: the moving
        average when there is one, without fade at a stable level.

        (Keras visits attributes in name order, so `network_layers` and
        `ema_layers` are saved before this property's model.)"""
        networks = self.ema_networks or self.networks
        return networks.generator(self.phase.resolution, self.phase.fading)

    # ------------------------------------------------------------------ train
    def _real_at_level(self, real, alpha):
        """Average-pools real images to the level; fades them while the
        level fades in (blend with their 2x coarser, upsampled version)."""
        size = real.shape[1]
        level = self.phase.resolution
        if size is None or size % level:
            raise ValueError(
                f"Real images must have a size that is a multiple of {level}. "
                f"Received: images.shape={tuple(real.shape)}"
            )
        real = tf.cast(real, tf.float32)
        if size > level:
            real = tf.nn.avg_pool2d(real, size // level, size // level, "VALID")
        if self.phase.fading:
            coarse = tf.nn.avg_pool2d(real, 2, 2, "VALID")
            coarse = tf.repeat(tf.repeat(coarse, 2, axis=1), 2, axis=2)
            real = coarse + alpha * (real - coarse)
        return real

    def _alpha(self, batch):
        if not self.phase.fading:
            return tf.constant(1.0)
        shown = self.images_shown + tf.cast(batch, tf.float64)
        span = self.phase.end - self.phase.start
        alpha = tf.clip_by_value((shown - self.phase.start) / span, 0.0, 1.0)
        alpha = tf.cast(alpha, tf.float32)
        layers = list(self.networks.fade_layers(self.phase.resolution))
        if self.ema_networks is not None:
            layers += self.ema_networks.fade_layers(self.phase.resolution)
        for layer in layers:
            layer.alpha.assign(alpha)
        return alpha

    def train_step(self, real):
        if isinstance(real, (tuple, list)):
            real = real[0]
        generator, discriminator = self.level_generator(), self.level_discriminator()
        batch = tf.shape(real)[0]
        alpha = self._alpha(batch)
        real = self._real_at_level(real, alpha)

        z = tf.random.stateless_normal(
            (batch, self.latent_dim), seed=self.seed_generator.next()
        )
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            real_scores = tf.cast(discriminator(real, training=True), tf.float32)
            fake_scores = tf.cast(discriminator(fake, training=True), tf.float32)
            mix = tf.random.stateless_uniform((batch,), seed=self.seed_generator.next())
            gp = gan_losses.gradient_penalty(discriminator, real, fake, mix)
            d_loss = tf.reduce_mean(
                gan_losses.wasserstein_discriminator(real_scores, fake_scores)
                + self.gp_weight * gp
                + self.drift * tf.square(real_scores[:, 0])
            )
        d_vars = discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)

        z = tf.random.stateless_normal(
            (batch, self.latent_dim), seed=self.seed_generator.next()
        )
        with tf.GradientTape() as tape:
            fake_scores = discriminator(generator(z, training=True))
            g_loss = tf.reduce_mean(
                gan_losses.wasserstein_generator(tf.cast(fake_scores, tf.float32))
            )
        g_vars = generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
        if self.ema_networks is not None:
            self.update_ema()
        self.generator_updates.assign_add(1)
        self.images_shown.assign_add(tf.cast(batch, tf.float64))

        logs = self.record_losses(d_loss=d_loss, g_loss=g_loss, gp=tf.reduce_mean(gp))
        # Shown by the progress bar: where the growth stands.
        logs["resolution"] = tf.constant(float(self.phase.resolution))
        logs["alpha"] = alpha
        return logs

    def ema_pairs(self):
        level = {id(v) for v in self.level_generator().trainable_variables}
        for average, layer in zip(self.ema_layers, self.network_layers, strict=True):
            for a, w in zip(average.weights, layer.weights, strict=True):
                if id(w) in level:  # only this level's weights move
                    yield a, w

    # ------------------------------------------------------------ serialization
    def get_config(self):
        config = super().get_config()
        config.update(self.networks.config)
        config.update(
            {
                "gp_weight": self.gp_weight,
                "drift": self.drift,
                "ema_warmup": self.ema_warmup,
                "reset_optimizer_per_level": self.reset_optimizer_per_level,
            }
        )
        return config


def reset_optimizer(optimizer):
    """Zeros an optimizer's state (its iteration count and every slot, such
    as Adam's moments), keeping its learning rate."""
    for variable in optimizer.variables:
        if variable.name != "learning_rate":
            variable.assign(keras.ops.zeros_like(variable))
