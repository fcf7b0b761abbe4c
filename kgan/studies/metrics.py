"""The metrics a study records: the run's final evaluation, measures of the
loss curves, and mode coverage over training."""

import math

import numpy as np

from kgan.files import read_json, write_json

# Which way is better for each metric a study may summarise.
BETTER = {
    "frechet_distance": "lower",
    "kid": "lower",
    "classifier_score": "higher",
    "classes_covered": "higher",
    "kl_uniform": "lower",
    "confident_share": "higher",
    "swd_mean": "lower",
    "ms_ssim": "lower",
    "raw_swd_mean": "lower",
    "raw_ms_ssim": "lower",
    "d_loss_window_std": "lower",
    "d_loss_volatility": "lower",
    "g_loss_volatility": "lower",
    "d_loss_tail_mean": None,
    "sharpness": "higher",
    "d_loss_excursions": "lower",
    "g_loss_window_std": "lower",
    "min_classes_covered": "higher",
    "training_seconds": "lower",
    "seconds_per_step": "lower",
}
# Window of the stability measures, in steps, and the share of the run at
# its end that they look at.
WINDOW = 500
TAIL = 0.2
# An excursion: a window mean further than this many (robust) standard
# deviations of the window means from the median of the tail's windows.
EXCURSION_BAND = 3.0


def finite(value):
    """Whether `value` is a finite number (a record's undefined measure is
    `None`)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


def window_means(values, window=WINDOW):
    """Means of consecutive, whole windows of `window` values."""
    values = np.asarray(values, np.float64)
    whole = len(values) // window * window
    return values[:whole].reshape(-1, window).mean(axis=1)


def window_std(values, window=WINDOW, tail=TAIL):
    """Std (ddof 1) of the `window`-step means over the last `tail` of a
    loss curve: how far the curve wanders, with batch noise averaged away
    (the std of single steps is mostly batch noise). `None` for a curve
    too short to hold two windows there."""
    values = np.asarray(values, np.float64)
    means = window_means(values[-int(round(tail * len(values))) :], window)
    return float(np.std(means, ddof=1)) if len(means) >= 2 else None


def excursions(values, window=100, tail=TAIL, band=EXCURSION_BAND):
    """How many `window`-step means of the last `tail` of a loss curve lie
    more than `band` robust standard deviations (1.4826 MAD) from their
    median: spikes and swings, not noise. `None` for a curve too short."""
    values = np.asarray(values, np.float64)
    means = window_means(values[-int(round(tail * len(values))) :], window)
    if len(means) < 3:
        return None
    median = np.median(means)
    spread = 1.4826 * np.median(np.abs(means - median))
    if spread == 0:
        return 0
    return int(np.sum(np.abs(means - median) > band * spread))


def loss_measures(rows):
    """Stability measures of the per-step loss rows of `losses.csv`, and
    each loss's mean over the last `TAIL` of the steps."""
    result = {}
    for key in ("d_loss", "g_loss"):
        values = [row[key] for row in rows if key in row]
        if values:
            result[f"{key}_window_std"] = window_std(values)
            tail = values[-max(1, int(round(TAIL * len(values)))) :]
            result[f"{key}_tail_mean"] = float(np.mean(tail))
    if any("d_loss" in row for row in rows):
        result["d_loss_excursions"] = excursions([row["d_loss"] for row in rows])
    return result


def thin_curve(rows, points=1000):
    """About `points` rows of a per-step curve: each the mean of a window of
    consecutive steps, with the window's minimum and maximum of every loss
    (so a spike stays visible in a thinned curve)."""
    every = max(1, -(-len(rows) // points))
    keys = [k for k in rows[0] if k != "step"] if rows else []
    thinned = []
    for start in range(0, len(rows), every):
        chunk = rows[start : start + every]
        row = {"step": chunk[-1]["step"]}
        for key in keys:
            values = np.array([r[key] for r in chunk], np.float64)
            row[key] = float(values.mean())
            if every > 1:
                row[f"{key}_min"], row[f"{key}_max"] = (
                    float(values.min()),
                    float(values.max()),
                )
        thinned.append(row)
    return thinned


class CoverageHistory:
    """A run-loop hook: every `every` steps, the class histogram, classes
    covered and confident share of `n` samples under the dataset's shipped
    classifier. The rows are kept in `path` across sittings; a resumed run
    drops those past its checkpoint.

    Args:
        path: The JSON file of the rows.
        dataset: The dataset name (its classifier judges the samples).
        every: Steps between probes (0: none).
        n: Samples per probe.
    """

    def __init__(self, path, dataset, every, n):
        from kgan.metrics.evaluate import has_classifier

        self.path, self.every, self.n = path, every, n
        self.rows = read_json(path, "coverage history") if path.exists() else []
        self.classifier = None
        if every and has_classifier(dataset):
            from kgan.metrics import ImageClassifier

            self.classifier = ImageClassifier.for_dataset(dataset)

    def __call__(self, trainer, progress):
        self.rows = [r for r in self.rows if r["step"] <= progress.step]
        if self.classifier is None or progress.step % self.every:
            return
        if self.rows and self.rows[-1]["step"] == progress.step:
            return
        self.rows.append({"step": progress.step, **self.probe(trainer)})
        write_json(self.path, self.rows, indent=None)

    def probe(self, trainer):
        from kgan.metrics import generate_uint8, mode_coverage

        _, probabilities = self.classifier.predict(
            generate_uint8(trainer.sampler, self.n, seed=0)
        )
        counts = np.bincount(
            probabilities.argmax(axis=1), minlength=probabilities.shape[1]
        )
        return {
            "histogram": (counts / len(probabilities)).tolist(),
            **mode_coverage(probabilities),
        }


def history_measures(rows):
    """Collapse over training from the coverage rows: the fewest classes
    covered at any probe after step 0 (a run that collapses and recovers
    shows it here, not in its final metrics)."""
    later = [r["classes_covered"] for r in rows if r["step"] > 0]
    return {"min_classes_covered": min(later)} if later else {}


class Timeline:
    """A run-loop hook: the recipe's evaluation every `every` training
    seconds (before the first step, then whenever that much training time
    has passed, and at the budget's end), kept in `path` across sittings;
    a resumed run drops the rows past its checkpoint.

    Args:
        path: The JSON file of the rows (`seconds`, `step`, the metrics).
        evaluate: The recipe's evaluator, `(trainer) -> dict`, or `None`.
        every: Training seconds between evaluations (`None`: none).
        budget: The run's budget in training seconds, if it has one.
    """

    def __init__(self, path, evaluate, every, budget=None):
        self.path, self.evaluate, self.every, self.budget = (
            path,
            evaluate,
            every,
            budget,
        )
        self.rows = read_json(path, "timeline") if path.exists() else []

    def __call__(self, trainer, progress):
        if self.every is None or self.evaluate is None:
            return
        self.rows = [r for r in self.rows if r["step"] <= progress.step]
        due = self.rows[-1]["seconds"] + self.every if self.rows else 0.0
        at_end = self.budget is not None and progress.seconds >= self.budget
        if progress.seconds < due and not at_end:
            return
        if self.rows and self.rows[-1]["step"] == progress.step:
            return
        scores = {k: v for k, v in self.evaluate(trainer).items() if finite(v)}
        self.rows.append({"seconds": progress.seconds, "step": progress.step, **scores})
        write_json(self.path, self.rows, indent=None)


def seconds_to_reach(timeline, target, key):
    """Training seconds until `key` first falls to `target` or below."""
    for row in timeline:
        if row.get(key, math.inf) <= target:
            return row["seconds"]
    return None


def time_to_reach(variant, baseline, key):
    """How much faster `variant`'s run reached the best `key` (lower is
    better) that both runs reached: the baseline's seconds over the
    variant's. `None` when a timeline lacks the key."""
    bests = [
        min((r[key] for r in t if key in r), default=None) for t in (variant, baseline)
    ]
    if None in bests:
        return None
    target = max(bests)
    mine, theirs = (seconds_to_reach(t, target, key) for t in (variant, baseline))
    if not mine:  # reached at second 0: no ratio
        return None
    return {"target": target, "seconds": mine, "baseline_seconds": theirs,
            "speedup": theirs / mine}  # fmt: skip
