"""Atomic file writes: readers see the old file or the complete new one."""

import contextlib
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
