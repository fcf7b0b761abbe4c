import keras
import numpy as np
import pytest

from kgan.export import cost_shares, layer_costs, model_macs, to_litert
from kgan.layers import ReflectionPadding2D
from kgan.models import resnet_generator


def test_shapes_widths_and_range():
    generator = resnet_generator(16, condition_channels=5, filters=4, blocks=3)
    assert generator.output_shape == (None, 16, 16, 3)
    assert generator.get_layer("down2_conv").output.shape[1:] == (4, 4, 16)
    for k in range(1, 4):
        assert generator.get_layer(f"block{k}_2_conv").filters == 16
        assert isinstance(generator.get_layer(f"block{k}_add"), keras.layers.Add)
    assert generator.get_layer("up2_conv").output.shape[1:] == (16, 16, 4)
    pads = [x for x in generator.layers if isinstance(x, ReflectionPadding2D)]
    assert len(pads) == 2 + 2 * 3
    outputs = generator(np.random.default_rng(0).normal(size=(2, 16, 16, 5)))
    assert np.all(np.abs(outputs) <= 1.0)


def test_blocks_are_residual():
    # With the blocks' last norms scaled to zero, each block passes its input
    # through unchanged, so removing the blocks gives the same output.
    generator = resnet_generator(16, filters=4, blocks=2)
    x = np.random.default_rng(1).normal(size=(2, 16, 16, 7)).astype("float32")
    for k in (1, 2):
        norm = generator.get_layer(f"block{k}_2_norm")
        norm.gamma.assign(np.zeros(16))
        norm.beta.assign(np.zeros(16))
    trunk = keras.Model(generator.input, generator.get_layer("down2_act").output)
    blocks_out = keras.Model(generator.input, generator.get_layer("block2_add").output)
    np.testing.assert_allclose(
        blocks_out(x, training=False), trunk(x, training=False), atol=1e-6
    )


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_save_load_round_trip(tmp_path, norm):
    generator = resnet_generator(8, filters=2, blocks=1, norm=norm)
    x = np.random.default_rng(2).normal(size=(1, 8, 8, 7)).astype("float32")
    path = tmp_path / "g.keras"
    generator.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(restored(x), generator(x))


def test_residual_blocks_hold_the_parameters_and_the_macs():
    # The Compact GAN's regime: 9 blocks of 256 channels (filters 64), at
    # 32 px; counted by hand (3x3 convolutions without bias, BatchNorm's 4
    # values per channel, the output convolution's bias).
    generator = resnet_generator(32)
    block = 9 * 2 * (3 * 3 * 256 * 256 + 4 * 256)
    others = (
        7 * 7 * 7 * 64 + 4 * 64  # stem
        + 3 * 3 * 64 * 128 + 4 * 128 + 3 * 3 * 128 * 256 + 4 * 256  # down
        + 3 * 3 * 256 * 128 + 4 * 128 + 3 * 3 * 128 * 64 + 4 * 64  # up
        + 7 * 7 * 64 * 3 + 3  # output
    )  # fmt: skip
    assert generator.count_params() == block + others
    block_macs = 9 * 2 * 8 * 8 * 3 * 3 * 256 * 256
    other_macs = (
        32 * 32 * 7 * 7 * 7 * 64
        + 16 * 16 * 3 * 3 * 64 * 128 + 8 * 8 * 3 * 3 * 128 * 256
        # transposed: at the input pixels
        + 8 * 8 * 3 * 3 * 256 * 128 + 16 * 16 * 3 * 3 * 128 * 64
        + 32 * 32 * 7 * 7 * 64 * 3
    )  # fmt: skip
    shares = cost_shares(generator)
    blocks = [cost for part, cost in shares.items() if part.startswith("block")]
    assert sum(c["parameters"] for c in blocks) == block
    assert sum(c["macs"] for c in blocks) == block_macs
    np.testing.assert_allclose(
        sum(c["mac_share"] for c in blocks), block_macs / (block_macs + other_macs)
    )
    assert block / (block + others) >= 0.85
    assert block_macs / (block_macs + other_macs) >= 0.85


def test_layer_macs_match_the_tflite_count(tmp_path):
    generator = resnet_generator(16, filters=4, blocks=2)
    path = to_litert(generator, tmp_path / "g.tflite")
    assert sum(row["macs"] for row in layer_costs(generator)) == model_macs(path)
    # By hand: the 7x7 stem from 7 to 4 channels at 16x16.
    stem = next(r for r in layer_costs(generator) if r["layer"] == "stem_conv")
    assert stem["macs"] == 16 * 16 * 7 * 7 * 7 * 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_size": 10}, "image_size=10"),
        ({"blocks": 0}, "blocks=0"),
        ({"norm": "layer"}, "norm='layer'"),
        ({"dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        resnet_generator(**kwargs)
