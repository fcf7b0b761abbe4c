"""One-off: the 16 records of scripts/reproduce_pggan.py as records of the
pggan study: same runs, same numbers, no rerun."""

import dataclasses
import json
import pathlib

from kgan.studies import StudyPaths, load_study
from kgan.studies.records import write_record

SHORT = {"mnist": "mnist", "fashion_mnist": "fashion"}
NOTE = (
    "not recorded by scripts/reproduce_pggan.py, whose summary said 'x86_64 CPU, "
    "1 cores' (the developers' 2-core machine, one run per core)"
)

study = load_study("pggan")
paths = StudyPaths(study.name)
for path in sorted(paths.folder.glob("*_s[0-9].json")):
    old = json.loads(path.read_text())
    variant = f"{SHORT[old['dataset']]}_{old['variant']}"
    seed = old["seed"]
    config = study.config(variant, seed)
    protocol = old["protocol"]
    assert protocol["minutes"] * 60 == study.budget_seconds
    assert protocol["eval_every_minutes"] * 60 == study.timeline_seconds
    assert protocol["eval_n"] == config.eval_n and protocol["ema"] == config.ema
    assert protocol["images"] == config.train_images
    assert protocol["phase_kimg"] == config.lod_training_kimg == config.lod_transition_kimg
    assert (protocol["fmap_base"], protocol["fmap_max"]) == (config.fmap_base, config.fmap_max)
    assert set(config.batch_sizes.values()) == {protocol["batch_size"]}
    timeline = old["timeline"]
    final = timeline[-1]
    metrics = {k: v for k, v in final.items() if k.startswith(("swd_", "raw_", "ms_ssim"))}
    metrics["training_seconds"] = old["training_seconds"]
    record = {
        "study": study.name, "variant": variant, "seed": seed,
        "key": study.key(variant, seed), "protocol": study.protocol(variant),
        "config": dataclasses.asdict(config),
        "budget": {"steps": None, "seconds": study.budget_seconds},
        "spent": {"status": "budget", "steps": None,
                  "training_seconds": old["training_seconds"],
                  "compile_seconds": old["compile_seconds"],
                  "wall_seconds": None, "sittings": None},
        "machine": {"cpu": None, "vector_extensions": None, "usable_cores": None,
                    "note": NOTE},
        "metrics": metrics, "history": [], "timeline": timeline, "losses": [],
        "losses_thinning": "not kept", "curves": {}, "compiles": old["compiles"],
        "migrated_from": f"results/pggan/{path.name} (scripts/reproduce_pggan.py)",
    }
    write_record(paths, record)
    print("migrated", path.name, "->", variant, seed)
