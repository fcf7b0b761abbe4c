"""The run folder: its settings file, and the checks that keep a resumed run
on the settings it started with."""

import dataclasses
import json
import pathlib

from kgan.files import atomic_path


def run_settings(model, config):
    """What `config.json` holds: the model's name and every config field."""
    return {"model": model, **dataclasses.asdict(config)}


def prepare_run_folder(out, model, config, resume):
    """Creates the folder `out` with its `config.json`, or checks that a
    resumed run keeps the settings it started with.

    Args:
        out: The run folder.
        model: The recipe's name.
        config: The run's config dataclass.
        resume: Whether an existing run in `out` is to be continued.

    Returns:
        The folder as a `pathlib.Path`.
    """
    out = pathlib.Path(out)
    config_path = out / "config.json"
    current = run_settings(model, config)
    if config_path.exists():
        if not resume:
            raise ValueError(
                f"{out} already holds a run. Pass --resume to continue it or choose "
                f"another --out. Received: out={out}"
            )
        saved = json.loads(config_path.read_text())
        saved.setdefault("model", model)
        changed = {
            k: (saved.get(k), v) for k, v in current.items() if saved.get(k) != v
        }
        if changed:
            raise ValueError(
                "A resumed run must keep its settings; these differ from "
                f"{config_path} (saved, given). Received: {changed}"
            )
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(config_path) as partial:
        partial.write_text(json.dumps(current, indent=2) + "\n")
    return out
