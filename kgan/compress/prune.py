"""Pruning filters by their gates, and rebuilding a physically smaller network."""

import keras
import numpy as np

from kgan.compress.gates import CHANNEL_SUMS, droppable_gates, gate_groups
from kgan.compress.graph import (
    KERNEL_LAYERS,
    check_functional,
    layer_calls,
    producer,
    reshaped_dense,
    residual_branches,
    topological,
)


def pruning_plan(model, threshold, min_filters=1, channel_multiple=1):
    """Which filters of each gated convolution to keep.

    Args:
        model: A gated generator (see `add_gates`).
        threshold: Non-negative; filters with `|s| <= threshold` go. `0.0`
            removes exactly the filters whose gate is 0.
        min_filters: Filters kept in every layer at least (the largest
            `|s|`), so that no layer disappears; a residual block's inner
            layers may lose all theirs (see `round_plan`).
        channel_multiple: Kept widths are multiples of this.

    Returns:
        `{convolution name: sorted int array of kept filter indices}`; the
        convolutions of a channel group keep the same channels.
    """
    return round_plan(model, threshold, 1.0, min_filters, channel_multiple)[0]


def _check_count(name, value):
    if not isinstance(value, int) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )


def _widths(width, min_filters, multiple, droppable):
    """The widths a gate of `width` channels may keep, largest first: its
    own, then the multiples of `multiple` down to the least allowed, then 0
    for a residual block's inner layer."""
    least = max(multiple, -(-min_filters // multiple) * multiple)
    widths = [width] + [w for w in range(width // multiple * multiple, least - 1,
                                         -multiple) if w < width]  # fmt: skip
    if droppable:
        widths.append(0)
    return widths


def round_plan(model, threshold, max_fraction, min_filters=1, channel_multiple=1):
    """Which channels of a gated generator one round keeps.

    Each gate gives up its smallest channels a step at a time, from one
    allowed width to the next (multiples of `channel_multiple`, at least
    `min_filters`), a step only when every channel it removes has
    `|s| <= threshold`; a gate inside a residual branch (see
    `droppable_gates`) goes to 0, which makes its block an identity, once
    fewer than `channel_multiple` of its channels are above the threshold.
    The steps of all gates are taken in the order of their largest `|s|`
    while at most `max_fraction` of all gated channels go (a channel group
    counts once; one step at least).

    Returns:
        `(plan, removed)`: `{convolution name: kept indices}` for
        `rebuild` (empty for a dropped block's layers), and how many
        channels go.
    """
    _check_count("min_filters", min_filters)
    _check_count("channel_multiple", channel_multiple)
    if threshold < 0:
        raise ValueError(
            f"`threshold` must be non-negative. Received: threshold={threshold}"
        )
    groups = gate_groups(model)
    if not groups:
        raise ValueError(f"The model has no gates. Received: model={model.name}")
    droppable = droppable_gates(model)
    scales = [np.abs(keras.ops.convert_to_numpy(g.scale.value)) for g, _ in groups]
    order = [np.argsort(s, kind="stable") for s in scales]  # smallest first
    steps = []  # (largest |s| it removes, gate index, width after it)
    for k, ((gate, _), s) in enumerate(zip(groups, scales, strict=True)):
        widths = _widths(s.size, min_filters, channel_multiple, gate.name in droppable)
        live = int((s > threshold).sum())
        for before, after in zip(widths, widths[1:], strict=False):
            largest = s[order[k][s.size - before : s.size - after]].max()
            # A block's inner layer goes once fewer than one multiple live.
            dropping = after == 0 and live < channel_multiple
            if largest > threshold and not dropping:
                break
            steps.append((largest, k, after))
    total = sum(s.size for s in scales)
    budget = max_fraction * total
    kept_width = [s.size for s in scales]
    blocked = set()
    removed = 0
    # Ties: a gate's earlier step (the larger width after it) first.
    for _, k, after in sorted(steps, key=lambda step: (step[0], step[1], -step[2])):
        if k in blocked:
            continue
        size = kept_width[k] - after
        if removed and removed + size > budget:
            blocked.add(k)  # its later steps cannot come before this one
            continue
        removed += size
        kept_width[k] = after
    plan = {}
    for k, (_, convs) in enumerate(groups):
        kept = np.sort(order[k][scales[k].size - kept_width[k] :])
        plan.update(dict.fromkeys(convs, kept))
    return plan, removed


def rebuild(model, plan):
    """A physically smaller copy of `model` keeping only the planned filters.

    Every convolution in `plan` gets the kept filters (slices of its kernel
    and bias); every layer after it gets the matching input channels: the
    next convolutions' kernels, normalization statistics, gates, and the
    channels of concatenations (U-Net skips) shifted by their offset. The
    inputs of an `Add` must keep the same channels (a channel group, as
    `pruning_plan` keeps them). A residual block (see `residual_branches`)
    one of whose convolutions keeps no filter becomes an identity: its sum
    passes its skip input on, and its branch's layers are gone.

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
    branches = residual_branches(model)
    inner = {call.layer.name for _, chain in branches.values() for call in chain}
    reshapes = reshaped_dense(model)
    for name, kept in plan.items():
        filters = _filters(model, name, reshapes)
        kept = np.asarray(kept)
        empty_allowed = kept.size == 0 and name in inner
        if filters is None or not (
            empty_allowed or (kept.size and kept.min() >= 0 and kept.max() < filters)
        ):
            raise ValueError(
                "A plan keeps a non-empty set of existing filters of a "
                "convolution (an empty one only inside a residual branch). "
                f"Received: {name}={kept.tolist()} (filters={filters})"
            )
    skipped, sums = _dropped_blocks(model, branches, plan)

    # Slice first: a graph that cannot be rebuilt fails before anything is built.
    weights = list(_sliced_weights(model, plan, skipped, sums, reshapes))
    reshaped = {reshape: dense for dense, reshape in reshapes.items()}

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.Dense) and layer.name in plan:
            pixels = _channels(layer.output) // _filters(model, layer.name, reshapes)
            config["units"] = pixels * len(plan[layer.name])
        elif layer.name in plan:
            config["filters"] = len(plan[layer.name])
        if reshaped.get(layer.name) in plan:
            shape = list(config["target_shape"])
            config["target_shape"] = (*shape[:-1], len(plan[reshaped[layer.name]]))
        if isinstance(layer, keras.layers.GroupNormalization) and config[
            "groups"
        ] == _channels(layer.input):
            config["groups"] = -1  # instance norm, at whatever width is kept
        return layer.__class__.from_config(config)

    tensors = {}
    inputs = []
    for tensor in model.inputs:
        new = keras.Input(
            shape=tensor.shape[1:], dtype=tensor.dtype, name=producer(tensor).name
        )
        tensors[id(tensor)] = new
        inputs.append(new)
    layers = {}
    for call in topological(model):
        if id(call.output) in skipped:
            continue
        if id(call.output) in sums:
            tensors[id(call.output)] = tensors[id(sums[id(call.output)])]
            continue
        if call.layer.name not in layers:
            layers[call.layer.name] = clone(call.layer)
        args, kwargs = call.node.arguments.fill_in(tensors)
        tensors[id(call.output)] = layers[call.layer.name](*args, **kwargs)
    outputs = [tensors[id(t)] for t in model.outputs]
    smaller = keras.Model(
        inputs if len(inputs) > 1 else inputs[0],
        outputs if len(outputs) > 1 else outputs[0],
        name=model.name,
    )
    for layer, sliced in weights:
        smaller.get_layer(layer.name).set_weights(sliced)
    return smaller


def _dropped_blocks(model, branches, plan):
    """The residual blocks `plan` drops: the ids of their branch calls'
    outputs, and `{id(sum output): skip tensor}`."""
    skipped, sums = set(), {}
    for add_name, (skip_index, chain) in branches.items():
        if any(len(plan.get(call.layer.name, [0])) == 0 for call in chain):
            add = layer_calls(model.get_layer(add_name))[0]
            sums[id(add.output)] = add.inputs[skip_index]
            skipped.update(id(call.output) for call in chain)
    return skipped, sums


def _channels(tensor):
    return int(tensor.shape[-1])


def _filters(model, name, reshapes):
    """The filters of a convolution, or the channels a dense layer's units
    make after their `Reshape` (see `reshaped_dense`); `None` for others."""
    if name in reshapes:
        return _channels(model.get_layer(reshapes[name]).output)
    return model.get_layer(name).get_config().get("filters")


def _sliced_weights(model, plan, skipped, sums, reshapes):
    """Yields `(layer, weights)` for every layer with weights, sliced to the
    kept channels; tracks which old channels each tensor keeps. The calls
    in `skipped` are left out; a sum in `sums` passes its skip input on."""
    kept = {id(t): np.arange(_channels(t)) for t in model.inputs}
    sliced_layers = set()
    for layer, inputs, output, _ in topological(model):
        if id(output) in skipped:
            continue
        if id(output) in sums:
            kept[id(output)] = kept[id(sums[id(output)])]
            continue
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
        if isinstance(layer, KERNEL_LAYERS):
            out = plan.get(layer.name, np.arange(_channels(output)))
            if layer.name in reshapes and layer.name in plan:
                # Channel c of the maps is every unit j with j % channels == c.
                channels = _filters(model, layer.name, reshapes)
                pixels = np.arange(_channels(output) // channels)[:, None]
                out = (pixels * channels + np.asarray(out)[None, :]).ravel()
            yield layer, _slice_kernel_layer(layer, source, out)
            kept[id(output)] = out
            continue
        if isinstance(layer, keras.layers.Reshape) and layer.name in reshapes.values():
            channels = _channels(output)
            kept[id(output)] = np.unique(source % channels)
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
