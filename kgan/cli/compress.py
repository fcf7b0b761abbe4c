"""`kgan compress`: the Compact GAN's slimming of a trained pix2pix run."""

import dataclasses

from kgan.cli.train import add_config_options
from kgan.compress.slimming import SlimmingConfig


def add_compress(subparsers):
    parser = subparsers.add_parser(
        "compress",
        help="slim a pix2pix generator by gate pruning (Compact GAN)",
        description="Rounds of gate training under an L1 penalty (by default "
        "with the whole GAN, as the paper's Eq. 2), pruning, rebuilding and "
        "retraining against the frozen discriminator until the parameter "
        "target. Writes round_<k>.keras, rounds.json and comparison.png to "
        "--out; run it again with the same settings to resume after the last "
        "finished round (with other settings: add --change-settings).",
    )
    parser.add_argument("--model", required=True, help="a pix2pix run's pix2pix.keras")
    parser.add_argument("--out", required=True, help="folder for the rounds")
    add_config_options(parser, SlimmingConfig)
    parser.add_argument(
        "--change-settings",
        action="store_true",
        help="resume a slimming with other settings, from its next round",
    )
    parser.set_defaults(handler=_compress)


def _compress(args):
    from kgan.recipes.compact import compress_pix2pix

    fields = dataclasses.fields(SlimmingConfig)
    config = SlimmingConfig(**{f.name: getattr(args, f.name) for f in fields})
    records = compress_pix2pix(
        args.model, args.out, config, verbose=1, change_settings=args.change_settings
    )
    print(f"{'round':>5} {'parameters':>12} {'ratio':>7} {'PSNR':>7} {'mIoU':>6}")
    for r in records:
        print(
            f"{r['round']:>5} {r['parameters']:>12,} {r['ratio']:>7.3f} "
            f"{r['psnr']:>7.2f} {r['miou']:>6.3f}"
        )
    print(f"wrote {args.out}: round_<k>.keras, rounds.json, comparison.png")
