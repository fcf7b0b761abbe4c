"""Scaling gates on a generator's hidden convolutions: inserting, folding, removing."""

import keras

from kgan.compress.graph import (
    check_functional,
    consumers,
    layer_calls,
    layer_inputs,
    producer,
    reshaped_dense,
    residual_branches,
    topological,
)
from kgan.export.costs import layer_macs
from kgan.layers.scaling_gate import ScalingGate

CONVOLUTIONS = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
GATE_SUFFIX = "_gate"
# Layers that add their inputs channel by channel: channels they join are
# one channel group, kept or removed together.
CHANNEL_SUMS = (keras.layers.Add, keras.layers.Average, keras.layers.Subtract)


def _output_convolutions(model):
    """Convolutions that make the model's outputs (through weightless layers)."""
    found = set()
    for tensor in model.outputs:
        layer = producer(tensor)
        while not isinstance(layer, CONVOLUTIONS):
            inputs = layer_inputs(layer) if layer._inbound_nodes else []
            if layer.weights or len(inputs) != 1:
                break
            layer = producer(inputs[0])
        if isinstance(layer, CONVOLUTIONS):
            found.add(layer.name)
    return found


def _is_channel_norm(layer):
    """BatchNorm, or a GroupNorm with one channel per group (instance norm):
    a per-channel scale before them is cancelled, one after them folds into
    their gamma and beta."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return True
    return isinstance(layer, keras.layers.GroupNormalization) and layer.groups in (
        -1,
        int(layer_inputs(layer)[0].shape[-1]),
    )


def gate_anchors(model):
    """Where the gates of a model's hidden convolutions go.

    Returns `{anchor layer name: convolution name}`: the anchor is the
    normalization (BatchNorm, instance norm) that alone consumes a hidden
    convolution's output (a gate before it would be cancelled), or else the
    convolution itself. A dense layer whose units become feature maps (see
    `reshaped_dense`) is gated after the `Reshape`, channel by channel.
    Convolutions that produce the model's outputs have no gate: their
    filters are the output channels.
    """
    check_functional(model)
    users = consumers(model)
    outputs = _output_convolutions(model)
    anchors = {reshape: dense for dense, reshape in reshaped_dense(model).items()}
    for layer in model.layers:
        if not isinstance(layer, CONVOLUTIONS) or layer.name in outputs:
            continue
        following = users[layer.name]
        if len(following) == 1 and _is_channel_norm(following[0]):
            anchors[following[0].name] = layer.name
        else:
            anchors[layer.name] = layer.name
    return anchors


def channel_groups(model):
    """The hidden convolutions grouped by the channels they share.

    Convolutions whose outputs meet in an `Add` (a residual trunk: the
    convolution that starts it and the last convolution of every block)
    form one group: a channel of the sum can only go if it goes from all
    of them. Every other hidden convolution is a group of its own. A group
    whose sum also takes a tensor that no hidden convolution makes (a model
    input, an output convolution) cannot be pruned and is left out.

    Returns:
        A list of groups, each a list of convolution names in the order
        the model computes them.
    """
    convs = list(dict.fromkeys(gate_anchors(model).values()))
    reshapes = set(reshaped_dense(model).values())
    parent = {name: name for name in convs}

    def root(name):
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    fixed = set()
    origin = {}  # id(tensor) -> a hidden convolution whose channels it carries
    for call in topological(model):
        layer, sources = call.layer, [origin.get(id(t)) for t in call.inputs]
        if isinstance(layer, CONVOLUTIONS + (keras.layers.Dense,)):
            origin[id(call.output)] = layer.name if layer.name in parent else None
        elif layer.name in reshapes:
            origin[id(call.output)] = sources[0]
        elif isinstance(layer, CHANNEL_SUMS):
            known = [s for s in sources if s is not None]
            for other in known[1:]:
                parent[root(other)] = root(known[0])
            if None in sources:
                fixed.update(known)
            elif known:
                origin[id(call.output)] = known[0]
        elif len(call.inputs) == 1 and (
            call.inputs[0].shape[-1] == call.output.shape[-1]
        ):
            origin[id(call.output)] = sources[0]
    excluded = {root(name) for name in fixed}
    groups = {}
    for name in convs:
        if root(name) not in excluded:
            groups.setdefault(root(name), []).append(name)
    return list(groups.values())


def copy_weights(source, target):
    """Copies the weights of every layer of `target` from the same-named layer
    of `source`, where `source` has one."""
    names = {layer.name for layer in source.layers}
    for layer in target.layers:
        if layer.name in names and layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def add_gates(model, l1=0.0):
    """Returns a copy of `model` with a `ScalingGate` after every hidden conv.

    Each gate starts at 1, so the copy computes what `model` computes. A
    channel group (see `channel_groups`) has one gate, called after each of
    its convolutions, named after the first, `<conv name>_gate`; so every
    channel of a residual trunk has one factor.

    Args:
        model: A functional generator; its layers are not changed.
        l1: Initial L1 strength of every gate.
    """
    if any(isinstance(layer, ScalingGate) for layer in model.layers):
        raise ValueError(f"The model already has gates. Received: model={model.name}")
    gate_of = {}
    for group in channel_groups(model):
        gate = ScalingGate(l1, name=group[0] + GATE_SUFFIX)
        gate_of.update(dict.fromkeys(group, gate))
    anchors = {
        anchor: gate_of[conv]
        for anchor, conv in gate_anchors(model).items()
        if conv in gate_of
    }

    def call(layer, *args, **kwargs):
        output = layer(*args, **kwargs)
        if layer.name in anchors:
            output = anchors[layer.name](output)
        return output

    gated = keras.models.clone_model(model, call_function=call)
    copy_weights(model, gated)
    return gated


def _gated_layers(gate):
    """The layers whose outputs a gate scales, one per call."""
    return [producer(call.inputs[0]) for call in layer_calls(gate)]


def _convolution_of(anchor):
    """The convolution (or dense layer) whose filters a gate at `anchor` scales."""
    layer = anchor
    while not isinstance(layer, CONVOLUTIONS + (keras.layers.Dense,)):
        layer = producer(layer_inputs(layer)[0])
    return layer


def gate_groups(model):
    """`[(gate, [convolution names])]` of a gated model: each gate with the
    convolutions whose filters it scales (several for a channel group)."""
    return [
        (layer, [_convolution_of(a).name for a in _gated_layers(layer)])
        for layer in model.layers
        if isinstance(layer, ScalingGate)
    ]


def gates(model):
    """`{convolution name: its ScalingGate}` of a gated model; the
    convolutions of a channel group share theirs."""
    return {conv: gate for gate, convs in gate_groups(model) for conv in convs}


def channel_macs(model):
    """What one channel of each gate costs: `{gate name: MACs}`.

    A gated channel is a filter of every convolution of its group and an
    input channel of every kernel layer that takes it (through norms,
    activations, paddings, sums and concatenations); removing it removes
    its share of all of them, each at its own resolution. So a channel of
    a full-resolution stem costs far more than one of a quarter-resolution
    block.
    """
    gate_of = {conv: gate.name for conv, gate in gates(model).items()}
    costs = dict.fromkeys(gate_of.values(), 0)
    width = {gate.name: gate.scale.shape[0] for gate, _ in gate_groups(model)}
    reshapes = set(reshaped_dense(model).values())
    # id(tensor) -> [(gate name or None, channels)], one entry per
    # concatenated segment of the tensor's channels.
    segments = {id(t): [(None, int(t.shape[-1]))] for t in model.inputs}
    for call in topological(model):
        layer, output = call.layer, call.output
        incoming = [segments[id(t)] for t in call.inputs]
        if isinstance(layer, CONVOLUTIONS + (keras.layers.Dense,)):
            per_input = layer_macs(layer) // int(call.inputs[0].shape[-1])
            for gate, _ in incoming[0]:
                if gate is not None:  # each of its channels is one input channel
                    costs[gate] += per_input
            gate = gate_of.get(layer.name)
            if gate is not None:
                costs[gate] += layer_macs(layer) // width[gate]
            segments[id(output)] = [(gate, int(output.shape[-1]))]
        elif layer.name in reshapes:  # a dense layer's units as channels
            segments[id(output)] = [(incoming[0][0][0], int(output.shape[-1]))]
        elif isinstance(layer, keras.layers.Concatenate):
            segments[id(output)] = [s for parts in incoming for s in parts]
        elif isinstance(layer, CHANNEL_SUMS):
            same = all(parts == incoming[0] for parts in incoming)
            segments[id(output)] = (
                incoming[0] if same else [(None, int(output.shape[-1]))]
            )
        elif len(incoming) == 1 and output.shape[-1] == call.inputs[0].shape[-1]:
            segments[id(output)] = incoming[0]
        else:
            segments[id(output)] = [(None, int(output.shape[-1]))]
    return costs


def mac_weights(model):
    """Relative L1 weights of a gated model's gates: each gate's
    `channel_macs` over their mean over all gated channels, so that the
    average channel keeps the penalty `l1` means. Returns `{gate name:
    weight}`."""
    costs = channel_macs(model)
    counts = {gate.name: gate.scale.shape[0] for gate, _ in gate_groups(model)}
    mean = sum(costs[g] * counts[g] for g in costs) / sum(counts.values())
    return {gate: cost / mean for gate, cost in costs.items()}


def droppable_gates(model):
    """The gates of a gated model whose channels may all go: those of
    convolutions inside a residual branch (see `residual_branches`) that
    no convolution outside it shares. Without them the branch adds
    nothing, and the block becomes an identity."""
    inside = {
        call.layer.name
        for _, chain in residual_branches(model).values()
        for call in chain
    }
    return {gate.name for gate, convs in gate_groups(model) if set(convs) <= inside}


def set_l1(model, l1):
    """Sets the L1 strength of every gate of `model`."""
    for gate, _ in gate_groups(model):
        gate.l1 = l1


def strip_gates(model):
    """Returns a gate-free copy of `model` computing the same function.

    Each gate's factors are folded into the layers before it (a
    normalization's gamma and beta, or a convolution's kernel and bias), or,
    for a gate on a dense layer's reshaped units, into the kernels of the
    layers after it; `model` is not changed.
    """
    check_functional(model)
    folded = keras.models.clone_model(model)
    copy_weights(model, folded)
    users = consumers(folded)
    for layer in folded.layers:
        if not isinstance(layer, ScalingGate):
            continue
        gated = _gated_layers(layer)
        if any(isinstance(g, keras.layers.Reshape) for g in gated):
            # After the activation of a dense layer's units: into the next.
            layer.fold_into_consumers(*users[layer.name])
        else:
            layer.fold_into(*gated)

    def call(layer, *args, **kwargs):
        if isinstance(layer, ScalingGate):
            return args[0]
        return layer(*args, **kwargs)

    stripped = keras.models.clone_model(folded, call_function=call)
    copy_weights(folded, stripped)
    return stripped
