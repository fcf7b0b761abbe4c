import csv
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import progressive_training
from kgan.data.road_scenes import road_scenes
from kgan.progressive_training import (
    ProgressiveConfig,
    fit_to_resolution,
    train_progressive,
)

# 4 px stable for 32 images, 8 px fading in over 64, 8 px stable for 32, ...
TINY = dict(
    resolution=16,
    lod_training_kimg=0.032,
    lod_transition_kimg=0.064,
    batch_sizes={"4": 8, "8": 8, "16": 8},
    fmap_base=32,
    fmap_max=8,
    checkpoint_every=2,
    jit_compile=False,
)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_fit_to_resolution_pads_then_pools():
    images = tf.ones((2, 28, 28, 1))
    padded = fit_to_resolution(images, 32).numpy()
    assert padded.shape == (2, 32, 32, 1)
    assert (padded[:, :2] == -1).all() and (padded[:, 2:30, 2:30] == 1).all()
    pooled = fit_to_resolution(images, 16).numpy()
    assert pooled.shape == (2, 16, 16, 1)
    assert pooled[0, 0, 0, 0] == -1 and pooled[0, 8, 8, 0] == 1
    assert fit_to_resolution(images, 4).shape == (2, 4, 4, 1)


def test_killed_during_fade_in_resumes_at_the_same_lod_and_alpha(tmp_path, monkeypatch):
    config = ProgressiveConfig(kimg=0.128, **TINY)
    save = progressive_training._checkpoint

    def killed_after_64(gan, folder):
        save(gan, folder)
        if int(gan.images_shown.numpy()) == 64:
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(progressive_training, "_checkpoint", killed_after_64)
    with pytest.raises(KeyboardInterrupt):
        train_progressive(config, tmp_path / "run", verbose=0)
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["images_shown"] == 64
    before = rows(tmp_path / "run" / "progress.csv")
    assert [(r["images_shown"], r["resolution"], float(r["alpha"])) for r in before][
        -2:
    ] == [("48", "8", 0.25), ("64", "8", 0.5)]

    monkeypatch.setattr(progressive_training, "_checkpoint", save)
    gan = train_progressive(config, tmp_path / "run", resume=True, verbose=0)
    after = rows(tmp_path / "run" / "progress.csv")[len(before) :]
    # It goes on from 64 images, still fading in 8 px: alpha 0.75, then 1.
    assert [(r["images_shown"], r["resolution"], float(r["alpha"])) for r in after] == [
        ("80", "8", 0.75),
        ("96", "8", 1.0),
        ("112", "8", 1.0),
        ("128", "8", 1.0),
    ]
    # 16 steps in all (the optimizer state came back with the weights)
    assert int(gan.g_optimizer.iterations.numpy()) == 128 // 8
    generator = keras.saving.load_model(tmp_path / "run" / "generator.keras")
    assert generator.output_shape == (None, 8, 8, 1)
    assert len(list((tmp_path / "run" / "samples").glob("*.png"))) == 8


def test_grows_to_the_final_resolution(tmp_path):
    config = ProgressiveConfig(kimg=0.208, **TINY)
    gan = train_progressive(config, tmp_path / "run", verbose=0)
    assert gan.phase.resolution == 16 and gan.phase.fading is False
    progress = rows(tmp_path / "run" / "progress.csv")
    assert [r["resolution"] for r in progress][-1] == "16"
    assert all(np.isfinite(float(r["d_loss"])) for r in progress)


def test_config_needs_every_batch_size():
    config = ProgressiveConfig(**{**TINY, "batch_sizes": {"4": 8, "8": 8}})
    with pytest.raises(ValueError, match="needs a batch size for every level"):
        config.validate()


def test_train_progan_command(tmp_path, capsys):
    from kgan import cli

    out = tmp_path / "run"
    args = ["train", "progan", "--resolution", "8", "--kimg", "0.048"]
    args += ["--lod-training-kimg", "0.016", "--lod-transition-kimg", "0.016"]
    args += ["--batch-sizes", "4:8,8:8", "--no-xla", "--out", str(out)]
    cli.main(args)
    config = json.loads((out / "config.json").read_text())
    assert config["batch_sizes"] == {"4": 8, "8": 8}
    generator = keras.saving.load_model(out / "generator.keras")
    assert generator.output_shape == (None, 8, 8, 1)
    assert [r["resolution"] for r in rows(out / "progress.csv")] == ["4", "8", "8"]

    with pytest.raises(SystemExit):
        cli.main(args[:2] + ["--loss", "hinge", "--out", str(tmp_path / "x")])
    error = capsys.readouterr().err
    assert "do not apply to progan" in error and "Received: --loss" in error
    with pytest.raises(SystemExit):
        cli.main(args[:2] + ["--batch-sizes", "4-8", "--out", str(tmp_path / "y")])
    assert "Received: batch_sizes='4-8'" in capsys.readouterr().err


def test_grows_on_road_scenes_to_64_px(tmp_path):
    levels = {"4": 4, "8": 4, "16": 4, "32": 4, "64": 4}
    config = ProgressiveConfig(
        **{**TINY, "resolution": 64, "batch_sizes": levels},
        dataset="road_scenes",
        kimg=0.008 * 9,  # 4 px, then four fade-ins and stable phases of 8
    )
    config.lod_training_kimg = config.lod_transition_kimg = 0.008
    # A few generated scenes stand in for the 10,000 of `load("road_scenes")`.
    _, images = road_scenes(16, 64, seed=0)
    scenes = tf.data.Dataset.from_tensor_slices(images / 127.5 - 1.0).batch(4)
    gan = train_progressive(config, tmp_path / "run", dataset=scenes, verbose=0)
    assert gan.phase.resolution == 64
    generator = keras.saving.load_model(tmp_path / "run" / "generator.keras")
    assert generator.output_shape == (None, 64, 64, 3)
