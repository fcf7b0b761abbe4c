import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import cli, export
from kgan.export.bench import measure_latency
from kgan.latents import normal_latents
from kgan.models import dcgan, vanilla
from kgan.models.pix2pix_networks import unet_generator

GENERATORS = {
    "mlp": lambda: vanilla(hidden_units=64, latent_dim=16)[0],
    "dcgan_lrelu": lambda: dcgan(width=0.25, latent_dim=16)[0],
    "dcgan_psf": lambda: dcgan(width=0.25, latent_dim=16, activation="psf")[0],
}


def trained_like(generator):
    """Moves BatchNorm statistics off their initial values, as training would."""
    rng = np.random.default_rng(0)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape))
            layer.moving_variance.assign(
                rng.uniform(0.5, 2, layer.moving_variance.shape)
            )
    return generator


def output_scale(generator, n, seed=0):
    """Mean |y| of the Keras generator on `export.compare`'s latents."""
    z = normal_latents(n, generator.input_shape[1:], seed)
    return float(np.abs(generator.predict(z, verbose=0)).mean())


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_float32_export_matches_keras(name, tmp_path):
    generator = trained_like(GENERATORS[name]())
    path = export.to_litert(generator, tmp_path / f"{name}.tflite")
    assert export.verify(path, generator, n=8) < 1e-4
    ops = export.operator_names(path)
    assert ops and not [op for op in ops if op.startswith("CUSTOM")]
    lite = export.LiteRTGenerator(path)
    assert lite.latent_shape == (16,)
    assert lite.image_shape == tuple(generator.output_shape[1:])


@pytest.mark.parametrize("mode", ["float16", "dynamic", "int8"])
def test_quantized_exports(mode, tmp_path):
    generator = trained_like(GENERATORS["dcgan_psf"]())
    plain = export.to_litert(generator, tmp_path / "plain.tflite")
    path = export.to_litert(generator, tmp_path / f"{mode}.tflite", quantize=mode)
    assert not [op for op in export.operator_names(path) if op.startswith("CUSTOM")]
    assert path.stat().st_size < 0.6 * plain.stat().st_size
    difference = export.compare(path, generator, n=16)
    # Relative to the outputs' own size (about 0.07 here), so that a file
    # that outputs zeros (relative difference 1) fails.
    limit = {"float16": 2e-3, "dynamic": 2e-2, "int8": 0.15}[mode]
    assert 0 < difference["mean_abs_diff"] < limit * output_scale(generator, 16)
    if mode == "int8":
        assert "QUANTIZE" in export.operator_names(path)


def test_int8_with_representative_conditions(tmp_path):
    generator = GENERATORS["dcgan_lrelu"]()
    data = [[np.full((1, 16), v, np.float32)] for v in np.linspace(-2, 2, 20)]
    path = export.to_litert(
        generator, tmp_path / "g.tflite", quantize="int8", representative_data=data
    )
    difference = export.compare(path, generator, n=4)["mean_abs_diff"]
    assert difference < 0.3 * output_scale(generator, 4)  # measured: 0.12


@keras.saving.register_keras_serializable(package="kgan_tests")
class MatrixInverse(keras.layers.Layer):
    def call(self, x):
        return tf.linalg.inv(tf.reshape(x, (-1, 4, 4)))


def test_flex_ops_are_an_error_not_a_file(tmp_path):
    inputs = keras.Input((16,))
    model = keras.Model(inputs, MatrixInverse()(inputs))
    with pytest.raises(export.UnsupportedOpsError, match="MatrixInverse"):
        export.to_litert(model, tmp_path / "g.tflite")
    assert not list(tmp_path.iterdir())


def test_macs_of_known_layers(tmp_path):
    inputs = keras.Input((8,))
    x = keras.layers.Dense(7 * 7 * 4)(inputs)  # 8 * 196
    x = keras.layers.Reshape((7, 7, 4))(x)
    x = keras.layers.Conv2D(6, 3, padding="same")(x)  # 7*7*6 * 3*3*4
    x = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(
        x
    )  # 7*7*6 * 4*4*2
    path = export.to_litert(keras.Model(inputs, x), tmp_path / "g.tflite")
    assert export.model_macs(path) == 8 * 196 + 7 * 7 * 6 * 36 + 7 * 7 * 6 * 32


def test_bad_input(tmp_path):
    generator = GENERATORS["mlp"]()
    with pytest.raises(ValueError, match="Received: quantize='int4'"):
        export.to_litert(generator, tmp_path / "g.tflite", quantize="int4")
    with pytest.raises(ValueError, match="Received: path="):
        export.to_litert(generator, tmp_path / "g.keras")
    not_tflite = tmp_path / "fake.tflite"
    not_tflite.write_bytes(b"this is not a flatbuffer")
    with pytest.raises(ValueError, match="not a TFLite model"):
        export.LiteRTGenerator(not_tflite)
    with pytest.raises(FileNotFoundError, match="Received: path="):
        export.LiteRTGenerator(tmp_path / "missing.tflite")
    path = export.to_litert(generator, tmp_path / "g.tflite")
    lite = export.LiteRTGenerator(path)
    with pytest.raises(ValueError, match="Received: latents.shape=\\(2, 8\\)"):
        lite(np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError, match="Received: num_threads=0"):
        export.LiteRTGenerator(path, num_threads=0)
    with pytest.raises(ValueError, match="Received: warmup=1, runs=50"):
        measure_latency({"a": lambda: None}, warmup=1)


def test_generate_from_tflite(tmp_path):
    generator = GENERATORS["dcgan_lrelu"]()
    lite = export.LiteRTGenerator(export.to_litert(generator, tmp_path / "g.tflite"))
    images = lite.generate(3, seed=1)
    assert images.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(images, lite.generate(3, seed=1))


def test_export_sample_and_bench_commands(tmp_path, capsys):
    generator = trained_like(GENERATORS["dcgan_psf"]())
    keras_path = tmp_path / "generator.keras"
    generator.save(keras_path)
    tflite_path = tmp_path / "g.tflite"
    cli.main(
        [
            "export",
            "--model",
            str(keras_path),
            "--out",
            str(tflite_path),
            "--verify-n",
            "4",
        ]
    )
    text = capsys.readouterr().out
    assert "operators: FULLY_CONNECTED" in text and "max |diff|" in text
    cli.main(
        [
            "sample",
            "--model",
            str(tflite_path),
            "--n",
            "4",
            "--out",
            str(tmp_path / "grid.png"),
        ]
    )
    assert (tmp_path / "grid.png").stat().st_size > 0
    timings = tmp_path / "bench.json"
    cli.main(["bench", "--model", str(tflite_path), "--against", str(keras_path),
              "--out", str(timings)])  # fmt: skip
    text = capsys.readouterr().out
    assert "median latency ratio" in text and "MACs" in text
    report = json.loads(timings.read_text())
    times = report["models"]
    assert set(times) == {str(tflite_path), str(keras_path)}
    ratio = times[str(keras_path)]["median_ms"] / times[str(tflite_path)]["median_ms"]
    assert np.isclose(report["median_ratio_against_over_model"], ratio)
    assert times[str(tflite_path)]["bytes"] == tflite_path.stat().st_size


def test_int8_of_label_maps_needs_representative_data(tmp_path):
    generator = unet_generator(16, filters=4, max_filters=8)
    with pytest.raises(ValueError, match=r"input_shape=\(None, 16, 16, 7\)"):
        export.to_litert(generator, tmp_path / "g.tflite", quantize="int8")
    assert not list(tmp_path.iterdir())


def test_cli_int8_export_calibrates_on_label_maps(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    generator = trained_like(unet_generator(16, filters=4, max_filters=8))
    generator.save(tmp_path / "generator.keras")
    args = ["export", "--model", str(tmp_path / "generator.keras"), "--verify-n", "8"]
    cli.main(args + ["--out", str(tmp_path / "g.tflite"), "--quantize", "int8",
                     "--calibration", "road_scenes"])  # fmt: skip
    text = capsys.readouterr().out
    assert "QUANTIZE" in text and "vs Keras on 8 maps" in text
    calibrated = float(text.split("mean |diff| ")[1].split()[0])
    assert calibrated < 0.05
    mlp = tmp_path / "g.keras"
    GENERATORS["mlp"]().save(mlp)
    with pytest.raises(SystemExit):
        cli.main(["export", "--model", str(mlp), "--out", str(tmp_path / "m.tflite"),
                  "--calibration", "road_scenes"])  # fmt: skip
    assert "label maps (7 channels). Received: input_shape=(None, 16)" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "m.tflite").exists()


def test_cli_bench_layers_prints_the_cost_table(tmp_path, capsys):
    from kgan.models import resnet_generator

    generator = resnet_generator(16, filters=4, blocks=2)
    path = tmp_path / "generator.keras"
    generator.save(path)
    shares_path = tmp_path / "shares.json"
    cli.main(["bench", "--layers", str(path), "--out", str(shares_path)])
    text = capsys.readouterr().out
    assert "block1_2_conv" in text and "by part" in text
    shares = json.loads(shares_path.read_text())
    families = shares["families"]
    assert set(families) == {"stem", "down", "block", "up", "output"}
    assert np.isclose(
        families["block"]["mac_share"],
        shares["parts"]["block1"]["mac_share"] + shares["parts"]["block2"]["mac_share"],
    )
    shares = shares["parts"]
    assert set(shares) == {"stem", "down1", "down2", "block1", "block2", "up1",
                           "up2", "output"}  # fmt: skip
    total = sum(part["parameters"] for part in shares.values())
    assert total == generator.count_params()
    with pytest.raises(SystemExit):
        cli.main(["bench", "--layers", str(tmp_path / "g.tflite")])
    assert "Expected a .keras generator file" in capsys.readouterr().err


def test_cli_bench_layers_against_a_slimmed_copy(tmp_path, capsys):
    from kgan.compress import rebuild
    from kgan.models import resnet_generator

    generator = resnet_generator(16, filters=8, blocks=2)
    # Half the stem's filters, and block 2 dropped to an identity.
    smaller = rebuild(
        generator, {"stem_conv": np.arange(4), "block2_1_conv": np.array([], int)}
    )
    generator.save(tmp_path / "g.keras")
    smaller.save(tmp_path / "s.keras")
    cli.main(["bench", "--layers", str(tmp_path / "g.keras")]
             + ["--against", str(tmp_path / "s.keras")])  # fmt: skip
    lines = {
        line.split()[0]: line.split()[1:]
        for line in capsys.readouterr().out.splitlines()[2:]
    }
    stem = generator.get_layer("stem_conv")
    assert lines["stem_conv"][:2] == [
        f"{stem.count_params():,}",
        f"{stem.count_params() // 2:,}",
    ]
    assert lines["stem_conv"][-1] == "2.0"
    assert lines["block2_1_conv"][1] == "0" and lines["block2_1_conv"][-1] == "gone"
    assert lines["total"][:2] == [
        f"{generator.count_params():,}",
        f"{smaller.count_params():,}",
    ]
