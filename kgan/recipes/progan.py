"""The Progressive GAN recipe: grows through its levels as images are shown,
one run-loop segment per phase, each with its own batch size."""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from kgan.data import load_arrays
from kgan.images import make_grid, to_uint8
from kgan.metrics import Evaluator
from kgan.models.progressive import resolution_levels
from kgan.models.progressive_gan import ProgressiveGAN
from kgan.models.progressive_schedule import Phase, phase_at, phases
from kgan.recipes.gan import image_data, scale_images
from kgan.runs.data import Segment
from kgan.runs.recipe import Recipe, RunConfig, option

SAMPLE_GRID = 64


def parse_batch_sizes(text):
    """`"4:64,8:64"` to `{"4": 64, "8": 64}` (string keys, as in JSON)."""
    try:
        pairs = [item.split(":") for item in text.split(",")]
        return {str(int(res)): int(batch) for res, batch in pairs}
    except ValueError as error:
        raise ValueError(
            "Batch sizes must read RES:BATCH,RES:BATCH,... "
            f"Received: batch_sizes={text!r}"
        ) from error


@dataclasses.dataclass(frozen=True)
class ProgressiveConfig(RunConfig):
    """Settings of a Progressive GAN run."""

    dataset: str = option(
        "mnist", "mnist (embedded), mnist_full, fashion_mnist, cifar10 or road_scenes"
    )
    resolution: int = option(
        32,
        "final resolution, at least 16 for MS-SSIM's 5 scales (MNIST and "
        "Fashion-MNIST are padded to 32)",
        minimum=16,
    )
    kimg: float = option(600.0, "thousands of real images to show in all", above=0.0)
    lod_training_kimg: float = option(
        60.0, "thousands of images of stable training per level", above=0.0
    )
    lod_transition_kimg: float = option(
        60.0, "thousands of images of each fade-in", above=0.0
    )
    growing: bool = option(
        True, "grow from 4x4 (no: train the final resolution's networks throughout)"
    )
    batch_sizes: dict = option(
        {"4": 64, "8": 64, "16": 32, "32": 32, "64": 16},
        "batch size per resolution, as RES:BATCH,...",
        parse=parse_batch_sizes,
    )
    fmap_base: int = option(1024, "feature-map budget of the networks", minimum=1)
    fmap_max: int = option(128, "most feature maps of any layer", minimum=1)
    pixel_norm: bool = option(True, "pixelwise feature normalization in G")
    minibatch_stddev: bool = option(True, "minibatch stddev layer in D")
    equalized: bool = option(True, "equalized learning rate layers")
    learning_rate: float = option(
        1e-3, "Adam learning rate of both networks", above=0.0
    )
    gp_weight: float = option(10.0, "weight of the gradient penalty", minimum=0.0)
    drift: float = option(0.001, "weight of the drift penalty", minimum=0.0)
    ema: float | None = option(
        0.999,
        "decay of the generator's moving average (none: no average)",
        above=0.0,
        below=1.0,
    )
    ema_warmup: bool = option(
        False,
        "warm the average up at each level's start, decay min(ema, (1 + t) / "
        "(10 + t)) (kgan's; the official decay is constant)",
    )
    reset_optimizer_per_level: bool = option(
        True, "zero both Adams' state when a phase starts (the official code)"
    )
    train_images: int | None = option(
        None, "train on the first N training images only (none: all)", minimum=1
    )
    eval_n: int = option(2000, "images per SWD and MS-SSIM evaluation", minimum=2)
    sample_every: int = option(200, "steps between sample grids", minimum=1)
    checkpoint_every: int = option(200, "steps between checkpoints", minimum=1)

    def check(self):
        levels = resolution_levels(self.resolution)
        missing = [r for r in levels if str(r) not in self.batch_sizes]
        if missing:
            raise ValueError(
                f"`batch_sizes` needs a batch size for every level {levels}. "
                f"Received: batch_sizes={self.batch_sizes}"
            )


def fit_to_resolution(images, resolution):
    """Pads (with the background value -1) and average-pools square images
    to `resolution`: MNIST's 28 px become 32 px with a 2-pixel border, or
    16 px by padding to 32 and pooling."""
    size = images.shape[1]
    if size < resolution or size % resolution:
        # Pad to the resolution, or to its next multiple before pooling.
        pad = math.ceil(size / resolution) * resolution - size
        images = tf.pad(
            images,
            [[0, 0], [pad // 2, pad - pad // 2], [pad // 2, pad - pad // 2], [0, 0]],
            constant_values=-1.0,
        )
        size += pad
    if size > resolution:
        factor = size // resolution
        images = tf.nn.avg_pool2d(images, factor, factor, "VALID")
    return images


class ProgressiveRecipe(Recipe):
    name = "progan"
    summary = "Progressive GAN: growing with fade-in, WGAN-GP, equalized LR"
    config_class = ProgressiveConfig
    trainer_file = "progan.keras"

    def data(self, config):
        return image_data(config, limit=config.train_images)

    def build(self, config, data):
        probe = next(iter(data.stream(self._segment(config, config.resolution))))
        trainer = ProgressiveGAN(
            resolution=config.resolution,
            channels=int(probe.shape[-1]),
            fmap_base=config.fmap_base,
            fmap_max=config.fmap_max,
            pixel_norm=config.pixel_norm,
            minibatch_stddev=config.minibatch_stddev,
            equalized=config.equalized,
            gp_weight=config.gp_weight,
            drift=config.drift,
            ema=config.ema,
            ema_warmup=config.ema_warmup,
            reset_optimizer_per_level=config.reset_optimizer_per_level,
            seed=config.seed,
        )
        optimizer = ProgressiveGAN.default_optimizer
        trainer.compile(
            optimizer(config.learning_rate),
            optimizer(config.learning_rate),
            jit_compile=config.jit_compile,
        )
        return trainer

    def schedule(self, config, trainer):
        if not config.growing:
            return [Phase(config.resolution, False, 0.0, float("inf"))]
        return phases(
            trainer.networks.levels,
            config.lod_training_kimg,
            config.lod_transition_kimg,
        )

    def _segment(self, config, level, steps=1, key="probe"):
        def to_level(images):
            return fit_to_resolution(
                fit_to_resolution(images, config.resolution), level
            )

        return Segment(key, steps, config.batch_sizes[str(level)], to_level)

    def sync_phase(self, config, trainer):
        """Sets the trainer to the phase its images shown fall in."""
        shown = float(trainer.images_shown.numpy())
        phase = phase_at(self.schedule(config, trainer), shown)
        if phase != trainer.phase:
            trainer.set_phase(phase)
        return phase

    def segment(self, config, trainer):
        # Rounded: 0.008 * 9 thousand images are 72, not 72.00000000000001
        # (which would add a step).
        shown, total = (
            float(trainer.images_shown.numpy()),
            round(config.kimg * 1000.0, 6),
        )
        if shown >= total:
            return None
        phase = self.sync_phase(config, trainer)
        batch = config.batch_sizes[str(phase.resolution)]
        steps = math.ceil((min(phase.end, total) - shown) / batch)
        key = f"{phase.resolution}px{' fade-in' if phase.fading else ''}"
        return self._segment(config, phase.resolution, steps, key)

    def generate(self, config, trainer, n, raw=False):
        """`n` images of the current level in [-1, 1], enlarged (nearest
        neighbour) to the final resolution, as the paper shows them; from
        the moving average, or the trained generator itself if `raw`."""
        self.sync_phase(config, trainer)
        if raw:
            z = trainer.sample_inputs(n, config.seed)
            images = trainer.level_generator().predict(z, batch_size=256, verbose=0)
        else:
            images = trainer.generate(n, seed=config.seed)
        images = np.clip(images, -1.0, 1.0)
        factor = config.resolution // trainer.phase.resolution
        return images.repeat(factor, axis=1).repeat(factor, axis=2)

    def samples(self, config, trainer):
        return make_grid(self.generate(config, trainer, SAMPLE_GRID))

    def evaluator(self, config):
        """SWD per level and MS-SSIM against real images at the final
        resolution; samples of lower levels are enlarged to it. With a moving
        average, the metrics are of its samples, and the trained
        generator's follow with the prefix `raw_`."""
        images = scale_images(load_arrays(config.dataset, "train")[0][: config.eval_n])
        real = to_uint8(fit_to_resolution(images, config.resolution).numpy())
        evaluator = Evaluator(None, real=real, seed=config.seed)

        def evaluate(trainer):
            fake = to_uint8(self.generate(config, trainer, config.eval_n))
            metrics = {"resolution": trainer.phase.resolution, **evaluator(fake)}
            if trainer.ema_networks is not None:
                raw = to_uint8(self.generate(config, trainer, config.eval_n, raw=True))
                metrics.update({f"raw_{k}": v for k, v in evaluator(raw).items()})
            return metrics

        return evaluate

    def progress(self, config, trainer):
        return (
            float(trainer.images_shown.numpy()),
            round(config.kimg * 1000.0, 6),
            "images",
        )
