"""The recurrent layers of the DRAW-attention GAN: the generator's canvas,
which sums T attentive writes, and the discriminator's reader, which takes T
attentive glimpses with an RNN."""

import keras
import numpy as np
from keras import layers, ops

from kgan.layers.draw_attention import DrawRead, DrawWrite

CELLS = {"lstm": layers.LSTMCell, "gru": layers.GRUCell, "simple": layers.SimpleRNNCell}
OUTPUT_ACTIVATIONS = ("tanh", "sigmoid")


def check_cell(cell):
    if cell not in CELLS:
        raise ValueError(
            f"Unknown RNN cell. Expected one of {list(CELLS)}. Received: cell={cell!r}"
        )


@keras.saving.register_keras_serializable(package="kgan")
class DrawCanvas(keras.layers.Layer):
    """Sums T attentive writes onto a learned initial canvas.

    It follows `c_t = c_{t-1} + write(h_t)` for `t = 1..T`, from a learned
    canvas `c_0`, and returns the image `activation(c_T)`, every
    `activation(c_t)` and every write's attention parameters.

    Args:
        n: Write grid size N.
        image_shape: `(height, width, channels)` of the canvas.
        activation: `"tanh"` for data in [-1, 1] (kgan's datasets) or
            `"sigmoid"` for data in [0, 1].
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Hidden states of the generator RNN, `(batch, T, units)`.

    Returns:
        `(images, canvases, attention)`: `(batch, H, W, C)`,
        `(batch, T, H, W, C)` (both in the activation's range) and
        `(batch, T, 5)` with the columns of
        `kgan.layers.draw_attention.ATTENTION_FIELDS`.
    """

    def __init__(self, n, image_shape, activation="tanh", **kwargs):
        super().__init__(**kwargs)
        if activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"Unknown canvas activation. Expected one of {OUTPUT_ACTIVATIONS}. "
                f"Received: activation={activation!r}"
            )
        self.n = n
        self.image_shape = tuple(image_shape)
        self.activation = activation
        self.write = DrawWrite(
            n, self.image_shape, return_attention=True, dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.initial_canvas = self.add_weight(
            shape=self.image_shape, name="initial_canvas", initializer="zeros"
        )
        self.write.build((None, input_shape[-1]))

    def call(self, inputs):
        steps, units = inputs.shape[1], inputs.shape[2]
        writes, attention = self.write(ops.reshape(inputs, (-1, units)))
        writes = ops.reshape(writes, (-1, steps) + self.image_shape)
        canvas = ops.cast(self.initial_canvas, writes.dtype)
        canvases = canvas + ops.cumsum(writes, axis=1)
        canvases = keras.activations.get(self.activation)(canvases)
        attention = ops.reshape(attention, (-1, steps, 5))
        return canvases[:, -1], canvases, attention

    def initialize_from(self, images):
        """Sets `c_0` so that `activation(c_0)` is the data's mean image.

        The mean image is the expectation of every pixel's marginal; starting
        there, the writes only add what distinguishes one sample.

        Args:
            images: Training images, `(count, H, W, C)`, in the activation's
                range.
        """
        images = np.asarray(images, np.float64)
        if images.ndim != 4 or images.shape[1:] != self.image_shape:
            raise ValueError(
                f"Expected training images of shape (count, {self.image_shape}). "
                f"Received: images.shape={images.shape}"
            )
        mean = images.mean(axis=0)
        if self.activation == "tanh":
            canvas = np.arctanh(np.clip(mean, -0.99, 0.99))
        else:
            mean = np.clip(mean, 0.005, 0.995)
            canvas = np.log(mean / (1.0 - mean))
        self.initial_canvas.assign(canvas.astype("float32"))

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        return (
            (batch,) + self.image_shape,
            (batch, steps) + self.image_shape,
            (batch, steps, 5),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n": self.n,
                "image_shape": list(self.image_shape),
                "activation": self.activation,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kgan")
class DrawReader(keras.layers.Layer):
    """Reads an image T times with attention and an RNN: the DRAW-GAN critic.

    It follows `r_t = read(x, h_{t-1})`, `h_t = RNN(h_{t-1}, [r_t, h_{t-1}])`
    from `h_0 = 0`, and returns `h_T` (and every read's attention).

    Args:
        n: Read grid size N.
        steps: Number of glimpses T.
        units: Size of the RNN state.
        cell: `"lstm"` (default), `"gru"` or `"simple"`.
        return_attention: Also return the `(batch, T, 5)` attention
            parameters of the reads.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Images `(batch, H, W, C)`.

    Returns:
        The last hidden state `(batch, units)`, and the attention parameters
        when `return_attention=True`.
    """

    def __init__(self, n, steps, units, cell="lstm", return_attention=False, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell)
        check_positive(steps=steps, units=units)
        self.n = n
        self.steps = steps
        self.units = units
        self.cell = cell
        self.return_attention = return_attention
        self.read = DrawRead(n, return_attention=True, dtype=self.dtype_policy)
        self.rnn_cell = CELLS[cell](units, dtype=self.dtype_policy, name="cell")

    def build(self, input_shape):
        self.read.build([input_shape, (None, self.units)])
        glimpse = self.n * self.n * input_shape[-1]
        self.rnn_cell.build((None, glimpse + self.units))

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        hidden = ops.zeros((batch, self.units), dtype=self.compute_dtype)
        states = [hidden] if self.cell != "lstm" else [hidden, hidden]
        glimpse_size = self.n * self.n * inputs.shape[-1]
        attention = []
        for _ in range(self.steps):
            glimpse, where = self.read([inputs, hidden])
            glimpse = ops.reshape(glimpse, (-1, glimpse_size))
            hidden, states = self.rnn_cell(
                ops.concatenate([glimpse, hidden], axis=-1), states
            )
            states = states if isinstance(states, (list, tuple)) else [states]
            attention.append(where)
        if self.return_attention:
            return hidden, ops.stack(attention, axis=1)
        return hidden

    def compute_output_shape(self, input_shape):
        hidden = (input_shape[0], self.units)
        if self.return_attention:
            return hidden, (input_shape[0], self.steps, 5)
        return hidden

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n": self.n,
                "steps": self.steps,
                "units": self.units,
                "cell": self.cell,
                "return_attention": self.return_attention,
            }
        )
        return config


def check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )
