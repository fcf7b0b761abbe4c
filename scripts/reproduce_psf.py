"""Reproduces the PSF paper's comparison: DCGAN with LeakyReLU vs with PSF.

    python scripts/reproduce_psf.py                      # MNIST + Fashion-MNIST
    python scripts/reproduce_psf.py --steps 3000         # a shorter protocol
    python scripts/reproduce_psf.py --cifar              # CIFAR-10 automobiles

The paper (Takinami, Tsunoda, Mitsui) trains DCGAN for 20,000 iterations on
MNIST and for 181 epochs (batch 32) on the 5,000 CIFAR-10 automobiles, and
compares LReLU with PSF hidden activations. For every dataset, activation
and seed this script trains one run (resumable, in `runs/psf/`) and records
its Frechet distance, KID, mode coverage, D-loss volatility (standard
deviation over the last 20% of steps) and every PSF alpha over time; then it
writes `results/psf_<dataset>.json` and the figures `results/psf_<dataset>_*.png`.
"""

import argparse
import csv
import json
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.plots import pyplot, save_figure  # noqa: E402
from kgan.recipes import get  # noqa: E402
from kgan.recipes.gan import DCGANConfig  # noqa: E402
from kgan.runs import finish  # noqa: E402

ACTIVATIONS = ("lrelu", "psf")
PAPER_STEPS = 20000
CIFAR = {"classes": [1], "batch_size": 32, "epochs": 181, "images": 5000}
# Metrics summarised as mean and spread over seeds, with the better direction.
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


def loss_volatility(rows, key="d_loss", tail=0.2):
    """Standard deviation of a loss over the last `tail` share of the steps."""
    values = np.array([r[key] for r in rows])
    return float(np.std(values[-max(2, int(round(tail * len(values)))) :]))


def run_one(dataset, activation, seed, args, out_root):
    """Trains (or finishes) one run and returns its record."""
    out = out_root / f"{dataset}_{activation}_seed{seed}"
    steps = args.steps
    data = None
    if dataset == "cifar10":
        from kgan.data import load

        steps = (
            args.cifar_steps or CIFAR["epochs"] * CIFAR["images"] // CIFAR["batch_size"]
        )
        data = load(
            "cifar10",
            "train",
            batch_size=CIFAR["batch_size"],
            classes=CIFAR["classes"],
            seed=seed,
            drop_remainder=True,
        )
    config = DCGANConfig(
        dataset=dataset,
        activation=activation,
        steps=steps,
        batch_size=CIFAR["batch_size"] if dataset == "cifar10" else args.batch_size,
        seed=seed,
        width=args.width,
        ema=None,  # the paper's plain DCGAN: samples from the trained generator
        refine_layers=0,  # and Radford's generator, as in the paper
        sample_every=max(1, steps // 4),
        eval_n=args.eval_n,
    )
    if not (out / "gan.keras").exists() or not (out / "record.json").exists():
        start = time.perf_counter()
        gan = finish(get("dcgan"), config, out, dataset=data, verbose=args.verbose)
        seconds = time.perf_counter() - start
        metrics = _metrics(out, dataset, gan, args, seed)
        losses = read_csv(out / "losses.csv")
        record = {
            "dataset": dataset,
            "activation": activation,
            "seed": seed,
            "steps": steps,
            "train_seconds": round(seconds, 1),
            **metrics,
            "d_loss_volatility": loss_volatility(losses),
            "g_loss_volatility": loss_volatility(losses, "g_loss"),
        }
        if activation == "psf":
            alphas = read_csv(out / "alpha.csv")
            record["alpha_final"] = {k: v for k, v in alphas[-1].items() if k != "step"}
        with atomic_path(out / "record.json") as partial:
            partial.write_text(json.dumps(record, indent=2) + "\n")
    return json.loads((out / "record.json").read_text())


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
        rows = read_csv(runs[activation] / "losses.csv")
        steps = [r["step"] for r in rows]
        for key in ("d_loss", "g_loss"):
            axis.plot(steps, [r[key] for r in rows], lw=0.4, label=key)
        axis.set_title(
            f"{dataset}, DCGAN with {activation.upper()} ({runs[activation].name})"
        )
        axis.set_xlabel("iteration")
        axis.grid(alpha=0.3)
        axis.legend()
    axes[0].set_ylabel("loss")
    save_figure(figure, path)


def plot_samples(dataset, runs, path):
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 5.3))
    for axis, activation in zip(axes, ACTIVATIONS, strict=True):
        image = plt.imread(runs[activation] / "samples" / "final.png")
        axis.imshow(image, cmap="gray")
        axis.set_title(f"{activation.upper()} ({runs[activation].name})")
        axis.axis("off")
    save_figure(figure, path)


def plot_alphas(dataset, psf_runs, path):
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for run_index, run in enumerate(psf_runs):
        rows = read_csv(run / "alpha.csv")
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
        "--width", type=float, default=0.5, help="DCGAN filter multiplier"
    )
    parser.add_argument("--eval-n", type=int, default=10000)
    parser.add_argument("--runs", default="runs/psf", help="folder of the runs")
    parser.add_argument("--results", default="results", help="folder of the results")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    args = parser.parse_args(argv)

    datasets = ["cifar10"] if args.cifar else args.datasets
    out_root, results = pathlib.Path(args.runs), pathlib.Path(args.results)
    for dataset in datasets:
        records, runs = [], {}
        for seed in args.seeds:
            for activation in ACTIVATIONS:
                print(f"== {dataset}, {activation}, seed {seed}", flush=True)
                records.append(run_one(dataset, activation, seed, args, out_root))
                runs.setdefault(
                    activation, out_root / f"{dataset}_{activation}_seed{seed}"
                )
        psf_runs = [out_root / f"{dataset}_psf_seed{s}" for s in args.seeds]
        plot_losses(dataset, runs, results / f"psf_{dataset}_losses.png")
        plot_samples(dataset, runs, results / f"psf_{dataset}_samples.png")
        plot_alphas(dataset, psf_runs, results / f"psf_{dataset}_alpha.png")
        report = {
            "dataset": dataset,
            "protocol": {
                "steps": records[0]["steps"],
                "paper_steps": PAPER_STEPS
                if dataset != "cifar10"
                else CIFAR["epochs"] * CIFAR["images"] // CIFAR["batch_size"],
                "batch_size": CIFAR["batch_size"]
                if dataset == "cifar10"
                else args.batch_size,
                "width": args.width,
                "seeds": args.seeds,
                "eval_n": args.eval_n,
                "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
            },
            "better": SUMMARY,
            "summary": summarise(records),
            "runs": records,
        }
        with atomic_path(results / f"psf_{dataset}.json") as partial:
            partial.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {results / f'psf_{dataset}.json'}")
        print(markdown_table(report["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
