"""The Progressive GAN's networks: every resolution's layers, built once and
shared by the generator and discriminator of each level of detail."""

import math

import keras
from keras import layers

from kgan.layers import (
    EqualizedConv2D,
    EqualizedDense,
    FadeIn,
    MinibatchStdDev,
    PixelNormalization,
)
from kgan.models.networks import check_power_of_two

SQRT_2 = math.sqrt(2.0)


def resolution_levels(resolution):
    """The resolutions a Progressive GAN grows through: 4, 8, ..., `resolution`.

    Args:
        resolution: The final resolution, a power of two of at least 8.
    """
    check_power_of_two("resolution", resolution)
    return [2**k for k in range(2, int(math.log2(resolution)) + 1)]


def filters_at(resolution, fmap_base=1024, fmap_max=128):
    """PGGAN's feature maps at a resolution: `min(fmap_base / 2^stage,
    fmap_max)` with stage `log2(resolution) - 1`."""
    stage = int(math.log2(resolution)) - 1
    return max(1, min(int(fmap_base / 2.0**stage), fmap_max))


class ProgressiveNetworks:
    """The layers of a Progressive GAN for every resolution up to the final
    one, and the generator and discriminator of each level.

    Generator: z -> (pixel norm) -> dense to 4x4 -> 3x3 conv, then per
    level: nearest upsampling -> two 3x3 convs; every conv and dense is
    followed by LeakyReLU(0.2) and pixel norm; a 1x1 toRGB per level gives the
    (linear) image. Discriminator: a 1x1 fromRGB per level; per level two 3x3
    convs and 2x2 average pooling; at 4x4: minibatch stddev -> 3x3 conv ->
    dense -> dense to one score. While level `r` fades in, the images of the
    level below are upsampled (generator) or the input downsampled
    (discriminator) and blended with a `FadeIn` layer.

    The model of a level holds only the layers of that level and below, so
    a step at a low resolution costs what that resolution costs.

    Args:
        resolution: Final resolution (power of two, at least 8).
        channels: Image channels.
        latent_dim: Size of z; defaults to the 4x4 feature maps.
        fmap_base: Feature-map budget; `filters_at` divides it per level.
            The default 1024 (128 maps up to 16 px, 64 at 32 px) is sized
            for 32 px data on a CPU; the paper's 1024 px networks use 8192
            with `fmap_max` 512.
        fmap_max: Most feature maps of any layer.
        pixel_norm: Use pixelwise feature normalization in the generator.
        minibatch_stddev: Use the minibatch stddev layer in the discriminator.
        equalized: Use equalized learning rate layers (else plain layers with
            He initialisation), for the paper's ablations.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018, table 2.
    """

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
    ):
        self.levels = resolution_levels(resolution)
        if not isinstance(channels, int) or channels <= 0:
            raise ValueError(
                "`channels` must be a positive integer. "
                f"Received: channels={channels!r}"
            )
        self.resolution = resolution
        self.channels = channels
        self.fmap_base = fmap_base
        self.fmap_max = fmap_max
        self.latent_dim = latent_dim or self.filters(4)
        self.pixel_norm = pixel_norm
        self.minibatch_stddev = minibatch_stddev
        self.equalized = equalized
        self._layers = {}
        self._models = {}
        # Build every level once, so that all weights exist from the start
        # (optimizers and moving averages see the full set).
        for level in self.levels:
            self.generator(level, fade=level > 4)
            self.discriminator(level, fade=level > 4)

    @property
    def config(self):
        """The constructor arguments, e.g. to build an identical copy."""
        return {
            "resolution": self.resolution,
            "channels": self.channels,
            "latent_dim": self.latent_dim,
            "fmap_base": self.fmap_base,
            "fmap_max": self.fmap_max,
            "pixel_norm": self.pixel_norm,
            "minibatch_stddev": self.minibatch_stddev,
            "equalized": self.equalized,
        }

    def filters(self, resolution):
        return filters_at(resolution, self.fmap_base, self.fmap_max)

    # ------------------------------------------------------------- layers
    def _layer(self, name, make):
        if name not in self._layers:
            self._layers[name] = make()
        return self._layers[name]

    def _conv(self, name, filters, kernel_size, gain=SQRT_2, activation="leaky_relu"):
        def make():
            if self.equalized:
                return EqualizedConv2D(
                    filters, kernel_size, gain=gain, activation=activation, name=name
                )
            return layers.Conv2D(
                filters,
                kernel_size,
                padding="same",
                activation=activation,
                kernel_initializer=_he_normal(gain),
                name=name,
            )

        return self._layer(name, make)

    def _dense(self, name, units, gain=SQRT_2, activation="leaky_relu"):
        def make():
            if self.equalized:
                return EqualizedDense(
                    units, gain=gain, activation=activation, name=name
                )
            return layers.Dense(
                units,
                activation=activation,
                kernel_initializer=_he_normal(gain),
                name=name,
            )

        return self._layer(name, make)

    def _norm(self, x):
        return PixelNormalization()(x) if self.pixel_norm else x

    def fade_layers(self, resolution):
        """The generator's and the discriminator's `FadeIn` of a level."""
        self._check_level(resolution, fading=True)
        return (
            self._layer(
                f"g_{resolution}_fade", lambda: FadeIn(name=f"g_{resolution}_fade")
            ),
            self._layer(
                f"d_{resolution}_fade", lambda: FadeIn(name=f"d_{resolution}_fade")
            ),
        )

    @property
    def all_layers(self):
        """Every weighted layer, in a fixed order (by name)."""
        return [self._layers[name] for name in sorted(self._layers)]

    # ------------------------------------------------------------- models
    def generator(self, resolution, fade=False):
        """The generator of one level: z -> image of `resolution` px.

        Args:
            resolution: One of `self.levels`.
            fade: Blend in the level below through the level's `FadeIn`
                (not for 4 px).
        """
        self._check_level(resolution, fade)
        key = ("g", resolution, fade)
        if key in self._models:
            return self._models[key]
        z = keras.Input((self.latent_dim,), name="z")
        x = self._norm(z)
        f4 = self.filters(4)
        gain = SQRT_2 / 4  # PGGAN's gain of the dense layer to 4x4
        x = self._dense("g_4_dense", 16 * f4, gain=gain)(x)
        x = self._norm(layers.Reshape((4, 4, f4))(x))
        x = self._norm(self._conv("g_4_conv", f4, 3)(x))
        previous = None
        for level in self.levels[1 : self.levels.index(resolution) + 1]:
            previous = x
            x = layers.UpSampling2D(2)(x)
            for i in range(2):
                x = self._norm(
                    self._conv(f"g_{level}_conv{i}", self.filters(level), 3)(x)
                )
        image = self._to_rgb(resolution)(x)
        if fade:
            old = layers.UpSampling2D(2)(self._to_rgb(resolution // 2)(previous))
            image = self.fade_layers(resolution)[0]([old, image])
        model = keras.Model(
            z, image, name=f"generator_{resolution}{'_fade' if fade else ''}"
        )
        self._models[key] = model
        return model

    def discriminator(self, resolution, fade=False):
        """The discriminator of one level: image of `resolution` px -> score.

        Args:
            resolution: One of `self.levels`.
            fade: Blend in the level below through the level's `FadeIn`.
        """
        self._check_level(resolution, fade)
        key = ("d", resolution, fade)
        if key in self._models:
            return self._models[key]
        image = keras.Input((resolution, resolution, self.channels), name="image")
        x = self._from_rgb(resolution)(image)
        for level in reversed(self.levels[1 : self.levels.index(resolution) + 1]):
            x = self._conv(f"d_{level}_conv0", self.filters(level), 3)(x)
            x = self._conv(f"d_{level}_conv1", self.filters(level // 2), 3)(x)
            x = layers.AveragePooling2D(2)(x)
            if fade and level == resolution:
                old = self._from_rgb(level // 2)(layers.AveragePooling2D(2)(image))
                x = self.fade_layers(resolution)[1]([old, x])
        if self.minibatch_stddev:
            x = MinibatchStdDev()(x)
        f4 = self.filters(4)
        x = self._conv("d_4_conv", f4, 3)(x)
        x = self._dense("d_4_dense", f4)(layers.Flatten()(x))
        score = self._dense("d_4_score", 1, gain=1.0, activation=None)(x)
        model = keras.Model(
            image, score, name=f"discriminator_{resolution}{'_fade' if fade else ''}"
        )
        self._models[key] = model
        return model

    def _to_rgb(self, resolution):
        return self._conv(
            f"g_{resolution}_torgb", self.channels, 1, gain=1.0, activation=None
        )

    def _from_rgb(self, resolution):
        return self._conv(f"d_{resolution}_fromrgb", self.filters(resolution), 1)

    def _check_level(self, resolution, fading):
        if resolution not in self.levels:
            raise ValueError(
                f"Expected a resolution in {self.levels}. "
                f"Received: resolution={resolution!r}"
            )
        if fading and resolution == 4:
            raise ValueError(
                "The 4x4 level is the first: nothing fades into it. "
                "Received: resolution=4, fade=True"
            )


def _he_normal(gain):
    # He initialisation with PGGAN's gain: std = gain / sqrt(fan_in).
    return keras.initializers.VarianceScaling(
        scale=gain**2, mode="fan_in", distribution="untruncated_normal"
    )
