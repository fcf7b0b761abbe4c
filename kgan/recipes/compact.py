"""The Compact GAN's slimming of a pix2pix run: rounds of gate pruning and
retraining, each round's generator scored on the run's held-out scenes."""

import json
import pathlib

import keras

from kgan.compress.deployment import deployment_table
from kgan.compress.slimming import SlimmingConfig, slim
from kgan.files import atomic_path
from kgan.images import save_png
from kgan.models.pix2pix import Pix2Pix
from kgan.recipes.pix2pix import (
    SAMPLE_SCENES,
    Pix2PixConfig,
    comparison_tiles,
    held_out_evaluator,
    training_batches,
)
from kgan.runs.recipe import config_from_settings


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
        data_config = config_from_settings(Pix2PixConfig, json.loads(saved.read_text()))
    trainer = keras.saving.load_model(model_path)
    if not isinstance(trainer, Pix2Pix):
        raise ValueError(
            "Slimming needs a saved Pix2Pix model (pix2pix.keras of a run). "
            f"Received: {type(trainer).__name__}"
        )
    return trainer, data_config


def _write_table(path, table):
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(table, indent=2, default=float) + "\n")


def compress_pix2pix(
    model_path,
    out,
    config=None,
    data_config=None,
    segmenter=None,
    verbose=0,
    tables=(),
    change_settings=False,
    require_target=True,
    latency_runs=50,
):
    """Slims the generator of a saved `Pix2Pix` run to the parameter target.

    Args:
        model_path: The run's `pix2pix.keras`.
        out: Folder for `round_<k>.keras` and `.tflite`, `rounds.json`,
            `deployment.json` (per round the MACs, `.tflite` size and
            1-thread LiteRT latency beside the original's, see
            `kgan.compress.deployment.deployment_table`) and
            `comparison.png`.
        config: A `SlimmingConfig`.
        data_config: The `Pix2PixConfig` of the run (scenes, resolution,
            batch size, seed); read from the run's `config.json` by default.
        segmenter: The mIoU's `Segmenter`; the shipped one by default.
        verbose: Progress bars of the trainings (0: none).
        tables: More paths that get the rounds table, like `rounds.json`,
            after every round.
        change_settings, require_target: As for `slim`.
        latency_runs: Timed LiteRT runs per model and round (>= 50; 0:
            no `.tflite` files and no `deployment.json`).

    A folder holding finished rounds of the same settings is resumed after
    its last round (see `slim`); `rounds.json` is rewritten as each round
    lands.

    Returns:
        The list of round records (see `slim`), round 0 being the input.
    """
    trainer, data_config = load_pix2pix_run(model_path, data_config)
    out = pathlib.Path(out)
    evaluator = held_out_evaluator(data_config, segmenter)
    first = {"round": 0, "parameters": trainer.generator.count_params(), "ratio": 1.0}
    first.update(evaluator(trainer.generator))
    paths = [out / "rounds.json", *map(pathlib.Path, tables)]

    def write_tables(table):
        for path in paths:
            _write_table(path, [first, *table])

    records = [first] + slim(
        trainer.generator,
        trainer.discriminator,
        training_batches(data_config),
        config or SlimmingConfig(),
        out,
        on_round=lambda _, generator: evaluator(generator),
        verbose=verbose,
        after_round=write_tables,
        change_settings=change_settings,
        require_target=require_target,
        l1_weight=trainer.l1_weight,
    )
    if latency_runs:
        deployment = deployment_table(
            trainer.generator,
            [(r["round"], r["generator"]) for r in records[1:]],
            out,
            runs=latency_runs,
        )
        _write_table(out / "deployment.json", deployment)
    tiles = comparison_tiles(
        evaluator.labels[:SAMPLE_SCENES],
        evaluator.images[:SAMPLE_SCENES],
        [trainer.generator, records[-1]["generator"]],
    )
    save_png(tiles, out / "comparison.png")
    write_tables(
        [{k: v for k, v in r.items() if k != "generator"} for r in records[1:]]
    )
    return records
