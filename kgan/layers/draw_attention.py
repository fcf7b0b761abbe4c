"""DRAW's Gaussian attention: the filterbank, the read and the write."""

import keras
from keras import ops

# Columns of the attention tensor that DrawRead and DrawWrite return.
ATTENTION_FIELDS = ("center_x", "center_y", "stride", "sigma", "gamma")
# log gamma is kept in [-4, 4] (gamma in [0.018, 55]); an unbounded exp
# underflowed to 0 in the first DRAW-GAN run and the write's 1 / gamma became
# infinite. Not in the papers: a numerical guard.
LOG_GAMMA_BOUND = 4.0
# log sigma^2 and log delta~ are kept in [-10, 10] (sigma from 0.007 to 148 px):
# linear in practice, but an extreme hidden state cannot make the variance
# underflow to 0 (0 / 0 in the filterbank) or the stride overflow.
LOG_SCALE_BOUND = 10.0
# Added to each filter's sum. With 1e-8 a grid a few pixels off the canvas
# (mass about 1e-8 on it) was renormalised into a spike on the edge pixel;
# with 1e-4 (jbornschein/draw's value) such a filter fades out.
FILTERBANK_EPS = 1e-4


def soft_bound(x, bound):
    """`bound * tanh(x / bound)`: about `x` well inside the bound, never
    beyond it, with a gradient everywhere (unlike a clip)."""
    return bound * ops.tanh(x / bound)


def draw_filterbank(
    center_x, center_y, stride, sigma, height, width, n, eps=FILTERBANK_EPS
):
    """The Gaussian filterbank matrices of DRAW attention.

    Pixels are numbered from 1, as in the paper: filter `i` (1..N) of the
    N x N grid is centred at `mu_x_i = center_x + (i - N/2 - 0.5) * stride`
    (likewise in y), and `F_X[i, a] = exp(-(a - mu_x_i)^2 / (2 sigma^2))`,
    normalised to sum to 1 over the pixels `a`.

    Args:
        center_x: Grid centre along the width, shape `(batch,)`.
        center_y: Grid centre along the height, shape `(batch,)`.
        stride: Distance `delta` between neighbouring filters, `(batch,)`.
        sigma: Standard deviation of every filter, `(batch,)`.
        height: Image height B.
        width: Image width A.
        n: Grid size N.
        eps: Added to each filter's sum, so that a filter that falls off
            the image fades to zero rather than being renormalised onto the
            edge pixels (default 1e-4, as jbornschein/draw).

    Returns:
        `(f_y, f_x)` of shapes `(batch, N, height)` and `(batch, N, width)`.

    Reference:
        - Gregor et al., "DRAW: A Recurrent Neural Network For Image
          Generation", ICML 2015, eqs. 19-22.
    """
    # float32 even under mixed precision: pixel positions up to the image
    # size and blurs far below one pixel do not fit float16's resolution.
    center_x, center_y, stride, sigma = (
        ops.cast(v, "float32") for v in (center_x, center_y, stride, sigma)
    )
    offsets = ops.arange(1, n + 1, dtype="float32") - n / 2.0 - 0.5

    def bank(center, size):
        mu = center[:, None] + offsets[None, :] * stride[:, None]
        pixels = ops.arange(1, size + 1, dtype="float32")
        distance = pixels[None, None, :] - mu[:, :, None]
        variance = ops.square(sigma)[:, None, None]
        weights = ops.exp(-ops.square(distance) / (2.0 * variance))
        return weights / (ops.sum(weights, axis=-1, keepdims=True) + eps)

    return bank(center_y, height), bank(center_x, width)


def decode_attention(raw, height, width, n, bounded=True):
    """Maps the 5 linear outputs of a hidden state to attention parameters.

    `(gx~, gy~, log sigma^2, log delta~, log gamma)` become
    `gx = (A + 1) / 2 (gx~ + 1)`, `gy = (B + 1) / 2 (gy~ + 1)`,
    `delta = (max(A, B) - 1) / (N - 1) delta~`, `sigma` and `gamma`. The
    logarithms are soft-bounded first (`soft_bound`) if `bounded`: log gamma
    to `LOG_GAMMA_BOUND`, log sigma^2 and log delta~ to `LOG_SCALE_BOUND`
    (kgan's guard; `bounded=False` is the papers' plain exp).

    Returns:
        A float32 tensor `(batch, 5)` with the columns of `ATTENTION_FIELDS`:
        centre x, centre y (1-based pixels), stride delta, sigma, gamma;
        and the float32 `(batch,)` log gamma (the write divides by gamma as
        `exp(-log gamma)`).
    """
    raw = ops.cast(raw, "float32")

    def bound(x, limit):
        return soft_bound(x, limit) if bounded else x

    center_x = (width + 1) / 2.0 * (raw[:, 0] + 1.0)
    center_y = (height + 1) / 2.0 * (raw[:, 1] + 1.0)
    sigma = ops.exp(bound(raw[:, 2], LOG_SCALE_BOUND) / 2.0)
    stride = (max(height, width) - 1) / (n - 1)
    stride = stride * ops.exp(bound(raw[:, 3], LOG_SCALE_BOUND))
    log_gamma = bound(raw[:, 4], LOG_GAMMA_BOUND)
    attention = ops.stack(
        [center_x, center_y, stride, sigma, ops.exp(log_gamma)], axis=-1
    )
    return attention, log_gamma


def filterbank_of(attention, height, width, n, eps=FILTERBANK_EPS):
    """`draw_filterbank` of an attention tensor from `decode_attention`."""
    return draw_filterbank(
        attention[:, 0],
        attention[:, 1],
        attention[:, 2],
        attention[:, 3],
        height,
        width,
        n,
        eps,
    )


class _DrawAttention(keras.layers.Layer):
    """Shared parts of DrawRead and DrawWrite: the grid size and the linear
    map from the hidden state to the five attention parameters."""

    def __init__(
        self, n, return_attention=False, eps=FILTERBANK_EPS, bounded=True, **kwargs
    ):
        super().__init__(**kwargs)
        if not isinstance(n, int) or n < 2:
            raise ValueError(
                "`n` (the attention grid size) must be an integer >= 2. "
                f"Received: n={n}"
            )
        if not eps > 0:
            raise ValueError(
                "`eps` (the filterbank's epsilon) must be positive. "
                f"Received: eps={eps}"
            )
        self.n = n
        self.return_attention = return_attention
        self.eps = eps
        self.bounded = bounded
        # Sublayers do not inherit the dtype policy by themselves. Small
        # initial weights (jbornschein/draw: N(0, 0.01)) start every grid
        # near the centre at the default scale, whatever the hidden state.
        self.attention_dense = keras.layers.Dense(
            5,
            kernel_initializer=(
                keras.initializers.RandomNormal(stddev=0.01)
                if bounded
                else "glorot_uniform"
            ),
            name="attention",
            dtype=self.dtype_policy,
        )

    def _attention(self, hidden, height, width):
        raw = self.attention_dense(hidden)
        attention, log_gamma = decode_attention(
            raw, height, width, self.n, self.bounded
        )
        f_y, f_x = filterbank_of(attention, height, width, self.n, self.eps)
        return attention, log_gamma, f_y, f_x

    def _outputs(self, outputs, attention):
        if not self.return_attention:
            return outputs
        return outputs, ops.cast(attention, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n": self.n,
                "return_attention": self.return_attention,
                "eps": self.eps,
                "bounded": self.bounded,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kgan")
class DrawRead(_DrawAttention):
    """DRAW's attentive read: an N x N Gaussian glimpse of an image.

    A linear map of the hidden state `h` gives the grid's centre, stride,
    blur and intensity (see `decode_attention`); the glimpse of every channel
    is `gamma * F_Y x F_X^T`, with `F_X`, `F_Y` from `draw_filterbank`.

    Args:
        n: Grid size N (at least 2).
        return_attention: Also return the `(batch, 5)` attention parameters
            (columns `ATTENTION_FIELDS`), e.g. to draw each glimpse's box.
        eps: The filterbank's epsilon (see `draw_filterbank`).
        bounded: kgan's stabilisers, not in the papers: soft-bounded log
            scales and log gamma (see `decode_attention`) and attention
            weights from N(0, 0.01). `False`: the papers' unbounded exps and
            Glorot weights.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A list `[images, hidden]`: images `(batch, height, width,
            channels)` and hidden states `(batch, units)`.

    Returns:
        Glimpses `(batch, N, N, channels)`, and the attention parameters when
        `return_attention=True`.

    Reference:
        - Gregor et al., "DRAW: A Recurrent Neural Network For Image
          Generation", ICML 2015, section 3.
    """

    def build(self, input_shape):
        image_shape, hidden_shape = input_shape
        _check_image_shape(image_shape, "DrawRead")
        self.attention_dense.build(hidden_shape)

    def call(self, inputs):
        images, hidden = inputs
        height, width = images.shape[1], images.shape[2]
        attention, _, f_y, f_x = self._attention(hidden, height, width)
        f_y = ops.cast(f_y, images.dtype)[:, None]  # (batch, 1, N, H)
        f_x = ops.cast(f_x, images.dtype)[:, None]  # (batch, 1, N, W)
        channels_first = ops.transpose(images, (0, 3, 1, 2))  # (batch, C, H, W)
        glimpse = ops.matmul(
            ops.matmul(f_y, channels_first), ops.transpose(f_x, (0, 1, 3, 2))
        )  # (batch, C, N, N)
        gamma = ops.cast(attention[:, 4], images.dtype)[:, None, None, None]
        glimpse = ops.transpose(glimpse * gamma, (0, 2, 3, 1))
        return self._outputs(glimpse, attention)

    def compute_output_shape(self, input_shape):
        image_shape, hidden_shape = input_shape
        glimpse = (image_shape[0], self.n, self.n, image_shape[3])
        return (glimpse, (hidden_shape[0], 5)) if self.return_attention else glimpse


@keras.saving.register_keras_serializable(package="kgan")
class DrawWrite(_DrawAttention):
    """DRAW's attentive write: paints an N x N patch onto a full-size image.

    Linear maps of the hidden state `h` give the patch `w` (N x N per
    channel) and the attention parameters; the output is
    `(1 / gamma) F_Y^T w F_X` per channel, an image to add to the canvas,
    computed as `exp(-log gamma) F_Y^T w F_X` with log gamma bounded (see
    `decode_attention`).

    Args:
        n: Grid size N (at least 2).
        image_shape: `(height, width, channels)` of the image written.
        return_attention: Also return the `(batch, 5)` attention parameters
            (columns `ATTENTION_FIELDS`), e.g. to draw each write's box.
        eps: The filterbank's epsilon (see `draw_filterbank`).
        bounded: kgan's stabilisers, not in the papers: soft-bounded log
            scales and log gamma (see `decode_attention`) and attention
            weights from N(0, 0.01). `False`: the papers' unbounded exps and
            Glorot weights.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Hidden states `(batch, units)`.

    Returns:
        Images `(batch, height, width, channels)`, and the attention
        parameters when `return_attention=True`.

    Reference:
        - Gregor et al., "DRAW: A Recurrent Neural Network For Image
          Generation", ICML 2015, section 3.
    """

    def __init__(
        self,
        n,
        image_shape,
        return_attention=False,
        eps=FILTERBANK_EPS,
        bounded=True,
        **kwargs,
    ):
        super().__init__(n, return_attention, eps, bounded, **kwargs)
        image_shape = tuple(image_shape)
        _check_image_shape((None,) + image_shape, "DrawWrite")
        self.image_shape = image_shape
        self.patch_dense = keras.layers.Dense(
            n * n * image_shape[2], name="patch", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.attention_dense.build(input_shape)
        self.patch_dense.build(input_shape)

    def call(self, inputs):
        height, width, channels = self.image_shape
        attention, log_gamma, f_y, f_x = self._attention(inputs, height, width)
        patch = ops.reshape(self.patch_dense(inputs), (-1, self.n, self.n, channels))
        dtype = patch.dtype
        f_y = ops.cast(f_y, dtype)[:, None]  # (batch, 1, N, H)
        f_x = ops.cast(f_x, dtype)[:, None]  # (batch, 1, N, W)
        patch = ops.transpose(patch, (0, 3, 1, 2))  # (batch, C, N, N)
        image = ops.matmul(
            ops.matmul(ops.transpose(f_y, (0, 1, 3, 2)), patch), f_x
        )  # (batch, C, H, W)
        inverse_gamma = ops.cast(ops.exp(-log_gamma), dtype)[:, None, None, None]
        image = ops.transpose(image * inverse_gamma, (0, 2, 3, 1))
        return self._outputs(image, attention)

    def compute_output_shape(self, input_shape):
        image = (input_shape[0],) + self.image_shape
        return (image, (input_shape[0], 5)) if self.return_attention else image

    def get_config(self):
        config = super().get_config()
        config.update({"image_shape": list(self.image_shape)})
        return config


def _check_image_shape(shape, layer):
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise ValueError(
            f"{layer} needs images of known shape (batch, height, width, "
            f"channels). Received: shape={tuple(shape)}"
        )
