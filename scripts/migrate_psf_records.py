"""One-off: the 12 records of scripts/reproduce_psf.py (results/psf/*.json)
as records of the psf_width05 study, same runs and numbers."""

import dataclasses, json, pathlib, shutil
from kgan.studies import StudyPaths, load_study
from kgan.studies.metrics import history_measures
from kgan.studies.records import write_record

study = load_study("psf_width05")
paths = StudyPaths(study.name)
old_dir = pathlib.Path("results/psf")
short = {"mnist": "mnist", "fashion_mnist": "fashion"}
for path in sorted(old_dir.glob("*_seed*.json")):
    old = json.loads(path.read_text())
    variant = f"{short[old['dataset']]}_{old['activation']}"
    seed = old["seed"]
    config = study.config(variant, seed)
    protocol = old["protocol"]
    assert protocol["width"] == config.width and protocol["steps"] == config.steps
    assert protocol["history_every"] == study.history_every and protocol["eval_n"] == study.history_n
    keep = ("n", "frechet_distance", "kid", "classifier_score", "classes_covered",
            "kl_uniform", "confident_share", "swd_mean", "ms_ssim",
            "d_loss_volatility", "g_loss_volatility")
    metrics = {k: old[k] for k in keep if k in old}
    metrics.update({k: v for k, v in old.items() if k.startswith("swd_")})
    metrics.update(history_measures(old["class_history"]))
    metrics["training_seconds"] = old["train_seconds"]
    metrics["seconds_per_step"] = old["train_seconds"] / protocol["steps"]
    record = {
        "study": study.name, "variant": variant, "seed": seed,
        "key": study.key(variant, seed), "protocol": study.protocol(),
        "config": dataclasses.asdict(config),
        "budget": {"steps": config.steps, "seconds": None},
        "spent": {"status": "finished", "steps": protocol["steps"],
                  "training_seconds": old["train_seconds"], "compile_seconds": None,
                  "wall_seconds": old["sitting_seconds"], "sittings": None},
        "machine": {"cpu": None, "vector_extensions": None, "usable_cores": None,
                    "note": "not recorded by scripts/reproduce_psf.py, whose summary "
                    "said 'x86_64 CPU, 1 cores' (the developers' 2-core machine, "
                    "one run per core)"},
        "metrics": metrics,
        "history": old["class_history"],
        "losses": old["losses"],
        "losses_thinning": "every 10th step (scripts/reproduce_psf.py)",
        "curves": {"alpha": old.get("alpha_history", [])} if "alpha_history" in old else {},
        "migrated_from": f"results/psf/{path.name} ({old['run']})",
    }
    final = old_dir / old["sample_grids"]["end"]
    write_record(paths, record, samples=final)
    print("migrated", path.name, "->", variant, seed)
