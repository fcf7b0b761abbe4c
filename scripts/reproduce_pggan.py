"""Progressive vs non-progressive training at equal wall-clock time (PGGAN's Fig. 4).

    python scripts/reproduce_pggan.py                         # MNIST, 10 minutes each
    python scripts/reproduce_pggan.py --datasets mnist fashion_mnist --minutes 30
    python scripts/reproduce_pggan.py --variants progressive no_minibatch_stddev \\
        no_equalized_lr no_pixel_norm --tag ablations          # Table 1 ablations

Every variant trains the same final networks (32x32) for the same training
time: `progressive` grows from 4x4 with fade-in (PGGAN's schedule by images
shown), `non_progressive` trains the 32x32 networks from the start, and the
`no_*` variants grow without one of the paper's contributions. At regular
intervals of training time (evaluation excluded from the clock) the moving-
average generator is scored with SWD per pyramid level (x1e3, lower-resolution
samples upsampled to 32 px) and MS-SSIM. Writes `results/pggan_<dataset>[_<tag>].json`
and `results/pggan_<dataset>[_<tag>]_swd_time.png`.
"""

import argparse
import json
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.images import to_uint8  # noqa: E402
from kgan.plots import pyplot, save_figure  # noqa: E402

VARIANTS = {
    "progressive": {},
    "non_progressive": {},
    "no_minibatch_stddev": {"minibatch_stddev": False},
    "no_equalized_lr": {"equalized": False},
    "no_pixel_norm": {"pixel_norm": False},
}
RESOLUTION = 32


def real_images(dataset, limit):
    """Up to `limit` training images, padded to 32 px, in [-1, 1]."""
    from kgan.data import load_arrays
    from kgan.recipes.progan import fit_to_resolution

    images, _ = load_arrays(dataset, "train")
    images = images[:limit].astype("float32") / 127.5 - 1.0
    return np.asarray(fit_to_resolution(images, RESOLUTION))


def evaluate(gan, real_u8, n, seed):
    """SWD per level and MS-SSIM of `n` samples of the moving-average
    generator, upsampled to 32 px when the run is at a lower level."""
    from kgan.metrics import ms_ssim_diversity, swd

    images = np.clip(gan.generate(n, seed=seed), -1.0, 1.0)
    factor = RESOLUTION // images.shape[1]
    images = to_uint8(images.repeat(factor, axis=1).repeat(factor, axis=2))
    distances = swd(real_u8[:n], images, seed=seed)
    result = {f"swd_{k}": v for k, v in distances.items()}
    result["ms_ssim"] = ms_ssim_diversity(images)
    return result


def real_reference(real, n, seed):
    """SWD per level between two disjoint sets of `n` real images: the floor
    that generated images can approach."""
    from kgan.metrics import swd

    if len(real) < 2 * n:
        raise ValueError(
            f"The real-vs-real reference needs {2 * n} images. "
            f"Received: images={len(real)}"
        )
    images = to_uint8(real[: 2 * n])
    return {f"swd_{k}": v for k, v in swd(images[:n], images[n:], seed=seed).items()}


def run_variant(name, dataset, real, args):
    """Trains one variant for `args.minutes` of training time in kgan's run
    loop (its budget stops it; its hook evaluates); returns the evaluations
    over time, the first before any training."""
    import tempfile

    from kgan.recipes import get
    from kgan.recipes.progan import ProgressiveConfig
    from kgan.runs import StepData, run

    config = ProgressiveConfig(
        dataset=dataset,
        resolution=RESOLUTION,
        kimg=1e9,  # the time budget ends the run
        lod_training_kimg=args.phase_kimg,
        lod_transition_kimg=args.phase_kimg,
        growing=name != "non_progressive",
        batch_sizes={str(2**k): args.batch_size for k in range(2, 6)},
        fmap_base=args.fmap_base,
        fmap_max=args.fmap_max,
        seed=args.seed,
        checkpoint_every=args.chunk_steps,
        sample_every=10**9,
        jit_compile=not args.no_xla,
        **VARIANTS[name],
    )
    real_u8 = to_uint8(real)
    budget = args.minutes * 60.0
    timeline, next_eval = [], [0.0]

    def hook(gan, progress):
        if progress.seconds < next_eval[0] and progress.seconds < budget:
            return
        record = evaluate(gan, real_u8, args.eval_n, args.seed)
        record.update(
            seconds=round(progress.seconds, 1),
            images_shown=int(gan.images_shown.numpy()),
            resolution=gan.phase.resolution,
        )
        timeline.append(record)
        print(f"   {name}: {record}", flush=True)
        while next_eval[0] <= progress.seconds:
            next_eval[0] += args.eval_every_minutes * 60.0

    with tempfile.TemporaryDirectory() as folder:
        run(
            get("progan"),
            config,
            folder,
            dataset=StepData((real,), args.seed),
            budget_seconds=budget,
            hook=hook,
            verbose=0,
        )
    return timeline


def time_to_reach(timeline, target):
    """Training seconds until the mean SWD first falls to `target`, or None."""
    for record in timeline:
        if record["swd_mean"] <= target:
            return record["seconds"]
    return None


def time_to_reach_summary(results):
    """When growing and fixed networks first reached the same SWD.

    The target is the best mean SWD that both runs reached (the larger of
    their two minima); `speedup` is the fixed networks' time over the
    growing ones' (above 1: growing was faster).
    """
    if "non_progressive" not in results or "progressive" not in results:
        return {}
    target = max(
        min(r["swd_mean"] for r in results[name])
        for name in ("progressive", "non_progressive")
    )
    progressive = time_to_reach(results["progressive"], target)
    fixed = time_to_reach(results["non_progressive"], target)
    return {
        "target_swd_mean": target,
        "progressive_seconds": progressive,
        "non_progressive_seconds": fixed,
        "speedup": fixed / progressive if progressive else None,
    }


def plot_swd_time(dataset, results, path):
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, timeline in results.items():
        minutes = [r["seconds"] / 60 for r in timeline]
        axis.plot(minutes, [r["swd_mean"] for r in timeline], marker="o", label=name)
    axis.set_xlabel("training time (minutes)")
    axis.set_ylabel("SWD x1e3 (mean over levels)")
    axis.set_yscale("log")
    axis.set_title(f"{dataset}: SWD against training time")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist"])
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(VARIANTS),
        default=["progressive", "non_progressive"],
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="per variant")
    parser.add_argument("--eval-every-minutes", type=float, default=1.0)
    parser.add_argument("--eval-n", type=int, default=2000)
    parser.add_argument(
        "--phase-kimg",
        type=float,
        default=6.0,
        help="thousands of images per stable phase and per fade-in",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--chunk-steps", type=int, default=50)
    parser.add_argument("--fmap-base", type=int, default=1024)
    parser.add_argument("--fmap-max", type=int, default=128)
    parser.add_argument("--images", type=int, default=8000, help="training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-xla", action="store_true")
    parser.add_argument("--results", default="results")
    parser.add_argument(
        "--tag", default="", help="appended to the file names, e.g. 'ablations'"
    )
    args = parser.parse_args(argv)

    for dataset in args.datasets:
        real = real_images(dataset, args.images)
        results = {}
        for name in args.variants:
            print(f"== {dataset}, {name}", flush=True)
            results[name] = run_variant(name, dataset, real, args)
        summary = time_to_reach_summary(results)
        cores = len(os.sched_getaffinity(0))  # fewer than cpu_count under taskset
        report = {
            "dataset": dataset,
            "protocol": {
                key: getattr(args, key)
                for key in (
                    "minutes",
                    "eval_every_minutes",
                    "eval_n",
                    "phase_kimg",
                    "batch_size",
                    "fmap_base",
                    "fmap_max",
                    "images",
                    "seed",
                )
            }
            | {"machine": f"{platform.machine()} CPU, {cores} cores"},
            "real_vs_real": real_reference(real, args.eval_n, args.seed),
            "final": {name: timeline[-1] for name, timeline in results.items()},
            "time_to_reach": summary,
            "timelines": results,
        }
        stem = os.path.join(
            args.results, f"pggan_{dataset}" + (f"_{args.tag}" if args.tag else "")
        )
        with atomic_path(stem + ".json") as p:
            p.write_text(json.dumps(report, indent=2) + "\n")
        plot_swd_time(dataset, results, stem + "_swd_time.png")
        print(
            json.dumps({"final": report["final"], "time_to_reach": summary}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
