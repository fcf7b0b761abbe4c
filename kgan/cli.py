"""The `kgan` command: train, sample, evaluate, export and benchmark GANs."""

import argparse
import json
import os
import pathlib
import sys

# Keep TensorFlow's C++ start-up chatter out of the command's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kgan.cli_compact import add_compress, add_pix2pix_options, train_pix2pix_command
from kgan.progressive_training import ProgressiveConfig
from kgan.training import MODEL_DEFAULTS, MODELS, STRATEGIES, TrainConfig

DEFAULTS = TrainConfig()
PROGRESSIVE = ProgressiveConfig()


def _add_train(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a GAN on a dataset and write a run folder",
        description="Train a GAN with model.fit and write config.json, samples/*.png, "
        "losses.csv, losses.png, generator.keras and gan.keras to --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "model",
        choices=MODELS + ("progan", "pix2pix"),
        help="gan: Goodfellow's MLP GAN; dcgan: Radford's convolutional GAN; "
        "draw: GAN with DRAW attention (recurrent generator and discriminator); "
        "progan: Progressive GAN; pix2pix: label map -> image on synthetic road "
        "scenes (progan and pix2pix have their own option groups below)",
    )
    parser.add_argument(
        "--dataset",
        default=DEFAULTS.dataset,
        help="mnist (embedded), fashion_mnist or cifar10",
    )
    parser.add_argument(
        "--activation",
        choices=["lrelu", "psf"],
        default=DEFAULTS.activation,
        help="hidden activation of both networks of gan and dcgan: "
        "LeakyReLU(0.2) or the parametric softsign",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=DEFAULTS.steps,
        help="generator updates to train for",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=argparse.SUPPRESS,  # the model's default, shown in the help
        help=f"global batch size (default: {DEFAULTS.batch_size}; "
        f"draw: {MODEL_DEFAULTS['draw']['batch_size']})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help="seed of weights, noise and data order",
    )
    parser.add_argument(
        "--latent-dim",
        type=int,
        default=DEFAULTS.latent_dim,
        help="size of z (draw: of each step's z_t)",
    )
    parser.add_argument(
        "--width",
        type=float,
        default=DEFAULTS.width,
        help="DCGAN filter multiplier (1.0: 64-128 filters at 28 px)",
    )
    parser.add_argument(
        "--refine-layers",
        type=int,
        default=DEFAULTS.refine_layers,
        help="DCGAN: stride-1 transposed convolutions added to the generator "
        "at each resolution (0: Radford's generator)",
    )
    parser.add_argument(
        "--loss",
        default=DEFAULTS.loss,
        choices=["minimax", "non_saturating", "wgan_gp", "hinge", "lsgan"],
        help="adversarial loss",
    )
    parser.add_argument(
        "--d-steps",
        type=int,
        default=DEFAULTS.d_steps,
        help="discriminator updates per generator update",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=argparse.SUPPRESS,
        help=f"Adam learning rate of both networks (default: "
        f"{DEFAULTS.learning_rate}; draw: {MODEL_DEFAULTS['draw']['learning_rate']})",
    )
    parser.add_argument(
        "--beta1",
        type=float,
        default=argparse.SUPPRESS,
        help=f"Adam beta_1 of both networks (default: {DEFAULTS.beta_1}; "
        f"draw: {MODEL_DEFAULTS['draw']['beta_1']})",
    )
    parser.add_argument(
        "--ema",
        type=float,
        default=DEFAULTS.ema,
        help="decay of the moving average of the generator used for "
        "samples and generator.keras; 0 turns it off",
    )
    parser.add_argument(
        "--sample-every",
        type=int,
        default=DEFAULTS.sample_every,
        help="steps between sample grids",
    )
    parser.add_argument(
        "--eval-every",
        type=int,
        default=DEFAULTS.eval_every,
        help="steps between evaluations during training (0: only at the end); "
        "needs a classifier for the dataset in kgan/saved_models/",
    )
    parser.add_argument(
        "--eval-n",
        type=int,
        default=DEFAULTS.eval_n,
        help="generated images per evaluation",
    )
    parser.add_argument(
        "--attention-n",
        type=int,
        default=DEFAULTS.attention_n,
        help="draw: N of the N x N read and write grids",
    )
    parser.add_argument(
        "--draw-steps",
        type=int,
        default=DEFAULTS.draw_steps,
        help="draw: write and read steps T",
    )
    parser.add_argument(
        "--rnn-units",
        type=int,
        default=DEFAULTS.rnn_units,
        help="draw: RNN state size of both networks",
    )
    parser.add_argument(
        "--rnn-cell",
        choices=["lstm", "gru", "simple"],
        default=DEFAULTS.rnn_cell,
        help="draw: RNN cell of both networks",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=None,
        help="tf.distribute strategy (mirrored: all local GPUs or "
        "logical devices, synchronized batch norm)",
    )
    parser.add_argument(
        "--no-xla", action="store_true", help="do not compile the train step with XLA"
    )
    progressive = parser.add_argument_group(
        "progan",
        "Progressive GAN options. Of the options above, progan takes only "
        "dataset, seed, ema, no-xla, out and resume.",
    )
    progressive.add_argument(
        "--resolution",
        type=int,
        default=argparse.SUPPRESS,
        help=f"final resolution (default {PROGRESSIVE.resolution}; MNIST and "
        "Fashion-MNIST are padded to 32); pix2pix: image size",
    )
    progressive.add_argument(
        "--kimg",
        type=float,
        default=PROGRESSIVE.kimg,
        help="thousands of real images to show in all",
    )
    progressive.add_argument(
        "--lod-training-kimg",
        type=float,
        default=PROGRESSIVE.lod_training_kimg,
        help="thousands of images of stable training per level",
    )
    progressive.add_argument(
        "--lod-transition-kimg",
        type=float,
        default=PROGRESSIVE.lod_transition_kimg,
        help="thousands of images of each fade-in",
    )
    progressive.add_argument(
        "--batch-sizes",
        default=",".join(f"{k}:{v}" for k, v in PROGRESSIVE.batch_sizes.items()),
        help="batch size per resolution, as RES:BATCH,...",
    )
    parser.add_argument("--out", default="runs/MODEL", help="run folder")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --out from its last backup",
    )
    parser.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write TensorBoard logs of losses and grids to OUT/tensorboard",
    )
    add_pix2pix_options(parser)
    parser.set_defaults(handler=lambda args: _train(args, parser))


def _batch_sizes(text):
    try:
        pairs = [item.split(":") for item in text.split(",")]
        return {str(int(res)): int(batch) for res, batch in pairs}
    except ValueError as error:
        raise ValueError(
            "--batch-sizes must read RES:BATCH,RES:BATCH,... "
            f"Received: batch_sizes={text!r}"
        ) from error


# Options of `kgan train` that the Progressive GAN does not take.
NOT_FOR_PROGAN = (
    "activation", "steps", "batch_size", "latent_dim", "width", "refine_layers",
    "loss", "d_steps", "lr", "beta1", "sample_every", "eval_every", "eval_n",
    "attention_n", "draw_steps", "rnn_units", "rnn_cell", "strategy", "tensorboard",
    "scenes", "test_scenes", "filters", "max_filters", "l1_weight",
)  # fmt: skip


def _train_progressive(args, parser):
    from kgan.progressive_training import train_progressive

    given = [
        name
        for name in NOT_FOR_PROGAN
        if name in vars(args) and getattr(args, name) != parser.get_default(name)
    ]
    if given:
        raise ValueError(
            "These options do not apply to progan (see its own group in "
            f"`kgan train --help`). Received: {', '.join('--' + g for g in given)}"
        )

    config = ProgressiveConfig(
        dataset=args.dataset,
        resolution=getattr(args, "resolution", PROGRESSIVE.resolution),
        kimg=args.kimg,
        lod_training_kimg=args.lod_training_kimg,
        lod_transition_kimg=args.lod_transition_kimg,
        batch_sizes=_batch_sizes(args.batch_sizes),
        seed=args.seed,
        ema=args.ema or None,
        jit_compile=not args.no_xla,
    )
    out = "runs/progan" if args.out == "runs/MODEL" else args.out
    train_progressive(config, out, resume=args.resume)
    print(f"wrote {out}: generator.keras, progress.csv, samples/")


def _train(args, parser):
    from kgan.training import train

    if args.model == "progan":
        return _train_progressive(args, parser)
    if args.model == "pix2pix":
        return train_pix2pix_command(args, parser)

    # Options left out take the model's default (absent from args).
    given = {"batch_size": "batch_size", "learning_rate": "lr", "beta_1": "beta1"}
    config = TrainConfig.for_model(
        args.model,
        **{name: getattr(args, arg) for name, arg in given.items() if arg in args},
        dataset=args.dataset,
        activation=args.activation,
        steps=args.steps,
        seed=args.seed,
        latent_dim=args.latent_dim,
        width=args.width,
        refine_layers=args.refine_layers,
        loss=args.loss,
        d_steps=args.d_steps,
        ema=args.ema or None,
        attention_n=args.attention_n,
        draw_steps=args.draw_steps,
        rnn_units=args.rnn_units,
        rnn_cell=args.rnn_cell,
        sample_every=args.sample_every,
        eval_every=args.eval_every,
        eval_n=args.eval_n,
        strategy=args.strategy,
        jit_compile=not args.no_xla,
    )
    out = f"runs/{args.model}" if args.out == "runs/MODEL" else args.out
    train(config, out, resume=args.resume, tensorboard=args.tensorboard)
    print(f"wrote {out}: generator.keras, gan.keras, samples/final.png, losses.png")
    metrics_path = pathlib.Path(out) / "metrics.json"
    if metrics_path.exists():
        from kgan.metrics import format_table

        print(f"\nmetrics of the final generator ({metrics_path}):")
        print(format_table(json.loads(metrics_path.read_text())))


def _add_sample(subparsers):
    parser = subparsers.add_parser(
        "sample",
        help="write a grid of images from a trained generator",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model", required=True, help="a generator.keras or .tflite file"
    )
    parser.add_argument("--n", type=int, default=64, help="number of images")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the latent vectors"
    )
    parser.add_argument("--out", default="samples.png", help="PNG file to write")
    parser.add_argument(
        "--threads", type=int, default=1, help="LiteRT threads for a .tflite model"
    )
    parser.set_defaults(handler=_sample)


def _sample(args):
    from kgan.export import LiteRTGenerator
    from kgan.images import save_grid
    from kgan.latents import normal_latents
    from kgan.saving import load_generator

    if args.n <= 0:
        raise ValueError(f"--n must be positive. Received: n={args.n}")
    generator = load_generator(args.model, num_threads=args.threads)
    if isinstance(generator, LiteRTGenerator):
        images = generator.generate(args.n, seed=args.seed)
    else:
        z = normal_latents(args.n, generator.input_shape[1:], args.seed)
        images = generator.predict(z, verbose=0)
    save_grid(images, args.out)
    print(f"wrote {args.out}")


def _add_evaluate(subparsers):
    parser = subparsers.add_parser(
        "evaluate",
        help="compute SWD, MS-SSIM and the classifier metrics of a generator",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model", required=True, help="a generator.keras or .tflite file"
    )
    parser.add_argument(
        "--dataset",
        default="mnist",
        help="the dataset the generator learned (its training split is the "
        "reference; its classifier comes from kgan/saved_models/)",
    )
    parser.add_argument("--n", type=int, default=10000, help="generated images")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of latents, SWD and KID"
    )
    parser.add_argument(
        "--out", default=None, help="JSON file to write (default: MODEL.metrics.json)"
    )
    parser.set_defaults(handler=_evaluate)


def _evaluate(args):
    from kgan.files import atomic_path
    from kgan.metrics import Evaluator, format_table

    evaluator = Evaluator(args.dataset, seed=args.seed)
    result = evaluator.evaluate_generator(args.model, n=args.n, seed=args.seed)
    result = {"model": args.model, "dataset": args.dataset, **result}
    out = args.out or f"{pathlib.Path(args.model).with_suffix('')}.metrics.json"
    with atomic_path(out) as partial:
        partial.write_text(json.dumps(result, indent=2) + "\n")
    print(
        format_table({k: v for k, v in result.items() if k not in ("model", "dataset")})
    )
    print(f"wrote {out}")


def _add_export(subparsers):
    parser = subparsers.add_parser(
        "export",
        help="convert a generator to a .tflite file for LiteRT and verify it",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="a generator.keras file")
    parser.add_argument("--out", required=True, help="the .tflite file to write")
    parser.add_argument(
        "--quantize",
        choices=["float16", "dynamic", "int8"],
        default=None,
        help="quantization (none: float32)",
    )
    parser.add_argument(
        "--calibration",
        choices=["prior", "road_scenes"],
        default="prior",
        help="int8 calibration inputs: 100 latents from N(0, I), or 100 one-hot "
        "label maps of road scenes (for pix2pix generators)",
    )
    parser.add_argument(
        "--verify-n", type=int, default=64, help="inputs used to verify"
    )
    parser.set_defaults(handler=_export)


def _export(args):
    from kgan import export
    from kgan.saving import load_generator

    generator = load_generator(args.model, formats=(".keras",))
    calibration, checks, inputs = None, None, "latents"
    if args.calibration == "road_scenes":
        from kgan.data.road_scenes import (
            ROAD_CLASSES,
            calibration_maps,
            one_hot,
            road_scenes,
        )

        shape = generator.input_shape
        if len(shape) != 4 or shape[-1] != len(ROAD_CLASSES):
            raise ValueError(
                "--calibration road_scenes needs a generator of one-hot road-scene "
                f"label maps ({len(ROAD_CLASSES)} channels). "
                f"Received: input_shape={generator.input_shape}"
            )
        resolution = shape[1]
        calibration = calibration_maps(resolution)
        checks, inputs = one_hot(road_scenes(args.verify_n, resolution, 8)[0]), "maps"
    path = export.to_litert(
        generator, args.out, quantize=args.quantize, representative_data=calibration
    )
    result = export.compare(path, generator, n=args.verify_n, inputs=checks)
    print(f"wrote {path}: {path.stat().st_size / 1024:.1f} KiB")
    print(f"operators: {', '.join(export.operator_names(path))}")
    print(f"MACs per image: {export.model_macs(path):,}")
    print(
        f"vs Keras on {args.verify_n} {inputs}: max |diff| "
        f"{result['max_abs_diff']:.3g}, mean |diff| {result['mean_abs_diff']:.3g} "
        "(pixels in [-1, 1])"
    )


def _add_bench(subparsers):
    parser = subparsers.add_parser(
        "bench",
        help="measure per-image latency of one or two generators side by side",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="a .tflite or .keras file")
    parser.add_argument("--against", help="a second .tflite or .keras file")
    parser.add_argument(
        "--threads", type=int, default=1, help="LiteRT interpreter threads"
    )
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs (>= 5)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs (>= 50)")
    parser.add_argument("--out", help="also write the timings to this .json file")
    parser.set_defaults(handler=_bench)


def _bench(args):
    import pathlib
    import platform

    from kgan.export.bench import generator_macs, measure_latency, runner
    from kgan.files import atomic_path
    from kgan.saving import load_generator

    paths = [args.model] + ([args.against] if args.against else [])
    generators = {path: load_generator(path, args.threads) for path in paths}
    runners = {path: runner(generators[path]) for path in paths}
    results = measure_latency(runners, args.warmup, args.runs)
    print(
        f"{'model':<40} {'median ms':>10} {'p90 ms':>10} {'MACs':>14} {'size KiB':>10}"
    )
    for path, timing in results.items():
        timing.update(
            macs=generator_macs(generators[path]),
            bytes=pathlib.Path(path).stat().st_size,
        )
        print(
            f"{path:<40} {timing['median_ms']:>10.3f} {timing['p90_ms']:>10.3f} "
            f"{timing['macs']:>14,} {timing['bytes'] / 1024:>10.1f}"
        )
    report = {"threads": args.threads, "warmup": args.warmup, "models": results}
    if args.against:
        a, b = (results[p]["median_ms"] for p in paths)
        report["median_ratio_against_over_model"] = b / a
        print(f"median latency ratio {args.against} / {args.model}: {b / a:.2f}")
    if args.out:
        cores = len(os.sched_getaffinity(0))
        report["machine"] = f"{platform.machine()} CPU, {cores} core(s) available"
        with atomic_path(args.out) as partial:
            partial.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="kgan", description="Generative adversarial networks for Keras 3."
    )
    subparsers = parser.add_subparsers(required=True, metavar="command")
    _add_train(subparsers)
    _add_sample(subparsers)
    _add_evaluate(subparsers)
    _add_export(subparsers)
    _add_bench(subparsers)
    add_compress(subparsers)
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"kgan: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
