"""SAGAN's self-attention over the positions of a feature map."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class SelfAttention2D(keras.layers.Layer):
    """Self-attention of a feature map (Zhang et al., SAGAN).

    It follows: `f = x W_f`, `g = x W_g` (1x1 convolutions to
    `attention_channels`), `h = x W_h` (to the input's channels);
    `beta[j, i] = softmax_i(f_i . g_j)` over the N = H * W positions;
    `o_j = sum_i beta[j, i] h_i`; `y = gamma * o + x`, with `gamma` a
    learned scalar that starts at 0, so that the layer starts as the
    identity and the network learns local features before it leans on
    distant ones.

    Args:
        attention_channels: Channels of the query and key maps `f` and `g`;
            `None` (default) for the paper's C / 8 (at least 1).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A feature map `(batch, height, width, channels)`.

    Returns:
        A tensor of the same shape.

    Reference:
        - Zhang, Goodfellow, Metaxas, Odena, "Self-Attention Generative
          Adversarial Networks", ICML 2019, section 3.
    """

    def __init__(self, attention_channels=None, **kwargs):
        super().__init__(**kwargs)
        if attention_channels is not None and (
            not isinstance(attention_channels, int) or attention_channels <= 0
        ):
            raise ValueError(
                "`attention_channels` must be a positive integer or None. "
                f"Received: attention_channels={attention_channels!r}"
            )
        self.attention_channels = attention_channels

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "SelfAttention2D needs feature maps (batch, height, width, "
                f"channels) with known channels. Received: shape={input_shape}"
            )
        channels = input_shape[-1]
        inner = self.attention_channels or max(1, channels // 8)
        # Sublayers do not inherit the dtype policy by themselves.
        self.query = keras.layers.Conv2D(
            inner, 1, name="query", dtype=self.dtype_policy
        )
        self.key = keras.layers.Conv2D(inner, 1, name="key", dtype=self.dtype_policy)
        self.value = keras.layers.Conv2D(
            channels, 1, name="value", dtype=self.dtype_policy
        )
        for layer in (self.query, self.key, self.value):
            layer.build(input_shape)
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def call(self, inputs):
        shape = ops.shape(inputs)
        batch, positions = shape[0], shape[1] * shape[2]

        def flat(x):
            return ops.reshape(x, (batch, positions, ops.shape(x)[-1]))

        f, g, h = (
            flat(self.query(inputs)),
            flat(self.key(inputs)),
            flat(self.value(inputs)),
        )
        # scores[b, j, i] = g_j . f_i; softmax over the attended positions i.
        scores = ops.matmul(g, ops.transpose(f, (0, 2, 1)))
        beta = ops.softmax(ops.cast(scores, "float32"), axis=-1)
        attended = ops.matmul(ops.cast(beta, h.dtype), h)
        attended = ops.reshape(attended, shape)
        return ops.cast(self.gamma, inputs.dtype) * attended + inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"attention_channels": self.attention_channels})
        return config
