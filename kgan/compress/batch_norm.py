"""Re-estimating BatchNorm statistics after the network has changed under them."""

import keras
import numpy as np


def recalibrate_batch_norm(model, data, batches):
    """Sets every BatchNorm's moving mean and variance to the average of the
    batch statistics it sees over `batches` training-mode passes.

    While slimming, the gate factors change faster than BatchNorm's moving
    averages follow (momentum 0.99 averages over about 100 steps), so a
    generator evaluated in inference mode reads statistics of a network
    that no longer exists. This measures them afresh on the current one,
    the way slimmable networks and GAN Compression recalibrate a pruned
    subnetwork. Weights are not changed, nor are the statistics of layers
    other than `BatchNormalization`.

    Args:
        model: A functional model.
        data: Iterable of the model's input batches, e.g. the conditions
            or latent vectors of the training batches.
        batches: Number of batches to average over; `0` does nothing.

    Returns:
        The number of BatchNorm layers recalibrated.
    """
    if not isinstance(batches, int) or batches < 0:
        raise ValueError(
            f"`batches` must be a non-negative integer. Received: batches={batches!r}"
        )
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if not norms or batches == 0:
        return 0
    probe = keras.Model(model.inputs, [norm.input for norm in norms])
    means = [0.0] * len(norms)
    variances = [0.0] * len(norms)
    for count, inputs in enumerate(data, start=1):
        activations = probe(inputs, training=True)
        if len(norms) == 1:  # a model of one output returns it bare
            activations = [activations]
        for k, (norm, x) in enumerate(zip(norms, activations, strict=True)):
            axes = tuple(
                a for a in range(len(x.shape)) if a != norm.axis % len(x.shape)
            )
            x = keras.ops.convert_to_numpy(x).astype(np.float64)
            means[k] += x.mean(axis=axes)
            variances[k] += x.var(axis=axes)
        if count == batches:
            break
    for norm, mean, variance in zip(norms, means, variances, strict=True):
        norm.moving_mean.assign(mean / count)
        norm.moving_variance.assign(variance / count)
    return len(norms)
