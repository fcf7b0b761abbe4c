import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.compress import add_gates
from kgan.compress.gates import gate_groups
from kgan.compress.prune import round_plan
from kgan.compress.retraining import pix2pix_trainer
from kgan.compress.slimming import (
    SlimmingConfig,
    _phase_trainer,
    slim,
    teacher_targets,
)
from kgan.data.road_scenes import one_hot, road_scenes
from kgan.layers.scaling_gate import ScalingGate
from kgan.models.pix2pix_networks import (
    patch_discriminator,
    resnet_generator,
    unet_generator,
)

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
        max_prune_fraction=0.4,
        threshold=1e9,  # whatever the factors: the cap decides
        sparsity_steps=3,
        retrain_steps=3,
        recalibration_batches=2,
        targets=targets,
        channel_multiple=1,  # networks of 4 to 32 filters
    )
    seen = []

    def on_round(index, smaller):
        seen.append(index)
        return {"outputs": smaller.output_shape}

    records = slim(generator, discriminator, _data(), config, tmp_path, on_round)
    assert [r["round"] for r in records] == seen == list(range(1, len(records) + 1))
    assert records[-1]["ratio"] <= 0.3
    assert all(r["ratio"] > 0.3 for r in records[:-1])
    assert all(r["outputs"] == (None, SIZE, SIZE, 3) for r in records)
    # pix2pix's L1 pulls towards the real scenes, or towards the untrained
    # teacher's outputs, which the gated copy still nearly makes (in training
    # mode, its BatchNorm on batch statistics; the teacher's on moving ones).
    l1 = records[0]["sparsity"]["g_l1"]
    assert l1 < 0.1 if targets == "teacher" else l1 > 0.2, l1
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


def _resnet_setup():
    keras.utils.set_random_seed(0)
    generator = resnet_generator(SIZE, filters=4, blocks=2)
    discriminator = patch_discriminator(SIZE, filters=4, downsamplings=2)
    return generator, discriminator


RESNET_CONFIG = SlimmingConfig(
    target_ratio=0.5,
    max_prune_fraction=0.15,
    threshold=1e9,
    min_filters=2,
    sparsity_steps=2,
    retrain_steps=2,
    recalibration_batches=2,
    channel_multiple=1,
)


def test_slim_resumes_after_its_last_finished_round(tmp_path, capsys):
    generator, discriminator = _resnet_setup()

    def stop_in_round_2(index, smaller):
        if index == 2:
            raise KeyboardInterrupt  # a stop before round 2 is recorded
        return {}

    with pytest.raises(KeyboardInterrupt):
        slim(
            generator, discriminator, _data(), RESNET_CONFIG, tmp_path, stop_in_round_2
        )
    first = json.loads((tmp_path / "slimming.json").read_text())["records"]
    assert [r["round"] for r in first] == [1]
    records = slim(generator, discriminator, _data(), RESNET_CONFIG, tmp_path)
    assert "resuming round 2 at its retrain phase" in capsys.readouterr().out
    assert records[0]["parameters"] == first[0]["parameters"]
    assert [r["round"] for r in records] == list(range(1, len(records) + 1))
    assert len(records) >= 3 and records[-1]["ratio"] <= 0.5
    # The trunk stays one group: every convolution of it keeps as many filters.
    trunk = [
        records[-1]["filters"][c]
        for c in ("down2_conv", "block1_2_conv", "block2_2_conv")
    ]
    assert len(set(trunk)) == 1
    saved = json.loads((tmp_path / "slimming.json").read_text())["records"]
    assert len(saved) == len(records)
    other = dataclasses.replace(
        RESNET_CONFIG, l1=0.5, target_ratio=0.05, max_rounds=len(records) + 1
    )
    with pytest.raises(ValueError, match=r"other settings.*'l1', 'max_rounds'"):
        slim(generator, discriminator, _data(), other, tmp_path)
    # With change_settings the next rounds run under the new settings, and a
    # missed target is returned rather than raised when not required.
    more = slim(
        generator,
        discriminator,
        _data(),
        other,
        tmp_path,
        change_settings=True,
        require_target=False,
    )
    state = json.loads((tmp_path / "slimming.json").read_text())
    assert [s["first_round"] for s in state["stages"]] == [1, len(records) + 1]
    assert state["stages"][1]["config"]["l1"] == 0.5
    assert all(r["settings"] == {} for r in more[: len(records)])
    assert len(more) == len(records) + 1
    assert more[-1]["settings"] == {
        "l1": 0.5,
        "target_ratio": 0.05,
        "max_rounds": len(more),
    }
    assert more[-1]["parameters"] < records[-1]["parameters"]
    with pytest.raises(RuntimeError, match="did not reach 0.05"):
        slim(generator, discriminator, _data(), other, tmp_path)


@pytest.mark.parametrize("phase", ["joint", "gates_only"])
def test_gate_phase_trains_what_it_says(phase):
    generator, discriminator = _resnet_setup()
    train = pix2pix_trainer(discriminator)
    gated = add_gates(generator)
    discriminator_before = [w.numpy().copy() for w in train.discriminator.weights]
    conv_before = gated.get_layer("block1_1_conv").kernel.numpy().copy()
    config = dataclasses.replace(RESNET_CONFIG, gate_phase=phase, l1=1.0)
    trainer = _phase_trainer(gated, train, config, "gates")
    trainer.fit(_data(), steps_per_epoch=config.sparsity_steps, verbose=0)
    discriminator_changed = any(
        not np.array_equal(old, new.numpy())
        for old, new in zip(
            discriminator_before, train.discriminator.weights, strict=True
        )
    )
    conv_changed = not np.array_equal(
        conv_before, gated.get_layer("block1_1_conv").kernel.numpy()
    )
    assert discriminator_changed == conv_changed == (phase == "joint")
    # The gates learn in both, pulled down by the penalty.
    scales = np.concatenate([g.scale.numpy() for g, _ in gate_groups(gated)])
    assert scales.mean() < 1.0


def test_teacher_targets_are_the_teachers_inference_outputs():
    teacher = unet_generator(SIZE, filters=4, max_filters=8, dropout=0.5)
    conditions, _ = next(iter(_data()))
    distilled_conditions, targets = next(iter(teacher_targets(_data(), teacher)))
    np.testing.assert_array_equal(distilled_conditions, conditions)
    expected = keras.ops.convert_to_numpy(teacher(conditions, training=False))
    np.testing.assert_allclose(targets, expected, atol=1e-6)


def test_round_plan_takes_the_smallest_gates_below_the_threshold_up_to_the_cap():
    gated = add_gates(unet_generator(SIZE, filters=4, max_filters=8))
    groups = gate_groups(gated)
    total = sum(g.scale.shape[0] for g, _ in groups)
    rng = np.random.default_rng(0)
    values = {}
    for gate, _ in groups:
        scale = rng.uniform(0.0, 0.1, gate.scale.shape[0])
        gate.scale.assign(-scale)  # the sign does not matter
        values[gate.name] = scale
    # Only the threshold binds: every channel at or below it goes, but for
    # the min_filters largest of each gate.
    plan, removed = round_plan(gated, 0.05, max_fraction=0.99, min_filters=1)
    for gate, convs in groups:
        scale = values[gate.name]
        expected = np.flatnonzero(scale > 0.05)
        if expected.size == 0:
            expected = np.array([np.argmax(scale)])
        np.testing.assert_array_equal(plan[convs[0]], expected)
    assert removed == total - sum(len(plan[c[0]]) for _, c in groups)
    # The cap binds: a quarter of the channels go, the smallest ones.
    plan, removed = round_plan(gated, 1.0, max_fraction=0.25, min_filters=1)
    assert removed == int(0.25 * total)
    gone = np.concatenate([np.delete(values[g.name], plan[c[0]]) for g, c in groups])
    kept = np.concatenate([values[g.name][plan[c[0]]] for g, c in groups])
    assert gone.max() <= kept.min()


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"target_ratio": 1.0}, "target_ratio=1.0"),
        ({"max_prune_fraction": 0.0}, "max_prune_fraction=0.0"),
        ({"threshold": -1.0}, "threshold=-1.0"),
        ({"recalibration_batches": -1}, "recalibration_batches=-1"),
        ({"gate_phase": "both"}, "gate_phase='both'"),
        ({"min_filters": 0}, "min_filters=0"),
        ({"retrain_steps": -1}, "retrain_steps=-1"),
        ({"l1": -1.0}, "l1=-1.0"),
        ({"cost_weighting": "flops"}, "cost_weighting='flops'"),
        ({"channel_multiple": 0}, "channel_multiple=0"),
        ({"targets": "fake"}, "targets='fake'"),
    ],
)
def test_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        SlimmingConfig(**settings).validate()


def test_slim_names_what_it_cannot_work_with():
    generator = unet_generator(SIZE, filters=8, max_filters=32)
    discriminator = patch_discriminator(SIZE, filters=8, downsamplings=2)
    with pytest.raises(TypeError, match="Received: discriminator=str"):
        slim(generator, "d.keras", _data())
    other = patch_discriminator(2 * SIZE, filters=8, downsamplings=2)
    with pytest.raises(ValueError, match=r"Received: discriminator inputs=\[\(32, 32"):
        slim(generator, other, _data())
    images = _data().map(lambda conditions, images: images)
    with pytest.raises(ValueError, match="pairs.*Received: element_spec="):
        slim(generator, discriminator, images)

    class Doubling(keras.Model):
        def call(self, x):
            return generator(x) * 2.0

    with pytest.raises(TypeError, match="functional.*Received: model=Doubling"):
        slim(Doubling(), discriminator, _data())
    inputs = keras.Input((SIZE, SIZE, 7))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    opaque = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(x))
    with pytest.raises(ValueError, match="layer=double, class=Lambda"):
        slim(opaque, discriminator, _data())
    with pytest.raises(ValueError, match="target_ratio=1.5"):
        slim(generator, discriminator, _data(), SlimmingConfig(target_ratio=1.5))
