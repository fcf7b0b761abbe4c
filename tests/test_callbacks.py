"""kgan's Keras callbacks in a user's own `fit`, with Keras' own backups."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.recipes import get
from kgan.recipes.gan import VanillaConfig
from kgan.runs import DatasetData
from kgan.runs.callbacks import LossHistory, SampleGrid


def read_losses(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("interrupted")


def test_callbacks_work_with_keras_backup_and_restore(tmp_path):
    recipe = get("gan")
    config = VanillaConfig(ema=None, jit_compile=False, batch_size=16, latent_dim=16)
    images = (
        tf.data.Dataset.from_tensor_slices(
            np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
        )
        .batch(16)
        .repeat()
    )

    def callbacks():
        return [
            keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
            LossHistory(tmp_path / "losses.csv", every_n_steps=4),
            SampleGrid(tmp_path / "samples", every_n_steps=4, n=4),
        ]

    gan = recipe.build(config, DatasetData(images))
    with pytest.raises(RuntimeError, match="interrupted"):
        gan.fit(
            images,
            epochs=4,
            steps_per_epoch=4,
            verbose=0,
            callbacks=callbacks() + [Interrupt()],
        )
    resumed = recipe.build(config, DatasetData(images))
    resumed.fit(images, epochs=4, steps_per_epoch=4, verbose=0, callbacks=callbacks())
    assert int(resumed.g_optimizer.iterations.numpy()) == 16
    steps = [int(r["step"]) for r in read_losses(tmp_path / "losses.csv")]
    assert steps == list(range(1, 17))
    names = sorted(p.name for p in (tmp_path / "samples").glob("step_*.png"))
    assert names == [f"step_{s:06d}.png" for s in (4, 8, 12, 16)]
