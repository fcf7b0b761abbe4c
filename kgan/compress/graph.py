"""Walking the layer graph of a functional Keras model, call by call."""

import collections

import keras

from kgan.layers.scaling_gate import ScalingGate

# One call of a layer in a functional model: the tensors in and the one out.
Call = collections.namedtuple("Call", ["layer", "inputs", "output"])


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
        calls.append(Call(layer, list(node.input_tensors), outputs[0]))
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
