"""The GAN with DRAW attention: recurrent generator and discriminator that
write and read the image through Gaussian attention, step by step."""

import keras
import numpy as np
from keras import layers, ops

from kgan.layers import DrawRead, DrawWrite
from kgan.models.gan import GAN

CELLS = {"lstm": layers.LSTMCell, "gru": layers.GRUCell, "simple": layers.SimpleRNNCell}
OUTPUT_ACTIVATIONS = ("tanh", "sigmoid")


def _check_cell(cell):
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
        _check_cell(cell)
        _check_positive(steps=steps, units=units)
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


def _check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )


def draw(
    image_shape=(28, 28, 1),
    latent_dim=100,
    n=5,
    steps=6,
    units=256,
    cell="lstm",
    activation="tanh",
):
    """The DRAW-attention GAN's generator and discriminator.

    Generator: `z_t` (one latent vector per step, input `(T, latent_dim)`)
    -> RNN -> `h_t` -> attentive write of an N x N patch added to the canvas
    (`DrawCanvas`). Discriminator: T attentive N x N reads, each fed with the
    previous state to the RNN (`DrawReader`), then a linear logit of `h_T`.

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: Size of each step's z_t (the paper: 100).
        n: Attention grid size of reads and writes (the paper: 5; ablation 4).
        steps: Number of write and read steps T (the paper: 6).
        units: RNN state size of both networks (the paper: 256).
        cell: `"lstm"` (default), `"gru"` or `"simple"`.
        activation: Canvas activation, `"tanh"` for data in [-1, 1].

    Returns:
        `(generator, discriminator)`, two functional Keras models; the
        generator's `"g_canvas"` layer is a `DrawCanvas` whose
        `initialize_from(images)` sets c_0 from the training data.

    Reference:
        - Kataoka, Matsubara, Uehara, "Image generation using generative
          adversarial networks and attention mechanism", JSAI 2016.
        - Gregor et al., "DRAW: A Recurrent Neural Network For Image
          Generation", ICML 2015.
    """
    _check_cell(cell)
    _check_positive(latent_dim=latent_dim, steps=steps, units=units)
    image_shape = tuple(image_shape)
    rnn = {"lstm": layers.LSTM, "gru": layers.GRU, "simple": layers.SimpleRNN}[cell]

    z = keras.Input((steps, latent_dim), name="z")
    # unroll: T is small and fixed, and an unrolled RNN exports to TFLite as
    # plain builtin ops.
    hidden = rnn(units, return_sequences=True, unroll=True, name="g_rnn")(z)
    image, _, _ = DrawCanvas(n, image_shape, activation, name="g_canvas")(hidden)
    generator = keras.Model(z, image, name="draw_generator")

    image_in = keras.Input(image_shape, name="image")
    last = DrawReader(n, steps, units, cell, name="d_reader")(image_in)
    logit = layers.Dense(1, name="d_logit")(last)
    discriminator = keras.Model(image_in, logit, name="draw_discriminator")
    return generator, discriminator


@keras.saving.register_keras_serializable(package="kgan")
class DRAWGAN(GAN):
    """A GAN whose generator draws through DRAW attention in T steps.

    Takes the networks of `kgan.models.draw` (or any generator with a
    `DrawCanvas` layer named `"g_canvas"` and latents `(T, latent_dim)`) and
    trains them like `GAN`; `generate` can also return every step.

    Args:
        generator: A generator from `draw()`.
        discriminator: A discriminator from `draw()`.
        latent_dim: Size of each step's z_t.
        **kwargs: Other `GAN` arguments (`loss`, `d_steps`, `ema`, ...).
    """

    def __init__(self, generator, discriminator, latent_dim, **kwargs):
        kwargs["latent_shape"] = tuple(generator.input_shape[1:])
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        self.steps = self.latent_shape[0]

    def generate(self, n, z=None, seed=None, return_steps=False, batch_size=256):
        """Generates `n` images, optionally with the canvas of every step.

        Args:
            n: Positive number of images.
            z: Optional latents `(n, T, latent_dim)`, e.g. to fix or zero
                some steps' z_t; drawn from N(0, I) when `None`.
            seed: Seed of the drawn latents, or `None` for fresh ones.
            return_steps: Also return every canvas and write attention.
            batch_size: Images generated per forward pass.

        Returns:
            Images `(n, H, W, C)` in the data's range; with `return_steps`,
            `(images, canvases, attention)` where canvases `(n, T, H, W, C)`
            are the activated canvases after each write and attention
            `(n, T, 5)` holds each write's centre x, centre y, stride,
            sigma and gamma (1-based pixel coordinates).
        """
        if z is None:
            if not return_steps:
                return super().generate(n, seed=seed, batch_size=batch_size)
            z = self.make_latents(n, seed)
        z = np.asarray(z, np.float32)
        if not isinstance(n, int) or z.shape != (n,) + self.latent_shape:
            raise ValueError(
                f"`z` must have shape (n, {', '.join(map(str, self.latent_shape))}) "
                f"with n={n}. Received: z.shape={z.shape}"
            )
        if not return_steps:
            return self.sampler.predict(z, batch_size=batch_size, verbose=0)
        canvas = self.sampler.get_layer("g_canvas")
        steps_model = keras.Model(self.sampler.inputs, canvas.output)
        return tuple(steps_model.predict(z, batch_size=batch_size, verbose=0))
