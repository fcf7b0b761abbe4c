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


def plot_runs(axes, runs, keys, **style):
    """One line per run on each axis, one colour (and legend entry) per group.

    Args:
        axes: One matplotlib axis per key.
        runs: `(group, xs, rows)` per run: its group's name, the x values and
            one dict per x holding every key.
        keys: The key each axis shows.
        **style: Further `axis.plot` arguments.
    """
    colours = {}
    for group, xs, rows in runs:
        label = None if group in colours else group
        colour = colours.setdefault(group, f"C{len(colours)}")
        for axis, key in zip(axes, keys, strict=True):
            values = [row[key] for row in rows]
            axis.plot(xs, values, color=colour, label=label, **style)
