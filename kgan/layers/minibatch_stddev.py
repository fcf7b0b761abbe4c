import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class MinibatchStdDev(keras.layers.Layer):
    """Appends the minibatch standard deviation as one extra feature map.

    The batch is split into groups of `group_size` samples (the largest
    divisor of the batch size not above `group_size`, so any batch size
    works). Within each group the standard deviation of every feature at every
    pixel is computed, averaged over features and pixels to one scalar, and
    tiled as an extra channel of every sample of the group. Sample `i` belongs
    to group `i % (batch_size // group)`, as in the reference implementation.

    Args:
        group_size: Positive integer, the largest group size. Defaults to `4`.
        epsilon: Small positive float added to the variance before the square
            root. Defaults to `1e-8`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor of shape `(batch, height, width, channels)`.

    Returns:
        A tensor of shape `(batch, height, width, channels + 1)`.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018, section 3.
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(group_size, int) or group_size <= 0:
            raise ValueError(
                "`group_size` must be a positive integer. "
                f"Received: group_size={group_size}"
            )
        if not epsilon > 0:
            raise ValueError(f"`epsilon` must be positive. Received: epsilon={epsilon}")
        self.group_size = group_size
        self.epsilon = float(epsilon)

    def call(self, inputs):
        if len(inputs.shape) != 4:
            raise ValueError(
                "MinibatchStdDev needs inputs of rank 4 (batch, height, width, "
                f"channels). Received: inputs.shape={inputs.shape}"
            )
        batch, height, width, channels = ops.shape(inputs)
        group = self._group(batch)
        # (group, batch // group, H, W, C): sample i lands in column i % M.
        grouped = ops.reshape(
            ops.cast(inputs, "float32"), (group, -1, height, width, channels)
        )
        variance = ops.var(grouped, axis=0)
        stddev = ops.sqrt(variance + self.epsilon)
        per_group = ops.mean(stddev, axis=(1, 2, 3))
        feature = ops.tile(per_group, (group,))
        feature = ops.reshape(feature, (-1, 1, 1, 1))
        feature = ops.broadcast_to(feature, (batch, height, width, 1))
        return ops.concatenate([inputs, ops.cast(feature, inputs.dtype)], axis=-1)

    def _group(self, batch):
        """Largest divisor of `batch` not above `group_size`, as a tensor."""
        candidates = ops.arange(1, self.group_size + 1, dtype="int32")
        divides = ops.equal(ops.mod(ops.cast(batch, "int32"), candidates), 0)
        return ops.max(ops.where(divides, candidates, 0))

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return tuple(input_shape[:-1]) + (None if channels is None else channels + 1,)

    def get_config(self):
        config = super().get_config()
        config.update({"group_size": self.group_size, "epsilon": self.epsilon})
        return config
