"""Maxout: the most active of several linear pieces."""

import keras
from keras import ops

from kgan.layers.checks import check_positive


@keras.saving.register_keras_serializable(package="kgan")
class Maxout(keras.layers.Layer):
    """A fully connected maxout layer.

    It follows: `y_j = max_k (x W_{jk} + b_{jk})` for `k = 1..pieces`: each of
    `units` outputs is the largest of `pieces` affine maps of the input, a
    learned convex piecewise-linear activation. Goodfellow et al.'s GAN
    discriminator for MNIST stacks two of them (240 units, 5 pieces).

    Args:
        units: Positive number of outputs.
        pieces: Positive number of linear pieces per output.
        kernel_initializer: Initializer of the `(input, units * pieces)`
            kernel. Defaults to `"glorot_uniform"`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor `(..., input)`.

    Returns:
        A tensor `(..., units)`.

    Reference:
        - Goodfellow et al., "Maxout Networks", ICML 2013.
        - Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """

    def __init__(self, units, pieces, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive(units=units, pieces=pieces)
        self.units = units
        self.pieces = pieces
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units * self.pieces),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units * self.pieces,), initializer="zeros", name="bias"
        )

    def call(self, inputs):
        linear = ops.matmul(inputs, self.kernel) + self.bias
        shape = ops.shape(linear)[:-1]
        pieces = ops.reshape(linear, (*shape, self.units, self.pieces))
        return ops.max(pieces, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "pieces": self.pieces,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
