import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from kgan.data import load_arrays
from kgan.data.road_scenes import road_scenes
from kgan.recipes import get, validate
from kgan.recipes.progan import ProgressiveConfig, fit_to_resolution
from kgan.runs import DatasetData, run

# 4 px stable for 32 images, 8 px fading in over 64, 8 px stable for 32, ...
TINY = dict(
    resolution=16,
    lod_training_kimg=0.032,
    lod_transition_kimg=0.064,
    batch_sizes={"4": 8, "8": 8, "16": 8},
    fmap_base=32,
    fmap_max=8,
    eval_n=32,
    checkpoint_every=2,
    jit_compile=False,
)


def test_fit_to_resolution_pads_then_pools():
    images = tf.ones((2, 28, 28, 1))
    padded = fit_to_resolution(images, 32).numpy()
    assert padded.shape == (2, 32, 32, 1)
    assert (padded[:, :2] == -1).all() and (padded[:, 2:30, 2:30] == 1).all()
    pooled = fit_to_resolution(images, 16).numpy()
    assert pooled.shape == (2, 16, 16, 1)
    assert pooled[0, 0, 0, 0] == -1 and pooled[0, 8, 8, 0] == 1
    assert fit_to_resolution(images, 4).shape == (2, 4, 4, 1)


def test_grows_to_the_final_resolution_and_writes_metrics(tmp_path):
    config = ProgressiveConfig(kimg=0.208, eval_every=8, **TINY)
    gan = run(get("progan"), config, tmp_path / "run", verbose=0)
    assert gan.phase.resolution == 16 and gan.phase.fading is False
    assert int(gan.images_shown.numpy()) == 208
    metrics = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    # Evaluated at every level it passed: 4 px at step 8, ... 16 px at the end.
    levels = [int(float(row.split(",")[1])) for row in metrics[1:]]
    assert levels == sorted(levels) and levels[0] < 16 == levels[-1]
    final = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert final["resolution"] == 16
    # The recorded metrics are the evaluator's on the final trainer (the
    # average generator, and the trained one beside it).
    again = get("progan").evaluator(config)(gan)
    for key in ("swd_mean", "raw_swd_mean", "ms_ssim"):
        np.testing.assert_allclose(final[key], again[key], rtol=1e-6)
    # Each phase compiled its own step, timed apart from the training clock.
    summary = json.loads((tmp_path / "run" / "run.json").read_text())
    assert [c["segment"] for c in summary["compiles"]] == [
        "4px",
        "8px fade-in",
        "8px",
        "16px fade-in",
        "16px",
    ]
    # Adam restarted with the last phase (16 images, batch 8); the updates
    # counted on.
    assert int(gan.g_optimizer.iterations.numpy()) == 2
    assert int(gan.generator_updates.numpy()) == 208 // 8
    losses = (tmp_path / "run" / "losses.csv").read_text().splitlines()[1:]
    assert [int(float(row.split(",")[0])) for row in losses] == list(range(1, 27))


def test_fixed_networks_train_the_final_level_throughout(tmp_path):
    config = ProgressiveConfig(kimg=0.048, growing=False, **TINY)
    gan = run(get("progan"), config, tmp_path, verbose=0)
    assert gan.phase.resolution == 16 and gan.phase.fading is False
    assert int(gan.g_optimizer.iterations.numpy()) == 6


def test_config_needs_every_batch_size():
    config = ProgressiveConfig(**{**TINY, "batch_sizes": {"4": 8, "8": 8}})
    with pytest.raises(ValueError, match="needs a batch size for every level"):
        validate(config)


def test_grows_on_road_scenes_to_64_px():
    levels = {"4": 4, "8": 4, "16": 4, "32": 4, "64": 4}
    config = ProgressiveConfig(
        **{**TINY, "resolution": 64, "batch_sizes": levels},
        dataset="road_scenes",
        kimg=0.008 * 9,  # 4 px, then four fade-ins and stable phases of 8
    )
    config = dataclasses.replace(
        config, lod_training_kimg=0.008, lod_transition_kimg=0.008
    )
    # A few generated scenes stand in for the 10,000 of `load("road_scenes")`.
    _, images = road_scenes(16, 64, seed=0)
    scenes = tf.data.Dataset.from_tensor_slices(images / 127.5 - 1.0).batch(4)
    recipe = get("progan")
    gan = recipe.build(config, DatasetData(scenes))
    schedule = recipe.schedule(config, gan)
    assert [(p.resolution, p.fading) for p in schedule] == [
        (4, False), (8, True), (8, False), (16, True), (16, False),
        (32, True), (32, False), (64, True), (64, False),
    ]  # fmt: skip
    assert [p.start for p in schedule] == [8.0 * i for i in range(9)]
    # Past the last fade-in the trainer runs the 64 px networks on RGB scenes.
    gan.images_shown.assign(8.0 * 8)
    assert recipe.sync_phase(config, gan) == schedule[-1] == gan.phase
    segment = recipe.segment(config, gan)
    assert (segment.key, segment.steps, segment.batch_size) == ("64px", 2, 4)
    batch = next(iter(DatasetData(scenes).stream(segment)))
    assert batch.shape == (4, 64, 64, 3)
    assert gan.generate(2, seed=0).shape == (2, 64, 64, 3)
    assert recipe.samples(config, gan).shape[-1] == 3


def test_train_images_keeps_the_first_images():
    recipe = get("progan")
    data = recipe.data(ProgressiveConfig(**TINY, train_images=16))
    first, _ = load_arrays("mnist", "train")
    np.testing.assert_array_equal(data.arrays[0], first[:16])
    assert len(recipe.data(ProgressiveConfig(**TINY)).arrays[0]) == len(first)
    with pytest.raises(ValueError, match="Received: train_images=0"):
        validate(ProgressiveConfig(**TINY, train_images=0))
