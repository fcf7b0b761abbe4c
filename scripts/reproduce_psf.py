"""Reproduces the PSF paper's comparison: DCGAN with LeakyReLU vs with PSF.

    python scripts/reproduce_psf.py                      # MNIST + Fashion-MNIST
    python scripts/reproduce_psf.py --width 0.5          # narrower than Radford's
    python scripts/reproduce_psf.py --cifar              # CIFAR-10 automobiles

The paper (Takinami, Tsunoda, Mitsui) trains DCGAN for 20,000 iterations on
MNIST and for 181 epochs (batch 32) on the 5,000 CIFAR-10 automobiles, and
compares LReLU with PSF in most hidden activations. The networks here are
Radford's: N(0, 0.02) kernels, no refine layers, and by default the filter
counts of Radford's generator from its 1024-filter projection down (at 28
px 7x7x1024 and 14x14x512, `--width 8`; at 32 px 4x4x1024, 8x8x512 and
16x16x256, `--width 4`). For every seed, dataset and activation this script
trains one run (resumable, in `runs/psf/`) and writes its record
`results/psf/<dataset>_<activation>_seed<n>.json` when it ends: Frechet
distance, KID, mode coverage, SWD, MS-SSIM, D-loss volatility (standard
deviation over the last 20% of steps), every PSF alpha over time and, every
2,000 iterations, the class histogram of 10,000 samples. The summary
`results/psf_<dataset>.json` and the figures `results/psf_<dataset>_*.png`
are rebuilt from the finished records.
"""

import argparse
import csv
import hashlib
import json
import math
import os
import pathlib
import platform
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.plots import plot_runs, pyplot, save_figure  # noqa: E402
from kgan.recipes import get  # noqa: E402
from kgan.recipes.gan import DCGANConfig  # noqa: E402
from kgan.runs import finish  # noqa: E402

ACTIVATIONS = ("lrelu", "psf")
PAPER_STEPS = 20000
CIFAR = {"classes": [1], "batch_size": 32, "epochs": 181, "images": 5000}
CIFAR_STEPS = CIFAR["epochs"] * CIFAR["images"] // CIFAR["batch_size"]
# kgan's DCGAN width with Radford's filters (1024 in the projection), per size.
RADFORD_WIDTH = {28: 8.0, 32: 4.0}
# Metrics summarised as mean and spread over seeds, with the better direction.
# Loss rows a record keeps (of one per iteration) for the loss figures.
LOSS_POINTS = 2000
SUMMARY = {
    "frechet_distance": "lower",
    "kid": "lower",
    "classifier_score": "higher",
    "classes_covered": "higher",
    "kl_uniform": "lower",
    "confident_share": "higher",
    "swd_mean": "lower",
    "ms_ssim": "lower",
    "d_loss_volatility": "lower",
}


def read_csv(path):
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def thin(rows, points):
    """Every k-th row (and the last), so that about `points` remain."""
    every = max(1, len(rows) // points)
    kept = rows[::every]
    return kept if kept[-1] is rows[-1] else kept + [rows[-1]]


def sample_moments(steps):
    """The sample grids a record keeps: halfway (10,000 of 20,000) and the end."""
    return {
        f"iteration {steps // 2:,}": f"step_{steps // 2:06d}.png",
        "end": "final.png",
    }


def loss_volatility(rows, key="d_loss", tail=0.2):
    """Standard deviation of a loss over the last `tail` share of the steps."""
    values = np.array([r[key] for r in rows])
    return float(np.std(values[-max(2, int(round(tail * len(values)))) :]))


def radford_width(dataset):
    """The width at which kgan's DCGAN has Radford's filter counts."""
    return RADFORD_WIDTH[32 if dataset == "cifar10" else 28]


def protocol(dataset, args):
    """The settings that make runs comparable; records of other settings
    are left out of a summary."""
    cifar = dataset == "cifar10"
    return {
        "steps": (args.cifar_steps or CIFAR_STEPS) if cifar else args.steps,
        "paper_steps": CIFAR_STEPS if cifar else PAPER_STEPS,
        "batch_size": CIFAR["batch_size"] if cifar else args.batch_size,
        "width": args.width or radford_width(dataset),
        "initializer": args.initializer,
        "psf_layers": args.psf_layers,
        "history_every": args.history_every,
        "eval_n": args.eval_n,
    }


def run_one(dataset, activation, seed, args):
    """Trains (or finishes) one run; returns its record, also written to
    `results/psf/<dataset>_<activation>_seed<seed>.json`."""
    settings = protocol(dataset, args)
    name = f"{dataset}_{activation}_seed{seed}"
    record_path = pathlib.Path(args.results) / "psf" / f"{name}.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record["protocol"] == settings:
            return record
    # One folder per protocol: a run of other settings is never resumed.
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    out = pathlib.Path(args.runs) / f"{name}_{digest[:8]}"
    data = None
    if dataset == "cifar10":
        from kgan.data import load

        data = load(
            "cifar10",
            "train",
            batch_size=CIFAR["batch_size"],
            classes=CIFAR["classes"],
            seed=seed,
            drop_remainder=True,
        )
    steps = settings["steps"]
    config = DCGANConfig(
        dataset=dataset,
        activation=activation,
        steps=steps,
        batch_size=settings["batch_size"],
        seed=seed,
        width=settings["width"],
        initializer=args.initializer,
        psf_layers=args.psf_layers,
        # The paper's plain DCGAN, whatever `kgan train dcgan` defaults to:
        loss="non_saturating",
        update="alternating",
        learning_rate=2e-4,
        beta_1=0.5,
        ema=None,  # samples from the trained generator
        refine_layers=0,  # and Radford's networks, as in the paper
        discriminator_units=0,
        sample_every=max(1, steps // 4),  # the grids at 10,000 and at the end
        checkpoint_every=math.gcd(args.history_every, 500),
        eval_n=args.eval_n,
    )
    start = time.perf_counter()
    history = ClassHistory(out / "class_history.json", dataset, args)
    gan = finish(
        get("dcgan"), config, out, dataset=data, hook=history, verbose=args.verbose
    )
    summary = json.loads((out / "run.json").read_text())
    losses = read_csv(out / "losses.csv")
    record = {
        "dataset": dataset,
        "activation": activation,
        "seed": seed,
        "protocol": settings,
        "run": str(out),
        "train_seconds": summary["training_seconds"],
        "sitting_seconds": round(time.perf_counter() - start, 1),
        **_metrics(out, dataset, gan, args, seed),
        "d_loss_volatility": loss_volatility(losses),
        "g_loss_volatility": loss_volatility(losses, "g_loss"),
        "class_history": history.rows,
    }
    # The record is self-contained: the figures are rebuilt from it once the
    # run folder is gone.
    record["losses"] = thin(losses, LOSS_POINTS)
    if activation == "psf":
        alphas = read_csv(out / "alpha.csv")
        record["alpha_history"] = alphas
        record["alpha_final"] = {k: v for k, v in alphas[-1].items() if k != "step"}
    record["sample_grids"] = {}
    record_path.parent.mkdir(parents=True, exist_ok=True)
    for moment, file in sample_moments(steps).items():
        if (out / "samples" / file).exists():
            grid = record_path.with_name(f"{name}_{file}")
            shutil.copyfile(out / "samples" / file, grid)
            record["sample_grids"][moment] = grid.name
    with atomic_path(record_path) as partial:
        partial.write_text(json.dumps(record, indent=2) + "\n")
    return record


class ClassHistory:
    """The run loop's hook: every `history_every` iterations, the class
    histogram and mode coverage of `eval_n` samples under the shipped
    classifier (none without one), kept in `path` across sittings."""

    def __init__(self, path, dataset, args):
        from kgan.metrics.evaluate import has_classifier

        self.path, self.n, self.every = path, args.eval_n, args.history_every
        self.rows = json.loads(path.read_text()) if path.exists() else []
        self.classifier = None
        if has_classifier(dataset):
            from kgan.metrics import ImageClassifier

            self.classifier = ImageClassifier.for_dataset(dataset)

    def __call__(self, gan, progress):
        # A resumed run drops the rows past its checkpoint.
        self.rows = [r for r in self.rows if r["step"] <= progress.step]
        due = progress.step % self.every == 0 and progress.step > 0
        if self.classifier is None or not due:
            return
        if self.rows and self.rows[-1]["step"] == progress.step:
            return
        from kgan.metrics import generate_uint8, mode_coverage

        _, probabilities = self.classifier.predict(
            generate_uint8(gan.sampler, self.n, seed=0)
        )
        counts = np.bincount(
            probabilities.argmax(axis=1), minlength=probabilities.shape[1]
        )
        self.rows.append(
            {
                "step": progress.step,
                "histogram": (counts / len(probabilities)).tolist(),
                **mode_coverage(probabilities),
            }
        )
        with atomic_path(self.path) as partial:
            partial.write_text(json.dumps(self.rows) + "\n")


def _metrics(out, dataset, gan, args, seed):
    """The run's final metrics: from `train` where kgan has a classifier for
    the dataset, otherwise SWD and MS-SSIM against the real images."""
    if (out / "metrics.json").exists():
        return json.loads((out / "metrics.json").read_text())
    from kgan.data import load_arrays
    from kgan.metrics import Evaluator

    classes = CIFAR["classes"] if dataset == "cifar10" else None
    real, _ = load_arrays(dataset, "train", classes=classes)
    evaluator = Evaluator(None, real=real, seed=seed)
    n = min(args.eval_n, len(real))
    return evaluator.evaluate_generator(gan.sampler, n=n, seed=seed)


def summarise(records):
    """Mean, standard deviation and per-seed values of each metric."""
    summary = {}
    for activation in ACTIVATIONS:
        runs = [r for r in records if r["activation"] == activation]
        summary[activation] = {
            key: {
                "mean": float(np.mean([r[key] for r in runs])),
                "std": float(np.std([r[key] for r in runs])),
                "values": [r[key] for r in runs],
            }
            for key in SUMMARY
            if runs and all(key in r for r in runs)
        }
    return summary


def markdown_table(summary):
    """README rows: each metric's mean +- std over seeds per activation."""
    lines = [
        "| metric (better) | LReLU | PSF |",
        "|---|---|---|",
    ]
    for key, better in SUMMARY.items():
        if key not in summary["lrelu"] or key not in summary["psf"]:
            continue
        cells = [
            f"{summary[a][key]['mean']:.3g} +- {summary[a][key]['std']:.2g}"
            for a in ACTIVATIONS
        ]
        lines.append(f"| {key} ({better}) | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def plot_losses(dataset, runs, path):
    """The paper's loss figures: D and G losses of each model over steps."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for axis, activation in zip(axes, ACTIVATIONS, strict=True):
        record = runs[activation]
        steps = [r["step"] for r in record["losses"]]
        for key in ("d_loss", "g_loss"):
            axis.plot(steps, [r[key] for r in record["losses"]], lw=0.4, label=key)
        axis.set_title(
            f"{dataset}, DCGAN with {activation.upper()} (seed {record['seed']})"
        )
        axis.set_xlabel("iteration")
        axis.grid(alpha=0.3)
        axis.legend()
    axes[0].set_ylabel("loss")
    save_figure(figure, path)


def plot_samples(dataset, runs, results, path):
    """Sample grids of both models halfway (10,000 of 20,000) and at the end."""
    plt = pyplot()
    moments = list(runs["lrelu"]["sample_grids"])
    figure, axes = plt.subplots(
        len(moments), 2, figsize=(10, 5.3 * len(moments)), squeeze=False
    )
    for row, moment in zip(axes, moments, strict=True):
        for axis, activation in zip(row, ACTIVATIONS, strict=True):
            record = runs[activation]
            grid = record["sample_grids"].get(moment)
            if grid:
                axis.imshow(plt.imread(results / "psf" / grid), cmap="gray")
            axis.set_title(f"{activation.upper()}, {moment} (seed {record['seed']})")
            axis.axis("off")
    save_figure(figure, path)


def plot_coverage(dataset, records, path):
    """Classes covered and confident share of the samples over iterations,
    every run (collapse shows as a drop)."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    keys = ("classes_covered", "confident_share", "kl_uniform")
    curves = [
        (
            r["activation"],
            [row["step"] for row in r["class_history"]],
            r["class_history"],
        )
        for r in records
    ]
    plot_runs(axes, curves, keys)
    for axis, key in zip(axes, keys, strict=True):
        axis.set_title(f"{dataset}: {key.replace('_', ' ')}")
        axis.set_xlabel("iteration")
        axis.grid(alpha=0.3)
    axes[0].legend()
    save_figure(figure, path)


def plot_alphas(dataset, psf_records, path):
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for run_index, record in enumerate(psf_records):
        rows = record["alpha_history"]
        steps = [r["step"] for r in rows]
        for key in rows[0]:
            if key == "step":
                continue
            network, layer = key.split("/", 1)
            axis = axes[0 if network == "generator" else 1]
            axis.plot(
                steps,
                [r[key] for r in rows],
                lw=1.0,
                color=f"C{list(rows[0]).index(key)}",
                alpha=1.0 if run_index == 0 else 0.35,
                label=layer if run_index == 0 else None,
            )
    for axis, network in zip(axes, ("generator", "discriminator"), strict=True):
        axis.set_title(f"{dataset}: PSF alpha per {network} layer (all seeds)")
        axis.set_xlabel("iteration")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    axes[0].set_ylabel("alpha")
    save_figure(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument(
        "--cifar",
        action="store_true",
        help="run only the CIFAR-10 automobile setting (tfds data)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--steps",
        type=int,
        default=PAPER_STEPS,
        help="iterations on MNIST and Fashion-MNIST (paper: 20,000)",
    )
    parser.add_argument(
        "--cifar-steps",
        type=int,
        default=None,
        help="iterations on CIFAR (default: 181 epochs of 5,000 at batch 32)",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--width",
        type=float,
        default=None,
        help="DCGAN filter multiplier (default: Radford's, 8 at 28 px, 4 at 32 px)",
    )
    parser.add_argument("--initializer", choices=["dcgan", "glorot"], default="dcgan")
    parser.add_argument(
        "--psf-layers",
        choices=["most", "all"],
        default="most",
        help="most: D's first activation and G's projection stay LReLU",
    )
    parser.add_argument(
        "--history-every", type=int, default=2000, help="iterations between histograms"
    )
    parser.add_argument("--eval-n", type=int, default=10000)
    parser.add_argument("--runs", default="runs/psf", help="folder of the runs")
    parser.add_argument("--results", default="results", help="folder of the results")
    parser.add_argument("--verbose", type=int, default=2, help="progress bar (0: none)")
    args = parser.parse_args(argv)

    datasets = ["cifar10"] if args.cifar else args.datasets
    results = pathlib.Path(args.results)
    # Seeds outermost: an interrupted study has whole pairs of runs.
    for seed in args.seeds:
        for dataset in datasets:
            for activation in ACTIVATIONS:
                print(f"== {dataset}, {activation}, seed {seed}", flush=True)
                run_one(dataset, activation, seed, args)
    cores = len(os.sched_getaffinity(0))  # fewer than cpu_count under taskset
    for dataset in datasets:
        settings = protocol(dataset, args)
        records = [
            json.loads(p.read_text())
            for p in sorted((results / "psf").glob(f"{dataset}_*_seed*.json"))
        ]
        records = [r for r in records if r["protocol"] == settings]
        if not records:
            continue
        seeds = sorted({r["seed"] for r in records})
        first = {r["activation"]: r for r in records[::-1]}
        stem = results / f"psf_{dataset}"
        if set(first) == set(ACTIVATIONS):
            plot_losses(dataset, first, f"{stem}_losses.png")
            plot_samples(dataset, first, results, f"{stem}_samples.png")
        psf_records = [r for r in records if r["activation"] == "psf"]
        if psf_records:
            plot_alphas(dataset, psf_records, f"{stem}_alpha.png")
        if any(r["class_history"] for r in records):
            plot_coverage(dataset, records, f"{stem}_coverage.png")
        report = {
            "dataset": dataset,
            "protocol": settings
            | {"seeds": seeds, "machine": f"{platform.machine()} CPU, {cores} cores"},
            "better": SUMMARY,
            "summary": summarise(records),
            # The curves stay in the records in results/psf/.
            "runs": [
                {k: v for k, v in r.items() if k not in ("losses", "alpha_history")}
                for r in records
            ],
        }
        with atomic_path(f"{stem}.json") as partial:
            partial.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {stem}.json")
        print(markdown_table(report["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
