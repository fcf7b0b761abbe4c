import keras
import numpy as np
import pytest

from kgan.compress import (
    add_gates,
    gate_anchors,
    gates,
    pruning_plan,
    rebuild,
    strip_gates,
)
from kgan.compress.gates import gate_groups
from kgan.layers.scaling_gate import ScalingGate
from kgan.models.pix2pix_networks import unet_generator
from tests.compress.norms import randomise_norms


def _randomised_unet(seed=0):
    """A small U-Net whose BatchNorm layers hold non-trivial statistics."""
    generator = unet_generator(16, condition_channels=3, filters=4, max_filters=16)
    return randomise_norms(generator, seed)


def _inputs(seed=1):
    return np.random.default_rng(seed).normal(size=(3, 16, 16, 3)).astype("float32")


def test_gates_sit_after_the_norm_of_every_hidden_conv():
    generator = _randomised_unet()
    anchors = gate_anchors(generator)
    # The first and innermost encoder convs have no BatchNorm; the output
    # conv has no gate.
    assert anchors["down1_conv"] == "down1_conv"
    assert anchors["down4_conv"] == "down4_conv"
    assert anchors["down2_norm"] == "down2_conv"
    assert anchors["up1_norm"] == "up1_conv"
    assert "output_conv" not in anchors.values()
    gated = add_gates(generator)
    assert sorted(gates(gated)) == sorted(anchors.values())
    x = _inputs()
    np.testing.assert_allclose(gated(x), generator(x), atol=1e-6)
    with pytest.raises(ValueError, match="already has gates"):
        add_gates(gated)


def _zero_some_gates(gated, seed=2):
    rng = np.random.default_rng(seed)
    for gate in gates(gated).values():
        scale = rng.uniform(0.3, 1.5, gate.scale.shape[0])
        scale[rng.uniform(size=scale.shape) < 0.4] = 0.0
        scale[0] = 1.0  # keep at least one filter per layer
        gate.scale.assign(scale)


def test_removing_filters_with_zero_gates_leaves_the_output_unchanged():
    gated = add_gates(_randomised_unet())
    _zero_some_gates(gated)
    x = _inputs()
    expected = gated(x).numpy()
    plan = pruning_plan(gated, threshold=0.0)
    smaller = rebuild(gated, plan)
    for conv, kept in plan.items():
        assert smaller.get_layer(conv).get_config()["filters"] == len(kept)
    assert smaller.count_params() < 0.8 * gated.count_params()
    np.testing.assert_allclose(smaller(x), expected, atol=1e-5)
    # Inside the network too: a skip concatenation keeps the right channels.
    skip = gated.get_layer("up1_skip").output
    probe_old = keras.Model(gated.input, skip)(x).numpy()
    probe_new = keras.Model(smaller.input, smaller.get_layer("up1_skip").output)(x)
    up_kept = plan["up1_conv"]
    encoder_kept = plan["down3_conv"]
    width = gated.get_layer("up1_conv").get_config()["filters"]
    columns = np.concatenate([up_kept, encoder_kept + width])
    np.testing.assert_allclose(probe_new, probe_old[..., columns], atol=1e-5)


def test_strip_gates_folds_them_away():
    gated = add_gates(_randomised_unet())
    _zero_some_gates(gated)
    x = _inputs()
    stripped = strip_gates(gated)
    assert not any(isinstance(layer, ScalingGate) for layer in stripped.layers)
    np.testing.assert_allclose(stripped(x), gated(x), atol=1e-5)
    # The gated model itself is untouched.
    assert any(np.any(g.scale.numpy() == 0) for g in gates(gated).values())


def test_pruning_plan_threshold_and_minimum():
    gated = add_gates(_randomised_unet())
    for gate in gates(gated).values():
        gate.scale.assign(np.linspace(0.0, 1.0, gate.scale.shape[0]))
    plan = pruning_plan(gated, threshold=0.5)
    for conv, kept in plan.items():
        scale = gates(gated)[conv].scale.numpy()
        np.testing.assert_array_equal(kept, np.flatnonzero(scale > 0.5))
    # Below the threshold everywhere: each layer keeps its 3 largest factors.
    for gate in gates(gated).values():
        count = gate.scale.shape[0]
        gate.scale.assign(-(count - np.arange(count, dtype="float32")) * 1e-3)
    plan = pruning_plan(gated, threshold=1.0, min_filters=3)
    for kept in plan.values():
        np.testing.assert_array_equal(kept, [0, 1, 2])


def test_rebuild_rejects_bad_plans_and_graphs():
    gated = add_gates(_randomised_unet())
    with pytest.raises(ValueError, match="lacks"):
        rebuild(gated, {"nope": np.array([0])})
    with pytest.raises(ValueError, match="non-empty"):
        rebuild(gated, {"down2_conv": np.array([], int)})
    with pytest.raises(ValueError, match="non-empty"):
        rebuild(gated, {"down2_conv": np.array([99])})
    with pytest.raises(ValueError, match="min_filters"):
        pruning_plan(gated, 0.0, min_filters=0)
    # A reshape that mixes pruned channels cannot be rebuilt.
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", name="c")(inputs)
    x = keras.layers.Reshape((4, 16), name="r")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    with pytest.raises(ValueError, match="channel count"):
        rebuild(model, {"c": np.array([0, 1])})


def test_channel_macs_are_what_removing_one_channel_saves(tmp_path):
    from kgan.compress.gates import channel_macs, mac_weights
    from kgan.export import layer_costs, model_macs, to_litert

    gated = add_gates(_randomised_unet())

    def total_macs(model):
        return sum(row["macs"] for row in layer_costs(model))

    # The MACs counted are those of the exported file.
    stripped = strip_gates(gated)
    assert total_macs(stripped) == model_macs(
        to_litert(stripped, tmp_path / "g.tflite")
    )
    costs = channel_macs(gated)
    for gate, convs in gate_groups(gated):
        # One channel fewer: a filter of its convolutions and an input
        # channel of each layer that takes it, U-Net skips included.
        plan = {c: np.arange(1, gated.get_layer(c).filters) for c in convs}
        saved = total_macs(gated) - total_macs(rebuild(gated, plan))
        assert costs[gate.name] == saved, gate.name
    # Weights are relative: their channel-weighted mean is 1.
    weights = mac_weights(gated)
    channels = {g.name: g.scale.shape[0] for g, _ in gate_groups(gated)}
    mean = sum(weights[g] * channels[g] for g in weights) / sum(channels.values())
    assert np.isclose(mean, 1.0)
    assert max(weights.values()) / min(weights.values()) > 2  # not uniform
