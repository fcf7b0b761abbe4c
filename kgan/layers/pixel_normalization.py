import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class PixelNormalization(keras.layers.Layer):
    """Pixelwise feature vector normalization.

    It follows: `b = a / sqrt(mean(a^2 over channels) + epsilon)` at every
    pixel, so that each feature vector has unit mean square.

    Args:
        epsilon: Small positive float added to the mean square. Defaults to
            `1e-8`.
        axis: The channel axis. Defaults to `-1` (channels last).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor of rank >= 2.

    Returns:
        A tensor of the same shape and dtype as `inputs`.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018, section 4.2.
    """

    def __init__(self, epsilon=1e-8, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive. Received: epsilon={epsilon}")
        if not isinstance(axis, int):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis}")
        self.epsilon = float(epsilon)
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        if len(inputs.shape) < 2:
            raise ValueError(
                "PixelNormalization needs inputs of rank >= 2 (batch, ..., "
                f"channels). Received: inputs.shape={inputs.shape}"
            )
        # Square and average in float32: float16 squares overflow above 256.
        values = ops.cast(inputs, "float32")
        mean_square = ops.mean(ops.square(values), axis=self.axis, keepdims=True)
        outputs = values * ops.rsqrt(mean_square + self.epsilon)
        return ops.cast(outputs, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon, "axis": self.axis})
        return config
