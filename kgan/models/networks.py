"""Generator and discriminator builders: Goodfellow's MLP GAN and Radford's DCGAN."""

import math

import keras
from keras import layers

from kgan.layers import Maxout, ParametricSoftsign, SelfAttention2D

ACTIVATIONS = ("lrelu", "psf")
INITIALIZERS = ("glorot", "dcgan")
PSF_LAYERS = ("all", "most")
DCGAN_SIZES = {28: 7, 32: 4, 64: 4}  # image size -> size of the first feature map


def hidden_activation(name, layer_name=None):
    """A new hidden activation layer: LeakyReLU(0.2) or ParametricSoftsign."""
    if name == "lrelu":
        return layers.LeakyReLU(negative_slope=0.2, name=layer_name)
    if name == "psf":
        return ParametricSoftsign(name=layer_name)
    raise ValueError(
        f"Unknown activation. Expected one of {ACTIVATIONS}. "
        f"Received: activation={name!r}"
    )


def check_power_of_two(name, value, minimum=8):
    """Raises unless `value` is an integer power of two of at least `minimum`."""
    if not isinstance(value, int) or value < minimum or value & (value - 1):
        raise ValueError(
            f"`{name}` must be a power of two of at least {minimum}. "
            f"Received: {name}={value!r}"
        )


def _check_image_shape(image_shape):
    if len(image_shape) != 3 or not all(
        isinstance(d, int) and d > 0 for d in image_shape
    ):
        raise ValueError(
            "`image_shape` must be (height, width, channels) of positive integers. "
            f"Received: image_shape={image_shape}"
        )


def vanilla(
    image_shape=(28, 28, 1),
    latent_dim=100,
    hidden_units=1200,
    discriminator_units=240,
    activation="lrelu",
    dropout=0.5,
    maxout=False,
    pieces=5,
):
    """Goodfellow et al.'s fully connected GAN.

    The generator maps z through two hidden layers of `hidden_units` to a
    tanh image; the discriminator through two hidden layers of
    `discriminator_units` with dropout to one logit. `activation` (LeakyReLU
    or PSF) is used in every hidden layer of both networks, unless `maxout`:
    then the discriminator's hidden layers are maxout layers of `pieces`
    pieces, as in the paper's MNIST model (240 units, 5 pieces).

    Returns:
        `(generator, discriminator)`, two functional Keras models.

    Reference:
        - Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    _check_image_shape(image_shape)
    hidden_activation(activation)  # validates the name early
    pixels = math.prod(image_shape)

    z = keras.Input((latent_dim,), name="z")
    x = z
    for i in range(2):
        x = layers.Dense(hidden_units, name=f"g_dense_{i}")(x)
        x = hidden_activation(activation, f"g_act_{i}")(x)
    x = layers.Dense(pixels, activation="tanh", name="g_out")(x)
    image = layers.Reshape(image_shape, name="g_image")(x)
    generator = keras.Model(z, image, name="vanilla_generator")

    image_in = keras.Input(image_shape, name="image")
    x = layers.Flatten(name="d_flatten")(image_in)
    for i in range(2):
        if maxout:
            x = Maxout(discriminator_units, pieces, name=f"d_maxout_{i}")(x)
        else:
            x = layers.Dense(discriminator_units, name=f"d_dense_{i}")(x)
            x = hidden_activation(activation, f"d_act_{i}")(x)
        x = layers.Dropout(dropout, name=f"d_dropout_{i}")(x)
    logit = layers.Dense(1, name="d_logit")(x)
    discriminator = keras.Model(image_in, logit, name="vanilla_discriminator")
    return generator, discriminator


def dcgan(
    image_shape=(28, 28, 1),
    latent_dim=100,
    width=1.0,
    activation="lrelu",
    base_filters=64,
    synchronized_batchnorm=False,
    refine_layers=0,
    refine_kernel=4,
    initializer="glorot",
    psf_layers="all",
    attention_at=None,
    spectral_norm=False,
    discriminator_units=0,
):
    """Radford et al.'s DCGAN for 28x28, 32x32 and 64x64 images.

    Generator: z -> dense to a 7x7 (28 px) or 4x4 map -> stride-2 transposed
    convolutions with BatchNorm, halving the filters at each step -> tanh.
    Discriminator: stride-2 convolutions doubling the filters (BatchNorm on
    all but the first) -> one logit. `activation` (LeakyReLU 0.2 or PSF) is
    used in every hidden layer of both networks.

    Args:
        image_shape: `(size, size, channels)` with size 28, 32 or 64.
        latent_dim: Size of z.
        width: Multiplier of every layer's filter count.
        activation: `"lrelu"` or `"psf"`.
        base_filters: Filters of the last generator / first discriminator
            convolution before `width` is applied; they double per layer.
        synchronized_batchnorm: Use batch statistics synchronized across the
            replicas of a distribution strategy.
        refine_layers: Stride-1 transposed convolutions (with BatchNorm and
            activation) added to the generator at every resolution below
            the output's, before each upsampling. `0` (default) is
            Radford's generator; at 28 px its two layers leave the digits
            less recognisable, and `kgan train` uses `1`.
        refine_kernel: Kernel size of the refine layers. Defaults to 4,
            the size of the upsampling layers.
        initializer: `"glorot"` (default, Keras's Glorot uniform) or
            `"dcgan"`: every convolution and dense kernel from N(0, 0.02), as
            Radford et al. (BatchNorm keeps gamma 1, beta 0).
        psf_layers: With `activation="psf"`: `"all"` hidden activations are
            PSF, or `"most"`: the discriminator's first activation and the
            generator's projection stay LeakyReLU(0.2), the two that see the
            raw image and the raw latent (kgan's reading of the PSF paper's
            "most of the activations").
        attention_at: A feature-map size (e.g. 14 at 28 px, 16 at 32 px)
            at which both networks get a `SelfAttention2D` layer, after the
            generator's layer that makes maps of that size and after the
            discriminator's convolution that does; `None` (default): none.
        spectral_norm: Wrap every convolution and dense layer of both
            networks in `keras.layers.SpectralNormalization`, as SAGAN (the
            generator keeps its BatchNorm). The wrappers are named
            `<layer>_sn`.
        discriminator_units: Units of a hidden dense layer (BatchNorm and
            activation) between the discriminator's last convolution and
            its logit, as InfoGAN's MNIST discriminator (1,024 units); `0`
            (default): none, Radford's discriminator.

    Returns:
        `(generator, discriminator)`, two functional Keras models.

    Reference:
        - Radford, Metz, Chintala, "Unsupervised Representation Learning with
          Deep Convolutional Generative Adversarial Networks", ICLR 2016.
        - Chen et al., "InfoGAN: Interpretable Representation Learning by
          Information Maximizing Generative Adversarial Nets", NeurIPS 2016,
          appendix C.1 (the hidden dense layer of the discriminator).
    """
    _check_image_shape(image_shape)
    size, width_px, channels = image_shape
    if size != width_px or size not in DCGAN_SIZES:
        raise ValueError(
            f"DCGAN builds square images of size {sorted(DCGAN_SIZES)}. "
            f"Received: image_shape={image_shape}"
        )
    if not isinstance(refine_layers, int) or refine_layers < 0:
        raise ValueError(
            "`refine_layers` must be a non-negative integer. "
            f"Received: refine_layers={refine_layers!r}"
        )
    if not isinstance(discriminator_units, int) or discriminator_units < 0:
        raise ValueError(
            "`discriminator_units` must be a non-negative integer. "
            f"Received: discriminator_units={discriminator_units!r}"
        )
    if not isinstance(refine_kernel, int) or refine_kernel < 1:
        raise ValueError(
            "`refine_kernel` must be a positive integer. "
            f"Received: refine_kernel={refine_kernel!r}"
        )
    if not width > 0:
        raise ValueError(f"`width` must be positive. Received: width={width}")
    for name, value, choices in (
        ("initializer", initializer, INITIALIZERS),
        ("psf_layers", psf_layers, PSF_LAYERS),
    ):
        if value not in choices:
            raise ValueError(
                f"Unknown {name}. Expected one of {choices}. Received: {name}={value!r}"
            )
    hidden_activation(activation)
    start = DCGAN_SIZES[size]
    upsamplings = int(math.log2(size // start))
    sizes = [start * 2**i for i in range(upsamplings)]  # G's maps, D's reversed
    if attention_at is not None and attention_at not in sizes:
        raise ValueError(
            f"`attention_at` must be a feature-map size of the {size} px networks, "
            f"one of {sizes}. Received: attention_at={attention_at!r}"
        )
    kernel = (
        keras.initializers.RandomNormal(stddev=0.02)
        if initializer == "dcgan"
        else "glorot_uniform"
    )

    def weighted(layer):
        if not spectral_norm:
            return layer
        return layers.SpectralNormalization(layer, name=f"{layer.name}_sn")

    def attend(x, map_size, prefix):
        if map_size != attention_at:
            return x
        return SelfAttention2D(name=f"{prefix}_attention_{map_size}")(x)

    # The layers that "most" keeps as LeakyReLU.
    edge = "lrelu" if psf_layers == "most" else activation
    start = DCGAN_SIZES[size]
    upsamplings = int(math.log2(size // start))
    filters = [
        max(1, int(round(base_filters * width * 2**i))) for i in range(upsamplings)
    ]

    def norm(name):
        return layers.BatchNormalization(
            momentum=0.9, synchronized=synchronized_batchnorm, name=name
        )

    def dense(x, units, name, act):
        x = weighted(
            layers.Dense(units, use_bias=False, kernel_initializer=kernel, name=name)
        )(x)
        x = norm(f"{name}_bn")(x)
        return hidden_activation(act, f"{name}_act")(x)

    z = keras.Input((latent_dim,), name="z")
    x = dense(z, start * start * filters[-1], "g_project", edge)
    x = layers.Reshape((start, start, filters[-1]), name="g_reshape")(x)
    x = attend(x, start, "g")

    def deconv(x, f, strides, name):
        x = weighted(
            layers.Conv2DTranspose(
                f,
                4 if strides == 2 else refine_kernel,
                strides=strides,
                padding="same",
                use_bias=False,
                kernel_initializer=kernel,
                name=name,
            )
        )(x)
        x = norm(f"{name}_bn")(x)
        return hidden_activation(activation, f"{name}_act")(x)

    current = filters[-1]
    for i, f in enumerate(reversed(filters[:-1])):
        for j in range(refine_layers):
            x = deconv(x, current, 1, f"g_refine_{i}_{j}")
        x = deconv(x, f, 2, f"g_deconv_{i}")
        x = attend(x, sizes[i + 1], "g")
        current = f
    for j in range(refine_layers):
        x = deconv(x, current, 1, f"g_refine_{len(filters) - 1}_{j}")
    image = weighted(
        layers.Conv2DTranspose(
            channels,
            4,
            strides=2,
            padding="same",
            activation="tanh",
            kernel_initializer=kernel,
            name="g_out",
        )
    )(x)
    generator = keras.Model(z, image, name="dcgan_generator")

    image_in = keras.Input(image_shape, name="image")
    x = image_in
    for i, f in enumerate(filters):
        x = weighted(
            layers.Conv2D(
                f,
                4,
                strides=2,
                padding="same",
                use_bias=i == 0,
                kernel_initializer=kernel,
                name=f"d_conv_{i}",
            )
        )(x)
        if i > 0:
            x = norm(f"d_conv_{i}_bn")(x)
        x = hidden_activation(edge if i == 0 else activation, f"d_conv_{i}_act")(x)
        x = attend(x, size // 2 ** (i + 1), "d")
    x = layers.Flatten(name="d_flatten")(x)
    if discriminator_units:
        x = dense(x, discriminator_units, "d_dense", activation)
    logit = weighted(layers.Dense(1, kernel_initializer=kernel, name="d_logit"))(x)
    discriminator = keras.Model(image_in, logit, name="dcgan_discriminator")
    return generator, discriminator
