"""Pix2pix's networks: a U-Net generator and a PatchGAN discriminator."""

import math

import keras
from keras import layers

from kgan.models.networks import check_power_of_two


def _init():
    """pix2pix's N(0, 0.02) weights. One initializer per layer, made when
    the network is built: one made at import would take its seed before
    `keras.utils.set_random_seed`, and a seeded run would not repeat."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def _check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )


def unet_generator(
    image_size=64,
    condition_channels=7,
    image_channels=3,
    filters=64,
    max_filters=512,
    dropout=0.5,
):
    """Pix2pix's U-Net generator, from a condition map to an image.

    The encoder halves the resolution with 4x4 stride-2 convolutions down to
    1x1, doubling the filters from `filters` up to `max_filters`
    (BatchNorm on all but the first and the innermost, LeakyReLU 0.2). The
    decoder mirrors it with transposed convolutions (BatchNorm, ReLU,
    dropout on the three innermost), each output concatenated with the
    encoder's output at the same resolution. A last transposed convolution
    maps to `image_channels` with tanh.

    Layer names follow the block: `down{k}_conv`, `down{k}_norm`,
    `up{k}_conv`, `up{k}_norm`, `up{k}_skip` and `output_conv`; pruning
    (`kgan.compress`) relies on convolutions being followed directly by
    their normalization.

    Args:
        image_size: Height and width, a power of two of at least 8.
        condition_channels: Channels of the condition, e.g. the number of
            classes of a one-hot label map.
        image_channels: Channels of the generated image.
        filters: Filters of the first encoder convolution.
        max_filters: Cap on the filters of any layer.
        dropout: Dropout rate of the three innermost decoder blocks, the
            generator's only noise as in pix2pix (`0` for none).

    Returns:
        A functional Keras model from `(batch, size, size,
        condition_channels)` to `(batch, size, size, image_channels)` in
        [-1, 1].

    Reference:
        - Isola et al., "Image-to-Image Translation with Conditional
          Adversarial Networks", CVPR 2017.
    """
    check_power_of_two("image_size", image_size)
    _check_positive(
        condition_channels=condition_channels,
        image_channels=image_channels,
        filters=filters,
        max_filters=max_filters,
    )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
    depth = int(math.log2(image_size))
    widths = [min(filters * 2**k, max_filters) for k in range(depth)]

    condition = keras.Input((image_size, image_size, condition_channels), name="labels")
    x, skips = condition, []
    for k, width in enumerate(widths, start=1):
        x = layers.Conv2D(
            width, 4, strides=2, padding="same", kernel_initializer=_init(),
            use_bias=k in (1, depth), name=f"down{k}_conv",
        )(x)  # fmt: skip
        if k not in (1, depth):
            x = layers.BatchNormalization(name=f"down{k}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"down{k}_act")(x)
        skips.append(x)
    for k, skip in enumerate(reversed(skips[:-1]), start=1):
        x = layers.Conv2DTranspose(
            widths[depth - 1 - k], 4, strides=2, padding="same",
            kernel_initializer=_init(), use_bias=False, name=f"up{k}_conv",
        )(x)  # fmt: skip
        x = layers.BatchNormalization(name=f"up{k}_norm")(x)
        if dropout and k <= 3:
            x = layers.Dropout(dropout, name=f"up{k}_dropout")(x)
        x = layers.ReLU(name=f"up{k}_act")(x)
        x = layers.Concatenate(name=f"up{k}_skip")([x, skip])
    x = layers.Conv2DTranspose(
        image_channels, 4, strides=2, padding="same", kernel_initializer=_init(),
        name="output_conv",
    )(x)  # fmt: skip
    image = layers.Activation("tanh", name="image")(x)
    return keras.Model(condition, image, name="unet_generator")


def patch_discriminator(
    image_size=64, condition_channels=7, image_channels=3, filters=64, downsamplings=3
):
    """Pix2pix's PatchGAN discriminator on (condition, image) pairs.

    The condition and the image are concatenated on the channel axis, then
    `downsamplings` 4x4 stride-2 convolutions (doubling from `filters`, at most
    8x; BatchNorm on all but the first; LeakyReLU 0.2), one 4x4 stride-1
    convolution and a 4x4 stride-1 convolution to one logit per patch. With
    `downsamplings=3` each logit sees a 70x70 patch.

    Args:
        image_size: Height and width of the inputs, a power of two of at
            least 8.
        condition_channels: Channels of the condition.
        image_channels: Channels of the image.
        filters: Filters of the first convolution.
        downsamplings: Stride-2 convolutions; the logit map is `image_size /
            2**downsamplings` on a side.

    Returns:
        A functional Keras model from `[condition, image]` to logits of shape
        `(batch, size / 2**downsamplings, size / 2**downsamplings, 1)`.
    """
    check_power_of_two("image_size", image_size)
    _check_positive(
        condition_channels=condition_channels,
        image_channels=image_channels,
        filters=filters,
        downsamplings=downsamplings,
    )
    if image_size >> downsamplings < 1:
        raise ValueError(
            f"{downsamplings} stride-2 layers need an image of at least "
            f"{2**downsamplings} px. "
            f"Received: image_size={image_size}"
        )
    condition = keras.Input((image_size, image_size, condition_channels), name="labels")
    image = keras.Input((image_size, image_size, image_channels), name="image")
    x = layers.Concatenate(name="pair")([condition, image])
    for k in range(downsamplings + 1):
        x = layers.Conv2D(
            filters * 2 ** min(k, 3), 4, strides=2 if k < downsamplings else 1,
            padding="same", kernel_initializer=_init(), use_bias=k == 0,
            name=f"d{k + 1}_conv",
        )(x)  # fmt: skip
        if k > 0:
            x = layers.BatchNormalization(name=f"d{k + 1}_norm")(x)
        x = layers.LeakyReLU(0.2, name=f"d{k + 1}_act")(x)
    logits = layers.Conv2D(
        1, 4, padding="same", kernel_initializer=_init(), name="logits"
    )(x)
    return keras.Model([condition, image], logits, name="patch_discriminator")
