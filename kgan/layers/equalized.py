"""Equalized learning-rate layers (Karras et al. 2018, section 4.1).

Weights are stored with unit variance and scaled at run time by
`gain / sqrt(fan_in)`, so that Adam's per-parameter normalisation gives every
layer the same effective learning rate.
"""

import math

import keras
from keras import ops

SQRT_2 = math.sqrt(2.0)


class _EqualizedBase(keras.layers.Layer):
    """Shared argument handling of the equalized layers."""

    def __init__(
        self,
        gain=SQRT_2,
        lr_multiplier=1.0,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not gain > 0:
            raise ValueError(f"`gain` must be positive. Received: gain={gain}")
        if not lr_multiplier > 0:
            raise ValueError(
                "`lr_multiplier` must be positive. "
                f"Received: lr_multiplier={lr_multiplier}"
            )
        self.gain = float(gain)
        self.lr_multiplier = float(lr_multiplier)
        self.use_bias = use_bias
        self.activation = keras.activations.get(activation)

    def _add_weights(self, kernel_shape, fan_in, units):
        # Stored weights are N(0, 1 / lr_multiplier^2); the run-time scale
        # multiplies by lr_multiplier, so the effective weight is
        # N(0, gain^2 / fan_in) and its learning rate scales by lr_multiplier.
        self.kernel_scale = self.gain / math.sqrt(fan_in) * self.lr_multiplier
        self.kernel = self.add_weight(
            shape=kernel_shape,
            name="kernel",
            initializer=keras.initializers.RandomNormal(
                stddev=1.0 / self.lr_multiplier
            ),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(units,), name="bias", initializer="zeros"
            )

    def effective_kernel(self):
        """Returns the kernel as it is applied: `kernel * gain / sqrt(fan_in)`."""
        return self.kernel * self.kernel_scale

    def _finish(self, outputs):
        if self.bias is not None:
            bias = ops.cast(self.bias * self.lr_multiplier, outputs.dtype)
            outputs = outputs + bias
        return self.activation(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "gain": self.gain,
                "lr_multiplier": self.lr_multiplier,
                "use_bias": self.use_bias,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kgan")
class EqualizedDense(_EqualizedBase):
    """Densely-connected layer with an equalized learning rate.

    It follows: `y = activation(x @ (w * c) + b * lr_multiplier)` with
    `w ~ N(0, 1)` stored and `c = gain / sqrt(fan_in) * lr_multiplier`.

    Args:
        units: Positive integer, the dimension of the output.
        gain: Positive float; the effective weights have standard deviation
            `gain / sqrt(fan_in)`. Defaults to `sqrt(2)` (He init for ReLU).
        lr_multiplier: Positive float scaling this layer's learning rate.
            Defaults to `1.0`.
        use_bias: Whether to add a bias, initialised to 0. Defaults to `True`.
        activation: Activation function. Defaults to `None` (linear).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor of shape `(..., fan_in)`.

    Returns:
        A tensor of shape `(..., units)`.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018.
    """

    def __init__(
        self,
        units,
        gain=SQRT_2,
        lr_multiplier=1.0,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(
            gain=gain,
            lr_multiplier=lr_multiplier,
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"`units` must be a positive integer. Received: units={units}"
            )
        self.units = units

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                "EqualizedDense needs inputs of rank >= 2 with a known last "
                f"dimension. Received: input_shape={input_shape}"
            )
        fan_in = input_shape[-1]
        self._add_weights((fan_in, self.units), fan_in, self.units)

    def call(self, inputs):
        kernel = ops.cast(self.effective_kernel(), inputs.dtype)
        return self._finish(ops.matmul(inputs, kernel))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


@keras.saving.register_keras_serializable(package="kgan")
class EqualizedConv2D(_EqualizedBase):
    """2D convolution with an equalized learning rate, channels last.

    It follows: `y = activation(conv(x, w * c) + b * lr_multiplier)` with
    `w ~ N(0, 1)` stored and `c = gain / sqrt(kh * kw * in_channels) *
    lr_multiplier`.

    Args:
        filters: Positive integer, the number of output channels.
        kernel_size: Integer or tuple of 2 integers.
        strides: Integer or tuple of 2 integers. Defaults to `1`.
        padding: `"same"` or `"valid"`. Defaults to `"same"`.
        gain: Positive float; the effective weights have standard deviation
            `gain / sqrt(fan_in)`. Defaults to `sqrt(2)`.
        lr_multiplier: Positive float scaling this layer's learning rate.
            Defaults to `1.0`.
        use_bias: Whether to add a bias, initialised to 0. Defaults to `True`.
        activation: Activation function. Defaults to `None` (linear).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor of shape `(batch, height, width, in_channels)`.

    Returns:
        A tensor of shape `(batch, new_height, new_width, filters)`.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="same",
        gain=SQRT_2,
        lr_multiplier=1.0,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        super().__init__(
            gain=gain,
            lr_multiplier=lr_multiplier,
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                f"`filters` must be a positive integer. Received: filters={filters}"
            )
        if padding not in ("same", "valid"):
            raise ValueError(
                f'`padding` must be "same" or "valid". Received: padding={padding}'
            )
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = padding

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                "EqualizedConv2D needs inputs of rank 4 (batch, height, width, "
                f"channels) with known channels. Received: input_shape={input_shape}"
            )
        in_channels = input_shape[-1]
        fan_in = self.kernel_size[0] * self.kernel_size[1] * in_channels
        self._add_weights(
            self.kernel_size + (in_channels, self.filters), fan_in, self.filters
        )

    def call(self, inputs):
        kernel = ops.cast(self.effective_kernel(), inputs.dtype)
        outputs = ops.conv(inputs, kernel, strides=self.strides, padding=self.padding)
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        spatial = []
        for size, k, s in zip(
            input_shape[1:3], self.kernel_size, self.strides, strict=True
        ):
            if size is None:
                spatial.append(None)
            elif self.padding == "same":
                spatial.append(-(-size // s))
            else:
                spatial.append((size - k) // s + 1)
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
            }
        )
        return config


def _pair(value, name):
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(
            f"`{name}` must be a positive integer or a tuple of 2 positive "
            f"integers. Received: {name}={value}"
        )
    return value
