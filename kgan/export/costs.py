"""Where a Keras network's parameters and multiply-accumulates sit, layer by layer."""

import re

import keras
import numpy as np


def layer_macs(layer):
    """Multiply-accumulates of one sample through `layer` (0 for layers
    without a kernel), counted as TFLite counts them (`model_macs`)."""
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
        kh, kw = layer.kernel_size
        channels_in = int(layer.input.shape[-1])
        # A transposed convolution applies its kernel at every input pixel.
        transposed = isinstance(layer, keras.layers.Conv2DTranspose)
        pixels = (layer.input if transposed else layer.output).shape[1:3]
        return int(np.prod(pixels)) * kh * kw * channels_in * layer.filters
    if isinstance(layer, keras.layers.Dense):
        rows = int(np.prod(layer.output.shape[1:-1]))
        return rows * int(layer.input.shape[-1]) * layer.units
    return 0


def layer_costs(model):
    """One row per layer with weights: `{"layer", "type", "parameters",
    "macs"}`, in the model's order."""
    return [
        {
            "layer": layer.name,
            "type": type(layer).__name__,
            "parameters": layer.count_params(),
            "macs": layer_macs(layer),
        }
        for layer in model.layers
        if layer.weights
    ]


def part_of(layer_name):
    """The part a layer belongs to, by its name up to the first `_`
    (`block3_1_conv` -> `block3`)."""
    return layer_name.split("_", 1)[0]


def family_of(layer_name):
    """The part without its number (`block3_1_conv` -> `block`): all
    residual blocks together, all down-sampling layers together."""
    return re.sub(r"\d+$", "", part_of(layer_name))


def cost_shares(model, parts=None):
    """Parameters and MACs summed per part, with their shares of the total.

    Args:
        model: A built functional Keras model.
        parts: Optional `fn(layer name) -> part`; `part_of` by default.

    Returns:
        `{part: {"parameters", "macs", "parameter_share", "mac_share"}}` in
        the order the parts first appear.
    """
    parts = parts or part_of
    rows = layer_costs(model)
    totals = {key: sum(row[key] for row in rows) or 1 for key in ("parameters", "macs")}
    shares = {}
    for row in rows:
        part = shares.setdefault(parts(row["layer"]), {"parameters": 0, "macs": 0})
        part["parameters"] += row["parameters"]
        part["macs"] += row["macs"]
    for part in shares.values():
        part["parameter_share"] = part["parameters"] / totals["parameters"]
        part["mac_share"] = part["macs"] / totals["macs"]
    return shares


def format_cost_table(model):
    """A printable table: one line per layer with weights, one per part,
    and the total."""
    rows = layer_costs(model)
    total_parameters = sum(r["parameters"] for r in rows) or 1
    total_macs = sum(r["macs"] for r in rows) or 1
    header = (
        f"{'layer':<24} {'type':<20} {'parameters':>12} {'%':>6} {'MACs':>14} {'%':>6}"
    )
    lines = [header, "-" * len(header)]

    def line(name, kind, parameters, macs):
        return (
            f"{name:<24} {kind:<20} {parameters:>12,} "
            f"{100 * parameters / total_parameters:>6.1f} {macs:>14,} "
            f"{100 * macs / total_macs:>6.1f}"
        )

    for r in rows:
        lines.append(line(r["layer"], r["type"], r["parameters"], r["macs"]))
    for title, parts in (
        ("by part (name up to the first '_')", part_of),
        ("by family (the part without its number)", family_of),
    ):
        lines += ["", title + ":"]
        for part, cost in cost_shares(model, parts).items():
            lines.append(line(part, "", cost["parameters"], cost["macs"]))
    lines.append(line("total", "", total_parameters, total_macs))
    return "\n".join(lines)


def format_cost_comparison(before, after):
    """A printable table of each layer's parameters and MACs in `before`
    and in `after` (a slimmed copy with the same layer names; a layer it
    lacks, such as a dropped residual block's, shows as 0), with the
    totals and their ratios."""
    rows_after = {row["layer"]: row for row in layer_costs(after)}
    header = (
        f"{'layer':<24} {'parameters':>12} {'after':>12} {'MACs':>14} "
        f"{'after':>14} {'MACs x':>7}"
    )
    lines = [header, "-" * len(header)]

    def line(name, parameters, kept_parameters, macs, kept_macs):
        ratio = f"{macs / kept_macs:>7.1f}" if kept_macs else f"{'gone':>7}"
        return (
            f"{name:<24} {parameters:>12,} {kept_parameters:>12,} {macs:>14,} "
            f"{kept_macs:>14,} {ratio}"
        )

    totals = [0, 0, 0, 0]
    for row in layer_costs(before):
        kept = rows_after.get(row["layer"], {"parameters": 0, "macs": 0})
        values = (row["parameters"], kept["parameters"], row["macs"], kept["macs"])
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        lines.append(line(row["layer"], *values))
    lines.append(line("total", *totals))
    return "\n".join(lines)
