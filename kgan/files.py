"""Atomic file writes: readers see the old file or the complete new one."""

import contextlib
import json
import os
import pathlib


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` to write to, then renames it.

    The temporary name keeps the file's extension (`partial_<name>`), so
    writers that check it (`.keras`, `.weights.h5`, `.png`) accept it. If the
    write raises, the temporary file is removed and `path` is left as it was.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("partial_" + path.name)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_json(path, value, indent=2):
    """Writes `value` as JSON to `path` atomically (the one JSON writer of
    kgan: a reader sees the old file or the whole new one)."""
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(value, indent=indent) + "\n")


def read_json(path, what="file"):
    """The JSON value in `path`; a missing, truncated or corrupt file raises
    one `ValueError` line that names it."""
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"The {what} {path} is truncated or corrupt: {error}. Received: path={path}"
        ) from error
