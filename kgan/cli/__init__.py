"""The `kgan` command: train, sample, evaluate, export, benchmark, compress."""

import argparse
import os
import sys

# Keep TensorFlow's C++ start-up chatter out of the command's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kgan.cli.compress import add_compress  # noqa: E402
from kgan.cli.data import add_data  # noqa: E402
from kgan.cli.study import add_study  # noqa: E402
from kgan.cli.tools import add_bench, add_evaluate, add_export, add_sample  # noqa: E402
from kgan.cli.train import add_train  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="kgan", description="Generative adversarial networks for Keras 3."
    )
    subparsers = parser.add_subparsers(required=True, metavar="command")
    for add in (
        add_train,
        add_sample,
        add_evaluate,
        add_export,
        add_bench,
        add_compress,
        add_data,
        add_study,
    ):
        add(subparsers)
    args = parser.parse_args(argv)
    preset = getattr(args, "preset", None)
    if preset is not None:
        # The preset's values become the defaults; what the command line
        # gives explicitly still wins.
        args.parser.set_defaults(**args.recipe.presets[preset])
        args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"kgan: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
