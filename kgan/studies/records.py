"""A study's records: one JSON file per finished run, keyed by its config."""

import dataclasses
import os
import pathlib
import shutil

from kgan.files import read_json, write_json
from kgan.studies.study import record_key

# What every record holds, checked when it is read.
RECORD_FIELDS = ("study", "variant", "seed", "key", "config", "protocol", "metrics")


def run_name(variant, seed):
    return f"{variant}_s{seed}"


@dataclasses.dataclass(frozen=True)
class StudyPaths:
    """Where a study keeps its records and its runs.

    Args:
        name: The study's name.
        results: The results folder (records in `results/<name>/records/`).
        runs: The runs folder (run folders in `runs/<name>/`).
    """

    name: str
    results: pathlib.Path = pathlib.Path("results")
    runs: pathlib.Path = pathlib.Path("runs")

    @property
    def folder(self):
        return pathlib.Path(self.results) / self.name

    def record(self, variant, seed):
        return self.folder / "records" / f"{run_name(variant, seed)}.json"

    def samples(self, variant, seed):
        return self.folder / "samples" / f"{run_name(variant, seed)}.png"

    def run(self, variant, seed, key):
        return (
            pathlib.Path(self.runs) / self.name / f"{run_name(variant, seed)}_{key[:8]}"
        )

    def records(self):
        return sorted((self.folder / "records").glob("*.json"))


def read_record(path):
    """A record, checked: whole, complete, and written by the config it holds
    (its key is the hash of that config and protocol). Any fault is one
    `ValueError` line that names the file; a faulty record is never reused."""
    record = read_json(path, "record")
    missing = [
        k for k in RECORD_FIELDS if not isinstance(record, dict) or k not in record
    ]
    if missing:
        raise ValueError(
            f"The record {path} lacks {missing}; it is not a study record. "
            f"Move it away to rerun it. Received: path={path}"
        )
    key = record_key(record["config"], record["protocol"])
    if key != record["key"]:
        raise ValueError(
            f"The record {path} was not written by the config it holds (its "
            f"key is {record['key']}, its config hashes to {key}). Move it "
            f"away to rerun it. Received: key={record['key']}"
        )
    expected = pathlib.Path(path).stem
    if run_name(record["variant"], record["seed"]) != expected:
        raise ValueError(
            f"The record {path} is of another run. "
            f"Received: variant={record['variant']!r}, seed={record['seed']}"
        )
    return record


def write_record(paths, record, samples=None):
    """Writes a run's record (and copies its sample grid beside it). An older
    record of the same run, of another key, is moved to `records/stale/`
    first, so nothing is overwritten without a trace."""
    path = paths.record(record["variant"], record["seed"])
    if path.exists():
        old = read_json(path, "record")
        old_key = old.get("key", "unknown") if isinstance(old, dict) else "unknown"
        if old_key != record["key"]:
            stale = path.parent / "stale" / f"{path.stem}_{old_key[:8]}.json"
            stale.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, stale)
    if samples is not None and pathlib.Path(samples).exists():
        grid = paths.samples(record["variant"], record["seed"])
        grid.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(samples, grid)
        record = {**record, "samples": str(grid.relative_to(paths.folder))}
    write_json(path, record)
    return record
