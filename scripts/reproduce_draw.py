"""Reproduces the DRAW-attention GAN paper's experiments on MNIST.

    python scripts/reproduce_draw.py                   # the paper's protocol
    python scripts/reproduce_draw.py --models draw_5x5 # one model per sitting
    python scripts/reproduce_draw.py --steps-scale 0.1 # a shorter protocol

Kataoka, Matsubara and Uehara train a GAN whose generator writes the image
in T = 6 attentive steps and whose discriminator reads it in 6 glimpses
(N = 5, 256 units, z of 100 per step, batch 100, Adam 3.75e-4 with beta1
0.75, 49 epochs), ablate the grid to 4x4 (Adam 5e-4, beta1 0.9, 71 epochs),
compare with Goodfellow's MLP GAN (maxout discriminator; Adam 1e-3, beta1
0.5, 99 epochs) and show what each step's z_t does. The paper's epochs are
passes over 50,000 MNIST digits at batch 100: 24,500 / 35,500 / 49,500
iterations. kgan embeds 8,000 training digits (see `kgan.data`), so the
runs take the paper's number of iterations, not of epochs.

The DRAW models run twice: with kgan's attention stabilisers (bounded log
gamma and scales, filterbank eps 1e-4, attention weights N(0, 0.01), global
gradient-norm clip 10; none is in the paper) and without them (`_bare`:
eps 1e-8, unbounded exps, Glorot weights, no clip: kgan's first version).
Both learn h_0, as the paper says, and start the canvas bias at each
pixel's marginal mean (`DrawCanvas.initialize_from`). A run whose loss
turns non-finite is recorded with its step, not retried.

Each model is a resumable run folder (`runs/draw/<model>`). When it
finishes, everything the summary needs is measured from its generator and
kept in `results/`: the record `results/draw/<model>.json` (metrics,
sharpness, each z_t's influence, the writes on the canvas, the loss curve),
its final samples `results/draw/<model>_samples.png` and, for the DRAW
models, the step and z_t condition figures `results/draw_steps_*.png` and
`results/draw_z_conditions_*.png`. The summary (`results/draw_mnist.json`,
`results/draw_samples.png`, `results/draw_losses.png`) is rebuilt from the
records alone, so it survives the loss of the run folders.
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.images import (  # noqa: E402
    attention_steps_grid,
    make_grid,
    save_png,
    to_uint8,
)
from kgan.plots import pyplot, save_figure  # noqa: E402
from kgan.recipes import get  # noqa: E402
from kgan.runs import finish  # noqa: E402
from kgan.runs.callbacks import NonFiniteLossError  # noqa: E402

PAPER_TRAIN_IMAGES = 50000  # the paper's MNIST training digits
BATCH_SIZE = 100
LATENT_DIM = 100
STEPS_T = 6
# The paper's three models and their optimizer settings; the DRAW models
# also without kgan's stabilisers.
DRAW_5X5 = {"attention_n": 5, "learning_rate": 3.75e-4, "beta_1": 0.75, "epochs": 49}
DRAW_4X4 = {"attention_n": 4, "learning_rate": 5e-4, "beta_1": 0.9, "epochs": 71}
BARE = {"stabilisers": False, "global_clipnorm": None}
MODELS = {
    "draw_5x5": {"model": "draw", **DRAW_5X5},
    "draw_4x4": {"model": "draw", **DRAW_4X4},
    "mlp_gan": {
        "model": "gan",
        "maxout": True,
        "learning_rate": 1e-3,
        "beta_1": 0.5,
        "epochs": 99,
    },
    "draw_5x5_bare": {"model": "draw", **DRAW_5X5, **BARE},
    "draw_4x4_bare": {"model": "draw", **DRAW_4X4, **BARE},
}
LARGE_STD = 10000.0
LARGE_STD_STEPS = (1, 3, 6)  # 1-based, as in the paper


def run_steps(epochs, scale):
    """The paper's iterations for `epochs` over its 50,000 digits, scaled."""
    return max(1, int(round(epochs * scale * PAPER_TRAIN_IMAGES / BATCH_SIZE)))


def run_model(name, args, out_root, results):
    """Trains (or finishes) one model; returns its record, also written to
    `results/draw/<name>.json`."""
    steps = run_steps(MODELS[name]["epochs"], args.steps_scale)
    record_path = results / "draw" / f"{name}.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        # A record without its loss curve predates the self-contained
        # records and lacks the probes: the model is trained again.
        if record["steps"] == steps and "losses" in record:
            return record
    return train_and_record(
        name, MODELS[name], steps, args, out_root / name, record_path, results
    )


def train_and_record(name, settings, steps, args, out, record_path, figures=None):
    """Trains (or finishes) the run folder `out` for `steps` iterations.

    `settings` names the recipe (`"model"`) and sets its config fields (an
    `"epochs"` entry is ignored). When training ends, the record (settings,
    metrics, sharpness, loss curve, times) is written to `record_path` and
    the final sample grid beside it as `<name>_samples.png`; with a
    `figures` folder, a DRAW model's steps are also probed and drawn there
    (`analyse`). Returns the record.
    """
    fields = {k: v for k, v in settings.items() if k not in ("model", "epochs")}
    recipe = get(settings["model"])
    if recipe.name == "draw":
        fields.update(draw_steps=STEPS_T, rnn_units=args.units)
    config = recipe.config_class(
        steps=steps,
        batch_size=BATCH_SIZE,
        seed=args.seed,
        latent_dim=LATENT_DIM,
        ema=None,  # the paper samples from the trained generator itself
        sample_every=max(1, steps // 5),
        eval_n=args.eval_n,
        jit_compile=not args.no_xla,
        **fields,
    )
    start = time.perf_counter()
    record = {"model": name, "steps": steps, "settings": settings}
    try:
        gan = finish(recipe, config, out, verbose=args.verbose)
    except NonFiniteLossError as error:
        record["diverged"] = str(error)
    else:
        record.update(json.loads((out / "metrics.json").read_text()))
        record.update(analyse(name, settings, gan, args, figures))
        grid = record_path.with_name(f"{name}_samples.png")
        with atomic_path(grid) as partial:
            shutil.copyfile(out / "samples" / "final.png", partial)
    record["losses"] = loss_curve(out / "losses.csv")
    summary = out / "run.json"
    facts = json.loads(summary.read_text()) if summary.exists() else {}
    record.update(
        run=str(out),
        train_seconds=facts.get("training_seconds"),
        sitting_seconds=round(time.perf_counter() - start, 1),
    )
    record_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(record_path) as partial:
        partial.write_text(json.dumps(record, indent=2) + "\n")
    return record


def analyse(name, settings, gan, args, figures):
    """What the summary needs of a finished generator: the sharpness of its
    samples and, for a DRAW model with a `figures` folder, the probes of its
    steps (also drawn there as the step and z_t condition figures)."""
    from kgan.metrics import Evaluator

    samples = gan.generate(args.eval_n, seed=args.seed)
    measured = {"sharpness": sharpness(samples)}
    if settings["model"] != "draw" or figures is None:
        return measured
    evaluator = Evaluator("mnist", seed=args.seed)
    suffix = name[len("draw_") :]
    _, canvases, attention = gan.generate(10, seed=args.seed, return_steps=True)
    save_png(
        attention_steps_grid(canvases, attention, settings["attention_n"]),
        figures / f"draw_steps_{suffix}.png",
    )
    conditions, condition_images = condition_metrics(
        gan, evaluator, args.probe_n, args.seed
    )
    plot_conditions(
        condition_images,
        f"{name}: the same 10 columns of z under each z_t condition",
        figures / f"draw_z_conditions_{suffix}.png",
    )
    measured["probes"] = {
        "step_influence": step_influence(gan, args.probe_n, args.seed),
        "writes": write_statistics(gan, args.probe_n, args.seed),
        "z_conditions": conditions,
    }
    return measured


def loss_curve(path, points=500):
    """The D and G losses of `losses.csv`, averaged over windows so that a
    record holds at most `points` of them; None when the file is missing."""
    import csv

    if not path.exists():
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    window = max(1, -(-len(rows) // points))
    curve = {"window": window, "step": [], "d_loss": [], "g_loss": []}
    for begin in range(0, len(rows), window):
        chunk = rows[begin : begin + window]
        curve["step"].append(int(chunk[-1]["step"]))
        for key in ("d_loss", "g_loss"):
            curve[key].append(float(np.mean([float(r[key]) for r in chunk])))
    return curve


def sharpness(images):
    """Mean absolute difference of neighbouring pixels, images in [-1, 1]
    mapped to [0, 1]: blurred digits score lower than crisp ones."""
    x = (np.asarray(images, np.float64) + 1.0) / 2.0
    dx = np.abs(np.diff(x, axis=2)).mean()
    dy = np.abs(np.diff(x, axis=1)).mean()
    return float(dx + dy)


def z_conditions(rng, n):
    """The paper's z_t conditions: name -> latents `(n, T, z)`."""
    shape = (n, STEPS_T, LATENT_DIM)
    normal = rng.standard_normal(shape).astype("float32")
    conditions = {"all N(0,1)": normal, "all zero": np.zeros(shape, "float32")}
    for t in range(STEPS_T):
        z = np.zeros(shape, "float32")
        z[:, t] = normal[:, t]
        conditions[f"only z_{t + 1} random"] = z
    for t in LARGE_STD_STEPS:
        z = normal.copy()
        z[:, t - 1] *= LARGE_STD
        conditions[f"std {LARGE_STD:g} at z_{t}"] = z
    return conditions


def step_influence(gan, n, seed):
    """Mean absolute pixel change (in [0, 1] units) of the final image when
    z_t alone is drawn again, for each step t."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, STEPS_T, LATENT_DIM)).astype("float32")
    base = gan.generate(n, z=z)
    influence = []
    for t in range(STEPS_T):
        changed = z.copy()
        changed[:, t] = rng.standard_normal((n, LATENT_DIM))
        influence.append(float(np.abs(gan.generate(n, z=changed) - base).mean() / 2))
    return influence


def write_statistics(gan, n, seed):
    """Per step: the share of writes whose grid centre lies on the canvas,
    and the median write intensity gamma (the write is scaled by 1/gamma)."""
    _, _, attention = gan.generate(n, seed=seed, return_steps=True)
    height, width = gan.image_shape[:2]
    center_x, center_y, gamma = attention[..., 0], attention[..., 1], attention[..., 4]
    on_canvas = (center_x >= 1) & (center_x <= width) & (center_y >= 1)
    on_canvas &= center_y <= height
    return {
        "on_canvas_share": on_canvas.mean(axis=0).tolist(),
        "gamma_median": np.median(gamma, axis=0).tolist(),
    }


def condition_metrics(gan, evaluator, n, seed):
    """Each z_t condition's images and their classifier metrics."""
    results, images = {}, {}
    for name, z in z_conditions(np.random.default_rng(seed), n).items():
        generated = gan.generate(n, z=z)
        images[name] = generated[:10]
        if name == "all zero":  # one image n times: metrics say nothing
            results[name] = {"identical_images": True}
            continue
        metrics = evaluator(to_uint8(generated))
        results[name] = {
            key: metrics[key]
            for key in ("classes_covered", "confident_share", "kl_uniform", "swd_mean")
        }
        results[name]["sharpness"] = sharpness(generated)
    return results, images


def plot_conditions(images, title, path):
    """One row of 10 digits per z_t condition (the paper's condition figures)."""
    plt = pyplot()
    names = list(images)
    figure, axes = plt.subplots(len(names), 1, figsize=(7.5, 0.95 * len(names)))
    for axis, name in zip(axes, names, strict=True):
        axis.imshow(make_grid(images[name], columns=10)[..., 0], cmap="gray")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle(title, fontsize=10)
    save_figure(figure, path)


def panels(count, width, height):
    """A figure with `count` panels, at most 3 a row; returns it and them."""
    plt = pyplot()
    columns = min(3, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), squeeze=False
    )
    for axis in axes.ravel()[count:]:
        axis.axis("off")
    return figure, axes.ravel()[:count]


def plot_samples(paths, path):
    """The final sample grid of each model, one panel a model."""
    plt = pyplot()
    figure, axes = panels(len(paths), 5, 5.3)
    for axis, (name, grid) in zip(axes, paths.items(), strict=True):
        axis.imshow(plt.imread(grid), cmap="gray")
        axis.set_title(name)
        axis.axis("off")
    save_figure(figure, path)


def plot_losses(curves, path):
    """The D and G loss curves of each model, one panel a model."""
    figure, axes = panels(len(curves), 5, 3.6)
    for axis, (name, curve) in zip(axes, curves.items(), strict=True):
        for key in ("d_loss", "g_loss"):
            axis.plot(curve["step"], curve[key], lw=0.6, label=key)
        axis.set_title(f"{name} (mean of {curve['window']} steps)")
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        axis.legend()
    save_figure(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps-scale",
        type=float,
        default=1.0,
        help="multiplies every model's iterations (1: the paper's 24,500, 35,500 "
        "and 49,500)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="models to train and compare",
    )
    parser.add_argument("--units", type=int, default=256, help="RNN units (paper: 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-n", type=int, default=10000)
    parser.add_argument(
        "--probe-n", type=int, default=1000, help="images per z_t condition and probe"
    )
    parser.add_argument("--no-xla", action="store_true")
    parser.add_argument("--runs", default="runs/draw", help="folder of the runs")
    parser.add_argument("--results", default="results", help="folder of the results")
    parser.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity")
    args = parser.parse_args(argv)
    if not args.steps_scale > 0:
        parser.error(f"--steps-scale must be positive. Received: {args.steps_scale}")

    from kgan.data import load_arrays
    from kgan.metrics import Evaluator

    out_root, results = pathlib.Path(args.runs), pathlib.Path(args.results)
    for name in args.models:
        print(f"== {name}", flush=True)
        run_model(name, args, out_root, results)
    # The summary covers every model finished so far, in this or an
    # earlier sitting, at this protocol's length.
    records = {}
    for name in MODELS:
        path = results / "draw" / f"{name}.json"
        if path.exists():
            record = json.loads(path.read_text())
            if record["steps"] == run_steps(MODELS[name]["epochs"], args.steps_scale):
                records[name] = record
    # The held-out digits, measured like the samples, are the reference.
    held_out, _ = load_arrays("mnist", "test")
    records["real"] = {
        **Evaluator("mnist", seed=args.seed)(held_out),
        "sharpness": sharpness(held_out / 127.5 - 1.0),
    }
    probes = {n: r["probes"] for n, r in records.items() if "probes" in r}
    grids = {
        name: results / "draw" / f"{name}_samples.png"
        for name in records
        if (results / "draw" / f"{name}_samples.png").exists()
    }
    if grids:
        plot_samples(grids, results / "draw_samples.png")
    curves = {n: r["losses"] for n, r in records.items() if r.get("losses")}
    if curves:
        plot_losses(curves, results / "draw_losses.png")

    report = {
        "protocol": {
            "train_images": load_arrays("mnist", "train")[0].shape[0],
            "paper_train_images": PAPER_TRAIN_IMAGES,
            "batch_size": BATCH_SIZE,
            "steps_scale": args.steps_scale,
            "latent_dim_per_step": LATENT_DIM,
            "steps_T": STEPS_T,
            "rnn_units": args.units,
            "seed": args.seed,
            "eval_n": args.eval_n,
            "probe_n": args.probe_n,
            "models": {name: MODELS[name] for name in records if name in MODELS},
            "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
        },
        "records": {
            name: {k: v for k, v in r.items() if k not in ("probes", "losses")}
            for name, r in records.items()
        },
        "probes": probes,
    }
    with atomic_path(results / "draw_mnist.json") as partial:
        partial.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {results / 'draw_mnist.json'}")
    print(markdown_table(records))
    return 0


TABLE = (
    ("confident_share", "confident samples (recognisability)", "{:.1%}"),
    ("classes_covered", "classes covered", "{:d}"),
    ("kl_uniform", "KL(classes || uniform)", "{:.3f}"),
    ("frechet_distance", "Frechet distance", "{:.1f}"),
    ("swd_mean", "SWD x1e3", "{:.2f}"),
    ("sharpness", "sharpness (mean neighbour-pixel difference)", "{:.4f}"),
    ("steps", "iterations", "{:,}"),
    ("train_seconds", "training time (s)", "{:.0f}"),
)


def markdown_table(records):
    """README rows: one metric per row, one model per column."""
    names = [name for name in MODELS if name in records]
    lines = [
        "| metric | " + " | ".join(names) + " | held-out real digits |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for key, label, form in TABLE:
        cells = [
            form.format(records[name][key])
            if records[name].get(key) is not None
            else ("diverged" if "diverged" in records[name] else "-")
            for name in names + ["real"]
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
