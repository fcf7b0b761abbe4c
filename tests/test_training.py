import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import cli
from kgan.callbacks import NonFiniteLossError
from kgan.data import load
from kgan.metrics.evaluate import has_classifier
from kgan.training import (
    TrainConfig,
    build_gan,
    check_first_batch,
    steps_per_epoch,
    train,
)

# Small networks, and few images per evaluation when a classifier is shipped.
TINY = dict(width=0.125, batch_size=16, latent_dim=16, eval_n=200)


def read_losses(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_steps_per_epoch_tiles_the_run():
    assert steps_per_epoch(3000, 500) == 500
    assert steps_per_epoch(60, 25) == 20
    assert steps_per_epoch(7, 500) == 7


def test_run_folder_contents(tmp_path):
    config = TrainConfig(model="dcgan", steps=6, sample_every=3, **TINY)
    gan = train(config, tmp_path / "run", verbose=0)
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text())["steps"] == 6
    for name in ("step_000003.png", "step_000006.png", "final.png"):
        assert (run / "samples" / name).stat().st_size > 0
    rows = read_losses(run / "losses.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert (run / "losses.png").stat().st_size > 0
    assert not (run / "backup").exists()  # removed after a finished run
    z = np.zeros((2, 16), np.float32)
    generator = keras.saving.load_model(run / "generator.keras")
    np.testing.assert_array_equal(generator(z), gan.sampler(z))
    assert gan.sampler is gan.ema_generator
    reloaded = keras.saving.load_model(run / "gan.keras")
    assert int(reloaded.g_optimizer.iterations.numpy()) == 6
    assert not list(run.glob("*.partial*"))
    assert not list(run.rglob("partial_*"))


@pytest.mark.skipif(
    not has_classifier("mnist"),
    reason="kgan/saved_models/mnist_classifier.keras is missing",
)
def test_psf_run_evaluates_and_records_alpha(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "dcgan", "--activation", "psf", "--steps", "10"]
    args += ["--sample-every", "5", "--eval-every", "5", "--eval-n", "100"]
    args += ["--width", "0.125", "--batch-size", "16", "--out", str(out)]
    cli.main(args)
    printed = capsys.readouterr().out
    assert "metrics of the final generator" in printed
    assert "classes covered" in printed
    final = json.loads((out / "metrics.json").read_text())
    assert final["n"] == 100 and 0 <= final["classes_covered"] <= 10
    assert [int(r["step"]) for r in read_losses(out / "metrics.csv")] == [5, 10]
    alphas = read_losses(out / "alpha.csv")
    assert [int(r["step"]) for r in alphas] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    layers = [k for k in alphas[0] if k != "step"]
    assert any(k.startswith("generator/") for k in layers)
    assert any(k.startswith("discriminator/") for k in layers)
    assert all(float(v) == 0.0 for k, v in alphas[0].items() if k != "step")
    assert any(float(alphas[-1][k]) != 0.0 for k in layers)


def test_per_step_losses_match_a_manual_replay(tmp_path):
    # The CSV recovers each step's loss from Keras's running means; the
    # replay trains the same GAN on the same batches one `train_on_batch`
    # at a time, which reports each step's own loss.
    config = TrainConfig(model="gan", steps=5, sample_every=5, **TINY)
    train(config, tmp_path / "run", verbose=0)
    rows = read_losses(tmp_path / "run" / "losses.csv")

    keras.utils.set_random_seed(config.seed)
    data = load("mnist", "train", batch_size=16, seed=config.seed, drop_remainder=True)
    gan = build_gan(config, check_first_batch(data))
    replay = [gan.train_on_batch(batch, return_dict=True) for batch in data.take(5)]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    for row, step in zip(rows, replay, strict=True):
        for name in ("d_loss", "g_loss"):
            np.testing.assert_allclose(float(row[name]), step[name], rtol=1e-4)


def test_same_seed_same_losses(tmp_path):
    losses = []
    for name in ("a", "b"):
        config = TrainConfig(model="dcgan", steps=20, sample_every=20, seed=3, **TINY)
        train(config, tmp_path / name, verbose=0)
        rows = read_losses(tmp_path / name / "losses.csv")
        losses.append([(r["d_loss"], r["g_loss"]) for r in rows])
    assert len(losses[0]) == 20
    assert losses[0] == losses[1]


def test_existing_run_needs_resume(tmp_path):
    config = TrainConfig(model="gan", steps=2, sample_every=2, **TINY)
    train(config, tmp_path, verbose=0)
    with pytest.raises(ValueError, match="Pass --resume"):
        train(config, tmp_path, verbose=0)
    changed = TrainConfig(model="gan", steps=4, sample_every=2, **TINY)
    with pytest.raises(ValueError, match="must keep its settings"):
        train(changed, tmp_path, resume=True, verbose=0)


def images_dataset(array, batch_size=16):
    return tf.data.Dataset.from_tensor_slices(array).batch(batch_size)


def test_bad_data(tmp_path):
    config = TrainConfig(model="dcgan", steps=2, sample_every=2, **TINY)
    with pytest.raises(ValueError, match="Received: range=\\[0.0, 255.0\\]"):
        pixels = np.full((16, 28, 28, 1), 255.0, np.float32)
        pixels[0] = 0
        train(config, tmp_path / "a", dataset=images_dataset(pixels), verbose=0)
    with pytest.raises(ValueError, match="The dataset is empty"):
        empty = images_dataset(np.zeros((0, 28, 28, 1), np.float32))
        train(config, tmp_path / "b", dataset=empty, verbose=0)
    with pytest.raises(ValueError, match="Received: image_shape=\\(30, 30, 1\\)"):
        odd = images_dataset(np.zeros((16, 30, 30, 1), np.float32))
        train(config, tmp_path / "c", dataset=odd, verbose=0)
    with pytest.raises(ValueError, match="Received: activation='relu'"):
        train(TrainConfig(activation="relu"), tmp_path / "d", verbose=0)
    with pytest.raises(ValueError, match="Received: steps=0"):
        train(TrainConfig(steps=0), tmp_path / "e", verbose=0)


def test_non_finite_loss_stops_with_the_step_and_writes_no_model(tmp_path):
    images = np.zeros((64, 28, 28, 1), np.float32)
    images[40:] = np.nan  # batch 3 of 16 holds NaN: the first step to see it is 3
    config = TrainConfig(model="gan", steps=4, sample_every=4, **TINY)
    with pytest.raises(NonFiniteLossError, match="at step 3"):
        train(config, tmp_path, dataset=images_dataset(images), verbose=0)
    assert not (tmp_path / "generator.keras").exists()
    assert not (tmp_path / "gan.keras").exists()


def test_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "train" in capsys.readouterr().out
    for command in ("train", "sample"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        options = [w for w in text.split() if w.startswith("--") and w != "--help"]
        assert options
        # every option with a value shows its default
        assert text.count("(default:") >= len(set(options)) - 3


def test_sample_command(tmp_path):
    config = TrainConfig(model="gan", steps=2, sample_every=2, **TINY)
    train(config, tmp_path / "run", verbose=0)
    out = tmp_path / "grid.png"
    cli.main(
        [
            "sample",
            "--model",
            str(tmp_path / "run" / "generator.keras"),
            "--n",
            "9",
            "--out",
            str(out),
        ]
    )
    import matplotlib.image

    grid = matplotlib.image.imread(out)
    assert grid.shape[:2] == (3 * 28 + 4 * 2, 3 * 28 + 4 * 2)


def run_kgan(args, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "kgan.cli"] + args
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs
    )


def test_resume_after_sigkill(tmp_path):
    out = tmp_path / "run"
    args = [
        "train",
        "dcgan",
        "--steps",
        "60",
        "--sample-every",
        "10",
        "--width",
        "0.125",
        "--batch-size",
        "16",
        "--eval-n",
        "200",
        "--out",
        str(out),
    ]
    process = run_kgan(args)
    marker = out / "samples" / "step_000030.png"
    deadline = time.time() + 240
    while not marker.exists():
        assert process.poll() is None, process.stdout.read().decode()
        assert time.time() < deadline, "training did not reach step 30"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "gan.keras").exists()
    killed_at = time.time()
    before = {p.name: p.stat().st_mtime for p in (out / "samples").glob("*.png")}

    resumed = run_kgan(args + ["--resume"])
    output = resumed.communicate(timeout=240)[0].decode()
    assert resumed.returncode == 0, output

    rows = read_losses(out / "losses.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 61))
    gan = keras.saving.load_model(out / "gan.keras")
    assert int(gan.g_optimizer.iterations.numpy()) == 60
    # Grids made before the last backup were not made again: the resumed run
    # started from the backup, not from step 0.
    samples = {p.name: p.stat().st_mtime for p in (out / "samples").glob("*.png")}
    assert samples["step_000010.png"] == before["step_000010.png"] < killed_at
    assert samples["step_000060.png"] > killed_at


class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("interrupted")


def test_callbacks_work_with_keras_backup_and_restore(tmp_path):
    from kgan.callbacks import LossHistory, SampleGrid
    from kgan.training import build_gan

    config = TrainConfig(model="gan", ema=None, jit_compile=False, **TINY)
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

    gan = build_gan(config, (28, 28, 1))
    with pytest.raises(RuntimeError, match="interrupted"):
        gan.fit(
            images,
            epochs=4,
            steps_per_epoch=4,
            verbose=0,
            callbacks=callbacks() + [Interrupt()],
        )
    resumed = build_gan(config, (28, 28, 1))
    resumed.fit(images, epochs=4, steps_per_epoch=4, verbose=0, callbacks=callbacks())
    assert int(resumed.g_optimizer.iterations.numpy()) == 16
    steps = [int(r["step"]) for r in read_losses(tmp_path / "losses.csv")]
    assert steps == list(range(1, 17))
    names = sorted(p.name for p in (tmp_path / "samples").glob("step_*.png"))
    assert names == [f"step_{s:06d}.png" for s in (4, 8, 12, 16)]


def event_tags(directory):
    tags = set()
    for path in pathlib.Path(directory).rglob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_tensorboard_logs_losses_and_grids(tmp_path):
    config = TrainConfig(model="gan", steps=4, sample_every=2, **TINY)
    train(config, tmp_path, tensorboard=True, verbose=0)
    tags = event_tags(tmp_path / "tensorboard")
    assert "samples" in tags
    assert any("d_loss" in tag for tag in tags) and any("g_loss" in tag for tag in tags)


def test_mirrored_strategy_option_trains(tmp_path):
    config = TrainConfig(
        model="dcgan", steps=2, sample_every=2, strategy="mirrored", **TINY
    )
    gan = train(config, tmp_path, verbose=0)
    assert isinstance(gan.distribute_strategy, tf.distribute.MirroredStrategy)
    assert (tmp_path / "gan.keras").exists()


def test_draw_model_defaults():
    config = TrainConfig.for_model("draw", batch_size=8)
    settings = (config.batch_size, config.learning_rate, config.beta_1)
    assert settings == (8, 3.75e-4, 0.75)
    assert TrainConfig.for_model("dcgan").batch_size == TrainConfig().batch_size
    with pytest.raises(ValueError, match="Received: attention_n=1"):
        TrainConfig.for_model("draw", attention_n=1).validate()
    with pytest.raises(ValueError, match="Received: rnn_cell='tree'"):
        TrainConfig.for_model("draw", rnn_cell="tree").validate()


def test_train_draw_command(tmp_path):
    out = tmp_path / "run"
    args = ["train", "draw", "--steps", "4", "--sample-every", "2"]
    args += ["--batch-size", "8", "--latent-dim", "4", "--attention-n", "3"]
    args += ["--draw-steps", "2", "--rnn-units", "8", "--eval-n", "100"]
    cli.main(args + ["--out", str(out)])
    config = json.loads((out / "config.json").read_text())
    assert (config["batch_size"], config["learning_rate"]) == (8, 3.75e-4)
    generator = keras.saving.load_model(out / "generator.keras")
    assert generator.input_shape == (None, 2, 4)
    # c_0 starts at the mean image of 2,000 training images and moves little
    # in 4 steps: it is close to the mean image of all of them.
    real = np.concatenate(list(load("mnist", "train", batch_size=1000)))
    canvas = np.tanh(generator.get_layer("g_canvas").initial_canvas.numpy())
    assert np.abs(canvas - real.mean(axis=0)).mean() < 0.05
    assert np.corrcoef(canvas.ravel(), real.mean(axis=0).ravel())[0, 1] > 0.98
    assert (out / "samples" / "final.png").exists()
