"""A `model.fit` run killed with SIGKILL and started again with kgan's
BackupAndRestore gives the per-step losses of an uninterrupted run."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.runs.callbacks import BackupAndRestore

# A user's own training script: a small MLP GAN with dropout in D (a second
# SeedGenerator), data shuffled with a seed and repeated, 5 epochs of 6 steps,
# a backup every 4 steps. argv: folder, seconds to sleep after each step.
SCRIPT = """
import sys, time
import keras, numpy as np, tensorflow as tf
import kgan
from kgan.runs.callbacks import BackupAndRestore, LossHistory

folder, pause = sys.argv[1], float(sys.argv[2])
keras.utils.set_random_seed(0)
images = np.random.default_rng(0).uniform(-1, 1, (40, 8)).astype("float32")
data = tf.data.Dataset.from_tensor_slices(images).shuffle(40, seed=1).batch(
    8, drop_remainder=True).repeat()
generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, "relu"),
                              keras.layers.Dense(8, "tanh")])
discriminator = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, "relu"),
                                  keras.layers.Dropout(0.3), keras.layers.Dense(1)])
gan = kgan.models.GAN(generator, discriminator, latent_dim=4, seed=2)
gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))

class Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(pause)

gan.fit(data, epochs=5, steps_per_epoch=6, verbose=0, callbacks=[
    BackupAndRestore(folder + "/backup", save_every_n_steps=4),  # first: restores
    LossHistory(folder + "/losses.csv"),
    Slow()])
"""


def losses(folder):
    with open(folder / "losses.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def train(folder, pause=0.0):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(folder), str(pause)],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_sigkill_mid_epoch_then_resume_gives_the_same_losses(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    whole.mkdir(), killed.mkdir()
    first = train(whole)
    process = train(killed, pause=0.3)
    deadline = time.time() + 120
    # Kill at step 10 or later: epoch 1 (steps 7-12), past its backup at 8.
    while time.time() < deadline:
        path = killed / "losses.csv"
        if path.exists() and len(path.read_text().splitlines()) > 10:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = len(losses(killed))
    assert first.wait() == 0 and 10 <= killed_at < 30
    assert train(killed).wait() == 0
    expected, resumed = losses(whole), losses(killed)
    assert [r["step"] for r in resumed] == list(range(1, 31))
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(
            [r[key] for r in resumed], [r[key] for r in expected], rtol=1e-5
        )
    assert not (killed / "backup").exists()  # removed after a finished fit


def test_bad_save_interval_is_refused():
    for value in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"Received: save_every_n_steps={value}"):
            BackupAndRestore("backup", save_every_n_steps=value)


def test_a_backup_of_another_model_names_the_problem(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(
        inputs, keras.layers.Dropout(0.5)(keras.layers.Dense(1)(inputs))
    )
    model.compile("sgd", "mse")
    x = np.zeros((4, 2), "float32")
    keep = BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[keep])
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    other.compile("sgd", "mse")
    with pytest.raises(ValueError, match="Received: 1 states for 0 seed generators"):
        other.fit(x, x[:, :1], epochs=1, verbose=0,
                  callbacks=[BackupAndRestore(tmp_path)])  # fmt: skip


class StopAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) >= self.step:
            raise KeyboardInterrupt


def test_passed_over_calls_of_a_resumed_fit_keep_the_backup(tmp_path):
    # Stopped after the backup of step 4 (epoch 0, batch 4), resumed, and
    # stopped again at its first new step: the passed-over calls (at step 4)
    # must not overwrite the backup with a data position of 0.
    x = np.arange(48, dtype="float32").reshape(24, 2)
    data = tf.data.Dataset.from_tensor_slices((x, x[:, :1])).batch(2).repeat()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(1e-4), "mse")

    def fit(stop):
        backup = BackupAndRestore(tmp_path, save_every_n_steps=4)
        with pytest.raises(KeyboardInterrupt):
            model.fit(data, epochs=2, steps_per_epoch=6, verbose=0,
                      callbacks=[backup, StopAtStep(stop)])  # fmt: skip

    fit(5)
    state = json.loads((tmp_path / "state.json").read_text())
    assert (state["step"], state["epoch"], state["batch"], state["drawn"]) == (
        4,
        0,
        4,
        4,
    )
    fit(5)
    assert json.loads((tmp_path / "state.json").read_text()) == state
