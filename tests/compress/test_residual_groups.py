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


def _random_gates(gated, rng, zero_share=0.4):
    for gate, _ in gate_groups(gated):
        scale = rng.uniform(0.3, 1.5, gate.scale.shape[0])
        scale[rng.uniform(size=scale.shape) < zero_share] = 0.0
        gate.scale.assign(scale)


def test_kept_widths_are_multiples_holding_the_largest_gates():
    generator = resnet_generator(
        16, condition_channels=3, filters=16, blocks=2, norm="instance"
    )
    gated = add_gates(randomise_norms(generator))
    _random_gates(gated, np.random.default_rng(3), zero_share=0.6)
    block = gates(gated)["block1_1_conv"]
    block.scale.assign(np.r_[np.zeros(60), np.full(4, 0.5)])  # 4 of 64 live
    plan = pruning_plan(gated, threshold=0.0, channel_multiple=8)
    for gate, convs in gate_groups(gated):
        scale = np.abs(gate.scale.numpy())
        kept = plan[convs[0]]
        zeros = (scale == 0).sum()
        if gate.name == "block1_1_conv_gate":
            # Fewer than one multiple would stay: the block goes.
            assert kept.size == 0
            continue
        # As many whole multiples of zeros as there are go, at least 8 stay.
        assert kept.size == max(8, scale.size - zeros // 8 * 8), gate.name
        others = np.delete(scale, kept)
        assert others.size == 0 or others.max() <= scale[kept].min()
    smaller = rebuild(gated, plan)
    for layer in smaller.layers:
        if isinstance(layer, keras.layers.Conv2D) and layer.name != "output_conv":
            assert layer.filters % 8 == 0, layer.name
    assert "block1_1_conv" not in [layer.name for layer in smaller.layers]


def test_a_dropped_block_leaves_its_skip_path():
    generator = _randomised_resnet()
    gated = add_gates(generator)
    x = _inputs()
    # Reference: the block's branch made exactly zero by its last norm.
    reference = keras.models.clone_model(gated)
    reference.set_weights(gated.get_weights())
    norm = reference.get_layer("block2_2_norm")
    weights = norm.get_weights()
    weights[0][:], weights[1][:] = 0.0, 0.0  # gamma, beta
    norm.set_weights(weights)
    smaller = rebuild(gated, {"block2_1_conv": np.array([], int)})
    names = [layer.name for layer in smaller.layers]
    assert not [n for n in names if n.startswith("block2_")]
    assert "block1_add" in names and "block3_add" in names
    np.testing.assert_allclose(smaller(x), reference(x), atol=1e-6)
    # The block did change the output (by far more than that tolerance).
    assert np.abs(smaller(x) - gated(x)).max() > 1e-4
    with pytest.raises(ValueError, match="only inside a residual branch"):
        rebuild(gated, {"stem_conv": np.array([], int)})
