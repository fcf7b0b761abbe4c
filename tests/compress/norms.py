"""Networks whose normalizations hold non-trivial weights, for pruning tests."""

import keras
import numpy as np

NORMS = (keras.layers.BatchNormalization, keras.layers.GroupNormalization)


def randomise_norms(model, seed=0):
    """Gives every norm random gammas and variances in [0.5, 1.5] and random
    betas and means, so that slicing the wrong channel shows; returns `model`."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, NORMS):
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, w.shape)
                    if k in (0, 3)  # gamma, moving variance
                    else rng.normal(0, 0.3, w.shape)
                    for k, w in enumerate(layer.get_weights())
                ]
            )
    return model
