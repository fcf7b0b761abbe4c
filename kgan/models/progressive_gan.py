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
        seed=None,
        **kwargs,
    ):
        super().__init__(ema=ema, seed=seed, **kwargs)
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
        self.track_losses("d_loss", "g_loss", "gp")
        self.set_phase(Phase(4, False, 0.0, float("inf")))
        self.built = True

    # ------------------------------------------------------------------ setup
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

        The next `fit` traces a new train function for this level.
        """
        self.phase = phase
        self.train_function = None

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
        config.update({"gp_weight": self.gp_weight, "drift": self.drift})
        return config
