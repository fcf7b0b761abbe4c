import json
import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tests.scripts import load_script


@pytest.fixture(scope="module")
def reproduce_psf():
    return load_script("reproduce_psf")


def test_loss_volatility_is_the_std_of_the_last_fifth(reproduce_psf):
    rows = [{"d_loss": float(v)} for v in [9.0] * 80 + [1.0, 3.0] * 10]
    assert reproduce_psf.loss_volatility(rows) == pytest.approx(1.0)


def test_radford_widths(reproduce_psf):
    import keras

    from kgan.models import dcgan

    # Radford's generator: a 1024-filter projection, halved by each layer.
    for dataset, shape, filters in (
        ("mnist", (28, 28, 1), [1024, 512]),
        ("cifar10", (32, 32, 3), [1024, 512, 256]),
    ):
        width = reproduce_psf.radford_width(dataset)
        generator, _ = dcgan(image_shape=shape, width=width)
        start = generator.get_layer("g_reshape").output.shape[-1]
        deconvs = [
            layer.filters
            for layer in generator.layers
            if isinstance(layer, keras.layers.Conv2DTranspose) and layer.name != "g_out"
        ]
        assert [start, *deconvs] == filters


def test_mnist_runs_record_class_history(reproduce_psf, tmp_path):
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--datasets", "mnist", "--seeds", "0", "--steps", "8", "--width", "0.125"]
    args += ["--history-every", "4", "--eval-n", "200", "--verbose", "0"]
    args += ["--runs", str(runs), "--results", str(results)]
    assert reproduce_psf.main(args) == 0
    report = json.loads((results / "psf_mnist.json").read_text())
    assert report["protocol"]["initializer"] == "dcgan"
    assert report["protocol"]["psf_layers"] == "most"
    for record in report["runs"]:
        history = record["class_history"]
        assert [r["step"] for r in history] == [4, 8]
        for row in history:
            assert len(row["histogram"]) == 10
            assert sum(row["histogram"]) == pytest.approx(1.0)
            assert 0 <= row["classes_covered"] <= 10
    assert (results / "psf" / "mnist_psf_seed0.json").exists()
    psf = report["runs"][1]
    # "most": D's first activation and G's projection stay LReLU.
    assert not any(
        "d_conv_0" in key or "g_project" in key for key in psf["alpha_final"]
    )
    for figure in ("losses", "samples", "alpha", "coverage"):
        assert (results / f"psf_mnist_{figure}.png").stat().st_size > 0
    record = json.loads((results / "psf" / "mnist_psf_seed0.json").read_text())
    assert [r["step"] for r in record["losses"]] == list(range(1, 9))
    assert record["alpha_history"][-1]["step"] == 8
    assert set(record["sample_grids"]) == {"iteration 4", "end"}
    # A finished run's record is reused, not retrained, and the figures are
    # rebuilt from the records alone.
    before = (results / "psf" / "mnist_lrelu_seed0.json").read_text()
    shutil.rmtree(runs)
    for figure in results.glob("psf_mnist_*.png"):
        figure.unlink()
    assert reproduce_psf.main(args) == 0
    assert not runs.exists()
    assert (results / "psf" / "mnist_lrelu_seed0.json").read_text() == before
    for figure in ("losses", "samples", "alpha", "coverage"):
        assert (results / f"psf_mnist_{figure}.png").stat().st_size > 0


def test_cifar_automobile_setting_with_mock_data(reproduce_psf, tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--cifar", "--seeds", "0", "--cifar-steps", "4", "--width", "0.125"]
    args += ["--runs", str(runs), "--results", str(results), "--verbose", "0"]
    with tfds.testing.mock_data(num_examples=400):
        assert reproduce_psf.main(args) == 0
    report = json.loads((results / "psf_cifar10.json").read_text())
    assert report["protocol"]["batch_size"] == 32
    assert report["protocol"]["paper_steps"] == 181 * 5000 // 32
    assert [r["activation"] for r in report["runs"]] == ["lrelu", "psf"]
    for record in report["runs"]:
        assert record["protocol"]["steps"] == 4
        assert record["class_history"] == []  # no CIFAR classifier is shipped
        assert np.isfinite(record["swd_mean"]) and np.isfinite(record["ms_ssim"])
        assert np.isfinite(record["d_loss_volatility"])
    networks = {key.split("/")[0] for key in report["runs"][1]["alpha_final"]}
    assert networks == {"generator", "discriminator"}
    for figure in ("losses", "samples", "alpha"):
        assert (results / f"psf_cifar10_{figure}.png").stat().st_size > 0
