import csv
import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.data import load_arrays
from kgan.recipes import get
from kgan.recipes.gan import DCGANConfig, DrawConfig, VanillaConfig
from kgan.runs import Progress, StepData, run
from kgan.runs.callbacks import NonFiniteLossError
from kgan.runs.data import Segment
from kgan.runs.recipe import validate

# Small networks, and few images per evaluation.
TINY = dict(batch_size=16, latent_dim=16, eval_n=200, jit_compile=False)


def read_losses(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_run_folder_contents(tmp_path):
    out = tmp_path / "run"
    config = DCGANConfig(
        steps=6, sample_every=3, checkpoint_every=3, width=0.125, **TINY
    )
    gan = run(get("dcgan"), config, out, verbose=0)
    saved = json.loads((out / "config.json").read_text())
    assert (saved["model"], saved["steps"]) == ("dcgan", 6)
    for name in ("step_000003.png", "step_000006.png", "final.png"):
        assert (out / "samples" / name).stat().st_size > 0
    rows = read_losses(out / "losses.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert (out / "losses.png").stat().st_size > 0
    assert not (out / "checkpoint").exists()  # removed after a finished run
    summary = json.loads((out / "run.json").read_text())
    assert summary["status"] == "finished" and summary["step"] == 6
    z = np.zeros((2, 16), np.float32)
    generator = keras.saving.load_model(out / "generator.keras")
    np.testing.assert_array_equal(generator(z), gan.sampler(z))
    assert gan.sampler is gan.ema_generator
    reloaded = keras.saving.load_model(out / "gan.keras")
    assert int(reloaded.g_optimizer.iterations.numpy()) == 6
    assert not list(out.rglob("partial_*"))


def test_psf_run_evaluates_and_records_alpha(tmp_path):
    out = tmp_path / "run"
    config = DCGANConfig(
        activation="psf", steps=10, sample_every=5, eval_every=5, eval_n=100,
        width=0.125, batch_size=16, jit_compile=False,
    )  # fmt: skip
    run(get("dcgan"), config, out, verbose=0)
    evaluations = read_losses(out / "metrics.csv")
    assert [int(r["step"]) for r in evaluations] == [5, 10]
    assert {"frechet_distance", "classes_covered", "swd_mean"} <= set(evaluations[0])
    assert json.loads((out / "metrics.json").read_text())["n"] == 100
    alphas = read_losses(out / "alpha.csv")
    layers = [k for k in alphas[0] if k != "step"]
    assert any(k.startswith("generator/") for k in layers)
    assert any(k.startswith("discriminator/") for k in layers)
    assert all(float(v) == 0.0 for k, v in alphas[0].items() if k != "step")
    assert any(float(alphas[-1][k]) != 0.0 for k in layers)


def test_progress_bar_shows_the_latest_evaluation(tmp_path, capsys):
    config = DCGANConfig(steps=4, sample_every=4, eval_every=2, width=0.125, **TINY)
    run(get("dcgan"), config, tmp_path / "run", verbose=1)
    lines = capsys.readouterr().out.split("\r")
    # The bar shows the losses from the first step, the headline metrics
    # once the first evaluation (step 2) has run; not each level's SWD.
    assert "d_loss" in lines[1] and "confident_share" not in lines[1]
    assert "confident_share" in lines[-1] and "swd_mean" in lines[-1]
    assert "swd_28" not in lines[-1]


def test_per_step_losses_match_a_manual_replay(tmp_path):
    # The CSV recovers each step's loss from Keras's running means; the
    # replay trains the same GAN on the same batches one `train_on_batch`
    # at a time, which reports each step's own loss.
    recipe, config = get("gan"), VanillaConfig(steps=5, sample_every=5, **TINY)
    run(recipe, config, tmp_path / "run", verbose=0)
    rows = read_losses(tmp_path / "run" / "losses.csv")

    keras.utils.set_random_seed(config.seed)
    data = recipe.data(config)
    gan = recipe.build(config, data)
    batches = data.stream(Segment("train", 5, config.batch_size)).take(5)
    replay = [gan.train_on_batch(batch, return_dict=True) for batch in batches]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    for row, step in zip(rows, replay, strict=True):
        for name in ("d_loss", "g_loss"):
            np.testing.assert_allclose(float(row[name]), step[name], rtol=1e-4)


def test_step_data_serves_every_example_once_an_epoch():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    data = StepData((images,), seed=3)
    segment = Segment("train", 10, 3)  # 3 batches of 3 an epoch, 1 left out
    batches = [b.numpy().ravel() for b in data.stream(segment).take(6)]
    for epoch in (batches[:3], batches[3:]):
        seen = np.concatenate(epoch)
        assert len(set(seen)) == 9
    assert not np.array_equal(np.concatenate(batches[:3]), np.concatenate(batches[3:]))
    # A stream can start at any batch: the same batches from there on.
    later = [b.numpy().ravel() for b in data.stream(segment, first_batch=4).take(2)]
    np.testing.assert_array_equal(np.stack(later), np.stack(batches[4:6]))


def test_a_resumed_run_continues_exactly(tmp_path):
    # Stopped by the budget after its first chunk (the lone compiling step),
    # then resumed from the checkpoint: every step's losses equal an
    # uninterrupted run's, bit for bit. (All models, across processes after
    # a SIGKILL: tests/cli/test_train_command.py.)
    recipe = get("dcgan")
    config = DCGANConfig(
        steps=12, sample_every=4, checkpoint_every=4, width=0.125, **TINY
    )
    run(recipe, config, tmp_path / "whole", verbose=0)
    run(recipe, config, tmp_path / "parts", verbose=0, budget_seconds=0.0)
    stopped = json.loads((tmp_path / "parts" / "run.json").read_text())
    assert stopped["status"] == "budget" and stopped["step"] == 1
    run(recipe, config, tmp_path / "parts", verbose=0, resume=True)
    whole = read_losses(tmp_path / "whole" / "losses.csv")
    parts = read_losses(tmp_path / "parts" / "losses.csv")
    assert len(whole) > 4 and whole == parts


def test_budget_and_hook(tmp_path):
    seen = []
    config = DCGANConfig(
        steps=12, sample_every=4, checkpoint_every=4, width=0.125, **TINY
    )
    run(
        get("dcgan"), config, tmp_path, verbose=0, budget_seconds=1e9,
        hook=lambda trainer, progress: seen.append(progress),
    )  # fmt: skip
    # Step 1 runs alone: it traces and compiles the train step, and its time
    # stays off the training clock.
    assert [p.step for p in seen] == [0, 1, 4, 8, 12]
    assert all(isinstance(p, Progress) and p.total == 12 for p in seen)
    assert 0 == seen[0].seconds == seen[1].seconds < seen[2].seconds < seen[4].seconds
    summary = json.loads((tmp_path / "run.json").read_text())
    assert [(c["segment"], c["step"]) for c in summary["compiles"]] == [("train", 0)]
    assert summary["compile_seconds"] == summary["compiles"][0]["seconds"] > 0
    with pytest.raises(ValueError, match="has already finished"):
        run(get("dcgan"), config, tmp_path, verbose=0, resume=True)


def test_budget_ends_the_chunk_near_the_limit(tmp_path, monkeypatch):
    import types

    from kgan.runs import loop

    # A clock on which every chunk of training takes half a second.
    ticks = iter(range(1000))
    clock = types.SimpleNamespace(perf_counter=lambda: 0.5 * next(ticks))
    monkeypatch.setattr(loop, "time", clock)
    config = DCGANConfig(
        steps=40, sample_every=10, checkpoint_every=10, width=0.125, **TINY
    )
    run(get("dcgan"), config, tmp_path, verbose=0, budget_seconds=0.75)
    # Step 1 compiles off the clock; steps 2-10 take 0.5 s, so the 0.25 s
    # left are 5 steps at that pace, not the 10 to the next sample.
    summary = json.loads((tmp_path / "run.json").read_text())
    assert (summary["status"], summary["step"]) == ("budget", 15)


def test_existing_run_needs_resume(tmp_path):
    config = VanillaConfig(steps=2, sample_every=2, **TINY)
    run(get("gan"), config, tmp_path, verbose=0)
    with pytest.raises(ValueError, match="Pass --resume"):
        run(get("gan"), config, tmp_path, verbose=0)
    changed = VanillaConfig(steps=4, sample_every=2, **TINY)
    with pytest.raises(ValueError, match="must keep its settings"):
        run(get("gan"), changed, tmp_path, resume=True, verbose=0)


def images_dataset(array, batch_size=16):
    return tf.data.Dataset.from_tensor_slices(array).batch(batch_size)


def test_bad_data_and_settings(tmp_path):
    config = DCGANConfig(steps=2, sample_every=2, width=0.125, **TINY)
    dcgan = get("dcgan")
    with pytest.raises(ValueError, match="Received: range=\\[0.0, 255.0\\]"):
        pixels = np.full((16, 28, 28, 1), 255.0, np.float32)
        pixels[0] = 0
        run(dcgan, config, tmp_path / "a", dataset=images_dataset(pixels), verbose=0)
    with pytest.raises(ValueError, match="The dataset is empty"):
        empty = images_dataset(np.zeros((0, 28, 28, 1), np.float32))
        run(dcgan, config, tmp_path / "b", dataset=empty, verbose=0)
    with pytest.raises(ValueError, match="Received: image_shape=\\(30, 30, 1\\)"):
        odd = images_dataset(np.zeros((16, 30, 30, 1), np.float32))
        run(dcgan, config, tmp_path / "c", dataset=odd, verbose=0)
    with pytest.raises(ValueError, match="Received: activation='relu'"):
        run(dcgan, DCGANConfig(activation="relu"), tmp_path / "d", verbose=0)
    with pytest.raises(ValueError, match="Received: steps=0"):
        run(dcgan, DCGANConfig(steps=0), tmp_path / "e", verbose=0)
    with pytest.raises(ValueError, match="Received: attention_n=1"):
        run(get("draw"), DrawConfig(attention_n=1), tmp_path / "f", verbose=0)
    with pytest.raises(ValueError, match="Received: ema=1.5"):
        run(dcgan, DCGANConfig(ema=1.5), tmp_path / "g", verbose=0)
    with pytest.raises(ValueError, match="must be of type int"):
        run(dcgan, DCGANConfig(steps=2.5), tmp_path / "h", verbose=0)


def test_non_finite_loss_stops_with_the_step_and_writes_no_model(tmp_path):
    images = np.zeros((64, 28, 28, 1), np.float32)
    images[40:] = np.nan  # batch 3 of 16 holds NaN: the first step to see it is 3
    config = VanillaConfig(steps=4, sample_every=4, **TINY)
    with pytest.raises(NonFiniteLossError, match="at step 3"):
        run(get("gan"), config, tmp_path, dataset=images_dataset(images), verbose=0)
    assert not (tmp_path / "generator.keras").exists()
    assert not (tmp_path / "gan.keras").exists()


def event_tags(directory):
    tags = set()
    for path in pathlib.Path(directory).rglob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_tensorboard_logs_losses_and_grids(tmp_path):
    config = VanillaConfig(steps=4, sample_every=2, **TINY)
    run(get("gan"), config, tmp_path, tensorboard=True, verbose=0)
    tags = event_tags(tmp_path / "tensorboard")
    assert "samples" in tags
    assert any("d_loss" in tag for tag in tags) and any("g_loss" in tag for tag in tags)


def test_mirrored_strategy_option_trains(tmp_path):
    config = DCGANConfig(
        steps=2, sample_every=2, strategy="mirrored", width=0.125, **TINY
    )
    gan = run(get("dcgan"), config, tmp_path, verbose=0)
    assert isinstance(gan.distribute_strategy, tf.distribute.MirroredStrategy)
    assert (tmp_path / "gan.keras").exists()


DRAW_TINY = dict(
    batch_size=8,
    latent_dim=4,
    attention_n=3,
    draw_steps=2,
    rnn_units=8,
    jit_compile=False,
)


def test_draw_run_starts_its_canvas_at_the_mean_image(tmp_path):
    config = DrawConfig(steps=4, sample_every=2, eval_n=100, **DRAW_TINY)
    assert (config.learning_rate, config.beta_1) == (3.75e-4, 0.75)
    run(get("draw"), config, tmp_path, verbose=0)
    generator = keras.saving.load_model(tmp_path / "generator.keras")
    assert generator.input_shape == (None, 2, 4)
    # c_0 starts at the mean image of 2,000 training images and moves little
    # in 4 steps: it is close to the mean image of all of them.
    real = load_arrays("mnist", "train")[0] / 127.5 - 1.0
    canvas = np.tanh(generator.get_layer("g_canvas").initial_canvas.numpy())
    assert np.abs(canvas - real.mean(axis=0)).mean() < 0.05
    assert np.corrcoef(canvas.ravel(), real.mean(axis=0).ravel())[0, 1] > 0.98


def test_draw_recipe_options_reach_the_networks_and_optimizers():
    recipe = get("draw")
    default = DrawConfig(**DRAW_TINY)
    assert (default.c0, default.initial_state, default.stabilisers) == (
        "mean",
        "learned",
        True,
    )
    trainer = recipe.build(default, recipe.data(default))
    assert trainer.g_optimizer.global_clipnorm == trainer.d_optimizer.global_clipnorm
    assert trainer.g_optimizer.global_clipnorm == 10.0
    reader = trainer.discriminator.get_layer("d_reader")
    assert (reader.eps, reader.bounded, reader.initial_state) == (1e-4, True, "learned")

    bare = DrawConfig(
        c0="sample",
        rnn_cell="sigmoid",
        initial_state="zeros",
        stabilisers=False,
        global_clipnorm=None,
        **DRAW_TINY,
    )
    trainer = recipe.build(bare, recipe.data(bare))
    assert trainer.g_optimizer.global_clipnorm is None
    reader = trainer.discriminator.get_layer("d_reader")
    assert (reader.eps, reader.bounded, reader.cell) == (1e-8, False, "sigmoid")
    assert reader.initial_states is None
    # "sample": each pixel of the canvas is some training digit's pixel, so
    # MNIST's canvas is nearly all saturated ink or background.
    canvas = np.tanh(trainer.generator.get_layer("g_canvas").initial_canvas.numpy())
    assert np.mean(np.abs(canvas) > 0.9) > 0.9


def test_gan_recipe_maxout_option():
    recipe = get("gan")
    config = VanillaConfig(maxout=True, **TINY)
    trainer = recipe.build(config, recipe.data(config))
    names = [layer.name for layer in trainer.discriminator.layers]
    assert "d_maxout_0" in names and "d_act_0" not in names


def test_linear_lr_decay_reaches_zero_at_the_last_update(tmp_path):
    config = DCGANConfig(
        steps=4,
        d_steps=2,
        update="alternating",
        lr_decay="linear",
        learning_rate=1e-3,
        width=0.125,
        **TINY,
    )
    gan = run(get("dcgan"), config, tmp_path, verbose=0)
    # Each optimizer decays over its own updates: 4 of G's, 8 of D's.
    for optimizer, updates in ((gan.g_optimizer, 4), (gan.d_optimizer, 8)):
        assert int(optimizer.iterations.numpy()) == updates
        assert float(optimizer.learning_rate) == 0.0
        schedule = keras.optimizers.schedules.deserialize(
            optimizer.get_config()["learning_rate"]
        )
        rates = [float(schedule(t)) for t in range(updates + 1)]
        np.testing.assert_allclose(rates, np.linspace(1e-3, 0.0, updates + 1))
    recipe, constant = get("dcgan"), DCGANConfig(width=0.125, **TINY)
    trainer = recipe.build(constant, recipe.data(constant))
    rates = [float(o.learning_rate) for o in (trainer.g_optimizer, trainer.d_optimizer)]
    assert rates == pytest.approx([1e-3] * 2)  # the quick start's rate


def test_ttur_gives_the_discriminator_its_own_learning_rate():
    recipe = get("dcgan")
    config = DCGANConfig(learning_rate=1e-4, d_learning_rate=4e-4, width=0.125, **TINY)
    trainer = recipe.build(config, recipe.data(config))
    assert float(trainer.g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(4e-4)
    with pytest.raises(ValueError, match="d_learning_rate"):
        validate(DCGANConfig(d_learning_rate=0.0))


def test_update_and_refine_kernel_reach_the_trainer_and_networks():
    recipe = get("dcgan")
    config = DCGANConfig(update="simultaneous", refine_kernel=3, width=0.125, **TINY)
    trainer = recipe.build(config, recipe.data(config))
    assert trainer.update == "simultaneous"
    assert trainer.generator.get_layer("g_refine_0_0").kernel_size == (3, 3)
    with pytest.raises(ValueError, match="update='simultaneous', d_steps=2"):
        validate(DCGANConfig(update="simultaneous", d_steps=2))


def test_discriminator_units_reach_the_network_and_the_presets_pin_them():
    recipe = get("dcgan")
    image_shape = (28, 28, 1)
    _, discriminator = recipe.networks(DCGANConfig(width=0.125), image_shape, None)
    assert discriminator.get_layer("d_dense").units == 256
    quality = DCGANConfig(**recipe.presets["quality"])
    _, discriminator = recipe.networks(quality, image_shape, None)
    assert "d_dense" not in [la.name for la in discriminator.layers]
    with pytest.raises(ValueError, match="discriminator_units"):
        validate(DCGANConfig(discriminator_units=-1))
