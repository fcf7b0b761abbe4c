import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads the rows and columns of an image by reflecting it at its edges.

    `[a, b, c, d]` padded by 2 becomes `[c, b, a, b, c, d, c, b]`: the edge
    pixel is not repeated (NumPy's `mode="reflect"`). Johnson et al.'s
    ResNet generator and pix2pix's `resnet_9blocks` pad this way before
    their convolutions, so that the borders show no zero frame. LiteRT runs
    it as `MIRROR_PAD`.

    Args:
        padding: Non-negative integer, or a tuple `(rows, columns)` of
            them: pixels added on each side of the height and the width.
            Each must be smaller than the matching input size.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: A 4D tensor `(batch, height, width, channels)`.

    Returns:
        `(batch, height + 2 * rows, width + 2 * columns, channels)`.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (padding, padding)
        padding = tuple(padding)
        if len(padding) != 2 or not all(isinstance(p, int) and p >= 0 for p in padding):
            raise ValueError(
                "`padding` must be a non-negative integer or a pair of them. "
                f"Received: padding={padding!r}"
            )
        self.padding = padding
        self.supports_masking = False

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "ReflectionPadding2D takes (batch, height, width, channels) "
                f"inputs. Received: input_shape={input_shape}"
            )
        for size, pad, axis in zip(
            input_shape[1:3], self.padding, ("height", "width"), strict=True
        ):
            if size is not None and pad >= size:
                raise ValueError(
                    f"A reflection pad must be smaller than the {axis}. "
                    f"Received: padding={self.padding}, input_shape={input_shape}"
                )

    def call(self, inputs):
        rows, columns = self.padding
        return ops.pad(
            inputs, ((0, 0), (rows, rows), (columns, columns), (0, 0)), mode="reflect"
        )

    def compute_output_shape(self, input_shape):
        rows, columns = self.padding
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height + 2 * rows,
            None if width is None else width + 2 * columns,
            channels,
        )

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config
