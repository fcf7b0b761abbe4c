"""Channel groups: the channels an `Add` joins are gated, kept and removed together."""

import keras
import numpy as np
import pytest

from kgan.compress import add_gates, gates, pruning_plan, rebuild, strip_gates
from kgan.compress.gates import channel_groups, gate_groups
from kgan.export import layer_costs, model_macs, to_litert
from kgan.layers.scaling_gate import ScalingGate
from kgan.models import resnet_generator
from tests.compress.norms import randomise_norms

TRUNK = ["down2_conv", "block1_2_conv", "block2_2_conv", "block3_2_conv"]


def _randomised_resnet(norm="batch", seed=0):
    """A small ResNet generator whose norms hold non-trivial statistics."""
    generator = resnet_generator(
        16, condition_channels=3, filters=4, blocks=3, norm=norm
    )
    return randomise_norms(generator, seed)


def _inputs(seed=1):
    return np.random.default_rng(seed).normal(size=(3, 16, 16, 3)).astype("float32")


def test_the_trunk_is_one_group_with_one_gate():
    generator = _randomised_resnet()
    groups = channel_groups(generator)
    assert TRUNK in groups
    singles = [g for g in groups if g != TRUNK]
    assert all(len(g) == 1 for g in singles)
    assert sorted(g[0] for g in singles) == sorted(
        ["stem_conv", "down1_conv", "block1_1_conv", "block2_1_conv",
         "block3_1_conv", "up1_conv", "up2_conv"]
    )  # fmt: skip
    gated = add_gates(generator, l1=0.5)
    trunk_gate = gates(gated)["down2_conv"]
    assert all(gates(gated)[conv] is trunk_gate for conv in TRUNK)
    assert trunk_gate.name == "down2_conv_gate"
    x = _inputs()
    np.testing.assert_allclose(gated(x), generator(x), atol=1e-5)
    # Each set of factors is penalised once, however often its gate is called.
    gated(x)
    expected = sum(0.5 * gate.scale.shape[0] for gate, _ in gate_groups(gated))
    assert np.isclose(float(sum(gated.losses)), expected)


def test_an_add_with_an_ungated_input_is_left_alone():
    inputs = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(4, 3, padding="same", name="c1")(inputs)
    x = keras.layers.Add(name="add")([inputs, x])
    x = keras.layers.Conv2D(4, 3, padding="same", name="c2")(x)
    outputs = keras.layers.Conv2D(3, 3, padding="same", name="out")(x)
    groups = channel_groups(keras.Model(inputs, outputs))
    assert groups == [["c2"]]


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_removing_zero_gate_channels_of_trunk_and_blocks_leaves_the_output(
    tmp_path, norm
):
    gated = add_gates(_randomised_resnet(norm))
    rng = np.random.default_rng(2)
    for gate, _ in gate_groups(gated):
        scale = rng.uniform(0.3, 1.5, gate.scale.shape[0])
        scale[rng.uniform(size=scale.shape) < 0.4] = 0.0
        scale[0] = 1.0
        gate.scale.assign(scale)
    trunk = gates(gated)["down2_conv"].scale.numpy()
    inner = gates(gated)["block2_1_conv"].scale.numpy()
    assert (trunk == 0).any() and (inner == 0).any()
    x = _inputs()
    expected = gated(x).numpy()
    plan = pruning_plan(gated, threshold=0.0)
    for conv in TRUNK:
        np.testing.assert_array_equal(plan[conv], np.flatnonzero(trunk))
    np.testing.assert_array_equal(plan["block2_1_conv"], np.flatnonzero(inner))
    smaller = rebuild(gated, plan)
    assert smaller.get_layer("block3_2_conv").filters == (trunk != 0).sum()
    assert smaller.get_layer("up1_conv").input.shape[-1] == (trunk != 0).sum()
    np.testing.assert_allclose(smaller(x), expected, atol=1e-4)
    stripped = strip_gates(smaller)
    assert not any(isinstance(layer, ScalingGate) for layer in stripped.layers)
    np.testing.assert_allclose(stripped(x), expected, atol=1e-4)
    # The MACs kgan.export counts are those of the rebuilt TFLite file.
    path = to_litert(stripped, tmp_path / "small.tflite")
    assert sum(row["macs"] for row in layer_costs(stripped)) == model_macs(path)
    assert model_macs(path) < model_macs(
        to_litert(strip_gates(gated), tmp_path / "f.tflite")
    )


def test_rebuild_refuses_a_trunk_pruned_unevenly():
    gated = add_gates(_randomised_resnet())
    plan = {"down2_conv": np.arange(8), "block1_2_conv": np.arange(1, 9)}
    with pytest.raises(ValueError, match="one channel group"):
        rebuild(gated, plan)
