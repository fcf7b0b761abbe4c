"""Pix2pix's networks: U-Net and ResNet-block generators, a PatchGAN
discriminator."""

import math

import keras
from keras import layers

from kgan.layers.checks import check_positive
from kgan.layers.reflection_padding import ReflectionPadding2D
from kgan.models.networks import check_power_of_two

NORMS = ("batch", "instance")


def _init():
    """pix2pix's N(0, 0.02) weights. One initializer per layer, made when
    the network is built: one made at import would take its seed before
    `keras.utils.set_random_seed`, and a seeded run would not repeat."""
    return keras.initializers.RandomNormal(0.0, 0.02)


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
    check_positive(
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


def _normalization(norm, name):
    """pix2pix's `--norm`: BatchNorm, or instance norm (a group per channel)."""
    if norm == "batch":
        return layers.BatchNormalization(name=name)
    return layers.GroupNormalization(groups=-1, name=name)


def resnet_generator(
    image_size=64,
    condition_channels=7,
    image_channels=3,
    filters=64,
    blocks=9,
    norm="batch",
    dropout=0.0,
):
    """Johnson et al.'s ResNet-block generator, from a condition map to an image.

    As pix2pix's `resnet_9blocks`: a 7x7 convolution to `filters` (after a
    reflection pad of 3), two 3x3 stride-2 convolutions doubling the
    filters, `blocks` residual blocks at a quarter of the resolution and
    `4 * filters` channels (reflection pad 1, 3x3 conv, norm, ReLU,
    optional dropout, reflection pad 1, 3x3 conv, norm, added to the
    block's input), two 3x3 stride-2 transposed convolutions halving the
    filters, and a 7x7 convolution (reflection pad 3) to `image_channels`
    with tanh. Every hidden convolution is followed by its normalization
    and a ReLU; they have no bias, which the normalization would cancel.
    The stride-2 convolutions pad "same" (TensorFlow puts the odd pixel of
    padding after, PyTorch's `padding=1` one on each side).

    With 9 blocks the residual blocks hold about 93% of the parameters
    and 86% of the multiply-accumulates at any resolution, so that removing
    their filters cuts size and time alike (the Compact GAN's regime).

    Layer names: `stem_conv`, `down{k}_conv`, `block{k}_conv{1,2}`,
    `up{k}_conv`, each followed by `..._norm`; `block{k}_add` joins a block
    to the trunk; `output_conv`.

    Args:
        image_size: Height and width, a multiple of 4 of at least 8.
        condition_channels: Channels of the condition (one-hot classes).
        image_channels: Channels of the generated image.
        filters: Filters of the first convolution (pix2pix's `ngf`).
        blocks: Residual blocks (6 and 9 in the reference).
        norm: `"batch"` (pix2pix's default) or `"instance"` (CycleGAN's).
        dropout: Dropout rate inside each block (`0` for none, the
            reference default).

    Returns:
        A functional Keras model from `(batch, size, size,
        condition_channels)` to `(batch, size, size, image_channels)` in
        [-1, 1].

    Reference:
        - Johnson, Alahi, Fei-Fei, "Perceptual Losses for Real-Time Style
          Transfer and Super-Resolution", ECCV 2016.
        - Isola et al., "Image-to-Image Translation with Conditional
          Adversarial Networks", CVPR 2017.
    """
    if not isinstance(image_size, int) or image_size < 8 or image_size % 4:
        raise ValueError(
            "`image_size` must be a multiple of 4 of at least 8. "
            f"Received: image_size={image_size!r}"
        )
    check_positive(
        condition_channels=condition_channels,
        image_channels=image_channels,
        filters=filters,
        blocks=blocks,
    )
    if norm not in NORMS:
        raise ValueError(f"`norm` must be one of {NORMS}. Received: norm={norm!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")

    def conv_norm_relu(x, name, width, kernel, **conv_kwargs):
        conv = conv_kwargs.pop("conv", layers.Conv2D)
        x = conv(
            width, kernel, kernel_initializer=_init(), use_bias=False,
            name=f"{name}_conv", **conv_kwargs,
        )(x)  # fmt: skip
        x = _normalization(norm, f"{name}_norm")(x)
        return layers.ReLU(name=f"{name}_act")(x)

    condition = keras.Input((image_size, image_size, condition_channels), name="labels")
    x = ReflectionPadding2D(3, name="stem_pad")(condition)
    x = conv_norm_relu(x, "stem", filters, 7)
    for k in (1, 2):
        x = conv_norm_relu(x, f"down{k}", filters * 2**k, 3, strides=2, padding="same")
    width = 4 * filters
    for k in range(1, blocks + 1):
        y = ReflectionPadding2D(1, name=f"block{k}_pad1")(x)
        y = conv_norm_relu(y, f"block{k}_1", width, 3)
        if dropout:
            y = layers.Dropout(dropout, name=f"block{k}_dropout")(y)
        y = ReflectionPadding2D(1, name=f"block{k}_pad2")(y)
        y = layers.Conv2D(
            width, 3, kernel_initializer=_init(), use_bias=False,
            name=f"block{k}_2_conv",
        )(y)  # fmt: skip
        y = _normalization(norm, f"block{k}_2_norm")(y)
        x = layers.Add(name=f"block{k}_add")([x, y])
    for k in (1, 2):
        x = conv_norm_relu(
            x, f"up{k}", filters * 2 ** (2 - k), 3, strides=2, padding="same",
            conv=layers.Conv2DTranspose,
        )  # fmt: skip
    x = ReflectionPadding2D(3, name="output_pad")(x)
    x = layers.Conv2D(
        image_channels, 7, kernel_initializer=_init(), name="output_conv"
    )(x)
    image = layers.Activation("tanh", name="image")(x)
    return keras.Model(condition, image, name="resnet_generator")


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
    check_positive(
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
