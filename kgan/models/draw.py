"""The GAN with DRAW attention: recurrent generator and discriminator that
write and read the image through Gaussian attention, step by step."""

import keras
import numpy as np
from keras import layers

from kgan.layers.checks import check_positive
from kgan.layers.draw_attention import FILTERBANK_EPS
from kgan.layers.draw_recurrent import (
    CELLS,
    DrawCanvas,
    DrawReader,
    check_cell,
    check_initial_state,
    state_count,
)
from kgan.layers.learned_state import LearnedInitialState
from kgan.models.gan import GAN

__all__ = ["CELLS", "DRAWGAN", "DrawCanvas", "DrawReader", "draw"]


def draw(
    image_shape=(28, 28, 1),
    latent_dim=100,
    n=5,
    steps=6,
    units=256,
    cell="lstm",
    activation="tanh",
    initial_state="learned",
    eps=FILTERBANK_EPS,
    bounded=True,
):
    """The DRAW-attention GAN's generator and discriminator.

    Generator: `z_t` (one latent vector per step, input `(T, latent_dim)`)
    -> RNN from `h_0` -> `h_t` -> attentive write of an N x N patch added to the canvas
    (`DrawCanvas`). Discriminator: T attentive N x N reads, each fed with the
    previous state to the RNN (`DrawReader`), then a linear logit of `h_T`.

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: Size of each step's z_t (the paper: 100).
        n: Attention grid size of reads and writes (the paper: 5; ablation 4).
        steps: Number of write and read steps T (the paper: 6).
        units: RNN state size of both networks (the paper: 256).
        cell: `"lstm"` (default, as DRAW), `"gru"`, `"simple"` (tanh) or
            `"sigmoid"` (the paper's eq. 1).
        activation: Canvas activation, `"tanh"` for data in [-1, 1].
        initial_state: `"learned"` (default): h_0 (and an LSTM's c_0) of
            both RNNs are trained vectors from random initial values, as the
            paper; `"zeros"`: fixed zero states.
        eps: The filterbanks' epsilon (see `draw_filterbank`).
        bounded: kgan's bounded attention numerics (see `DrawRead`).

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
    check_cell(cell)
    check_initial_state(initial_state)
    check_positive(latent_dim=latent_dim, steps=steps, units=units)
    image_shape = tuple(image_shape)

    z = keras.Input((steps, latent_dim), name="z")
    # unroll: T is small and fixed, and an unrolled RNN exports to TFLite as
    # plain builtin ops.
    rnn = layers.RNN(
        CELLS[cell](units), return_sequences=True, unroll=True, name="g_rnn"
    )
    states = None
    if initial_state == "learned":
        states = LearnedInitialState(units, state_count(cell), name="g_initial_state")(
            z
        )
    hidden = rnn(z, initial_state=states)
    canvas = DrawCanvas(
        n, image_shape, activation, eps=eps, bounded=bounded, name="g_canvas"
    )
    image, _, _ = canvas(hidden)
    generator = keras.Model(z, image, name="draw_generator")

    image_in = keras.Input(image_shape, name="image")
    reader = DrawReader(
        n,
        steps,
        units,
        cell,
        initial_state=initial_state,
        eps=eps,
        bounded=bounded,
        name="d_reader",
    )
    last = reader(image_in)
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
            z = self.sample_inputs(n, seed)
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
