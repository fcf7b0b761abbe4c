import json

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
        assert record["steps"] == 4
        assert np.isfinite(record["swd_mean"]) and np.isfinite(record["ms_ssim"])
        assert np.isfinite(record["d_loss_volatility"])
    networks = {key.split("/")[0] for key in report["runs"][1]["alpha_final"]}
    assert networks == {"generator", "discriminator"}
    for figure in ("losses", "samples", "alpha"):
        assert (results / f"psf_cifar10_{figure}.png").stat().st_size > 0
