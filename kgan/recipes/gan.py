"""Recipes of the unconditional GANs: Goodfellow's MLP GAN, DCGAN (LReLU or
PSF) and the DRAW-attention GAN, on any kgan image dataset."""

import abc
import dataclasses
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from kgan.data import load_arrays
from kgan.images import make_grid
from kgan.layers.draw_attention import FILTERBANK_EPS
from kgan.models import DRAWGAN, GAN, dcgan, draw, vanilla
from kgan.runs.callbacks import PSFAlphaHistory, global_step
from kgan.runs.data import Segment, StepData, first_batch
from kgan.runs.recipe import Recipe, RunConfig, option

Loss = Literal["minimax", "non_saturating", "wgan_gp", "hinge", "lsgan"]
# Training images whose pixels set the DRAW generator's initial canvas.
CANVAS_INIT_IMAGES = 2000
# The filterbank epsilon of kgan's first DRAW-GAN, without the stabilisers.
UNSTABILISED_EPS = 1e-8
SAMPLE_GRID = 64
# Help of the options whose defaults DCGANConfig changes.
UPDATE_HELP = (
    "alternating: D steps, then G against the updated D on new fakes; "
    "simultaneous: both gradients from one batch of fakes (d_steps 1)"
)
LEARNING_RATE_HELP = (
    "Adam learning rate of the generator, and of the discriminator unless "
    "--d-learning-rate is set"
)
EMA_HELP = (
    "decay of the moving average of the generator used for samples and "
    "generator.keras (none: no average)"
)


@dataclasses.dataclass(frozen=True)
class GANConfig(RunConfig):
    """Settings of an unconditional GAN run."""

    dataset: str = option(
        "mnist", "mnist (embedded), mnist_full, fashion_mnist, cifar10 or road_scenes"
    )
    steps: int = option(15000, "generator updates to train for", minimum=1)
    batch_size: int = option(64, "global batch size", minimum=1)
    latent_dim: int = option(100, "size of z", minimum=1)
    loss: Loss = option("non_saturating", "adversarial loss")
    d_steps: int = option(1, "discriminator updates per generator update", minimum=1)
    update: Literal["alternating", "simultaneous"] = option(
        "alternating",
        UPDATE_HELP,
    )
    learning_rate: float = option(
        2e-4,
        LEARNING_RATE_HELP,
        above=0.0,
        aliases=("--lr",),
    )
    d_learning_rate: float | None = option(
        None,
        "Adam learning rate of the discriminator (TTUR, Heusel et al. 2017; "
        "none: --learning-rate)",
        above=0.0,
        aliases=("--d-lr",),
    )
    beta_1: float = option(
        0.5, "Adam beta_1 of both networks", minimum=0.0, aliases=("--beta1",)
    )
    lr_decay: Literal["constant", "linear"] = option(
        "constant",
        "learning-rate schedule of both networks: constant, or linear to zero "
        "at the last step",
    )
    ema: float | None = option(
        0.999,
        EMA_HELP,
        above=0.0,
        below=1.0,
    )
    r1_gamma: float | None = option(
        None,
        "weight gamma of the R1 penalty gamma/2 ||grad D(x)||^2 on real images "
        "(Mescheder et al. 2018; none: no penalty)",
        above=0.0,
    )
    global_clipnorm: float | None = option(
        None,
        "clip the global norm of each network's gradients to this (none: no clip)",
        above=0.0,
    )
    eval_n: int = option(10000, "generated images per evaluation", minimum=2)
    strategy: Literal["mirrored"] | None = option(
        None,
        "tf.distribute strategy (mirrored: all local GPUs or logical devices, "
        "synchronized batch norm)",
    )

    def check(self):
        if self.update == "simultaneous" and self.d_steps != 1:
            raise ValueError(
                "The simultaneous update makes one discriminator step per "
                "generator step. "
                f"Received: update='simultaneous', d_steps={self.d_steps}"
            )


@dataclasses.dataclass(frozen=True)
class ActivationConfig(GANConfig):
    """A GAN whose hidden activation can be LReLU or PSF."""

    activation: Literal["lrelu", "psf"] = option(
        "lrelu", "hidden activation: LeakyReLU(0.2) or the parametric softsign"
    )


@dataclasses.dataclass(frozen=True)
class VanillaConfig(ActivationConfig):
    """Goodfellow's MLP GAN."""

    maxout: bool = option(
        False, "maxout discriminator (240 units, 5 pieces), as Goodfellow et al."
    )


@dataclasses.dataclass(frozen=True)
class DCGANConfig(ActivationConfig):
    """Radford's DCGAN, with LReLU or PSF activations. Its defaults are the
    quick start's: under 5 minutes on 2 CPU cores (README, "Quick start")."""

    steps: int = option(2500, "generator updates to train for", minimum=1)
    update: Literal["alternating", "simultaneous"] = option(
        "simultaneous",
        UPDATE_HELP,
    )
    learning_rate: float = option(
        1e-3,
        LEARNING_RATE_HELP,
        above=0.0,
        aliases=("--lr",),
    )
    ema: float | None = option(
        0.995,
        EMA_HELP,
        above=0.0,
        below=1.0,
    )
    width: float = option(
        1.0, "filter multiplier (1.0: 64-128 filters at 28 px)", above=0.0
    )
    refine_layers: int = option(
        1,
        "stride-1 transposed convolutions added to the generator at each "
        "resolution (0: Radford's generator)",
        minimum=0,
    )
    refine_kernel: int = option(
        3, "kernel size of the refine layers (the upsampling layers: 4)", minimum=1
    )
    discriminator_units: int = option(
        256,
        "units of a hidden dense layer before the discriminator's logit, as "
        "InfoGAN's MNIST discriminator (1024; 0: none, as Radford)",
        minimum=0,
    )
    initializer: Literal["glorot", "dcgan"] = option(
        "glorot", "kernel initializer: Glorot uniform, or N(0, 0.02) as Radford"
    )
    attention_at: int | None = option(
        None,
        "feature-map size at which both networks get SAGAN's self-attention "
        "(e.g. 14 at 28 px; none: no attention)",
        minimum=1,
    )
    spectral_norm: bool = option(
        False, "spectral normalization of every conv and dense layer, as SAGAN"
    )
    psf_layers: Literal["all", "most"] = option(
        "all",
        "with --activation psf: every hidden activation, or all but D's first "
        "and G's projection (kept LReLU)",
    )


@dataclasses.dataclass(frozen=True)
class DrawConfig(GANConfig):
    """The DRAW-attention GAN, with the paper's batch and Adam settings."""

    batch_size: int = option(100, "global batch size (the paper: 100)", minimum=1)
    learning_rate: float = option(
        3.75e-4, "Adam learning rate (the paper: 3.75e-4)", above=0.0, aliases=("--lr",)
    )
    beta_1: float = option(
        0.75, "Adam beta_1 (the paper: 0.75)", minimum=0.0, aliases=("--beta1",)
    )
    latent_dim: int = option(100, "size of each step's z_t", minimum=1)
    attention_n: int = option(5, "N of the N x N read and write grids", minimum=2)
    draw_steps: int = option(6, "write and read steps T", minimum=1)
    rnn_units: int = option(256, "RNN state size of both networks", minimum=1)
    rnn_cell: Literal["lstm", "gru", "simple", "sigmoid"] = option(
        "lstm", "RNN cell of both networks (sigmoid: the paper's eq. 1; lstm: DRAW's)"
    )
    initial_state: Literal["learned", "zeros"] = option(
        "learned", "initial RNN states h_0: learned vectors (the paper) or zeros"
    )
    c0: Literal["mean", "sample"] = option(
        "mean",
        "initial canvas bias from each pixel's training marginal: its mean "
        "(the log-odds rule for biases) or one draw from it",
    )
    stabilisers: bool = option(
        True,
        "kgan's attention numerics, not in the paper: bounded log gamma and "
        "scales, filterbank eps 1e-4 (else 1e-8), attention weights N(0, 0.01)",
    )
    global_clipnorm: float | None = option(
        10.0,
        "clip the global gradient norm of both networks (jbornschein/draw: 10; "
        "not in the paper; none: no clip)",
        above=0.0,
    )


def scale_images(images):
    """uint8 images to float32 in [-1, 1], inside the pipeline."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def check_image_range(images):
    """Fails early on images outside [-1, 1]; returns their shape (H, W, C)."""
    low, high = float(np.min(images)), float(np.max(images))
    if not (np.isfinite(low) and np.isfinite(high)) or low < -1.0 or high > 1.0:
        raise ValueError(
            "Images must be scaled to [-1, 1] (the generator ends in tanh). "
            f"Received: range=[{low}, {high}]"
        )
    return tuple(images.shape[1:])


def image_data(config, limit=None):
    """The training split of `config.dataset` (its first `limit` images, or
    all) as `StepData` in [-1, 1]."""
    images, _ = load_arrays(config.dataset, "train")
    return StepData((images[:limit],), config.seed, transform=scale_images)


def _images(batch):
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def _training_images(data, count):
    """Up to `count` training images in [-1, 1], as one array."""
    if isinstance(data, StepData):
        return data.arrays[0][:count].astype(np.float32) / 127.5 - 1.0
    batches, total = [], 0
    for batch in data.dataset:
        batches.append(np.asarray(_images(batch)))
        total += len(batches[-1])
        if total >= count:
            break
    return np.concatenate(batches)[:count]


class GANRecipe(Recipe):
    """The recipes of `GAN` trainers on image datasets; subclasses choose the
    networks."""

    trainer_file = "gan.keras"
    trainer_class = GAN

    @abc.abstractmethod
    def networks(self, config, image_shape, data):
        """`(generator, discriminator)` for images of `image_shape`."""

    def data(self, config):
        return image_data(config)

    def build(self, config, data):
        image_shape = check_image_range(_images(first_batch(data)))
        strategy = (
            tf.distribute.MirroredStrategy()
            if config.strategy == "mirrored"
            else tf.distribute.get_strategy()
        )
        with strategy.scope():
            generator, discriminator = self.networks(config, image_shape, data)
            trainer = self.trainer_class(
                generator,
                discriminator,
                latent_dim=config.latent_dim,
                loss=config.loss,
                d_steps=config.d_steps,
                update=config.update,
                ema=config.ema,
                r1_gamma=config.r1_gamma,
                seed=config.seed,
            )

            def adam(updates, rate):
                if config.lr_decay == "linear":
                    rate = keras.optimizers.schedules.PolynomialDecay(
                        rate, decay_steps=updates, end_learning_rate=0.0
                    )
                return keras.optimizers.Adam(
                    rate, beta_1=config.beta_1, global_clipnorm=config.global_clipnorm
                )

            # XLA is not used under a strategy: its all-reduce of batch
            # statistics and gradients is not one program on CPU devices.
            jit = config.jit_compile and config.strategy is None
            trainer.compile(
                g_optimizer=adam(config.steps, config.learning_rate),
                d_optimizer=adam(
                    config.steps * config.d_steps,
                    config.d_learning_rate or config.learning_rate,
                ),
                jit_compile=jit,
            )
        return trainer

    def segment(self, config, trainer):
        left = config.steps - global_step(trainer)
        return Segment("train", left, config.batch_size) if left > 0 else None

    def samples(self, config, trainer):
        inputs = trainer.sample_inputs(SAMPLE_GRID, config.seed)
        return make_grid(trainer.sampler.predict(inputs, verbose=0))

    def evaluator(self, config):
        from kgan.metrics.evaluate import Evaluator, has_classifier

        if not has_classifier(config.dataset):
            return None
        evaluator = Evaluator(config.dataset, seed=config.seed)
        return lambda trainer: evaluator.evaluate_generator(
            trainer.sampler, n=config.eval_n, seed=config.seed
        )

    def callbacks(self, config, folder):
        if getattr(config, "activation", None) != "psf":
            return []
        every = max(1, min(config.sample_every, config.checkpoint_every) // 5)
        return [PSFAlphaHistory(folder / "alpha.csv", every)]


class VanillaRecipe(GANRecipe):
    name = "gan"
    summary = "Goodfellow's MLP GAN"
    config_class = VanillaConfig

    def networks(self, config, image_shape, data):
        return vanilla(
            image_shape=image_shape,
            latent_dim=config.latent_dim,
            activation=config.activation,
            maxout=config.maxout,
        )


class DCGANRecipe(GANRecipe):
    name = "dcgan"
    summary = "Radford's convolutional GAN, LReLU or PSF activations"
    config_class = DCGANConfig
    # The former defaults: 10/10 classes and 73.4% confident MNIST samples
    # after 15,000 steps (25 minutes on 2 CPU cores).
    presets = {
        "quality": {
            "steps": 15000,
            "batch_size": 64,
            "width": 1.0,
            "refine_layers": 1,
            "refine_kernel": 4,
            "discriminator_units": 0,
            "loss": "non_saturating",
            "update": "alternating",
            "learning_rate": 2e-4,
            "beta_1": 0.5,
            "ema": 0.999,
            "jit_compile": True,
        },
        # Radford's DCGAN as the PSF paper trains it: 20,000 iterations of
        # batch 64, Adam 2e-4 / 0.5, N(0, 0.02) kernels, no average.
        "radford": {
            "steps": 20_000,
            "batch_size": 64,
            "refine_layers": 0,
            "discriminator_units": 0,
            "initializer": "dcgan",
            "loss": "non_saturating",
            "update": "alternating",
            "learning_rate": 2e-4,
            "beta_1": 0.5,
            "ema": None,
        },
    }

    def networks(self, config, image_shape, data):
        return dcgan(
            image_shape=image_shape,
            latent_dim=config.latent_dim,
            width=config.width,
            refine_layers=config.refine_layers,
            refine_kernel=config.refine_kernel,
            initializer=config.initializer,
            psf_layers=config.psf_layers,
            attention_at=config.attention_at,
            spectral_norm=config.spectral_norm,
            discriminator_units=config.discriminator_units,
            activation=config.activation,
            synchronized_batchnorm=config.strategy is not None,
        )


class DrawRecipe(GANRecipe):
    name = "draw"
    summary = "GAN with DRAW attention: recurrent generator and discriminator"
    config_class = DrawConfig
    trainer_class = DRAWGAN

    def networks(self, config, image_shape, data):
        generator, discriminator = draw(
            image_shape=image_shape,
            latent_dim=config.latent_dim,
            n=config.attention_n,
            steps=config.draw_steps,
            units=config.rnn_units,
            cell=config.rnn_cell,
            initial_state=config.initial_state,
            eps=FILTERBANK_EPS if config.stabilisers else UNSTABILISED_EPS,
            bounded=config.stabilisers,
        )
        canvas = generator.get_layer("g_canvas")
        images = _training_images(data, CANVAS_INIT_IMAGES)
        canvas.initialize_from(images, mode=config.c0, seed=config.seed)
        return generator, discriminator
