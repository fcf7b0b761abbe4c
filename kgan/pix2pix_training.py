"""`train_pix2pix`: a label-map-to-image GAN on synthetic road scenes, and
`compress_pix2pix`: its Compact GAN slimming, both writing a run folder."""

import dataclasses
import json
import pathlib

import keras
import numpy as np

from kgan.compress.slimming import SlimmingConfig, slim
from kgan.data.road_scenes import colorize, one_hot, road_scenes, scene_dataset
from kgan.files import atomic_path
from kgan.images import make_grid, save_png, to_uint8
from kgan.metrics.seg_to_image import SegToImageEvaluator
from kgan.models.pix2pix import Pix2Pix, frozen_discriminator_trainer
from kgan.models.pix2pix_networks import patch_discriminator, unet_generator
from kgan.training import prepare_run_dir, steps_per_epoch

# Held-out scenes come from their own seed, never seen in training.
TEST_SEED = 2**20
SAMPLE_SCENES = 8


@dataclasses.dataclass
class Pix2PixConfig:
    """Settings of a pix2pix run on `kgan.data.road_scenes`."""

    resolution: int = 64
    scenes: int = 4000
    test_scenes: int = 500
    steps: int = 3000
    batch_size: int = 16
    filters: int = 64
    max_filters: int = 512
    dropout: float = 0.5
    l1_weight: float = 100.0
    learning_rate: float = 2e-4
    beta1: float = 0.5
    sample_every: int = 500
    seed: int = 0
    jit_compile: bool = True

    def validate(self):
        for name in ("scenes", "test_scenes", "steps", "batch_size", "sample_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive integer. Received: {name}={value!r}"
                )
        if self.batch_size > self.scenes:
            raise ValueError(
                "`batch_size` cannot exceed the number of training scenes. "
                f"Received: batch_size={self.batch_size}, scenes={self.scenes}"
            )
        return self


def run_dataset(config):
    """The training `tf.data.Dataset` of a `Pix2PixConfig`."""
    return scene_dataset(
        config.scenes, config.resolution, config.batch_size, config.seed
    )


def held_out_evaluator(config, segmenter=None):
    """A `SegToImageEvaluator` on the run's held-out scenes."""
    labels, images = road_scenes(config.test_scenes, config.resolution, TEST_SEED)
    return SegToImageEvaluator(labels, images, segmenter)


def comparison_grid(evaluator, generators, path, count=SAMPLE_SCENES):
    """Saves rows of label maps, true images and each generator's images."""
    labels, images = evaluator.labels[:count], evaluator.images[:count]
    rows = [colorize(labels), images]
    for generator in generators:
        rows.append(to_uint8(generator(one_hot(labels), training=False)))
    tiles = np.concatenate(rows).astype(np.float32) / 127.5 - 1.0
    save_png(make_grid(tiles, columns=count), path)


def build_pix2pix(config, channels):
    keras.utils.set_random_seed(config.seed)
    generator = unet_generator(
        config.resolution,
        channels,
        filters=config.filters,
        max_filters=config.max_filters,
        dropout=config.dropout,
    )
    discriminator = patch_discriminator(config.resolution, channels)
    trainer = Pix2Pix(
        generator, discriminator, l1_weight=config.l1_weight, seed=config.seed
    )

    def adam():
        return keras.optimizers.Adam(config.learning_rate, beta_1=config.beta1)

    trainer.compile(adam(), adam(), jit_compile=config.jit_compile)
    return trainer


def _save(model, path):
    with atomic_path(path) as partial:
        model.save(partial)


def train_pix2pix(config, out, segmenter=None, verbose="auto"):
    """Trains pix2pix on road scenes; writes the run folder `out`.

    Writes `config.json`, `losses.csv`, `samples/step_<n>.png` (label maps,
    true images, generated images of held-out scenes), `pix2pix.keras`
    (both networks, to resume or slim), `generator.keras` and
    `quality.json` (L1, PSNR, SSIM, SWD, mIoU on the held-out scenes).

    Returns:
        The trained `Pix2Pix` model.
    """
    config.validate()
    out = prepare_run_dir(out, config, resume=False)
    data = run_dataset(config)
    evaluator = held_out_evaluator(config, segmenter)
    trainer = build_pix2pix(config, int(data.element_spec[0].shape[-1]))
    epoch_steps = steps_per_epoch(config.steps, config.sample_every)

    class Samples(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            step = (epoch + 1) * epoch_steps
            comparison_grid(
                evaluator, [trainer.generator], out / "samples" / f"step_{step:06d}.png"
            )

    trainer.fit(
        data,
        steps_per_epoch=epoch_steps,
        epochs=config.steps // epoch_steps,
        callbacks=[
            keras.callbacks.CSVLogger(str(out / "losses.csv")),
            Samples(),
        ],
        verbose=verbose,
    )
    _save(trainer, out / "pix2pix.keras")
    _save(trainer.generator, out / "generator.keras")
    quality = evaluator(trainer.generator)
    quality["parameters"] = trainer.generator.count_params()
    quality["real_images_miou"] = evaluator.reference()["miou"]
    with atomic_path(out / "quality.json") as partial:
        partial.write_text(json.dumps(quality, indent=2) + "\n")
    return trainer


def load_pix2pix_run(model_path, data_config=None):
    """`(Pix2Pix model, Pix2PixConfig)` of a run's saved `pix2pix.keras`; the
    config is read from the run's `config.json` unless given."""
    model_path = pathlib.Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"No such pix2pix model. Received: path={model_path}")
    if data_config is None:
        saved = model_path.parent / "config.json"
        if not saved.is_file():
            raise FileNotFoundError(
                "The run's config.json (scenes, resolution) is missing beside the "
                f"model. Received: path={saved}"
            )
        data_config = Pix2PixConfig(**json.loads(saved.read_text()))
    trainer = keras.saving.load_model(model_path)
    if not isinstance(trainer, Pix2Pix):
        raise ValueError(
            "Slimming needs a saved Pix2Pix model (pix2pix.keras of a run). "
            f"Received: {type(trainer).__name__}"
        )
    return trainer, data_config


def compress_pix2pix(model_path, out, config=None, data_config=None, segmenter=None):
    """Slims the generator of a saved `Pix2Pix` run to the parameter target.

    Args:
        model_path: The run's `pix2pix.keras`.
        out: Folder for `round_<k>.keras`, `rounds.json` and
            `comparison.png`.
        config: A `SlimmingConfig`.
        data_config: The `Pix2PixConfig` of the run (scenes, resolution,
            batch size, seed); read from the run's `config.json` by default.

    Returns:
        The list of round records (see `slim`), round 0 being the input.
    """
    trainer, data_config = load_pix2pix_run(model_path, data_config)
    out = pathlib.Path(out)
    evaluator = held_out_evaluator(data_config, segmenter)
    first = {"round": 0, "parameters": trainer.generator.count_params(), "ratio": 1.0}
    first.update(evaluator(trainer.generator))
    records = [first] + slim(
        trainer.generator,
        frozen_discriminator_trainer(trainer.discriminator),
        run_dataset(data_config),
        config or SlimmingConfig(),
        out,
        on_round=lambda _, generator: evaluator(generator),
    )
    comparison_grid(
        evaluator,
        [trainer.generator, records[-1]["generator"]],
        out / "comparison.png",
    )
    table = [{k: v for k, v in r.items() if k != "generator"} for r in records]
    with atomic_path(out / "rounds.json") as partial:
        partial.write_text(json.dumps(table, indent=2) + "\n")
    return records
