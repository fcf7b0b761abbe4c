"""Walking the layer graph of a functional Keras model, call by call."""

import collections

import keras

from kgan.layers.scaling_gate import ScalingGate

# One call of a layer in a functional model: the tensors in, the one out,
# and the Keras node (its arguments say how the layer was called).
Call = collections.namedtuple("Call", ["layer", "inputs", "output", "node"])


def check_functional(model):
    """Raises unless `model` is a functional model whose layers are called
    once; only a `ScalingGate` may be called several times (a channel group
    shares it)."""
    if not isinstance(model, keras.Model) or not hasattr(model, "_operations"):
        raise TypeError(
            "Slimming works on functional Keras models. "
            f"Received: model={type(model).__name__}"
        )
    for layer in model.layers:
        count = len(layer._inbound_nodes)
        if count != 1 and not (isinstance(layer, ScalingGate) and count > 1):
            raise ValueError(
                "Slimming needs every layer called exactly once (no shared "
                f"layers but gates). Received: layer={layer.name} called "
                f"{count} times"
            )


def layer_calls(layer):
    """The calls of a layer of a functional model, in the order they were made."""
    calls = []
    for node in layer._inbound_nodes:
        outputs = node.output_tensors
        if len(outputs) != 1:
            raise ValueError(
                "Slimming handles layers with one output. "
                f"Received: layer={layer.name} with {len(outputs)} outputs"
            )
        calls.append(Call(layer, list(node.input_tensors), outputs[0], node))
    return calls


def layer_inputs(layer):
    """The KerasTensors of a layer's first call."""
    return layer_calls(layer)[0].inputs


def producer(tensor):
    """The layer that produced a KerasTensor."""
    return tensor._keras_history.operation


def consumers(model):
    """`{layer name: [layers that take its output]}` for a functional model."""
    result = {layer.name: [] for layer in model.layers}
    for call in topological(model):
        for tensor in call.inputs:
            result[producer(tensor).name].append(call.layer)
    return result


def topological(model):
    """Every call of the model's non-input layers, each after the calls
    that make its inputs."""
    done = {id(t) for t in model.inputs}
    pending = [
        call
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
        for call in layer_calls(layer)
    ]
    ordered = []
    while pending:
        ready = [call for call in pending if all(id(t) in done for t in call.inputs)]
        if not ready:
            raise ValueError(
                "The model's graph could not be ordered. "
                f"Received: layers={[call.layer.name for call in pending]}"
            )
        for call in ready:
            ordered.append(call)
            done.add(id(call.output))
        # By identity: comparing calls would compare their KerasTensors.
        taken = {id(call) for call in ready}
        pending = [call for call in pending if id(call) not in taken]
    return ordered


def tensor_call(tensor):
    """The call of a functional model that produced a KerasTensor."""
    operation, node_index, _ = tensor._keras_history
    node = operation._inbound_nodes[node_index]
    return Call(operation, list(node.input_tensors), node.output_tensors[0], node)


def residual_branches(model):
    """The residual blocks of a functional model: `{Add layer name: (skip
    index, branch calls)}`.

    A residual block is a two-input sum whose one input (the branch) is
    computed from the other (the skip) through a chain of one-input layers;
    `branch calls` are that chain's calls, first to last, and `skip index`
    is the position of the skip input in the sum's inputs. Replacing the sum
    by its skip input makes the block an identity.
    """
    branches = {}
    for call in topological(model):
        if not isinstance(call.layer, keras.layers.Add) or len(call.inputs) != 2:
            continue
        for skip_index in (0, 1):
            chain = _chain_between(call.inputs[skip_index], call.inputs[1 - skip_index])
            if chain:
                branches[call.layer.name] = (skip_index, chain)
                break
    return branches


def _chain_between(start, end):
    """The calls of one-input layers from tensor `start` to tensor `end`,
    first to last; empty when `end` is not computed from `start` alone
    that way."""
    chain = []
    tensor = end
    while tensor is not start:
        if not hasattr(tensor, "_keras_history"):
            return []
        call = tensor_call(tensor)
        if isinstance(call.layer, keras.layers.InputLayer) or len(call.inputs) != 1:
            return []
        chain.append(call)
        tensor = call.inputs[0]
    return chain[::-1]


# Layers whose weights slimming knows how to slice.
KERNEL_LAYERS = (keras.layers.Conv2D, keras.layers.Conv2DTranspose, keras.layers.Dense)
CHANNEL_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    ScalingGate,
)


def _weights_per_channel(layer):
    """Whether every weight of a layer is a scalar or one value per channel
    of a channel-preserving layer (a PReLU-like activation)."""
    channels = {int(t.shape[-1]) for call in layer_calls(layer) for t in (
        call.inputs + [call.output])}  # fmt: skip
    return len(channels) == 1 and all(
        w.shape in ((), tuple(channels)) for w in layer.weights
    )


def check_slimmable(model):
    """Raises unless slimming can rebuild every layer of a functional model:
    convolutions and dense layers (ungrouped), normalizations, and layers
    without weights (activations, sums, concatenations, paddings,
    up-sampling, reshapes) or with one weight per channel. A `Lambda`, a
    nested model or a layer with other weights of its own is an error
    naming it."""
    check_functional(model)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Lambda, keras.Model)):
            reason = "its computation is opaque"
        elif isinstance(layer, KERNEL_LAYERS):
            if getattr(layer, "groups", 1) != 1:
                reason = "grouped convolutions are not supported"
            else:
                continue
        elif isinstance(layer, CHANNEL_LAYERS) or not layer.weights:
            continue
        elif _weights_per_channel(layer):
            continue
        else:
            reason = "it has weights that are not one per channel"
        raise ValueError(
            f"Slimming cannot rebuild layer {layer.name!r}: {reason}. "
            f"Received: layer={layer.name}, class={type(layer).__name__}"
        )


def reshaped_dense(model):
    """Dense layers whose units become the channels of feature maps:
    `{dense name: reshape name}`.

    The dense layer's output reaches, through one-input layers that keep
    its width (a normalization, an activation), a `Reshape` of the flat
    units to `(..., channels)`: unit `j` is then channel `j % channels`,
    and a channel of the maps is a set of units that can go together (a
    DCGAN generator's projection of z).
    """
    users = consumers(model)
    found = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Dense) or len(layer.output.shape) != 2:
            continue
        current = layer
        while len(users[current.name]) == 1:
            following = users[current.name][0]
            if isinstance(following, keras.layers.Reshape):
                if len(following.output.shape) >= 3:
                    found[layer.name] = following.name
                break
            if len(layer_inputs(following)) != 1 or (
                following.output.shape[-1] != following.input.shape[-1]
            ):
                break
            current = following
    return found
