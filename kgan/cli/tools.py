"""`kgan sample`, `evaluate`, `export` and `bench`: what is done with a
trained generator file."""

import argparse
import json
import pathlib


def add_sample(subparsers):
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


def add_evaluate(subparsers):
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


def add_export(subparsers):
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


def add_bench(subparsers):
    parser = subparsers.add_parser(
        "bench",
        help="measure per-image latency of one or two generators side by side",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="a .tflite or .keras file to time")
    what.add_argument(
        "--layers",
        metavar="MODEL",
        help="print where a .keras generator's parameters and MACs sit, "
        "layer by layer (no timing); with --against a slimmed copy, both",
    )
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

    from kgan.export.bench import generator_macs, measure_latency, runner
    from kgan.files import atomic_path
    from kgan.saving import load_generator

    if args.layers:
        from kgan.export.costs import cost_shares, family_of, format_cost_table

        generator = load_generator(args.layers, formats=(".keras",))
        if args.against:
            from kgan.export.costs import format_cost_comparison

            after = load_generator(args.against, formats=(".keras",))
            print(format_cost_comparison(generator, after))
            return
        print(format_cost_table(generator))
        if args.out:
            with atomic_path(args.out) as partial:
                shares = {
                    "parts": cost_shares(generator),
                    "families": cost_shares(generator, family_of),
                }
                partial.write_text(json.dumps(shares, indent=2) + "\n")
            print(f"wrote {args.out}")
        return
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
        from kgan.machine import machine_info

        report["machine"] = machine_info()
        with atomic_path(args.out) as partial:
            partial.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
