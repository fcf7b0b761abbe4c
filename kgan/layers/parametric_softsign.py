import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class ParametricSoftsign(keras.layers.Layer):
    """Parametric softsign activation (PSF) with a learnable `alpha`.

    It follows:
    ```
    f(x) = x                          for x >= 0
    f(x) = x / (1 + |x| * exp(-alpha))   for x < 0
    ```

    As `alpha -> -inf` the function becomes a ReLU, as `alpha -> +inf` the
    identity. It is continuous with slope 1 on both sides of 0 and bounded
    below by `-exp(alpha)`. The negative branch is evaluated as
    `x * sigmoid(alpha - log|x|)`, which is exact and cannot overflow for
    any `alpha` or `x`, in float16 as in float32.

    By default one `alpha` is learned per layer, as in the paper. With
    `shared_axes` the parameter is shared only along the given axes, as in
    `keras.layers.PReLU`: for NHWC feature maps, `shared_axes=[1, 2]` learns
    one `alpha` per channel.

    Args:
        alpha_initializer: Initializer for `alpha`. Defaults to `"zeros"`.
        alpha_regularizer: Optional regularizer for `alpha`.
        alpha_constraint: Optional constraint for `alpha`.
        shared_axes: `None` (one scalar `alpha` for the whole layer), or the
            axes (1-based, excluding the batch axis) along which `alpha` is
            shared; it varies along every other axis.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: A tensor of any shape.

    Returns:
        A tensor of the same shape and dtype as `inputs`.

    Reference:
        - Takinami, Tsunoda, Mitsui, "GAN image generation with a parametric
          softsign function", Nihon University.
    """

    def __init__(
        self,
        alpha_initializer="zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = keras.initializers.get(alpha_initializer)
        self.alpha_regularizer = keras.regularizers.get(alpha_regularizer)
        self.alpha_constraint = keras.constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, int):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)
        if self.shared_axes is not None:
            for axis in self.shared_axes:
                if not isinstance(axis, int) or axis == 0:
                    raise ValueError(
                        "`shared_axes` must be a list of non-batch axes "
                        f"(non-zero integers). Received: shared_axes={shared_axes}"
                    )

    def build(self, input_shape):
        if self.shared_axes is None:
            param_shape = ()
        else:
            rank = len(input_shape)
            if rank < 2:
                raise ValueError(
                    "`shared_axes` needs inputs of rank >= 2 (batch, ...). "
                    f"Received: input_shape={input_shape}"
                )
            param_shape = list(input_shape[1:])
            for axis in self.shared_axes:
                index = axis if axis > 0 else rank + axis
                if not 1 <= index < rank:
                    raise ValueError(
                        f"`shared_axes` holds an axis outside the inputs of "
                        f"rank {rank}. Received: shared_axes={self.shared_axes}"
                    )
                param_shape[index - 1] = 1
            for i, dim in enumerate(param_shape):
                if dim is None:
                    raise ValueError(
                        "Axes that are not shared need a known size; share "
                        f"axis {i + 1} or give it a static size. "
                        f"Received: input_shape={input_shape}"
                    )
        self.alpha = self.add_weight(
            shape=tuple(param_shape),
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )

    def call(self, inputs):
        alpha = ops.cast(self.alpha, inputs.dtype)
        negative = inputs < 0
        # Evaluate the negative branch on a safe value where x >= 0, so that
        # the unused branch never produces log(0) and NaN gradients.
        safe = ops.where(negative, inputs, -ops.ones_like(inputs))
        squashed = safe * ops.sigmoid(alpha - ops.log(-safe))
        return ops.where(negative, squashed, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha_initializer": keras.initializers.serialize(
                    self.alpha_initializer
                ),
                "alpha_regularizer": keras.regularizers.serialize(
                    self.alpha_regularizer
                ),
                "alpha_constraint": keras.constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes,
            }
        )
        return config
