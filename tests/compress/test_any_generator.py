"""Slimming generators kgan did not build, and kgan's quick-start DCGAN:
about 4x fewer parameters in a few steps, exported and run with LiteRT."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.compress import SlimmingConfig, slim
from kgan.compress.deployment import export_int8
from kgan.compress.retraining import trainer_for
from kgan.export import compare, to_litert
from kgan.models.networks import dcgan
from kgan.recipes.gan import DCGANConfig

LATENT = 16


def _images(shape, n=32, seed=0):
    images = np.random.default_rng(seed).uniform(-1, 1, (n, *shape))
    return tf.data.Dataset.from_tensor_slices(images.astype("float32")).batch(8)


def _hand_built_generator():
    """Dense, reshape, transposed and plain convolutions, three kinds of
    normalization, a U-Net-like concatenation and an up-sampling."""
    z = keras.Input((LATENT,), name="z")
    x = keras.layers.Dense(4 * 4 * 32, name="project")(z)
    x = keras.layers.Reshape((4, 4, 32), name="to_map")(x)
    x = keras.layers.Conv2DTranspose(32, 4, 2, padding="same", name="up_a")(x)
    x = keras.layers.BatchNormalization(name="bn_a")(x)
    a = keras.layers.ReLU(name="relu_a")(x)
    x = keras.layers.Conv2D(24, 3, padding="same", name="mix_b")(a)
    x = keras.layers.GroupNormalization(groups=-1, name="in_b")(x)
    b = keras.layers.LeakyReLU(0.2, name="lrelu_b")(x)
    x = keras.layers.Concatenate(name="join")([a, b])
    x = keras.layers.UpSampling2D(name="grow")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", name="mix_c")(x)
    x = keras.layers.LayerNormalization(name="ln_c")(x)
    x = keras.layers.Activation("elu", name="elu_c")(x)
    x = keras.layers.Conv2D(1, 3, padding="same", activation="tanh", name="image")(x)
    return keras.Model(z, x, name="hand_built")


def _hand_built_discriminator():
    images = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(8, 4, 2, padding="same", activation="relu")(images)
    x = keras.layers.Flatten()(x)
    return keras.Model(images, keras.layers.Dense(1)(x))


def _slim_about_4x(generator, discriminator, data, tmp_path):
    config = SlimmingConfig(
        target_ratio=0.25,
        threshold=1e9,  # the cap decides which channels go
        max_prune_fraction=0.5,
        sparsity_steps=2,
        retrain_steps=2,
        recalibration_batches=2,
    )
    records = slim(generator, discriminator, data, config)
    smaller = records[-1]["generator"]
    assert 0.15 < records[-1]["ratio"] <= 0.25
    assert smaller.count_params() == records[-1]["parameters"]
    assert smaller.output_shape == generator.output_shape
    path = to_litert(smaller, tmp_path / "smaller.tflite")
    assert compare(path, smaller, n=4)["max_abs_diff"] < 1e-4
    return smaller


def test_a_hand_built_generator_slims_exports_and_runs(tmp_path):
    keras.utils.set_random_seed(0)
    generator = _hand_built_generator()
    smaller = _slim_about_4x(
        generator, _hand_built_discriminator(), _images((16, 16, 1)), tmp_path
    )
    widths = {layer.name: layer.output.shape[-1] for layer in smaller.layers}
    assert widths["image"] == 1 and widths["to_map"] < 32
    assert all(widths[name] % 8 == 0 for name in ("to_map", "up_a", "mix_b", "mix_c"))


def test_the_quick_start_dcgan_slims_exports_and_runs(tmp_path):
    keras.utils.set_random_seed(0)
    config = DCGANConfig(latent_dim=LATENT)
    generator, discriminator = dcgan(
        (28, 28, 1),
        latent_dim=config.latent_dim,
        width=config.width,
        refine_layers=config.refine_layers,
        refine_kernel=config.refine_kernel,
        discriminator_units=config.discriminator_units,
    )
    smaller = _slim_about_4x(generator, discriminator, _images((28, 28, 1)), tmp_path)
    int8 = export_int8(smaller, tmp_path / "int8.tflite")
    assert int8["fully_accelerated"]  # XNNPACK's qs8 kernels run every op
    assert int8["mean_abs_diff"] < 0.2 * int8["mean_abs_output"]


def test_the_trainer_follows_the_networks_shapes():
    generator = _hand_built_generator()
    assert trainer_for(generator, _hand_built_discriminator()).latent_dim == LATENT
    wrong = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    with pytest.raises(
        ValueError, match=r"images \(16, 16, 1\).*inputs=\[\(8, 8, 1\)\]"
    ):
        trainer_for(generator, wrong)


def test_compress_command_on_a_users_generator(tmp_path, capsys):
    from importlib import metadata

    from kgan.cli import main
    from kgan.export import CompiledGenerator

    keras.utils.set_random_seed(1)
    generator, discriminator = _hand_built_generator(), _hand_built_discriminator()
    generator.save(tmp_path / "g.keras")
    discriminator.save(tmp_path / "d.keras")
    images = np.random.default_rng(0).integers(0, 256, (64, 16, 16, 1), np.uint8)
    np.savez(tmp_path / "data.npz", images=images)
    out = tmp_path / "out"
    args = ["compress", "--generator", str(tmp_path / "g.keras")]
    args += ["--discriminator", str(tmp_path / "d.keras")]
    args += ["--data", str(tmp_path / "data.npz"), "--out", str(out), "--target", "0.3"]
    args += ["--threshold", "1e9", "--max-prune-fraction", "0.5", "--batch-size", "16"]
    args += ["--sparsity-steps", "1", "--retrain-steps", "1"]
    args += ["--recalibration-batches", "1"]
    assert main(args) in (None, 0)
    assert "generator_int8.tflite" in capsys.readouterr().out
    table = json.loads((out / "rounds.json").read_text())
    assert table["runtime"]["version"] == metadata.version("ai-edge-litert")
    assert table["runtime"]["threads"] == 1 and table["runtime"]["runs"] == 50
    rows = table["rows"]
    assert rows[0]["round"] == 0 and rows[0]["parameters"] == generator.count_params()
    assert rows[-1]["parameters"] <= 0.3 * generator.count_params()
    for row in rows[1:]:
        smaller = keras.saving.load_model(out / f"round_{row['round']}.keras")
        assert row["parameters"] == smaller.count_params()
        assert (
            row["tflite_bytes"] == (out / f"round_{row['round']}.tflite").stat().st_size
        )
    assert [r["macs"] for r in rows] == sorted((r["macs"] for r in rows), reverse=True)
    # Its layer and instance norms become ops XNNPACK leaves to LiteRT's own
    # kernels (the DCGAN's run on XNNPACK alone: the test below).
    assert all(r["fully_accelerated"] is False and r["swd"] > 0 for r in rows)
    # The final float32 file is the last round, and runs as its Keras model.
    last = keras.saving.load_model(out / f"round_{rows[-1]['round']}.keras")
    compiled = CompiledGenerator(out / "generator.tflite")
    z = np.random.default_rng(2).normal(size=(LATENT,)).astype("float32")
    np.testing.assert_allclose(compiled.run_one(z), last(z[None])[0], atol=1e-4)
    int8 = table["int8"]
    assert int8["mean_abs_diff"] < 0.2 * int8["mean_abs_output"]


def test_compress_command_names_what_is_missing(tmp_path, capsys):
    from kgan.cli import main

    generator = _hand_built_generator()
    generator.save(tmp_path / "g.keras")
    with pytest.raises(SystemExit, match="--discriminator"):
        main(["compress", "--generator", str(tmp_path / "g.keras"), "--out", "x"])
    _hand_built_discriminator().save(tmp_path / "d.keras")
    np.savez(tmp_path / "data.npz", images=np.zeros((8, 28, 28, 1), np.uint8))
    args = ["compress", "--generator", str(tmp_path / "g.keras"), "--out", "x"]
    args += ["--discriminator", str(tmp_path / "d.keras")]
    with pytest.raises(SystemExit):
        main([*args, "--data", str(tmp_path / "data.npz"), "--batch-size", "8"])
    error = capsys.readouterr().err
    assert "Received: element_spec=TensorSpec(shape=(8, 28, 28, 1)" in error
