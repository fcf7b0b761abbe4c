"""The figures of a study's report, drawn from its records alone."""

import numpy as np

from kgan.plots import plot_runs, pyplot, save_figure
from kgan.studies.metrics import BETTER, finite


def plot_study(study, records, folder):
    """The study's figures from its records; returns their file names."""
    plt = pyplot()
    figures = []
    variants = [v for v in study.variants if any(r["variant"] == v for r in records)]
    with_losses = [
        v for v in variants if any(r["variant"] == v and r["losses"] for r in records)
    ]
    if with_losses:
        plot_losses(study, records, with_losses, folder / "losses.png")
        figures.append("losses.png")

    with_history = [r for r in records if r["history"]]
    if with_history:
        keys = ("classes_covered", "confident_share")
        figure, axes = plt.subplots(1, 2, figsize=(12, 3.8))
        plot_runs(
            axes,
            [
                (r["variant"], [h["step"] for h in r["history"]], r["history"])
                for r in with_history
            ],
            keys,
            lw=1.0,
        )
        for axis, key in zip(axes, keys, strict=True):
            axis.set_title(key.replace("_", " "))
            axis.set_xlabel("step")
            axis.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
        save_figure(figure, folder / "coverage.png")
        figures.append("coverage.png")

    with_timeline = [r for r in records if r.get("timeline")]
    if with_timeline and study.reach:
        keys = tuple(study.reach)
        figure, axes = plt.subplots(
            1, len(keys), figsize=(6 * len(keys), 3.8), squeeze=False
        )
        runs = [
            (
                r["variant"],
                [row["seconds"] / 60 for row in r["timeline"]],
                r["timeline"],
            )
            for r in with_timeline
        ]
        plot_runs(axes[0], runs, keys, lw=1.0)
        for axis, key in zip(axes[0], keys, strict=True):
            axis.set_title(f"{key} over training time")
            axis.set_xlabel("training minutes")
            axis.grid(alpha=0.3)
        axes[0, 0].legend(fontsize=7)
        save_figure(figure, folder / "timeline.png")
        figures.append("timeline.png")

    metrics = [
        m for m in study.record if any(finite(r["metrics"].get(m)) for r in records)
    ]
    if metrics:
        columns = min(4, len(metrics))
        rows = -(-len(metrics) // columns)
        figure, axes = plt.subplots(
            rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False
        )
        for axis, metric in zip(axes.flat, metrics, strict=False):
            for index, variant in enumerate(variants):
                values = [
                    r["metrics"].get(metric) for r in records if r["variant"] == variant
                ]
                values = [v for v in values if finite(v)]
                axis.plot(
                    [index] * len(values), values, "o", color=f"C{index}", alpha=0.7
                )
                if values:
                    axis.plot(
                        [index - 0.25, index + 0.25], [np.mean(values)] * 2, color="k"
                    )
            axis.set_xticks(range(len(variants)), variants, rotation=30, fontsize=7)
            axis.set_title(
                f"{metric} ({BETTER.get(metric, '?')} is better)", fontsize=8
            )
            axis.grid(alpha=0.3)
        for axis in list(axes.flat)[len(metrics) :]:
            axis.axis("off")
        save_figure(figure, folder / "metrics.png")
        figures.append("metrics.png")

    grids = [(r, folder / r["samples"]) for r in records if r.get("samples")]
    grids = [(r, p) for r, p in grids if p.exists()]
    if grids:
        seeds = sorted({r["seed"] for r, _ in grids})
        figure, axes = plt.subplots(
            len(variants),
            len(seeds),
            figsize=(3 * len(seeds), 3.2 * len(variants)),
            squeeze=False,
        )
        for axis in axes.flat:
            axis.axis("off")
        for record, path in grids:
            axis = axes[variants.index(record["variant"]), seeds.index(record["seed"])]
            axis.imshow(plt.imread(path), cmap="gray")
            axis.set_title(f"{record['variant']}, seed {record['seed']}", fontsize=8)
        save_figure(figure, folder / "samples.png")
        figures.append("samples.png")
    return figures


def plot_losses(study, records, variants, path):
    """D and G losses of every seed, one panel per variant."""
    figure, axes = pyplot().subplots(
        len(variants), 1, figsize=(10, 2.6 * len(variants)), squeeze=False, sharex=True
    )
    for axis, variant in zip(axes[:, 0], variants, strict=True):
        for record in (r for r in records if r["variant"] == variant and r["losses"]):
            steps = [row["step"] for row in record["losses"]]
            for colour, key in (("C0", "d_loss"), ("C1", "g_loss")):
                if key in record["losses"][0]:
                    axis.plot(
                        steps,
                        [row[key] for row in record["losses"]],
                        color=colour,
                        lw=0.7,
                        alpha=0.8,
                        label=key if record["seed"] == min(study.seeds) else None,
                    )
        axis.set_title(f"{variant}: losses, window means, every seed", fontsize=9)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    axes[-1, 0].set_xlabel("step")
    save_figure(figure, path)
