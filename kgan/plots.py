"""Matplotlib without a screen, and figures written atomically."""

from kgan.files import atomic_path


def pyplot():
    """`matplotlib.pyplot` on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path, dpi=100):
    """Writes `figure` to `path` (write-then-rename) and closes it."""
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=dpi)
    pyplot().close(figure)
