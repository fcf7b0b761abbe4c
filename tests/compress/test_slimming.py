import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.compress import add_gates, gates
from kgan.compress.slimming import (
    SlimmingConfig,
    global_threshold,
    slim,
    teacher_targets,
)
from kgan.data.road_scenes import one_hot, road_scenes
from kgan.layers.scaling_gate import ScalingGate
from kgan.models.pix2pix import frozen_discriminator_trainer
from kgan.models.pix2pix_networks import patch_discriminator, unet_generator

SIZE = 16


def _data():
    labels, images = road_scenes(16, SIZE, seed=0)
    pairs = (one_hot(labels), images.astype("float32") / 127.5 - 1.0)
    return tf.data.Dataset.from_tensor_slices(pairs).batch(8).repeat()


@pytest.mark.parametrize("targets", ["real", "teacher"])
def test_slim_reaches_the_target_and_keeps_the_discriminator(tmp_path, targets):
    keras.utils.set_random_seed(0)
    generator = unet_generator(SIZE, filters=8, max_filters=32)
    discriminator = patch_discriminator(SIZE, filters=4, downsamplings=2)
    before = [w.numpy().copy() for w in discriminator.weights]
    config = SlimmingConfig(
        target_ratio=0.3,
        prune_fraction=0.4,
        sparsity_steps=3,
        retrain_steps=3,
        targets=targets,
    )
    seen = []

    def on_round(index, smaller):
        seen.append(index)
        return {"outputs": smaller.output_shape}

    train = frozen_discriminator_trainer(discriminator)
    records = slim(generator, train, _data(), config, tmp_path, on_round)
    assert [r["round"] for r in records] == seen == list(range(1, len(records) + 1))
    assert records[-1]["ratio"] <= 0.3
    assert all(r["ratio"] > 0.3 for r in records[:-1])
    assert all(r["outputs"] == (None, SIZE, SIZE, 3) for r in records)
    parameters = [r["parameters"] for r in records]
    assert parameters == sorted(parameters, reverse=True)
    for record in records:
        assert all(count >= 4 for count in record["filters"].values())
        loaded = keras.saving.load_model(record["path"], compile=False)
        assert loaded.count_params() == record["parameters"]
        assert not any(isinstance(layer, ScalingGate) for layer in loaded.layers)
    for old, new in zip(before, discriminator.weights, strict=True):
        np.testing.assert_array_equal(old, new.numpy())
    assert discriminator.trainable
    original = records[0]["parameters"] / records[0]["ratio"]
    assert np.isclose(generator.count_params(), original)


def test_teacher_targets_are_the_teachers_inference_outputs():
    teacher = unet_generator(SIZE, filters=4, max_filters=8, dropout=0.5)
    conditions, _ = next(iter(_data()))
    distilled_conditions, targets = next(iter(teacher_targets(_data(), teacher)))
    np.testing.assert_array_equal(distilled_conditions, conditions)
    expected = keras.ops.convert_to_numpy(teacher(conditions, training=False))
    np.testing.assert_allclose(targets, expected, atol=1e-6)


def test_global_threshold_is_a_quantile_of_all_gates():
    gated = add_gates(unet_generator(SIZE, filters=4, max_filters=8))
    values = []
    for k, gate in enumerate(gates(gated).values()):
        scale = np.linspace(0.1, 1.0, gate.scale.shape[0]) * (k + 1)
        gate.scale.assign(-scale)  # the sign does not matter
        values.append(scale)
    values = np.sort(np.concatenate(values))
    threshold = global_threshold(gated, 0.25)
    assert np.isclose(threshold, values[int(0.25 * values.size) - 1])
    assert (values <= threshold).sum() == int(0.25 * values.size)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"target_ratio": 1.0}, "target_ratio=1.0"),
        ({"prune_fraction": 0.0}, "prune_fraction=0.0"),
        ({"min_filters": 0}, "min_filters=0"),
        ({"retrain_steps": -1}, "retrain_steps=-1"),
        ({"l1": -1.0}, "l1=-1.0"),
        ({"cost_weighting": "flops"}, "cost_weighting='flops'"),
        ({"targets": "fake"}, "targets='fake'"),
    ],
)
def test_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        SlimmingConfig(**settings).validate()


def test_slim_refuses_a_network_for_the_retraining():
    generator = unet_generator(SIZE, filters=8, max_filters=32)
    discriminator = patch_discriminator(SIZE, filters=8, downsamplings=2)
    with pytest.raises(TypeError, match="Received: train_generator=Functional"):
        slim(generator, discriminator, _data())
