"""Pruning filters by their gates, and rebuilding a physically smaller network."""

import keras
import numpy as np

from kgan.compress.gates import CHANNEL_SUMS, gate_groups
from kgan.compress.graph import check_functional, topological

# Layers whose kernel maps input channels to filters.
_KERNEL_LAYERS = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)


def pruning_plan(model, threshold, min_filters=1):
    """Which filters of each gated convolution to keep.

    Args:
        model: A gated generator (see `add_gates`).
        threshold: Non-negative; filters with `|s| <= threshold` go. `0.0`
            removes exactly the filters whose gate is 0.
        min_filters: Filters kept in every layer at least (the largest
            `|s|`), so that no layer disappears.

    Returns:
        `{convolution name: sorted int array of kept filter indices}`; the
        convolutions of a channel group keep the same channels.
    """
    return round_plan(model, threshold, 1.0, min_filters)[0]


def round_plan(model, threshold, max_fraction, min_filters=1):
    """Which channels of a gated generator one round keeps.

    The channels whose `|s|` is at most `threshold` go, the smallest first,
    but no more than `max_fraction` of all gated channels (a channel group
    counts once; one at least), and every gate keeps its `min_filters`
    largest.

    Returns:
        `(plan, removed)`: `{convolution name: kept indices}` for
        `rebuild`, and how many channels go.
    """
    if not isinstance(min_filters, int) or min_filters < 1:
        raise ValueError(
            "`min_filters` must be a positive integer. "
            f"Received: min_filters={min_filters!r}"
        )
    if threshold < 0:
        raise ValueError(
            f"`threshold` must be non-negative. Received: threshold={threshold}"
        )
    groups = gate_groups(model)
    if not groups:
        raise ValueError(f"The model has no gates. Received: model={model.name}")
    scales = [np.abs(keras.ops.convert_to_numpy(g.scale.value)) for g, _ in groups]
    # The min_filters largest factors of each gate stay whatever they are.
    protected = [set(np.argsort(-s, kind="stable")[:min_filters]) for s in scales]
    candidates = sorted(
        (s[c], k, c)
        for k, s in enumerate(scales)
        for c in range(s.size)
        if s[c] <= threshold and c not in protected[k]
    )
    total = sum(s.size for s in scales)
    removed = candidates[: max(1, int(max_fraction * total))]
    gone = {(k, c) for _, k, c in removed}
    plan = {}
    for k, (_, convs) in enumerate(groups):
        kept = [c for c in range(scales[k].size) if (k, c) not in gone]
        plan.update(dict.fromkeys(convs, np.asarray(kept)))
    return plan, len(removed)


def rebuild(model, plan):
    """A physically smaller copy of `model` keeping only the planned filters.

    Every convolution in `plan` gets the kept filters (slices of its kernel
    and bias); every layer after it gets the matching input channels: the
    next convolutions' kernels, normalization statistics, gates, and the
    channels of concatenations (U-Net skips) shifted by their offset. The
    inputs of an `Add` must keep the same channels (a channel group, as
    `pruning_plan` keeps them).

    Args:
        model: A functional model (gated or not); it is not changed.
        plan: `{convolution name: kept filter indices}`, e.g. from
            `pruning_plan`.

    Returns:
        The smaller functional model, with the same layer names.
    """
    check_functional(model)
    names = {layer.name for layer in model.layers}
    unknown = sorted(set(plan) - names)
    if unknown:
        raise ValueError(
            f"The plan names layers the model lacks. Received: layers={unknown}"
        )
    for name, kept in plan.items():
        filters = model.get_layer(name).get_config().get("filters")
        kept = np.asarray(kept)
        if filters is None or kept.size == 0 or kept.min() < 0 or kept.max() >= filters:
            raise ValueError(
                "A plan keeps a non-empty set of existing filters of a "
                f"convolution. Received: {name}={kept.tolist()} (filters={filters})"
            )

    # Slice first: a graph that cannot be rebuilt fails before anything is built.
    weights = list(_sliced_weights(model, plan))

    def clone(layer):
        config = layer.get_config()
        if layer.name in plan:
            config["filters"] = len(plan[layer.name])
        if isinstance(layer, keras.layers.GroupNormalization) and config[
            "groups"
        ] == _channels(layer.input):
            config["groups"] = -1  # instance norm, at whatever width is kept
        return layer.__class__.from_config(config)

    smaller = keras.models.clone_model(model, clone_function=clone)
    for layer, sliced in weights:
        smaller.get_layer(layer.name).set_weights(sliced)
    return smaller


def _channels(tensor):
    return int(tensor.shape[-1])


def _sliced_weights(model, plan):
    """Yields `(layer, weights)` for every layer with weights, sliced to the
    kept channels; tracks which old channels each tensor keeps."""
    kept = {id(t): np.arange(_channels(t)) for t in model.inputs}
    sliced_layers = set()
    for layer, inputs, output in topological(model):
        incoming = [kept[id(t)] for t in inputs]
        name = type(layer).__name__
        if isinstance(layer, keras.layers.Concatenate):
            if layer.axis not in (-1, len(output.shape) - 1):
                raise ValueError(
                    "Only concatenations on the channel axis can be pruned. "
                    f"Received: layer={layer.name}, axis={layer.axis}"
                )
            offsets = np.cumsum([0] + [_channels(t) for t in inputs[:-1]])
            kept[id(output)] = np.concatenate(
                [k + offset for k, offset in zip(incoming, offsets, strict=True)]
            )
            continue
        if isinstance(layer, CHANNEL_SUMS):
            if any(not np.array_equal(k, incoming[0]) for k in incoming[1:]):
                raise ValueError(
                    f"The inputs of a {name} keep different channels; prune "
                    "them as one channel group. "
                    f"Received: layer={layer.name}, kept={[len(k) for k in incoming]}"
                )
            kept[id(output)] = incoming[0]
            continue
        if len(inputs) != 1:
            if any(
                len(k) != _channels(t) for k, t in zip(incoming, inputs, strict=True)
            ):
                raise ValueError(
                    f"Pruning through a {name} with several inputs is not "
                    f"supported. Received: layer={layer.name}"
                )
            kept[id(output)] = np.arange(_channels(output))
            continue
        source = incoming[0]
        if isinstance(layer, _KERNEL_LAYERS):
            out = plan.get(layer.name, np.arange(_channels(output)))
            yield layer, _slice_kernel_layer(layer, source, out)
            kept[id(output)] = out
            continue
        full = len(source) == _channels(inputs[0])
        if _channels(output) != _channels(inputs[0]):
            if not full:
                raise ValueError(
                    f"A {name} changes the channel count after pruned filters; "
                    f"it cannot be rebuilt. Received: layer={layer.name}"
                )
            kept[id(output)] = np.arange(_channels(output))
        else:
            kept[id(output)] = source
        if layer.weights and layer.name not in sliced_layers:
            # A shared gate is sliced once; its calls keep the same channels.
            sliced_layers.add(layer.name)
            yield layer, _slice_channel_weights(layer, source, _channels(inputs[0]))


def _slice_kernel_layer(layer, inputs, outputs):
    weights = layer.get_weights()
    kernel = weights[0]
    if isinstance(layer, keras.layers.Conv2DTranspose):  # (h, w, out, in)
        kernel = kernel[:, :, outputs][:, :, :, inputs]
    else:  # (h, w, in, out) or (in, out)
        kernel = kernel[..., inputs, :][..., outputs]
    return [kernel] + [w[outputs] for w in weights[1:]]


def _slice_channel_weights(layer, kept, channels):
    sliced = []
    for weight in layer.get_weights():
        if weight.ndim == 0:
            sliced.append(weight)
        elif weight.shape == (channels,):
            sliced.append(weight[kept])
        else:
            raise ValueError(
                f"Cannot slice the weights of a {type(layer).__name__} to kept "
                f"channels. Received: layer={layer.name}, shape={weight.shape}"
            )
    return sliced
