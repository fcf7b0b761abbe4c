"""Checks shared by the layer tests."""

import os
import tempfile

import keras
import numpy as np


def assert_round_trip(layer, input_shape, seed=0):
    """Saves a model holding `layer` to .keras, loads it, compares outputs.

    `layer` should carry non-default weights so that the check is not
    satisfied by re-initialisation.
    """
    inputs = keras.Input(input_shape[1:])
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(seed).normal(size=input_shape).astype("float32")
    expected = model.predict(x, verbose=0)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), expected)
    restored_layer = restored.layers[-1]
    assert type(restored_layer) is type(layer)
    assert restored_layer.get_config() == layer.get_config()
    return restored
