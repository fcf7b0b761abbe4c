"""Walking the layer graph of a functional Keras model."""

import keras


def check_functional(model):
    """Raises unless `model` is a functional model whose layers are called once."""
    if not isinstance(model, keras.Model) or not hasattr(model, "_operations"):
        raise TypeError(
            "Slimming works on functional Keras models. "
            f"Received: model={type(model).__name__}"
        )
    for layer in model.layers:
        if len(layer._inbound_nodes) != 1:
            raise ValueError(
                "Slimming needs every layer called exactly once (no shared "
                f"layers). Received: layer={layer.name} called "
                f"{len(layer._inbound_nodes)} times"
            )


def layer_inputs(layer):
    """The KerasTensors a layer of a functional model is called on."""
    return layer._inbound_nodes[0].input_tensors


def layer_output(layer):
    """The single KerasTensor a layer of a functional model returns."""
    outputs = layer._inbound_nodes[0].output_tensors
    if len(outputs) != 1:
        raise ValueError(
            "Slimming handles layers with one output. "
            f"Received: layer={layer.name} with {len(outputs)} outputs"
        )
    return outputs[0]


def producer(tensor):
    """The layer that produced a KerasTensor."""
    return tensor._keras_history.operation


def consumers(model):
    """`{layer name: [layers that take its output]}` for a functional model."""
    result = {layer.name: [] for layer in model.layers}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        for tensor in layer_inputs(layer):
            result[producer(tensor).name].append(layer)
    return result


def topological(model):
    """The model's non-input layers, each after the layers it depends on."""
    done = {id(t) for t in model.inputs}
    pending = [
        layer
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    ordered = []
    while pending:
        ready = [
            layer
            for layer in pending
            if all(id(t) in done for t in layer_inputs(layer))
        ]
        if not ready:
            raise ValueError(
                "The model's graph could not be ordered. "
                f"Received: layers={[layer.name for layer in pending]}"
            )
        for layer in ready:
            ordered.append(layer)
            done.add(id(layer_output(layer)))
        pending = [layer for layer in pending if layer not in ready]
    return ordered
