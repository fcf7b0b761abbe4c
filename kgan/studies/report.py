"""What a study has found, from its records alone: the status of its runs,
`summary.json`, the figures and `README.md` of `results/<study>/`."""

import os

import numpy as np

from kgan.files import atomic_path, read_json, write_json
from kgan.studies.figures import plot_study
from kgan.studies.metrics import BETTER, finite, time_to_reach
from kgan.studies.records import StudyPaths, read_record


def run_state(study, paths, variant, seed):
    """`(state, seconds spent, fraction done)` of one run: done, running
    (a live process holds it), interrupted (a run folder, nobody on it),
    stale (a record of another config) or to do."""
    key = study.key(variant, seed)
    record_path = paths.record(variant, seed)
    if record_path.exists():
        record = read_record(record_path)
        if record["key"] == key:
            return "done", record["spent"]["wall_seconds"], 1.0
    out = paths.run(variant, seed, key)
    state_path = out / "checkpoint" / "state.json"
    spent, fraction = 0.0, 0.0
    if state_path.exists():
        state = read_json(state_path, "checkpoint state")
        spent = state.get("seconds", 0.0)
        config = study.config(variant, seed)
        if study.budget_seconds:
            fraction = spent / study.budget_seconds
        elif getattr(config, "steps", None):
            fraction = state.get("step", 0) / config.steps
    pid_file = out / "study.pid"
    if pid_file.exists() and _alive(int(pid_file.read_text() or 0)):
        return "running", spent, fraction
    if out.exists():
        return "interrupted", spent, fraction
    return ("stale" if record_path.exists() else "to do"), 0.0, 0.0


def _alive(pid):
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return pid > 0


def study_status(study, paths=None):
    """One row per run (variant, seed, state, minutes spent) and an estimate
    of the time left, from the finished runs' wall time."""
    paths = paths or StudyPaths(study.name)
    rows = [
        (variant, seed, *run_state(study, paths, variant, seed))
        for variant, seed in study.runs()
    ]
    done = [spent for _, _, state, spent, _ in rows if state == "done"]
    per_run = float(np.mean(done)) if done else None
    left = None
    if per_run is not None:
        left = sum(
            per_run * (1 - fraction)
            for *_, state, _, fraction in rows
            if state != "done"
        )
    return rows, left


def format_status(study, paths=None):
    rows, left = study_status(study, paths)
    lines = [
        f"study {study.name}: {sum(r[2] == 'done' for r in rows)}/{len(rows)} runs done"
    ]
    for variant, seed, state, spent, fraction in rows:
        detail = f"{spent / 60:.1f} min" if spent else ""
        if state in ("running", "interrupted"):
            detail += f", {fraction:.0%} of its budget"
        lines.append(f"  {variant:<24} seed {seed:<3} {state:<12} {detail}")
    if left is None:
        lines.append("time left: unknown until a run has finished")
    else:
        lines.append(f"time left: about {left / 3600:.1f} h at the finished runs' pace")
    return "\n".join(lines)


def describe_machine(machine):
    """One line naming a record's machine (or why it was not recorded)."""
    if machine.get("cpu") is None:
        return machine.get("note", "not recorded")
    return (
        f"{machine['cpu']} ({', '.join(machine['vector_extensions'])}; "
        f"usable cores {machine['usable_cores']})"
    )


def describe(values):
    values = [float(v) for v in values]
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else None,
        "n": len(values),
        "values": values,
    }


def verdict(differences, better, name_a, name_b):
    """Which of two variants is better on a metric, from the per-seed
    differences a - b: a verdict only where at least 3 seeds agree in sign
    and the mean difference exceeds their sample std; else "unclear"."""
    d = np.asarray(differences, np.float64)
    if len(d) < 3:
        return f"unclear (n={len(d)} < 3)"
    if np.any(d == 0):
        return "unclear (no difference on some seeds)"
    if not (np.all(d > 0) or np.all(d < 0)):
        return "unclear (seeds disagree)"
    if abs(d.mean()) <= d.std(ddof=1):
        return "unclear (spread > difference)"
    a_higher = d.mean() > 0
    if better is None:
        return f"{name_a} {'higher' if a_higher else 'lower'}"
    a_better = a_higher == (better == "higher")
    return f"{name_a if a_better else name_b} better"


def compare_pair(by_variant, a, b, metrics):
    """Per metric: ratios a/b per seed (geometric mean and its spread
    factor), differences (mean and sample std) and the verdict."""
    seeds = sorted(set(by_variant.get(a, {})) & set(by_variant.get(b, {})))
    result = {"variant": a, "baseline": b, "seeds": seeds, "metrics": {}}
    for metric in metrics:
        pairs = [
            (
                by_variant[a][s]["metrics"].get(metric),
                by_variant[b][s]["metrics"].get(metric),
            )
            for s in seeds
        ]
        pairs = [(x, y) for x, y in pairs if finite(x) and finite(y)]
        if not pairs:
            continue
        differences = [x - y for x, y in pairs]
        entry = {
            "difference": describe(differences),
            "verdict": verdict(differences, BETTER.get(metric), a, b),
        }
        if all(x > 0 and y > 0 for x, y in pairs):
            logs = np.log([x / y for x, y in pairs])
            entry["ratio_geomean"] = float(np.exp(logs.mean()))
            entry["ratio_spread"] = (
                float(np.exp(logs.std(ddof=1))) if len(logs) > 1 else None
            )
        result["metrics"][metric] = entry
    return result


def compare_times(by_variant, a, b, metric):
    """Per seed, how much faster `a` reached the best `metric` both runs
    reached (see `time_to_reach`); the geometric mean of the speedups with
    its spread, and a verdict on the log speedups."""
    seeds = sorted(set(by_variant.get(a, {})) & set(by_variant.get(b, {})))
    per_seed = {}
    for seed in seeds:
        result = time_to_reach(
            by_variant[a][seed].get("timeline", []),
            by_variant[b][seed].get("timeline", []),
            metric,
        )
        if result is not None and result["baseline_seconds"] is not None:
            per_seed[seed] = result
    logs = np.log([r["speedup"] for r in per_seed.values()])
    entry = {"per_seed": per_seed}
    if len(logs):
        entry["speedup_geomean"] = float(np.exp(logs.mean()))
        entry["speedup_spread"] = (
            float(np.exp(logs.std(ddof=1))) if len(logs) > 1 else None
        )
        # log speedup > 0 on every seed, beyond its spread: `a` was faster.
        entry["verdict"] = verdict(logs, "higher", a, b).replace(" better", " faster")
    return entry


def claim_verdict(comparison, metric, expect):
    """`supported`, `contradicted` or `unclear` for a claim that the variant
    is better than (or similar to) the baseline on `metric`."""
    entry = comparison["metrics"].get(metric)
    if entry is None:
        return "no records"
    said = entry["verdict"]
    if expect == "similar":
        if said.startswith("unclear (n="):
            return said
        return (
            "supported (no difference the seeds agree on)"
            if said.startswith("unclear")
            else f"contradicted ({said})"
        )
    if said.startswith("unclear"):
        return said
    return (
        "supported"
        if said == f"{comparison['variant']} better"
        else f"contradicted ({said})"
    )


def summarise(study, records):
    by_variant = {}
    for record in records:
        by_variant.setdefault(record["variant"], {})[record["seed"]] = record
    metrics = list(study.record)
    variants = {
        name: {
            metric: describe(values)
            for metric in metrics
            if (
                values := [
                    r["metrics"][metric]
                    for r in runs.values()
                    if finite(r["metrics"].get(metric))
                ]
            )
        }
        | {"seeds": sorted(runs)}
        for name, runs in by_variant.items()
    }
    comparisons = [compare_pair(by_variant, a, b, metrics) for a, b in study.compare]
    for comparison in comparisons:
        a, b = comparison["variant"], comparison["baseline"]
        comparison["time_to_reach"] = {
            metric: compare_times(by_variant, a, b, metric) for metric in study.reach
        }
    claims = []
    for claim, metric, a, b, *expect in study.claims:
        comparison = compare_pair(by_variant, a, b, [metric])
        claims.append(
            {
                "claim": claim,
                "metric": metric,
                "variant": a,
                "baseline": b,
                "verdict": claim_verdict(comparison, metric, (expect or ["better"])[0]),
            }
        )
    machines = sorted({describe_machine(r["machine"]) for r in records})
    return {
        "study": study.name,
        "recipe": study.recipe,
        "base": study.base,
        "budget_seconds": study.budget_seconds,
        "better": {m: BETTER.get(m) for m in metrics},
        "variants": variants,
        "comparisons": comparisons,
        "claims": claims,
        "machines": machines,
        "records": [f"records/{r['variant']}_s{r['seed']}.json" for r in records],
    }


def load_records(study, paths):
    """The study's records of its current keys (a record of another config
    or protocol is left out of the report: it is stale)."""
    records = []
    for variant, seed in study.runs():
        path = paths.record(variant, seed)
        if path.exists():
            record = read_record(path)
            if record["key"] == study.key(variant, seed):
                records.append(record)
    return records


def study_table(study, paths=None):
    """Rebuilds `summary.json`, the figures and `README.md` of the study from
    its records alone; returns the summary."""
    paths = paths or StudyPaths(study.name)
    records = load_records(study, paths)
    if not records:
        raise ValueError(
            f"Study {study.name!r} has no records of its current configs yet; "
            f"run `kgan study run {study.name}` first. "
            f"Received: records={paths.folder / 'records'}"
        )
    summary = summarise(study, records)
    figures = plot_study(study, records, paths.folder)
    summary["figures"] = figures
    write_json(paths.folder / "summary.json", summary)
    with atomic_path(paths.folder / "README.md") as partial:
        partial.write_text(markdown_report(study, summary, records))
    return summary


def preset_settings(study):
    from kgan.recipes import get

    return get(study.recipe).presets[study.preset]


def _cell(stats):
    if stats is None:
        return ""
    spread = "" if stats["std"] is None else f" ± {stats['std']:.3g}"
    return f"{stats['mean']:.4g}{spread} (n={stats['n']})"


def markdown_report(study, summary, records):
    variants = list(summary["variants"])
    lines = [
        f"# Study `{study.name}`",
        "",
        "Built by `kgan study table " + study.name + "` from the records in "
        "`records/`; do not edit by hand.",
        "",
    ]
    if study.description:
        lines += [study.description.strip(), ""]
    steps = sorted({r["budget"]["steps"] for r in records})
    if study.budget_seconds:
        budget = f"{study.budget_seconds:g} training seconds per run"
    elif len(steps) == 1:
        budget = f"{steps[0]:,} steps per run"
    else:
        budget = "the steps of each variant's config"
    lines += [
        "## Protocol",
        "",
        f"- recipe `{study.recipe}`, {budget} (compilation off the clock), "
        f"seeds {list(study.seeds)}; within each seed the variants ran one after "
        "the other, in the order below",
        *(
            [f"- the recipe's preset `{study.preset}`: `{preset_settings(study)}`"]
            if study.preset
            else []
        ),
        f"- shared settings: `{summary['base']}`",
        *[f"- variant `{v}`: `{study.variants[v]}`" for v in variants],
        *[f"- machine: {m}" for m in summary["machines"]],
        "- mean ± sample std (ddof 1) over seeds; n = seeds recorded",
        "",
        "## Results",
        "",
        "| metric (better) | " + " | ".join(variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for metric, better in summary["better"].items():
        cells = [_cell(summary["variants"][v].get(metric)) for v in variants]
        if any(cells):
            lines.append(f"| {metric} ({better or '?'}) | " + " | ".join(cells) + " |")
    spent = {
        v: describe(
            [r["spent"]["training_seconds"] for r in records if r["variant"] == v]
        )
        for v in variants
    }
    lines.append(
        "| training seconds | " + " | ".join(_cell(spent[v]) for v in variants) + " |"
    )
    for comparison in summary["comparisons"]:
        a, b = comparison["variant"], comparison["baseline"]
        lines += [
            "",
            f"### `{a}` against `{b}` (seeds {comparison['seeds']})",
            "",
            "| metric | ratio, geometric mean (×/÷ spread) "
            "| difference, mean ± std | verdict |",
            "|---|---|---|---|",
        ]
        for metric, entry in comparison["metrics"].items():
            ratio = ""
            if "ratio_geomean" in entry:
                spread = entry["ratio_spread"]
                ratio = f"{entry['ratio_geomean']:.3g}" + (
                    "" if spread is None else f" ×/÷ {spread:.3g}"
                )
            lines.append(
                f"| {metric} | {ratio} | {_cell(entry['difference'])} "
                f"| {entry['verdict']} |"
            )
        for metric, entry in comparison.get("time_to_reach", {}).items():
            if "speedup_geomean" not in entry:
                continue
            spread = entry["speedup_spread"]
            lines.append(
                f"| time to reach the best {metric} both reach (speedup) "
                f"| {entry['speedup_geomean']:.3g}"
                + ("" if spread is None else f" ×/÷ {spread:.3g}")
                + f" | seeds {sorted(entry['per_seed'])} | {entry['verdict']} |"
            )
    if summary["claims"]:
        lines += [
            "",
            "## The paper's claims",
            "",
            "| claim | metric | verdict |",
            "|---|---|---|",
        ]
        for claim in summary["claims"]:
            lines.append(
                f"| {claim['claim']} (`{claim['variant']}` vs `{claim['baseline']}`) "
                f"| {claim['metric']} | {claim['verdict']} |"
            )
    if summary["figures"]:
        lines += ["", "## Figures", ""]
        lines += [f"![{name}]({name})" for name in summary["figures"]]
    probe_images = [
        (r["variant"], r["seed"], name, path)
        for r in records
        for result in r.get("probes", {}).values()
        for name, path in result.get("images", {}).items()
    ]
    if probe_images:
        lines += ["", "## Probe images", ""]
        lines += [
            f"- `{variant}` seed {seed}, {name}: [{path}]({path})"
            for variant, seed, name, path in probe_images
        ]
    lines += ["", "## Records", ""]
    lines += [f"- [{path}]({path})" for path in summary["records"]]
    return "\n".join(lines) + "\n"
