"""`kgan compress`: the Compact GAN's slimming of a pix2pix run or of any
functional Keras generator."""

import dataclasses

from kgan.cli.train import add_config_options
from kgan.compress.slimming import SlimmingConfig


def add_compress(subparsers):
    parser = subparsers.add_parser(
        "compress",
        help="slim a generator by gate pruning (Compact GAN) and export it",
        description="Rounds of gate training under an L1 penalty (by default "
        "with the whole GAN, as the paper's Eq. 2), pruning, rebuilding and "
        "retraining against the frozen discriminator until the parameter "
        "target. With --generator, --discriminator and --data (any functional "
        "Keras generator): writes round_<k>.keras and .tflite, "
        "generator.tflite, generator_int8.tflite and rounds.json (parameters, "
        "MACs, size, 1-thread LiteRT latency beside the original's, SWD). "
        "With --model (a kgan pix2pix run): round_<k>.keras, rounds.json "
        "and comparison.png. Run it again with the same settings to resume "
        "after the last finished round (with other settings: add "
        "--change-settings).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a kgan pix2pix run's pix2pix.keras")
    source.add_argument("--generator", help="a functional Keras generator (.keras)")
    parser.add_argument("--discriminator", help="its discriminator (.keras)")
    parser.add_argument(
        "--data",
        help="a .npz file with `images` (N, H, W, C), uint8 or in [-1, 1], and "
        "`conditions` for a conditional generator",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="(default: 32)")
    parser.add_argument(
        "--latency-runs",
        type=int,
        default=50,
        help="timed LiteRT runs per model and round (default: 50; with "
        "--model, 0 skips the latency table)",
    )
    parser.add_argument("--out", required=True, help="folder for the rounds")
    add_config_options(parser, SlimmingConfig)
    parser.add_argument(
        "--change-settings",
        action="store_true",
        help="resume a slimming with other settings, from its next round",
    )
    parser.set_defaults(handler=_compress)


def _config(args):
    fields = dataclasses.fields(SlimmingConfig)
    return SlimmingConfig(**{f.name: getattr(args, f.name) for f in fields})


def _compress(args):
    if args.generator is not None:
        return _compress_generator(args)
    from kgan.recipes.compact import compress_pix2pix

    records = compress_pix2pix(
        args.model,
        args.out,
        _config(args),
        verbose=1,
        change_settings=args.change_settings,
        latency_runs=args.latency_runs,
    )
    print(f"{'round':>5} {'parameters':>12} {'ratio':>7} {'PSNR':>7} {'mIoU':>6}")
    for r in records:
        print(
            f"{r['round']:>5} {r['parameters']:>12,} {r['ratio']:>7.3f} "
            f"{r['psnr']:>7.2f} {r['miou']:>6.3f}"
        )
    print(f"wrote {args.out}: round_<k>.keras, rounds.json, comparison.png")


def _compress_generator(args):
    import keras

    from kgan.compress.pipeline import compress_generator, load_npz

    for name in ("discriminator", "data"):
        if getattr(args, name) is None:
            raise SystemExit(f"kgan compress: --generator needs --{name} too")
    generator = keras.saving.load_model(args.generator, compile=False)
    discriminator = keras.saving.load_model(args.discriminator, compile=False)
    images, conditions = load_npz(args.data)
    table = compress_generator(
        generator,
        discriminator,
        images,
        args.out,
        _config(args),
        conditions=conditions,
        batch_size=args.batch_size,
        latency_runs=args.latency_runs,
        change_settings=args.change_settings,
    )
    runtime = table["runtime"]
    print(
        f"LiteRT {runtime['version']} {runtime['api']}, {runtime['kernels']}, "
        f"{runtime['threads']} thread, on {table['machine']['cpu']}"
    )
    print(
        f"{'round':>5} {'parameters':>12} {'MACs':>12} {'KiB':>8} "
        f"{'ms':>8} {'p90 ms':>8} {'speedup':>8} {'SWD':>7}"
    )
    for r in table["rows"]:
        print(
            f"{r['round']:>5} {r['parameters']:>12,} {r['macs']:>12,} "
            f"{r['tflite_bytes'] / 1024:>8.1f} {r['latency_median_ms']:>8.3f} "
            f"{r['latency_p90_ms']:>8.3f} {r['speedup']:>7.2f}x {r['swd']:>7.2f}"
        )
    int8 = table["int8"]
    print(
        f"int8: {int8['tflite_bytes'] / 1024:.1f} KiB, every op on XNNPACK: "
        f"{int8['fully_accelerated']}"
    )
    print(f"wrote {args.out}: generator.tflite, generator_int8.tflite, rounds.json")
