import numpy as np
import pytest
from keras.src import testing

from kgan.layers import SelfAttention2D
from tests.layer_checks import assert_round_trip


def self_attention_reference(x, wf, bf, wg, bg, wh, bh, gamma):
    """SAGAN's eqs. with explicit loops over positions, float64."""
    batch, height, width, channels = x.shape
    flat = x.reshape(batch, height * width, channels).astype(np.float64)
    out = np.empty_like(flat)
    for b in range(batch):
        f, g, h = flat[b] @ wf + bf, flat[b] @ wg + bg, flat[b] @ wh + bh
        for j in range(height * width):
            s = np.array([f[i] @ g[j] for i in range(height * width)])
            beta = np.exp(s - s.max())
            beta /= beta.sum()
            out[b, j] = gamma * (beta @ h) + flat[b, j]
    return out.reshape(x.shape)


class SelfAttention2DTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            SelfAttention2D,
            init_kwargs={"attention_channels": 2},
            input_shape=(2, 4, 5, 8),
            expected_output_shape=(2, 4, 5, 8),
            expected_num_trainable_weights=7,  # 3 kernels, 3 biases, gamma
        )

    def test_starts_as_the_identity(self):
        x = np.random.default_rng(0).normal(size=(2, 3, 3, 16)).astype("float32")
        layer = SelfAttention2D()
        self.assertAllClose(layer(x), x)
        self.assertEqual(layer.query.filters, 2)  # C / 8

    def test_matches_numpy(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 3, 4, 6)).astype("float32")
        layer = SelfAttention2D(attention_channels=3)
        layer.build(x.shape)
        for weight in layer.trainable_weights:
            weight.assign(rng.normal(scale=0.5, size=weight.shape))
        kernels = [
            (c.kernel.numpy()[0, 0], c.bias.numpy())
            for c in (layer.query, layer.key, layer.value)
        ]
        expected = self_attention_reference(
            x, *[v for pair in kernels for v in pair], float(layer.gamma.numpy())
        )
        self.assertAllClose(layer(x), expected, atol=1e-4)

    def test_serialization_round_trip(self):
        layer = SelfAttention2D(attention_channels=2)
        layer.build((None, 3, 3, 4))
        rng = np.random.default_rng(2)
        for weight in layer.weights:
            weight.assign(rng.normal(scale=0.3, size=weight.shape))
        assert_round_trip(layer, (2, 3, 3, 4))

    def test_rejects_bad_arguments(self):
        with pytest.raises(ValueError, match="Received: attention_channels=0"):
            SelfAttention2D(attention_channels=0)
        with pytest.raises(ValueError, match="Received: shape"):
            SelfAttention2D().build((None, 8))
