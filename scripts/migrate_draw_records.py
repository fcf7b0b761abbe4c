"""One-off: the records of scripts/reproduce_draw.py (results/draw/*.json)
and scripts/ablate_draw.py (results/draw_ablation/*.json) as records of the
draw and draw_ablation studies: same runs, same numbers, no rerun."""

import dataclasses
import json
import pathlib
import shutil

from kgan.files import write_json
from kgan.studies import StudyPaths, load_study
from kgan.studies.metrics import loss_measures
from kgan.studies.records import write_record

MACHINE = (
    "not recorded by scripts/{script}, whose summary said 'x86_64 CPU, 2 cores' "
    "(os.cpu_count(), blind to taskset: the developers' 2-core machine)"
)


def curve_rows(curve):
    if not curve:
        return []
    return [
        {"step": s, "d_loss": d, "g_loss": g}
        for s, d, g in zip(curve["step"], curve["d_loss"], curve["g_loss"], strict=True)
    ]


def new_record(study, variant, old, script, probes):
    config = study.config(variant, 0)
    assert old["steps"] == config.steps, (variant, old["steps"], config.steps)
    settings = {k: v for k, v in old["settings"].items() if k not in ("model", "epochs")}
    for field, value in settings.items():
        assert getattr(config, field) == value, (variant, field)
    rows = curve_rows(old.get("losses"))
    window = old["losses"]["window"] if old.get("losses") else None
    metrics = {k: v for k, v in old.items() if k in (
        "n", "frechet_distance", "kid", "classifier_score", "classes_covered",
        "kl_uniform", "confident_share", "ms_ssim", "sharpness") or k.startswith("swd_")}
    if rows:  # window means of `window` steps: measures in whole windows
        measures = {}
        for key in ("d_loss", "g_loss"):
            values = [r[key] for r in rows]
            from kgan.studies.metrics import window_std, TAIL
            import numpy as np
            tail = values[-int(round(TAIL * len(values))):]
            measures[f"{key}_tail_mean"] = float(np.mean(tail))
            if 500 % window == 0:  # whole 500-step windows of window means
                measures[f"{key}_window_std"] = window_std(values, window=500 // window)
        metrics.update(measures)
    metrics["training_seconds"] = old["train_seconds"]
    metrics["seconds_per_step"] = old["train_seconds"] / old["steps"]
    return {
        "study": study.name, "variant": variant, "seed": 0,
        "key": study.key(variant, 0), "protocol": study.protocol(variant),
        "config": dataclasses.asdict(config),
        "budget": {"steps": config.steps, "seconds": None},
        "spent": {"status": "finished", "steps": old["steps"],
                  "training_seconds": old["train_seconds"], "compile_seconds": None,
                  "wall_seconds": old["sitting_seconds"], "sittings": None},
        "machine": {"cpu": None, "vector_extensions": None, "usable_cores": None,
                    "note": MACHINE.format(script=script)},
        "metrics": metrics, "history": [], "losses": rows,
        "losses_thinning": f"means of {window}-step windows" if window else "not kept",
        "curves": {}, "probes": probes,
        "migrated_from": f"{old['run']} ({script})",
    }


def draw_probes(old, suffix, paths, variant):
    probes = {"sample_sharpness": {"sharpness": old["sharpness"]}}
    if "probes" not in old:
        return probes | {"draw_steps": {}, "draw_z_conditions": {}}
    figures = paths.folder / "probes"
    figures.mkdir(parents=True, exist_ok=True)
    images = {}
    for name, source in (("steps", f"draw_steps_{suffix}.png"),
                         ("z", f"draw_z_conditions_{suffix}.png")):
        target = figures / f"{variant}_s0_{name}.png"
        shutil.copyfile(pathlib.Path("results") / source, target)
        images[name] = str(target.relative_to(paths.folder))
    old_probes = old["probes"]
    conditions = {k: v for k, v in old_probes["z_conditions"].items()
                  if "identical_images" not in v}
    probes["draw_steps"] = {
        "step_influence": old_probes["step_influence"], **old_probes["writes"],
        "images": {"steps": images["steps"]}}
    probes["draw_z_conditions"] = {
        "conditions": conditions, "order": list(old_probes["z_conditions"]),
        "images": {"z": images["z"]}}
    return probes


draw = load_study("draw")
paths = StudyPaths(draw.name)
for variant in ("draw_5x5", "draw_4x4", "mlp_gan", "draw_5x5_bare"):
    old = json.loads((paths.folder / f"{variant}.json").read_text())
    suffix = variant[len("draw_"):]
    record = new_record(draw, variant, old, "reproduce_draw.py",
                        draw_probes(old, suffix, paths, variant))
    grid = paths.folder / f"{variant}_samples.png"
    write_record(paths, record, samples=grid if grid.exists() else None)
    first = paths.folder / f"{variant}_first_run.json"
    if first.exists():
        repeat = json.loads(first.read_text())
        repeat.setdefault("sharpness", None)
        record = new_record(draw, variant, repeat, "reproduce_draw.py",
                            {"sample_sharpness": {"sharpness": repeat["sharpness"]}})
        write_json(paths.folder / "records" / "repeats" / f"{variant}_s0_first_run.json",
                   record)
    print("migrated", variant)

ablation = load_study("draw_ablation")
paths = StudyPaths(ablation.name)
for variant in ablation.variants:
    old = json.loads((paths.folder / f"{variant}.json").read_text())
    record = new_record(ablation, variant, old, "ablate_draw.py",
                        {"sample_sharpness": {"sharpness": old["sharpness"]}})
    write_record(paths, record, samples=paths.folder / f"{variant}_samples.png")
    print("migrated ablation", variant)
