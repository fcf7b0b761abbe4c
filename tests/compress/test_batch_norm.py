import keras
import numpy as np
import pytest

from kgan.compress.batch_norm import recalibrate_batch_norm


def _model():
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(5, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(2, 1, name="mix")(x)
    outputs = keras.layers.BatchNormalization(name="norm2")(x)
    return keras.Model(inputs, outputs)


def test_statistics_are_the_average_batch_statistics():
    model = _model()
    rng = np.random.default_rng(0)
    batches = [rng.normal(2.0, 3.0, (8, 4, 4, 3)).astype("float32")]
    batches += [rng.normal(-1.0, 0.5, (8, 4, 4, 3)).astype("float32")]
    assert recalibrate_batch_norm(model, batches + batches, batches=2) == 2
    conv = keras.Model(model.input, model.get_layer("conv").output)
    outputs = [conv(x).numpy() for x in batches]
    expected_mean = np.mean([o.mean(axis=(0, 1, 2)) for o in outputs], axis=0)
    expected_var = np.mean([o.var(axis=(0, 1, 2)) for o in outputs], axis=0)
    norm = model.get_layer("norm")
    np.testing.assert_allclose(norm.moving_mean.numpy(), expected_mean, rtol=1e-4)
    np.testing.assert_allclose(norm.moving_variance.numpy(), expected_var, rtol=1e-4)
    # The second norm sees the first one's training-mode output.
    mix = keras.Model(model.input, model.get_layer("mix").output)
    outputs = [mix(x, training=True).numpy() for x in batches]
    expected = np.mean([o.mean(axis=(0, 1, 2)) for o in outputs], axis=0)
    np.testing.assert_allclose(
        model.get_layer("norm2").moving_mean.numpy(), expected, rtol=1e-4, atol=1e-6
    )


def test_inference_then_matches_training_mode_on_that_data():
    model = _model()
    x = np.random.default_rng(1).normal(5.0, 2.0, (16, 4, 4, 3)).astype("float32")
    before = np.abs(model(x, training=False) - model(x, training=True)).max()
    recalibrate_batch_norm(model, [x], batches=1)
    after = np.abs(model(x, training=False) - model(x, training=True)).max()
    # Equal but for BatchNorm's epsilon in the two modes' variance.
    assert after < 1e-4 and before > 0.5


def test_bad_batches():
    with pytest.raises(ValueError, match="Received: batches=-1"):
        recalibrate_batch_norm(_model(), [], batches=-1)
