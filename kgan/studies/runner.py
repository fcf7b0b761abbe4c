"""Running a study: every run of every variant and seed, alternated, each
resumable, each ending in its record."""

import csv
import dataclasses
import os
import time

import keras

from kgan.files import read_json, write_json
from kgan.images import save_png
from kgan.machine import machine_info
from kgan.recipes import get
from kgan.runs import finish
from kgan.runs.callbacks import NonFiniteLossError
from kgan.studies.metrics import (
    CoverageHistory,
    Timeline,
    history_measures,
    loss_measures,
    thin_curve,
)
from kgan.studies.records import StudyPaths, read_record, write_record

# Statuses of `run.json` after which a run trains no more.
ENDED = ("finished", "budget")


def read_rows(path):
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def run_study(study, paths=None, seeds=None, variants=None, verbose=1):
    """Runs what is missing of `study`: seeds outer, the variants alternating
    within each seed. A run with a record of its key is reused, one with a
    run folder resumes from its checkpoint, any other starts.

    Args:
        study: A `kgan.studies.Study`.
        paths: Its `StudyPaths` (default: `results/` and `runs/`).
        seeds: Only these seeds (default: the study's).
        variants: Only these variants (default: all).
        verbose: 1 shows each run's progress bar, 0 none; a line per run
            is printed either way (a log of the study's order).

    Returns:
        The records, in run order.
    """
    paths = paths or StudyPaths(study.name)
    plan = study.runs(seeds, variants)
    # Check every existing record first: a corrupt one stops the study
    # before anything trains.
    existing = {
        (v, s): read_record(paths.record(v, s))
        for v, s in plan
        if paths.record(v, s).exists()
    }
    records = []
    for number, (variant, seed) in enumerate(plan, 1):
        key = study.key(variant, seed)
        record = existing.get((variant, seed))
        done = record is not None and record["key"] == key
        state = "recorded" if done else "training"
        print(f"[{number}/{len(plan)}] {variant} seed {seed}: {state}", flush=True)
        if done:
            records.append(record)
            continue
        records.append(run_one(study, paths, variant, seed, verbose))
    return records


def run_one(study, paths, variant, seed, verbose=1):
    """Trains (or resumes) one run, probes it and writes its record. A run
    whose loss turns non-finite is recorded as diverged, not retried."""
    recipe = get(study.recipe_of(variant))
    config = study.config(variant, seed)
    key = study.key(variant, seed)
    out = paths.run(variant, seed, key)
    out.mkdir(parents=True, exist_ok=True)
    pid_file = out / "study.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    sittings_path = out / "sittings.json"
    sittings = (
        read_json(sittings_path, "sittings file") if sittings_path.exists() else []
    )
    # Written now: a sitting that is killed is still counted.
    sittings.append({"machine": machine_info(), "wall_seconds": None})
    write_json(sittings_path, sittings)
    clock = time.perf_counter()

    def note_wall():
        sittings[-1]["wall_seconds"] = round(time.perf_counter() - clock, 1)
        write_json(sittings_path, sittings)

    try:
        trainer = None
        if not _ended(out):  # else only the record is missing
            history = CoverageHistory(
                out / "coverage.json",
                config.dataset,
                study.history_every,
                study.history_n,
            )

            timeline = Timeline(
                out / "timeline.json",
                recipe.evaluator(config) if study.timeline_seconds else None,
                study.timeline_seconds,
                study.budget_seconds,
            )

            def hook(trainer, progress):
                history(trainer, progress)
                timeline(trainer, progress)
                note_wall()  # a sitting killed later keeps its time so far

            try:
                trainer = finish(
                    recipe,
                    config,
                    out,
                    budget_seconds=study.budget_seconds,
                    hook=hook,
                    verbose=verbose,
                )
            except NonFiniteLossError as error:
                write_json(out / "diverged.json", {"error": str(error)})
        note_wall()
        record = make_record(study, variant, seed, key, config, out, sittings)
        if study.probes and record["spent"]["status"] != "diverged":
            if trainer is None:
                trainer = keras.saving.load_model(out / recipe.trainer_file)
            record["probes"] = run_probes(study, paths, variant, seed, trainer, config)
            for result in record["probes"].values():  # scalars are metrics too
                record["metrics"].update(
                    {k: v for k, v in result.items() if isinstance(v, (int, float))}
                )
    finally:
        pid_file.unlink(missing_ok=True)
    return write_record(paths, record, samples=out / "samples" / "final.png")


def _ended(out):
    summary = out / "run.json"
    if summary.exists() and read_json(summary, "run summary")["status"] in ENDED:
        return True
    return (out / "diverged.json").exists()


def run_probes(study, paths, variant, seed, trainer, config):
    """Each probe's results; the images a probe returns are saved as PNGs in
    `results/<study>/probes/` and named in its results."""
    results = {}
    for probe in study.probes:
        result = dict(probe(trainer, config))
        images = result.pop("images", {})
        for name, image in images.items():
            path = paths.folder / "probes" / f"{variant}_s{seed}_{name}.png"
            save_png(image, path)
            result.setdefault("images", {})[name] = str(path.relative_to(paths.folder))
        results[probe.__name__] = result
    return results


def make_record(study, variant, seed, key, config, out, sittings):
    """The record of the finished run in `out`: config, budget and spend,
    machine, metrics, coverage history, thinned curves."""
    losses = read_rows(out / "losses.csv")
    if (out / "diverged.json").exists():
        state_path = out / "checkpoint" / "state.json"
        state = read_json(state_path, "checkpoint state") if state_path.exists() else {}
        summary = {
            "status": "diverged",
            "error": read_json(out / "diverged.json", "divergence note")["error"],
            "step": int(losses[-1]["step"]) if losses else 0,
            "training_seconds": state.get("seconds", 0.0),
            "compile_seconds": sum(c["seconds"] for c in state.get("compiles", [])),
        }
    else:
        summary = read_json(out / "run.json", "run summary")
    history_path = out / "coverage.json"
    history = (
        read_json(history_path, "coverage history") if history_path.exists() else []
    )
    timeline_path = out / "timeline.json"
    timeline = read_json(timeline_path, "timeline") if timeline_path.exists() else []
    metrics = {}
    if (out / "metrics.json").exists():
        metrics.update(read_json(out / "metrics.json", "metrics file"))
    metrics.update(loss_measures(losses))
    metrics.update(history_measures(history))
    metrics["training_seconds"] = summary["training_seconds"]
    metrics["seconds_per_step"] = summary["training_seconds"] / max(1, summary["step"])
    curves = {
        path.stem: thin_curve(read_rows(path))
        for path in sorted(out.glob("*.csv"))
        if path.name not in ("losses.csv", "metrics.csv")
    }
    return {
        "study": study.name,
        "variant": variant,
        "seed": seed,
        "key": key,
        "protocol": study.protocol(variant),
        "config": dataclasses.asdict(config),
        "budget": {
            "steps": getattr(config, "steps", None),
            "seconds": study.budget_seconds,
        },
        "spent": {
            "status": summary["status"],
            **({"error": summary["error"]} if "error" in summary else {}),
            "steps": summary["step"],
            "training_seconds": summary["training_seconds"],
            "compile_seconds": summary["compile_seconds"],
            "wall_seconds": sum(s["wall_seconds"] or 0 for s in sittings),
            "sittings": len(sittings),
        },
        "machine": sittings[-1]["machine"],
        "metrics": metrics,
        "history": history,
        **({"timeline": timeline} if timeline else {}),
        "losses": thin_curve(losses),
        "curves": curves,
    }
