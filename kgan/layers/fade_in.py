"""The Progressive GAN's fade-in of a new resolution level."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class FadeIn(keras.layers.Layer):
    """Blends the output of the previous level into that of a new one.

    It follows: `y = old + alpha * (new - old)`, where `alpha` is a
    non-trainable scalar weight that a trainer raises from 0 to 1 while a new
    level fades in (`layer.alpha.assign(value)`, inside or outside a compiled
    step, without retracing).

    Args:
        initial_alpha: Initial blend, in [0, 1]. Defaults to `0.0`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A list `[old, new]` of tensors of the same shape.

    Returns:
        A tensor of that shape.

    Reference:
        - Karras et al., "Progressive Growing of GANs for Improved Quality,
          Stability, and Variation", ICLR 2018, section 2 and figure 2.
    """

    def __init__(self, initial_alpha=0.0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= initial_alpha <= 1.0:
            raise ValueError(
                "`initial_alpha` must be in [0, 1]. "
                f"Received: initial_alpha={initial_alpha}"
            )
        self.initial_alpha = float(initial_alpha)

    def build(self, input_shape):
        old, new = input_shape
        if tuple(old[1:]) != tuple(new[1:]):
            raise ValueError(
                "FadeIn blends two tensors of the same shape. "
                f"Received: shapes {tuple(old)} and {tuple(new)}"
            )
        self.alpha = self.add_weight(
            shape=(),
            name="alpha",
            initializer=keras.initializers.Constant(self.initial_alpha),
            trainable=False,
        )

    def call(self, inputs):
        old, new = inputs
        alpha = ops.cast(self.alpha, old.dtype)
        return old + alpha * (new - old)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"initial_alpha": self.initial_alpha})
        return config
