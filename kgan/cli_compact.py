"""The Compact GAN's parts of the `kgan` command: `train pix2pix` and `compress`."""

import argparse
import json
import pathlib

from kgan.compress.slimming import SlimmingConfig
from kgan.pix2pix_training import Pix2PixConfig

PIX2PIX = Pix2PixConfig()
SLIMMING = SlimmingConfig()

# Options of `kgan train` that pix2pix takes; the others are refused.
FOR_PIX2PIX = {
    "model", "steps", "batch_size", "lr", "beta1", "seed", "sample_every",
    "no_xla", "out", "resolution", "scenes", "test_scenes", "filters", "max_filters",
    "l1_weight", "handler",
}  # fmt: skip


def add_pix2pix_options(parser):
    group = parser.add_argument_group(
        "pix2pix",
        "Pix2pix on synthetic road scenes (label map -> image). Of the options "
        "above, pix2pix takes steps, batch-size, lr, beta1, seed, sample-every, "
        f"no-xla and out (defaults: steps {PIX2PIX.steps}, batch size "
        f"{PIX2PIX.batch_size}, lr {PIX2PIX.learning_rate}, beta1 {PIX2PIX.beta1}, "
        f"sample every {PIX2PIX.sample_every}), and --resolution (default "
        f"{PIX2PIX.resolution}).",
    )
    group.add_argument(
        "--scenes", type=int, default=PIX2PIX.scenes, help="training scenes"
    )
    group.add_argument(
        "--test-scenes",
        type=int,
        default=PIX2PIX.test_scenes,
        help="held-out scenes scored at the end",
    )
    group.add_argument(
        "--filters",
        type=int,
        default=PIX2PIX.filters,
        help="filters of the U-Net's first layer (they double per level)",
    )
    group.add_argument(
        "--max-filters",
        type=int,
        default=PIX2PIX.max_filters,
        help="cap on the U-Net's filters per layer",
    )
    group.add_argument(
        "--l1-weight", type=float, default=PIX2PIX.l1_weight, help="weight of L1"
    )


def train_pix2pix_command(args, parser):
    from kgan.pix2pix_training import train_pix2pix

    given = [
        name
        for name, value in vars(args).items()
        if name not in FOR_PIX2PIX and value != parser.get_default(name)
    ]
    if given:
        raise ValueError(
            "These options do not apply to pix2pix (see its group in "
            f"`kgan train --help`). Received: {', '.join('--' + g for g in given)}"
        )
    settings = {
        "steps": args.steps,
        "batch_size": getattr(args, "batch_size", PIX2PIX.batch_size),
        "learning_rate": getattr(args, "lr", PIX2PIX.learning_rate),
        "beta1": getattr(args, "beta1", PIX2PIX.beta1),
        "resolution": getattr(args, "resolution", PIX2PIX.resolution),
        "sample_every": args.sample_every,
    }
    config = Pix2PixConfig(
        scenes=args.scenes,
        test_scenes=args.test_scenes,
        filters=args.filters,
        max_filters=args.max_filters,
        l1_weight=args.l1_weight,
        seed=args.seed,
        jit_compile=not args.no_xla,
        **{k: v for k, v in settings.items() if v is not None},
    )
    out = "runs/pix2pix" if args.out == "runs/MODEL" else args.out
    train_pix2pix(config, out)
    print(f"wrote {out}: pix2pix.keras, generator.keras, samples/, quality.json")
    print(json.dumps(json.loads((pathlib.Path(out) / "quality.json").read_text())))


def add_compress(subparsers):
    parser = subparsers.add_parser(
        "compress",
        help="slim a pix2pix generator by gate pruning (Compact GAN)",
        description="Rounds of gate sparsity training, pruning, rebuilding and "
        "retraining against the frozen discriminator until the parameter "
        "target. Writes round_<k>.keras, rounds.json and comparison.png to --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="a run's pix2pix.keras")
    parser.add_argument("--out", required=True, help="folder for the rounds")
    parser.add_argument(
        "--target-ratio",
        type=float,
        default=SLIMMING.target_ratio,
        help="stop at this share of the original parameters",
    )
    parser.add_argument(
        "--prune-fraction",
        type=float,
        default=SLIMMING.prune_fraction,
        help="share of the gated filters removed per round",
    )
    parser.add_argument(
        "--min-filters", type=int, default=SLIMMING.min_filters, help="per layer"
    )
    parser.add_argument(
        "--l1", type=float, default=SLIMMING.l1, help="L1 strength on the gates"
    )
    parser.add_argument(
        "--sparsity-steps",
        type=int,
        default=SLIMMING.sparsity_steps,
        help="steps training the gates alone per round",
    )
    parser.add_argument(
        "--retrain-steps",
        type=int,
        default=SLIMMING.retrain_steps,
        help="steps retraining the generator per round",
    )
    parser.add_argument(
        "--cost-weighting",
        choices=["uniform", "size"],
        default=SLIMMING.cost_weighting,
        help="L1 alike on every gate (the paper), or weighted by what each "
        "layer's filters cost in parameters and MACs",
    )
    parser.add_argument(
        "--targets",
        choices=["real", "teacher"],
        default=SLIMMING.targets,
        help="L1 towards the real images (the paper) or towards the original "
        "generator's outputs (distillation)",
    )
    parser.set_defaults(handler=_compress)


def _compress(args):
    from kgan.pix2pix_training import compress_pix2pix

    config = SlimmingConfig(
        target_ratio=args.target_ratio,
        prune_fraction=args.prune_fraction,
        min_filters=args.min_filters,
        l1=args.l1,
        sparsity_steps=args.sparsity_steps,
        retrain_steps=args.retrain_steps,
        cost_weighting=args.cost_weighting,
        targets=args.targets,
    )
    records = compress_pix2pix(args.model, args.out, config)
    print(f"{'round':>5} {'parameters':>12} {'ratio':>7} {'PSNR':>7} {'mIoU':>6}")
    for r in records:
        print(
            f"{r['round']:>5} {r['parameters']:>12,} {r['ratio']:>7.3f} "
            f"{r['psnr']:>7.2f} {r['miou']:>6.3f}"
        )
    print(f"wrote {args.out}: round_<k>.keras, rounds.json, comparison.png")
