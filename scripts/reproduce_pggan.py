"""Progressive vs non-progressive training at equal training time (PGGAN's
Fig. 4), and the cumulative rows of its Table 1.

    python scripts/reproduce_pggan.py                  # MNIST + Fashion-MNIST, 3 seeds
    python scripts/reproduce_pggan.py --variants table_a table_b table_e table_f \\
        progressive --datasets mnist --seeds 0         # Table 1's rows

Every variant trains the same final networks (32x32) for the same training
time (compilation and evaluation are off the clock): `progressive` grows
from 4x4 with fade-in (PGGAN's schedule by images shown), `non_progressive`
trains the 32x32 networks from the start. The `table_*` variants are Table
1's cumulative rows: (a) the WGAN-GP baseline, fixed networks without the
paper's three normalisations, at the official learning rate for plain
layers (1e-4); (b) + progressive growing; (e) + minibatch stddev; (f) +
equalized learning rate (and its 1e-3); (g), + pixel norm, is `progressive`.

Each run is a resumable run folder `runs/pggan/<dataset>/<variant>_s<seed>`
(its evaluations so far in `timeline.json`) and, once its budget is spent, a
record `results/pggan/<dataset>_<variant>_s<seed>.json`; an interrupted
sitting resumes where it stopped. At regular intervals of training time the
moving-average generator and the trained generator itself (`raw_`) are
scored with SWD per pyramid level (x1e3; lower levels' samples are enlarged
to 32 px) and MS-SSIM. The summary `results/pggan_<dataset>.json` and the
figure `results/pggan_<dataset>_fig4.png` are rebuilt from the finished
records.
"""

import argparse
import json
import os
import pathlib
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.images import to_uint8  # noqa: E402
from kgan.plots import plot_runs, pyplot, save_figure  # noqa: E402

PLAIN_LAYERS = {"equalized": False, "learning_rate": 1e-4}
VARIANTS = {
    "progressive": {},
    "non_progressive": {"growing": False},
    "table_a": {"growing": False, "minibatch_stddev": False, "pixel_norm": False}
    | PLAIN_LAYERS,
    "table_b": {"minibatch_stddev": False, "pixel_norm": False} | PLAIN_LAYERS,
    "table_e": {"pixel_norm": False} | PLAIN_LAYERS,
    "table_f": {"pixel_norm": False},
}
TABLE_ROWS = {
    "table_a": "(a) WGAN-GP baseline, fixed networks, lr 1e-4",
    "table_b": "(b) + progressive growing",
    "table_e": "(e) + minibatch stddev",
    "table_f": "(f) + equalized learning rate, lr 1e-3",
    "progressive": "(g) + pixelwise normalization",
}
RESOLUTION = 32


def real_images(dataset, limit):
    """Up to `limit` training images, padded to 32 px, in [-1, 1]."""
    from kgan.data import load_arrays
    from kgan.recipes.progan import fit_to_resolution

    images, _ = load_arrays(dataset, "train")
    images = images[:limit].astype("float32") / 127.5 - 1.0
    return np.asarray(fit_to_resolution(images, RESOLUTION))


def scores(images, real_u8, seed):
    """SWD per level (`swd_<res>`, `swd_mean`) and MS-SSIM of uint8 images."""
    from kgan.metrics import ms_ssim_diversity, swd

    result = {f"swd_{k}": v for k, v in swd(real_u8, images, seed=seed).items()}
    result["ms_ssim"] = ms_ssim_diversity(images)
    return result


def evaluate(recipe, config, gan, real_u8, n):
    """Scores of `n` samples of the moving average and (`raw_`) of the
    trained generator, against `n` real images."""
    record = scores(to_uint8(recipe.generate(config, gan, n)), real_u8[:n], config.seed)
    raw = to_uint8(recipe.generate(config, gan, n, raw=True))
    record.update(
        {f"raw_{k}": v for k, v in scores(raw, real_u8[:n], config.seed).items()}
    )
    return record


def real_reference(real, n, seed):
    """Scores of `n` real images against `n` others: the floor that samples
    can approach (SWD) and the data's own MS-SSIM."""
    if len(real) < 2 * n:
        raise ValueError(
            f"The real-vs-real reference needs {2 * n} images. "
            f"Received: images={len(real)}"
        )
    images = to_uint8(real[: 2 * n])
    return scores(images[n:], images[:n], seed)


def run_config(variant, dataset, seed, args):
    from kgan.recipes.progan import ProgressiveConfig

    return ProgressiveConfig(
        dataset=dataset,
        resolution=RESOLUTION,
        kimg=1e9,  # the time budget ends the run
        lod_training_kimg=args.phase_kimg,
        lod_transition_kimg=args.phase_kimg,
        batch_sizes={str(2**k): args.batch_size for k in range(2, 6)},
        fmap_base=args.fmap_base,
        fmap_max=args.fmap_max,
        ema=args.ema,
        seed=seed,
        checkpoint_every=args.chunk_steps,
        sample_every=10**9,
        jit_compile=not args.no_xla,
        **VARIANTS[variant],
    )


def run_variant(variant, dataset, seed, real, args):
    """Trains one run for `args.minutes` of training time in kgan's run loop
    (its budget stops it; its hook evaluates), resuming its folder; returns
    the evaluations over time, the first before any training."""
    from kgan.recipes import get
    from kgan.runs import StepData, run

    recipe = get("progan")
    config = run_config(variant, dataset, seed, args)
    folder = pathlib.Path(args.runs) / dataset / f"{variant}_s{seed}"
    timeline_path = folder / "timeline.json"
    resume = (folder / "checkpoint").exists()
    timeline = json.loads(timeline_path.read_text()) if resume else []
    summary_path = folder / "run.json"
    budget = args.minutes * 60.0
    if resume and summary_path.exists():
        # Its budget stopped it (after its last evaluation) before the record
        # was written; a larger budget trains on.
        facts = json.loads(summary_path.read_text())
        if facts["status"] == "budget" and facts["training_seconds"] >= budget:
            return timeline, facts
    real_u8 = to_uint8(real)
    interval = args.eval_every_minutes * 60.0

    def hook(gan, progress):
        # A resumed run drops evaluations past its checkpoint.
        timeline[:] = [r for r in timeline if r["seconds"] <= progress.seconds]
        due = timeline[-1]["seconds"] + interval if timeline else 0.0
        if progress.seconds < due and progress.seconds < budget:
            return
        record = evaluate(recipe, config, gan, real_u8, args.eval_n)
        record.update(
            seconds=round(progress.seconds, 1),
            images_shown=int(gan.images_shown.numpy()),
            resolution=gan.phase.resolution,
            fading=gan.phase.fading,
        )
        timeline.append(record)
        with atomic_path(timeline_path) as partial:
            partial.write_text(json.dumps(timeline, indent=1) + "\n")
        if args.verbose:
            shown = {k: round(v, 3) for k, v in record.items() if "raw" not in k}
            print(f"   {dataset} {variant} s{seed}: {shown}", flush=True)

    run(
        recipe,
        config,
        folder,
        resume=resume,
        dataset=StepData((real,), seed),
        budget_seconds=budget,
        hook=hook,
        verbose=0,
    )
    return timeline, json.loads(summary_path.read_text())


def time_to_reach(timeline, target, key="swd_mean"):
    """Training seconds until `key` first falls to `target`, or None."""
    for record in timeline:
        if record[key] <= target:
            return record["seconds"]
    return None


def time_to_reach_summary(progressive, fixed, key="swd_mean"):
    """When growing and fixed networks first reached the same SWD.

    The target is the best `key` that both runs reached (the larger of
    their two minima); `speedup` is the fixed networks' time over the
    growing ones' (above 1: growing was faster).
    """
    target = max(min(r[key] for r in t) for t in (progressive, fixed))
    grown = time_to_reach(progressive, target, key)
    plain = time_to_reach(fixed, target, key)
    return {
        "target": target,
        "progressive_seconds": grown,
        "non_progressive_seconds": plain,
        "speedup": plain / grown if grown else None,
    }


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "mean": float(np.mean(values)),
        "min": float(np.min(values)),
        "max": float(np.max(values)),
        "n": len(values),
    }


def summarize(dataset, records, reference, protocol):
    """The summary of every finished run of `dataset`."""
    by_variant = {}
    for record in records:
        by_variant.setdefault(record["variant"], {})[record["seed"]] = record
    final = {
        variant: {
            key: spread([r["timeline"][-1][key] for r in runs.values()])
            for key in runs[min(runs)]["timeline"][-1]
            if key.startswith(("swd_", "raw_swd_", "ms_ssim", "raw_ms_ssim"))
        }
        for variant, runs in by_variant.items()
    }
    paired = sorted(
        set(by_variant.get("progressive", {}))
        & set(by_variant.get("non_progressive", {}))
    )
    per_seed = {
        str(seed): time_to_reach_summary(
            by_variant["progressive"][seed]["timeline"],
            by_variant["non_progressive"][seed]["timeline"],
        )
        for seed in paired
    }
    table = {
        row: {
            "swd_mean": by_variant[variant][0]["timeline"][-1]["swd_mean"],
            "ms_ssim": by_variant[variant][0]["timeline"][-1]["ms_ssim"],
        }
        for variant, row in TABLE_ROWS.items()
        if 0 in by_variant.get(variant, {})
    }
    return {
        "dataset": dataset,
        "protocol": protocol,
        "real_vs_real": reference,
        "runs": {v: sorted(runs) for v, runs in by_variant.items()},
        "training_seconds": {
            v: [r["training_seconds"] for r in runs.values()]
            for v, runs in by_variant.items()
        },
        "compile_seconds": {
            v: [r["compile_seconds"] for r in runs.values()]
            for v, runs in by_variant.items()
        },
        "final": final,
        "time_to_reach": {
            "per_seed": per_seed,
            "speedup": spread([s["speedup"] for s in per_seed.values()]),
        },
        "table1_seed0": table,
    }


def plot_fig4(dataset, records, reference, path):
    """SWD per level and MS-SSIM against training time (PGGAN's Fig. 4):
    one line per run, growing and fixed networks in two colours."""
    plt = pyplot()
    levels = sorted(
        (
            k
            for k in records[0]["timeline"][0]
            if k.startswith("swd_") and k[4:].isdigit()
        ),
        key=lambda k: -int(k[4:]),
    )
    keys = levels + ["ms_ssim"]
    figure, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6))
    curves = [
        (r["variant"], [t["seconds"] / 60 for t in r["timeline"]], r["timeline"])
        for r in records
    ]
    plot_runs(axes, curves, keys, alpha=0.8)
    for axis, key in zip(axes, keys, strict=True):
        axis.axhline(reference[key], color="grey", ls="--", lw=1, label="real vs real")
        axis.set_xlabel("training time (minutes)")
        if key == "ms_ssim":
            axis.set_title("MS-SSIM (real data: dashed)")
        else:
            axis.set_yscale("log")
            axis.set_title(f"SWD x1e3, {key[4:]} px level")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(f"{dataset}: moving-average generator, one line per seed")
    save_figure(figure, path)


def same_protocol(a, b):
    return {k: v for k, v in a.items() if k != "machine"} == {
        k: v for k, v in b.items() if k != "machine"
    }


def write_summary(dataset, real, protocol, args):
    """Rebuilds the summary and the figure of `dataset` from its finished
    records of this protocol."""
    results = pathlib.Path(args.results)
    records = [
        json.loads(p.read_text())
        for p in sorted((results / "pggan").glob(f"{dataset}_*_s*.json"))
    ]
    # Only runs of this protocol (on whatever machine) are compared.
    records = [r for r in records if same_protocol(r["protocol"], protocol)]
    if not records:
        return
    reference = real_reference(real, args.eval_n, 0)
    summary = summarize(dataset, records, reference, protocol)
    stem = results / f"pggan_{dataset}"
    with atomic_path(f"{stem}.json") as partial:
        partial.write_text(json.dumps(summary, indent=2) + "\n")
    plot_fig4(dataset, records, reference, f"{stem}_fig4.png")
    print(json.dumps({k: summary[k] for k in ("final", "time_to_reach")}, indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(VARIANTS),
        default=["progressive", "non_progressive"],
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--minutes", type=float, default=15.0, help="per run")
    parser.add_argument("--eval-every-minutes", type=float, default=1.0)
    parser.add_argument("--eval-n", type=int, default=1000)
    parser.add_argument(
        "--phase-kimg",
        type=float,
        default=16.0,
        help="thousands of images per stable phase and per fade-in",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--ema", type=float, default=0.99, help="decay of the generator's average"
    )
    parser.add_argument("--chunk-steps", type=int, default=100)
    parser.add_argument("--fmap-base", type=int, default=256)
    parser.add_argument("--fmap-max", type=int, default=32)
    parser.add_argument("--images", type=int, default=8000, help="training images")
    parser.add_argument("--no-xla", action="store_true")
    parser.add_argument("--runs", default="runs/pggan")
    parser.add_argument("--results", default="results")
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)

    phase_steps = args.phase_kimg * 1000 / args.batch_size
    cores = len(os.sched_getaffinity(0))  # fewer than cpu_count under taskset
    protocol = {
        key: getattr(args, key)
        for key in (
            "minutes",
            "eval_every_minutes",
            "eval_n",
            "phase_kimg",
            "batch_size",
            "ema",
            "fmap_base",
            "fmap_max",
            "images",
        )
    } | {
        "phase_steps": phase_steps,
        "phase_over_ema_time_constant": phase_steps * (1 - args.ema),
        "machine": f"{platform.machine()} CPU, {cores} cores",
    }
    results = pathlib.Path(args.results)
    reals = {dataset: real_images(dataset, args.images) for dataset in args.datasets}
    # Seeds outermost: an interrupted study has whole pairs of runs.
    for seed in args.seeds:
        for dataset in args.datasets:
            for variant in args.variants:
                path = results / "pggan" / f"{dataset}_{variant}_s{seed}.json"
                if path.exists():
                    continue
                print(f"== {dataset}, {variant}, seed {seed}", flush=True)
                timeline, facts = run_variant(
                    variant, dataset, seed, reals[dataset], args
                )
                record = {
                    "dataset": dataset,
                    "variant": variant,
                    "seed": seed,
                    "protocol": protocol,
                    "training_seconds": facts["training_seconds"],
                    "compile_seconds": facts["compile_seconds"],
                    "compiles": facts["compiles"],
                    "timeline": timeline,
                }
                with atomic_path(path) as partial:
                    partial.write_text(json.dumps(record, indent=1) + "\n")
                write_summary(dataset, reals[dataset], protocol, args)
    for dataset in args.datasets:
        write_summary(dataset, reals[dataset], protocol, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
