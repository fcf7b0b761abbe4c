"""Scaling gates on a generator's hidden convolutions: inserting, folding, removing."""

import keras

from kgan.compress.graph import check_functional, consumers, layer_inputs, producer
from kgan.layers.scaling_gate import ScalingGate

CONVOLUTIONS = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
GATE_SUFFIX = "_gate"


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


def gate_anchors(model):
    """Where the gates of a model's hidden convolutions go.

    Returns `{anchor layer name: convolution name}`: the anchor is the
    BatchNormalization that alone consumes a hidden convolution's output (a
    gate before it would be cancelled), or else the convolution itself.
    Convolutions that produce the model's outputs have no gate: their
    filters are the output channels.
    """
    check_functional(model)
    users = consumers(model)
    outputs = _output_convolutions(model)
    anchors = {}
    for layer in model.layers:
        if not isinstance(layer, CONVOLUTIONS) or layer.name in outputs:
            continue
        following = users[layer.name]
        if len(following) == 1 and isinstance(
            following[0], keras.layers.BatchNormalization
        ):
            anchors[following[0].name] = layer.name
        else:
            anchors[layer.name] = layer.name
    return anchors


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
    gate is named after its convolution, `<conv name>_gate`.

    Args:
        model: A functional generator; its layers are not changed.
        l1: Initial L1 strength of every gate.
    """
    if any(isinstance(layer, ScalingGate) for layer in model.layers):
        raise ValueError(f"The model already has gates. Received: model={model.name}")
    anchors = gate_anchors(model)

    def call(layer, *args, **kwargs):
        output = layer(*args, **kwargs)
        if layer.name in anchors:
            output = ScalingGate(l1, name=anchors[layer.name] + GATE_SUFFIX)(output)
        return output

    gated = keras.models.clone_model(model, call_function=call)
    copy_weights(model, gated)
    return gated


def gates(model):
    """`{convolution name: its ScalingGate}` of a gated model."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, ScalingGate):
            if not layer.name.endswith(GATE_SUFFIX):
                raise ValueError(
                    f"Gate names end in '{GATE_SUFFIX}'. Received: name={layer.name}"
                )
            found[layer.name[: -len(GATE_SUFFIX)]] = layer
    return found


def filter_costs(model):
    """Parameters and multiply-accumulates that one filter of each gated
    convolution costs in its own layer: `{conv name: (parameters, macs)}`.

    A Conv2D filter costs `kh * kw * C_in` weights applied at every output
    pixel; a transposed one, at every input pixel.
    """
    costs = {}
    for conv in gates(model):
        layer = model.get_layer(conv)
        kh, kw = layer.kernel_size
        channels = int(layer.input.shape[-1])
        weights = kh * kw * channels + (1 if layer.use_bias else 0)
        pixels_from = (
            layer.input
            if isinstance(layer, keras.layers.Conv2DTranspose)
            else layer.output
        )
        height, width = pixels_from.shape[1:3]
        costs[conv] = (weights, int(height) * int(width) * kh * kw * channels)
    return costs


def size_weights(model):
    """Relative L1 weights of each gated layer by what its filters cost.

    The average of a filter's parameters and MACs, each divided by its mean
    over all gated filters: pruning then favours the filters that make the
    network large or slow, not just the first ones to fade.
    """
    costs = filter_costs(model)
    counts = {conv: gate.scale.shape[0] for conv, gate in gates(model).items()}
    total = sum(counts.values())
    means = [sum(costs[c][k] * counts[c] for c in costs) / total for k in (0, 1)]
    return {
        conv: 0.5 * (cost[0] / means[0] + cost[1] / means[1])
        for conv, cost in costs.items()
    }


def set_l1(model, l1):
    """Sets the L1 strength of every gate of `model`."""
    for gate in gates(model).values():
        gate.l1 = l1


def strip_gates(model):
    """Returns a gate-free copy of `model` computing the same function.

    Each gate's factors are folded into the layer before it (BatchNorm gamma
    and beta, or convolution kernel and bias); `model` is not changed.
    """
    check_functional(model)
    folded = keras.models.clone_model(model)
    copy_weights(model, folded)
    for layer in folded.layers:
        if isinstance(layer, ScalingGate):
            layer.fold_into(producer(layer_inputs(layer)[0]))

    def call(layer, *args, **kwargs):
        if isinstance(layer, ScalingGate):
            return args[0]
        return layer(*args, **kwargs)

    stripped = keras.models.clone_model(folded, call_function=call)
    copy_weights(folded, stripped)
    return stripped
