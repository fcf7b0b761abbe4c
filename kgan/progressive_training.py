"""`train_progressive`: grows a Progressive GAN through its schedule with
`fit`, checkpointing every few steps so that a killed run resumes at the
same level of detail and fade-in alpha."""

import dataclasses
import json
import math

import keras
import numpy as np
import tensorflow as tf

from kgan import data as gan_data
from kgan.callbacks import rows_until
from kgan.files import atomic_path
from kgan.images import save_grid
from kgan.models.progressive import resolution_levels
from kgan.models.progressive_gan import ProgressiveGAN
from kgan.models.progressive_schedule import phase_at, phases
from kgan.training import prepare_run_dir

PROGRESS_COLUMNS = (
    "step",
    "images_shown",
    "resolution",
    "alpha",
    "d_loss",
    "g_loss",
    "gp",
)


@dataclasses.dataclass
class ProgressiveConfig:
    """Settings of a progressive run; `batch_sizes` maps each resolution (as
    a string, as in JSON) to its batch size."""

    dataset: str = "mnist"
    resolution: int = 32
    kimg: float = 600.0
    lod_training_kimg: float = 60.0
    lod_transition_kimg: float = 60.0
    batch_sizes: dict = dataclasses.field(
        default_factory=lambda: {"4": 64, "8": 64, "16": 32, "32": 32, "64": 16}
    )
    seed: int = 0
    fmap_base: int = 1024
    fmap_max: int = 128
    pixel_norm: bool = True
    minibatch_stddev: bool = True
    equalized: bool = True
    ema: float | None = 0.999
    checkpoint_every: int = 200
    jit_compile: bool = True

    def validate(self):
        levels = resolution_levels(self.resolution)
        missing = [r for r in levels if str(r) not in self.batch_sizes]
        if missing:
            raise ValueError(
                f"`batch_sizes` needs a batch size for every level {levels}. "
                f"Received: batch_sizes={self.batch_sizes}"
            )
        for name in ("kimg", "lod_training_kimg", "lod_transition_kimg"):
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"`{name}` must be positive. Received: {name}={getattr(self, name)}"
                )
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every <= 0:
            raise ValueError(
                "`checkpoint_every` must be a positive integer. "
                f"Received: checkpoint_every={self.checkpoint_every!r}"
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


def _level_data(config, resolution, batch_size, dataset=None):
    """Batches at the level's resolution: pooled in the pipeline, so a step
    at a low level never sees full-resolution tensors."""
    if dataset is None:
        dataset = gan_data.load(
            config.dataset, "train", batch_size, seed=config.seed, drop_remainder=True
        )
    else:
        dataset = dataset.unbatch().batch(batch_size, drop_remainder=True)

    def prepare(batch):
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        images = fit_to_resolution(images, config.resolution)
        return fit_to_resolution(images, resolution)

    return dataset.map(prepare).repeat()


def build_progressive(config, channels):
    """The `ProgressiveGAN` that `config` describes, compiled with PGGAN's Adam."""
    gan = ProgressiveGAN(
        resolution=config.resolution,
        channels=channels,
        fmap_base=config.fmap_base,
        fmap_max=config.fmap_max,
        pixel_norm=config.pixel_norm,
        minibatch_stddev=config.minibatch_stddev,
        equalized=config.equalized,
        ema=config.ema,
        seed=config.seed,
    )
    gan.compile(jit_compile=config.jit_compile)
    return gan


def train_progressive(config, out, resume=False, dataset=None, verbose="auto"):
    """Trains until `config.kimg` thousand images have been shown.

    Writes `config.json`, `checkpoint/` (weights, optimizer state and images
    shown, replaced atomically every `checkpoint_every` steps),
    `samples/kimg_*.png`, `progress.csv` (step, images shown, resolution,
    alpha, losses) and, at the end, `generator.keras` (the moving-average generator
    at the final level reached).

    Args:
        config: A `ProgressiveConfig`.
        out: Run folder.
        resume: Continue from `out/checkpoint`.
        dataset: Optional `tf.data.Dataset` of image batches in [-1, 1]
            instead of `config.dataset`.
        verbose: Keras `fit` verbosity.

    Returns:
        The trained `ProgressiveGAN`.
    """
    config.validate()
    out = prepare_run_dir(out, config, resume)
    keras.utils.set_random_seed(config.seed)
    probe = next(iter(_level_data(config, config.resolution, 1, dataset)))
    gan = build_progressive(config, channels=int(probe.shape[-1]))
    checkpoint = out / "checkpoint"
    if resume and (checkpoint / "state.json").exists():
        state = json.loads((checkpoint / "state.json").read_text())
        gan.load_weights(checkpoint / state["weights"])
    schedule = phases(
        gan.networks.levels, config.lod_training_kimg, config.lod_transition_kimg
    )
    total = config.kimg * 1000.0
    z = gan.sample_inputs(64, config.seed)
    # Keep what an interrupted attempt logged up to its checkpoint.
    progress = out / "progress.csv"
    kept = rows_until(progress, int(gan.g_optimizer.iterations.numpy()))
    with atomic_path(progress) as partial:
        partial.write_text(
            ",".join(PROGRESS_COLUMNS)
            + "\n"
            + "".join(",".join(row[k] for k in PROGRESS_COLUMNS) + "\n" for row in kept)
        )
    phase = None
    while float(gan.images_shown.numpy()) < total:
        shown = float(gan.images_shown.numpy())
        current = phase_at(schedule, shown)
        if current != phase:
            phase = current
            gan.set_phase(phase)
            batch = config.batch_sizes[str(phase.resolution)]
            data = _level_data(config, phase.resolution, batch, dataset)
        steps = math.ceil((min(phase.end, total) - shown) / batch)
        history = gan.fit(
            data,
            steps_per_epoch=min(steps, config.checkpoint_every),
            epochs=1,
            verbose=verbose,
        )
        logs = {k: v[-1] for k, v in history.history.items()}
        shown = float(gan.images_shown.numpy())
        with open(progress, "a") as f:
            f.write(
                f"{int(gan.g_optimizer.iterations.numpy())},{shown:.0f},"
                f"{phase.resolution},{phase.alpha(shown):.4f},"
                f"{logs['d_loss']:.5g},{logs['g_loss']:.5g},{logs['gp']:.5g}\n"
            )
        images = gan.sampler.predict(z, verbose=0)
        images = np.clip(images, -1.0, 1.0)
        factor = config.resolution // phase.resolution
        images = images.repeat(factor, axis=1).repeat(factor, axis=2)
        save_grid(images, out / "samples" / f"kimg_{shown / 1000:08.2f}.png")
        _checkpoint(gan, checkpoint)
    with atomic_path(out / "generator.keras") as partial:
        gan.sampler.save(partial)
    return gan


def _checkpoint(gan, folder):
    """Weights (with optimizer state and images shown) to a new file, then
    `state.json` pointing at it: a kill at any moment leaves a whole one."""
    folder.mkdir(parents=True, exist_ok=True)
    shown = int(gan.images_shown.numpy())
    name = f"shown_{shown:012d}.weights.h5"
    with atomic_path(folder / name) as partial:
        gan.save_weights(partial)
    with atomic_path(folder / "state.json") as partial:
        partial.write_text(json.dumps({"images_shown": shown, "weights": name}))
    for old in folder.glob("*.weights.h5"):
        if old.name != name:
            old.unlink()
