"""The recurrent layers of the DRAW-attention GAN: the generator's canvas,
which sums T attentive writes, and the discriminator's reader, which takes T
attentive glimpses with an RNN."""

import functools

import keras
import numpy as np
from keras import layers, ops

from kgan.layers.checks import check_positive
from kgan.layers.draw_attention import FILTERBANK_EPS, DrawRead, DrawWrite
from kgan.layers.learned_state import LearnedInitialState

# "sigmoid" is the DRAW-GAN paper's eq. 1, h_t = sigmoid(W h_{t-1} + U x_t + b);
# "simple" the same with tanh; DRAW itself uses an LSTM.
CELLS = {
    "lstm": layers.LSTMCell,
    "gru": layers.GRUCell,
    "simple": layers.SimpleRNNCell,
    "sigmoid": functools.partial(layers.SimpleRNNCell, activation="sigmoid"),
}
OUTPUT_ACTIVATIONS = ("tanh", "sigmoid")
INITIAL_STATES = ("learned", "zeros")
CANVAS_INITS = ("mean", "sample")


def check_cell(cell):
    if cell not in CELLS:
        raise ValueError(
            f"Unknown RNN cell. Expected one of {list(CELLS)}. Received: cell={cell!r}"
        )


def check_initial_state(initial_state):
    if initial_state not in INITIAL_STATES:
        raise ValueError(
            f"Unknown initial state. Expected one of {list(INITIAL_STATES)}. "
            f"Received: initial_state={initial_state!r}"
        )


def state_count(cell):
    """How many state tensors the cell carries: an LSTM's h and c, else h."""
    return 2 if cell == "lstm" else 1


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
        eps, bounded: Of the write (see `DrawWrite`).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Hidden states of the generator RNN, `(batch, T, units)`.

    Returns:
        `(images, canvases, attention)`: `(batch, H, W, C)`,
        `(batch, T, H, W, C)` (both in the activation's range) and
        `(batch, T, 5)` with the columns of
        `kgan.layers.draw_attention.ATTENTION_FIELDS`.
    """

    def __init__(
        self,
        n,
        image_shape,
        activation="tanh",
        eps=FILTERBANK_EPS,
        bounded=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"Unknown canvas activation. Expected one of {OUTPUT_ACTIVATIONS}. "
                f"Received: activation={activation!r}"
            )
        self.n = n
        self.image_shape = tuple(image_shape)
        self.activation = activation
        self.eps = eps
        self.bounded = bounded
        self.write = DrawWrite(
            n,
            self.image_shape,
            return_attention=True,
            eps=eps,
            bounded=bounded,
            dtype=self.dtype_policy,
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

    def initialize_from(self, images, mode="mean", seed=0):
        """Sets the bias `c_0` from the training data's per-pixel marginals.

        The paper's c_0 is "a bias term initialised from the training data's
        marginal distribution"; kgan reads it as the classic rule for the
        visible biases of a binary model (Hinton's RBM guide: the log-odds
        of each pixel's marginal probability of being on), which for a tanh
        canvas is `arctanh` of the mean pixel.

        Args:
            images: Training images, `(count, H, W, C)`, in the activation's
                range.
            mode: `"mean"` (default): `activation(c_0)` is the mean image,
                the expectation of every pixel's marginal. `"sample"`: every
                pixel of `activation(c_0)` is one draw from that pixel's
                values in `images` (the other reading of the wording; on
                MNIST its salt-and-pepper canvas let D win within 1,300
                steps in kgan's runs).
            seed: Seed of the draws of `"sample"`.
        """
        if mode not in CANVAS_INITS:
            raise ValueError(
                f"Unknown canvas initialisation. Expected one of {list(CANVAS_INITS)}. "
                f"Received: mode={mode!r}"
            )
        images = np.asarray(images, np.float64)
        if images.ndim != 4 or images.shape[1:] != self.image_shape:
            raise ValueError(
                f"Expected training images of shape (count, {self.image_shape}). "
                f"Received: images.shape={images.shape}"
            )
        if mode == "mean":
            values = images.mean(axis=0)
        else:
            rng = np.random.default_rng(seed)
            which = rng.integers(len(images), size=self.image_shape)
            values = np.take_along_axis(images, which[None], axis=0)[0]
        # Saturated pixels (MNIST's background) would need an infinite c_0.
        if self.activation == "tanh":
            canvas = np.arctanh(np.clip(values, -0.99, 0.99))
        else:
            values = np.clip(values, 0.005, 0.995)
            canvas = np.log(values / (1.0 - values))
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
                "eps": self.eps,
                "bounded": self.bounded,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kgan")
class DrawReader(keras.layers.Layer):
    """Reads an image T times with attention and an RNN: the DRAW-GAN critic.

    It follows `r_t = read(x, h_{t-1})`, `h_t = RNN(h_{t-1}, [r_t, h_{t-1}])`
    from a learned `h_0` (the paper's) or from zero, and returns `h_T` (and
    every read's attention).

    Args:
        n: Read grid size N.
        steps: Number of glimpses T.
        units: Size of the RNN state.
        cell: `"lstm"` (default), `"gru"`, `"simple"` (tanh) or `"sigmoid"`
            (the paper's eq. 1).
        return_attention: Also return the `(batch, T, 5)` attention
            parameters of the reads.
        initial_state: `"learned"` (default; `LearnedInitialState`, as the
            paper) or `"zeros"`.
        eps, bounded: Of the read (see `DrawRead`).
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: Images `(batch, H, W, C)`.

    Returns:
        The last hidden state `(batch, units)`, and the attention parameters
        when `return_attention=True`.
    """

    def __init__(
        self,
        n,
        steps,
        units,
        cell="lstm",
        return_attention=False,
        initial_state="learned",
        eps=FILTERBANK_EPS,
        bounded=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_cell(cell)
        check_initial_state(initial_state)
        check_positive(steps=steps, units=units)
        self.n = n
        self.steps = steps
        self.units = units
        self.cell = cell
        self.return_attention = return_attention
        self.initial_state = initial_state
        self.eps = eps
        self.bounded = bounded
        self.read = DrawRead(
            n, return_attention=True, eps=eps, bounded=bounded, dtype=self.dtype_policy
        )
        self.rnn_cell = CELLS[cell](units, dtype=self.dtype_policy, name="cell")
        self.initial_states = None
        if initial_state == "learned":
            self.initial_states = LearnedInitialState(
                units, state_count(cell), dtype=self.dtype_policy, name="initial_state"
            )

    def build(self, input_shape):
        self.read.build([input_shape, (None, self.units)])
        glimpse = self.n * self.n * input_shape[-1]
        self.rnn_cell.build((None, glimpse + self.units))
        if self.initial_states is not None:
            self.initial_states.build(input_shape)

    def call(self, inputs):
        if self.initial_states is None:
            zeros = ops.zeros((ops.shape(inputs)[0], self.units), self.compute_dtype)
            states = [zeros] * state_count(self.cell)
        else:
            states = self.initial_states(inputs)
        hidden = states[0]
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
                "initial_state": self.initial_state,
                "eps": self.eps,
                "bounded": self.bounded,
            }
        )
        return config
