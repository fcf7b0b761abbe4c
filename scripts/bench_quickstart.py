"""How long the quick start takes to reach its targets, and what it shows.

    python scripts/bench_quickstart.py        # writes results/quickstart.json and .png

The targets of `kgan train dcgan` on the embedded MNIST: at least 9 of 10
classes covered and at least 70% confident samples (the shipped classifier,
10,000 samples), within 5 minutes of wall time on 2 CPU cores, start-up and
final evaluation included. Each variant (the default settings, the
`quality` preset, the former default with Radford's discriminator, and
SAGAN's self-attention with spectral normalization at
the default's settings, stopped after the default run's training seconds
so that both had equal time) trains once per seed in a fresh Python process,
variants alternating within each seed so that all see the same machine.
Every `--curve-every` seconds of training, a hook scores 2,000 samples;
the wall time of each point counts from the process's start, without the
hook's own evaluations, so it is the time at which a plain `kgan train
dcgan` would have been there. The run's own final evaluation (10,000
samples) is the end point.

Each finished run is written to `results/quickstart/<variant>_s<seed>.json`
at once, and a run whose record exists with the same settings is not
trained again, so the benchmark can span several sittings; the summary and
the figure are rebuilt from the records (`--recorded`: from those alone,
training nothing and listing the runs still missing).
"""

import argparse
import dataclasses
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

START = time.perf_counter()  # before TensorFlow is imported: start-up counts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGETS = {"classes_covered": 9, "confident_share": 0.70}
TARGET_MINUTES = 5.0
VARIANTS = {
    "default": {},
    "quality": {"preset": "quality"},
    # The default before the discriminator's hidden dense layer: Radford's
    # discriminator, 3,500 steps.
    "radford_d": {"discriminator_units": 0, "steps": 3500},
    "sagan": {"attention_at": 14, "spectral_norm": True},
}
# Variants that train for the training seconds of another variant's run of
# the same seed (a comparison at equal time, not at equal steps).
EQUAL_TIME = {"sagan": "default"}
CURVE_N = 2000


def resolve(settings):
    """The dcgan config of a variant's settings: its preset's values, then
    the settings themselves, over the recipe's defaults."""
    from kgan.recipes import get

    recipe = get("dcgan")
    settings = dict(settings)
    preset = settings.pop("preset", None)
    values = dict(recipe.presets[preset]) if preset else {}
    values.update(settings)
    return recipe.config_class(**values)


def config_record(config):
    """`config` as its record holds it (JSON types)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def meets_targets(metrics):
    return all(metrics[key] >= value for key, value in TARGETS.items())


def child(args):
    """Trains one variant in this process and prints its record as JSON."""
    from kgan.recipes import get
    from kgan.runs import run

    recipe = get("dcgan")
    config = resolve(json.loads(args.settings))
    evaluate = recipe.evaluator(
        dataclasses.replace(config, eval_n=min(CURVE_N, config.eval_n))
    )
    curve, hook_seconds, next_point = [], [0.0], [0.0]

    def hook(gan, progress):
        if progress.seconds < next_point[0]:
            return
        clock = time.perf_counter()
        metrics = evaluate(gan)
        curve.append(
            {
                "wall_seconds": clock - START - hook_seconds[0],
                "training_seconds": progress.seconds,
                "step": progress.step,
                **{k: metrics[k] for k in TARGETS},
            }
        )
        hook_seconds[0] += time.perf_counter() - clock
        while next_point[0] <= progress.seconds:
            next_point[0] += args.curve_every

    with tempfile.TemporaryDirectory() as folder:
        run(recipe, config, folder, hook=hook, verbose=0, budget_seconds=args.budget)
        wall = time.perf_counter() - START - hook_seconds[0]
        final = json.loads((pathlib.Path(folder) / "metrics.json").read_text())
        summary = json.loads((pathlib.Path(folder) / "run.json").read_text())
    end = {"wall_seconds": wall, "step": summary["step"]}
    curve.append(end | {k: final[k] for k in TARGETS})
    print(
        json.dumps(
            {
                "config": config_record(config),
                "steps": config.steps,
                "wall_seconds": wall,
                "training_seconds": summary["training_seconds"],
                "compile_seconds": summary["compile_seconds"],
                "final": final,
                "meets_targets": meets_targets(final),
                "curve": curve,
            }
        )
    )


def time_to_targets(curve):
    """Wall seconds of the first curve point that meets both targets."""
    for point in curve:
        if meets_targets(point):
            return point["wall_seconds"]
    return None


def plot(runs, path):
    from kgan.plots import plot_runs, pyplot, save_figure

    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    curves = [
        (r["variant"], [p["wall_seconds"] / 60 for p in r["curve"]], r["curve"])
        for r in runs
    ]
    plot_runs(axes, curves, list(TARGETS), marker=".")
    for axis, (key, target) in zip(axes, TARGETS.items(), strict=True):
        axis.axhline(target, color="grey", ls="--", lw=1)
        axis.axvline(TARGET_MINUTES, color="grey", ls=":", lw=1)
        axis.set_xlabel("wall time from the command's start (minutes)")
        axis.set_title(key.replace("_", " "))
        axis.grid(alpha=0.3)
    axes[0].legend()
    figure.suptitle("kgan train dcgan on the embedded MNIST, one line per seed")
    save_figure(figure, path)


def run_variant(name, settings, curve_every, budget=None):
    """Trains one variant in a fresh process, for at most `budget` training
    seconds if given; returns its record."""
    command = [sys.executable, __file__, "--child"]
    command += ["--settings", json.dumps(settings)]
    command += ["--curve-every", str(curve_every)]
    if budget is not None:
        command += ["--budget", str(budget)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise RuntimeError(
            f"The {name} run failed. Received: returncode={done.returncode}"
        )
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record.update(
        variant=name,
        seed=settings["seed"],
        settings=settings,
        budget_seconds=budget,
        machine=f"{platform.machine()} CPU, {len(os.sched_getaffinity(0))} cores",
    )
    record["seconds_to_targets"] = time_to_targets(record["curve"])
    print(
        f"   {record['wall_seconds'] / 60:.2f} min, "
        + ", ".join(f"{k} {record['final'][k]:.3g}" for k in TARGETS),
        flush=True,
    )
    return record


def equal_time_budget(runs, reference, seed, name):
    """The training seconds of `reference`'s run of `seed` among `runs`."""
    for record in runs:
        if record["variant"] == reference and record["seed"] == seed:
            return record["training_seconds"]
    raise ValueError(
        f"The {name} variant trains for the time of the {reference} run of the "
        f"same seed; run both. Received: variants without {reference}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--curve-every", type=float, default=30.0, help="training seconds"
    )
    parser.add_argument(
        "--set",
        default="{}",
        help="JSON of settings given to every variant (e.g. for a short test)",
    )
    parser.add_argument("--out", default="results/quickstart.json")
    parser.add_argument(
        "--records",
        default="results/quickstart",
        help="folder of the finished runs' records",
    )
    parser.add_argument(
        "--recorded",
        action="store_true",
        help="train nothing: summarise the runs that have a record, list the others",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0

    from kgan.files import atomic_path

    variants = args.variants or list(VARIANTS)
    shared = json.loads(args.set)
    records = pathlib.Path(args.records)
    runs, missing = [], []
    for seed in args.seeds:
        for name in variants:
            settings = VARIANTS[name] | shared | {"seed": seed}
            budget = None
            if name in EQUAL_TIME:
                if args.recorded and f"{EQUAL_TIME[name]}_s{seed}" in missing:
                    missing.append(f"{name}_s{seed}")
                    continue
                budget = equal_time_budget(runs, EQUAL_TIME[name], seed, name)
            path = records / f"{name}_s{seed}.json"
            # A record is reused only if it trained what the recipe would
            # train now: a changed default retrains the "default" variant.
            if path.exists():
                record = json.loads(path.read_text())
                same = record["config"] == config_record(resolve(settings))
                if same and record.get("budget_seconds") == budget:
                    print(f"== {name}, seed {seed}: recorded", flush=True)
                    runs.append(record)
                    continue
            if args.recorded:
                print(f"== {name}, seed {seed}: no record, not trained", flush=True)
                missing.append(f"{name}_s{seed}")
                continue
            print(f"== {name}, seed {seed}", flush=True)
            record = run_variant(name, settings, args.curve_every, budget)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as partial:
                partial.write_text(json.dumps(record, indent=2) + "\n")
            runs.append(record)
    summary = {}
    for name in variants:
        mine = [r for r in runs if r["variant"] == name]
        summary[name] = {
            "seeds": [r["seed"] for r in mine],
            "wall_minutes": [r["wall_seconds"] / 60 for r in mine],
            "minutes_to_targets": [
                None
                if r["seconds_to_targets"] is None
                else r["seconds_to_targets"] / 60
                for r in mine
            ],
            "meets_targets": [r["meets_targets"] for r in mine],
            **{key: [r["final"][key] for r in mine] for key in TARGETS},
        }
    report = {
        "machine": f"{platform.machine()} CPU, {len(os.sched_getaffinity(0))} cores",
        "targets": TARGETS | {"minutes": TARGET_MINUTES},
        "summary": summary,
        "missing": missing,
        "runs": runs,
    }
    out = pathlib.Path(args.out)
    with atomic_path(out) as partial:
        partial.write_text(json.dumps(report, indent=2) + "\n")
    if runs:
        plot(runs, out.with_suffix(".png"))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
