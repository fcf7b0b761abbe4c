"""The Compact GAN experiment: slim a pix2pix generator 10x and time it on CPU.

    python scripts/reproduce_compact.py                  # ResNet generator
    python scripts/reproduce_compact.py --generator unet # the first pass's U-Net
    python scripts/reproduce_compact.py --full-run runs/compact_resnet/full

1. Trains pix2pix (`--generator resnet`: Johnson et al.'s ResNet-block
   generator, the default; `unet`: pix2pix's U-Net) on synthetic road scenes.
2. Slims the generator round by round (`kgan.compress.slim`; the settings
   are `kgan compress`'s, e.g. `--gate-phase joint --threshold 0.01
   --max-prune-fraction 0.1`) to at most `--target-ratio` of its
   parameters.
3. Baselines (`--baselines`): a uniformly narrower generator with about the
   compact generator's parameters, trained from scratch for the same total
   generator steps; and unstructured magnitude pruning of the full generator
   to the same share of weights, fine-tuned for the slimming's steps against
   the frozen discriminator (`kgan.compress.magnitude`, the method of
   tfmot's `prune_low_magnitude`, which does not accept Keras 3 models),
   exported dense and in TFLite's sparse format.
4. Exports every generator to TFLite (float32; the compact one also int8),
   and measures for each: parameters, MACs, file size, LiteRT latency on one
   thread (median and p90, each model alternated with the full one in this
   process) and quality on held-out scenes: L1, PSNR, SSIM, SWD and the mIoU
   of the shipped segmenter.

Every stage resumes: the trainings are run folders (`kgan.runs`), the
slimming continues after its last finished round, whose table is written to
`results/<prefix>_slimming<tag>.json` as each round lands. Writes
`results/<prefix>_rounds<tag>.json` (one row per generator) and
`results/<prefix>_comparison<tag>.png` (label map, ground truth, full,
compact and baseline outputs side by side: the paper's Fig. 5); the prefix
is `compact_resnet` or `compact` (the U-Net).
"""

import argparse
import dataclasses
import json
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from kgan.cli.train import add_config_options  # noqa: E402
from kgan.compress.magnitude import magnitude_prune, zero_share  # noqa: E402
from kgan.compress.retraining import pix2pix_trainer  # noqa: E402
from kgan.compress.slimming import (  # noqa: E402
    STATE_FILE,
    SlimmingConfig,
    teacher_targets,
)
from kgan.data.road_scenes import calibration_maps, one_hot  # noqa: E402
from kgan.export import LiteRTGenerator, compare, model_macs, to_litert  # noqa: E402
from kgan.export.bench import measure_latency  # noqa: E402
from kgan.files import atomic_path  # noqa: E402
from kgan.images import save_png  # noqa: E402
from kgan.recipes import get  # noqa: E402
from kgan.recipes.compact import compress_pix2pix, load_pix2pix_run  # noqa: E402
from kgan.recipes.pix2pix import (  # noqa: E402
    SAMPLE_SCENES,
    Pix2PixConfig,
    comparison_tiles,
    held_out_evaluator,
    pix2pix_generator,
    training_batches,
)
from kgan.runs import finish  # noqa: E402
from kgan.runs.recipe import config_from_settings  # noqa: E402

PAPER = {
    "parameters": {"full": 29e6, "compact": 2.5e6},
    "latency_s": {"full": 3.40, "compact": 0.34},
}


# Per generator: the full run's settings, chosen for this CPU (README).
GENERATOR_DEFAULTS = {
    "resnet": {"resolution": 32, "batch_size": 4, "filters": 64, "steps": 4000},
    "unet": {"resolution": 64, "batch_size": 16, "filters": 32, "steps": 3000},
}
UNET_REFERENCE = "compact_rounds.json"  # the first pass, the paper's protocol


def narrow_filters(config, parameters):
    """First-layer filters of a uniformly narrower generator (same depth; a
    U-Net keeps its cap ratio) with the parameter count closest to
    `parameters`."""
    ratio = config.max_filters / config.filters
    best = None
    for filters in range(1, config.filters + 1):
        narrower = dataclasses.replace(
            config, filters=filters, max_filters=max(1, int(round(filters * ratio)))
        )
        count = pix2pix_generator(narrower).count_params()
        gap = abs(count - parameters)
        if best is None or gap < best[0]:
            best = (gap, filters)
        if count > parameters:
            break
    return best[1]


def slimming_steps(stages, rounds):
    """Training steps of the first `rounds` rounds, under each stage's settings."""
    bounds = [stage["first_round"] for stage in stages[1:]] + [rounds + 1]
    total = 0
    for stage, end in zip(stages, bounds, strict=True):
        config = stage["config"]
        count = max(0, min(end, rounds + 1) - stage["first_round"])
        total += count * (config["sparsity_steps"] + config["retrain_steps"])
    return total


def unet_reference(results):
    """The first pass's U-Net rows, for the comparison, if they are there."""
    path = pathlib.Path(results) / UNET_REFERENCE
    if not path.is_file():
        return None
    keys = ("name", "parameters", "macs", "tflite_bytes", "latency_ms",
            "latency_ratio", "psnr", "ssim", "swd", "miou")  # fmt: skip
    rows = json.loads(path.read_text())["rows"]
    return {"file": str(path), "rows": [{k: r.get(k) for k in keys} for r in rows]}


def full_run_facts(folder):
    """Steps and training time of the full run, from its run.json."""
    facts = json.loads((pathlib.Path(folder) / "run.json").read_text())
    step = facts.get("step")
    seconds = facts.get("training_seconds")
    per_step = seconds / step if step and seconds else None
    return {"steps": step, "training_seconds": seconds, "seconds_per_step": per_step}


def litert_row(name, path, evaluator, full_runner, args):
    """Size, MACs, latency against the full model, quality of one .tflite."""
    lite = LiteRTGenerator(str(path), num_threads=1)
    example = one_hot(evaluator.labels[:1])[0]
    timing = measure_latency(
        {
            "full": full_runner,
            name: lambda: lite.run_one(example),
        },
        warmup=5,
        runs=args.latency_runs,
    )
    return {
        "tflite_bytes": path.stat().st_size,
        "macs": model_macs(path),
        "latency_ms": timing[name],
        "full_latency_ms": timing["full"],
        "latency_ratio": timing["full"]["median_ms"] / timing[name]["median_ms"],
        "litert_quality": evaluator(lite),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=["resnet", "unet"], default="resnet")
    for name in GENERATOR_DEFAULTS["resnet"]:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            help="default: " + ", ".join(
                f"{g} {d[name]}" for g, d in GENERATOR_DEFAULTS.items()
            ),
        )  # fmt: skip
    parser.add_argument("--max-filters", type=int, default=256, help="U-Net's cap")
    parser.add_argument("--blocks", type=int, default=9, help="ResNet blocks")
    parser.add_argument("--scenes", type=int, default=4000)
    parser.add_argument("--test-scenes", type=int, default=300)
    add_config_options(parser, SlimmingConfig)
    parser.add_argument(
        "--change-settings",
        action="store_true",
        help="resume the slimming with other settings from its next round "
        "(e.g. a stronger --l1 after a stall); the stages are reported",
    )
    parser.add_argument("--tag", default="", help="appended to the result names")
    parser.add_argument("--latency-runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--baselines",
        nargs="*",
        choices=["uniform", "magnitude"],
        help="baselines to run (none if given without names); default: uniform "
        "for the ResNet, uniform and magnitude for the U-Net",
    )
    parser.add_argument("--full-run", help="reuse this finished pix2pix run folder")
    parser.add_argument("--out", help="default: runs/<prefix>")
    parser.add_argument("--results", default="results")
    args = parser.parse_args(argv)
    for name, value in GENERATOR_DEFAULTS[args.generator].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.baselines is None:
        args.baselines = (
            ["uniform"] if args.generator == "resnet" else ["uniform", "magnitude"]
        )
    prefix = "compact_resnet" if args.generator == "resnet" else "compact"
    out = pathlib.Path(args.out or f"runs/{prefix}")
    started = time.perf_counter()

    config = Pix2PixConfig(
        generator=args.generator,
        resolution=args.resolution,
        scenes=args.scenes,
        test_scenes=args.test_scenes,
        steps=args.steps,
        batch_size=args.batch_size,
        filters=args.filters,
        max_filters=args.max_filters,
        blocks=args.blocks,
        sample_every=max(1, args.steps // 6),
        jit_compile=args.generator == "unet",  # XLA slows the ResNet step
        seed=args.seed,
    )
    full_dir = pathlib.Path(args.full_run) if args.full_run else out / "full"
    if args.full_run:
        settings = json.loads((full_dir / "config.json").read_text())
        config = config_from_settings(Pix2PixConfig, settings)
    else:
        print(f"== training pix2pix ({args.steps} steps)", flush=True)
        finish(get("pix2pix"), config, full_dir)
    slimming = SlimmingConfig(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(SlimmingConfig)}
    )
    print("== slimming", flush=True)
    suffix = f"_{args.tag}" if args.tag else ""
    records = compress_pix2pix(
        full_dir / "pix2pix.keras",
        out / f"slim{suffix}",
        slimming,
        tables=[pathlib.Path(args.results) / f"{prefix}_slimming{suffix}.json"],
        change_settings=args.change_settings,
        require_target=False,  # a missed target is reported, not fatal
        latency_runs=0,  # timed below, with the baselines, in one process
    )
    stages = json.loads((out / f"slim{suffix}" / STATE_FILE).read_text())["stages"]
    full = keras.saving.load_model(full_dir / "generator.keras", compile=False)
    records[0]["generator"] = full
    slim_steps = slimming_steps(stages, len(records) - 1)
    evaluator = held_out_evaluator(config)

    generators = {f"round_{r['round']}": r for r in records}
    if "uniform" in args.baselines:
        filters = narrow_filters(config, records[-1]["parameters"])
        baseline_config = dataclasses.replace(
            config,
            filters=filters,
            max_filters=int(round(filters * config.max_filters / config.filters)),
            steps=config.steps + slim_steps,
            sample_every=config.steps + slim_steps,
        )
        print(
            f"== baseline: uniform {config.generator}, {filters} first-layer filters, "
            f"{baseline_config.steps} steps",
            flush=True,
        )
        trainer = finish(get("pix2pix"), baseline_config, out / f"baseline{suffix}")
        baseline = {"round": "uniform_baseline", "generator": trainer.generator}
        baseline["parameters"] = trainer.generator.count_params()
        baseline.update(evaluator(trainer.generator))
        generators["uniform_baseline"] = baseline
    if "magnitude" in args.baselines:
        sparsity = 1.0 - records[-1]["parameters"] / records[0]["parameters"]
        print(
            f"== baseline: magnitude pruning to {sparsity:.1%} zero weights, "
            f"{slim_steps} steps",
            flush=True,
        )
        trainer, _ = load_pix2pix_run(full_dir / "pix2pix.keras", config)
        data = training_batches(config)
        if args.targets == "teacher":
            data = teacher_targets(data, trainer.generator)
        pruned = magnitude_prune(
            trainer.generator,
            pix2pix_trainer(trainer.discriminator, trainer.l1_weight),
            data,
            sparsity,
            slim_steps,
            learning_rate=slimming.learning_rate,
        )
        baseline = {"generator": pruned, "parameters": pruned.count_params()}
        baseline.update(zero_weights=zero_share(pruned), **evaluator(pruned))
        for name, sparse in (("magnitude", False), ("magnitude_sparse", True)):
            generators[name] = {"round": name, "sparse_export": sparse, **baseline}

    print("== export and latency", flush=True)
    full_path = to_litert(full, out / f"tflite{suffix}" / "full.tflite")
    full_lite = LiteRTGenerator(str(full_path), num_threads=1)
    example = one_hot(evaluator.labels[:1])[0]

    def full_runner():
        return full_lite.run_one(example)

    rows = []
    for name, record in generators.items():
        path = to_litert(
            record["generator"],
            out / f"tflite{suffix}" / f"{name}.tflite",
            sparse=record.get("sparse_export", False),
        )
        row = {k: v for k, v in record.items() if k not in ("generator", "path")}
        row["name"] = name
        row.update(litert_row(name, path, evaluator, full_runner, args))
        row["max_abs_diff_vs_keras"] = compare(path, record["generator"], n=4)[
            "max_abs_diff"
        ]
        rows.append(row)
        print(
            f"   {name}: {row['parameters']:,} parameters, {row['macs']:,} MACs, "
            f"{row['latency_ms']['median_ms']:.2f} ms, PSNR {row['psnr']:.2f}, "
            f"mIoU {row['miou']:.3f}",
            flush=True,
        )
    compact = records[-1]
    int8_path = to_litert(
        compact["generator"],
        out / f"tflite{suffix}" / "compact_int8.tflite",
        quantize="int8",
        representative_data=calibration_maps(config.resolution),
    )
    row = {"name": "compact_int8", "round": compact["round"]}
    row["parameters"] = compact["parameters"]
    row.update(litert_row("compact_int8", int8_path, evaluator, full_runner, args))
    row.update(row["litert_quality"])
    rows.append(row)

    tiles = comparison_tiles(
        evaluator.labels[:SAMPLE_SCENES],
        evaluator.images[:SAMPLE_SCENES],
        [full, compact["generator"]]
        + (
            [generators["uniform_baseline"]["generator"]]
            if "uniform" in args.baselines
            else []
        ),
    )
    save_png(tiles, pathlib.Path(args.results) / f"{prefix}_comparison{suffix}.png")
    report = {
        "protocol": {
            **dataclasses.asdict(config),
            **dataclasses.asdict(slimming),
            "slimming_stages": stages,
            "target_reached": records[-1]["ratio"] <= slimming.target_ratio,
            "latency_runs": args.latency_runs,
            "machine": f"{platform.machine()} CPU, {len(os.sched_getaffinity(0))} "
            "core(s) available; LiteRT with 1 thread",
            "seconds": round(time.perf_counter() - started),
            "full_run": full_run_facts(full_dir),
            "slimming_steps": slim_steps,
        },
        "real_images_miou": evaluator.reference()["miou"],
        "paper": PAPER,
        "rows": rows,
    }
    if args.generator == "resnet":
        report["unet_reference"] = unet_reference(args.results)
    path = pathlib.Path(args.results) / f"{prefix}_rounds{suffix}.json"
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
