"""Which of kgan's DRAW-GAN stabilisers goes with the 5x5 model's collapse.

    python scripts/ablate_draw.py                  # 4 variants, 4,900 iterations each
    python scripts/ablate_draw.py --variants no_clip

At the paper's length, the 5x5 model with all of kgan's stabilisers
(bounded log gamma and scales, filterbank eps 1e-4, attention weights
N(0, 0.01), global gradient-norm clip 10) collapsed to one class, and the
same model without them covered 7 classes (`scripts/reproduce_draw.py`).
The stabilisers come in two groups that the recipe switches apart: the
attention numerics (`stabilisers`) and the gradient clip
(`global_clipnorm`). This script trains the 5x5 model with each of the four
combinations for the same short run (default 4,900 iterations, a fifth of
the paper's 24,500; the collapse showed by then) and otherwise the
reproduction's settings, and scores 10,000 samples of each.

Each variant is a resumable run folder (`runs/draw_ablation/<variant>`);
its record `results/draw_ablation/<variant>.json` (metrics, sharpness, the
loss curve; `reproduce_draw.train_and_record`) and sample grid are written
when it finishes, and the summary `results/draw_ablation.json` (with the D
loss over the last fifth of each run), `results/draw_ablation_samples.png`
and `results/draw_ablation_losses.png` are rebuilt from the records.
"""

import argparse
import json
import os
import pathlib
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import reproduce_draw as draw_study  # noqa: E402

from kgan.files import atomic_path  # noqa: E402

VARIANTS = {
    "stabilised": {},  # the reproduction's draw_5x5
    "no_clip": {"global_clipnorm": None},
    "bare_numerics": {"stabilisers": False},
    "bare": {"stabilisers": False, "global_clipnorm": None},  # draw_5x5_bare
}


def run_variant(name, args, out_root, results):
    """Trains (or finishes) one variant; returns its record."""
    draw_5x5 = {k: v for k, v in draw_study.MODELS["draw_5x5"].items() if k != "epochs"}
    settings = {**draw_5x5, **VARIANTS[name]}
    record_path = results / "draw_ablation" / f"{name}.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record["steps"] == args.steps and record["settings"] == settings:
            return record
    return draw_study.train_and_record(
        name, settings, args.steps, args, out_root / name, record_path
    )


def d_loss_last_fifth(record):
    """Mean D loss over the last fifth of the run, from the record's curve."""
    curve = record["losses"]
    last = np.array(curve["step"]) >= 0.8 * record["steps"]
    return float(np.mean(np.array(curve["d_loss"])[last]))


COLUMNS = (
    ("classes_covered", "classes", "{:d}"),
    ("confident_share", "confident", "{:.1%}"),
    ("frechet_distance", "Frechet", "{:.0f}"),
    ("swd_mean", "SWD x1e3", "{:.1f}"),
    ("sharpness", "sharpness", "{:.4f}"),
    ("d_loss_last_fifth", "D loss, last fifth", "{:.3f}"),
)


def markdown_table(records):
    lines = [
        "| variant | numerics | clip | " + " | ".join(c[1] for c in COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 3) + "|",
    ]
    for name, record in records.items():
        numerics = "kgan" if record["settings"].get("stabilisers", True) else "bare"
        clip = record["settings"].get("global_clipnorm", 10.0)
        cells = [
            "diverged" if record.get(key) is None else template.format(record[key])
            for key, _, template in COLUMNS
        ]
        lines.append(f"| {name} | {numerics} | {clip} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS)
    )
    parser.add_argument("--steps", type=int, default=4900)
    parser.add_argument("--units", type=int, default=256, help="RNN units (paper: 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-n", type=int, default=10000)
    parser.add_argument("--no-xla", action="store_true")
    parser.add_argument("--runs", default="runs/draw_ablation")
    parser.add_argument("--results", default="results")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be positive. Received: {args.steps}")

    out_root, results = pathlib.Path(args.runs), pathlib.Path(args.results)
    for name in args.variants:
        print(f"== {name}", flush=True)
        run_variant(name, args, out_root, results)
    records = {}
    for name in VARIANTS:
        path = results / "draw_ablation" / f"{name}.json"
        if path.exists():
            record = json.loads(path.read_text())
            if record["steps"] == args.steps:
                records[name] = record
    grids = {
        name: results / "draw_ablation" / f"{name}_samples.png"
        for name in records
        if "diverged" not in records[name]
    }
    if grids:
        draw_study.plot_samples(grids, results / "draw_ablation_samples.png")
    curves = {n: r["losses"] for n, r in records.items() if r.get("losses")}
    if curves:
        draw_study.plot_losses(curves, results / "draw_ablation_losses.png")
    report = {
        "protocol": {
            "model": "draw_5x5",
            "steps": args.steps,
            "batch_size": draw_study.BATCH_SIZE,
            "rnn_units": args.units,
            "seed": args.seed,
            "eval_n": args.eval_n,
            "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
        },
        "records": {
            name: {
                **{k: v for k, v in r.items() if k != "losses"},
                "d_loss_last_fifth": d_loss_last_fifth(r) if r.get("losses") else None,
            }
            for name, r in records.items()
        },
    }
    with atomic_path(results / "draw_ablation.json") as partial:
        partial.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown_table(report["records"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
