import numpy as np
import pytest
from keras.src import testing

from kgan.layers import Maxout
from tests.layer_checks import assert_round_trip


class MaxoutTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            Maxout,
            init_kwargs={"units": 4, "pieces": 3},
            input_shape=(2, 6),
            expected_output_shape=(2, 4),
            expected_num_trainable_weights=2,
        )

    def test_matches_numpy(self):
        rng = np.random.default_rng(0)
        layer = Maxout(units=3, pieces=5)
        layer.build((None, 7))
        kernel = rng.normal(size=(7, 15)).astype("float32")
        bias = rng.normal(size=15).astype("float32")
        layer.kernel.assign(kernel)
        layer.bias.assign(bias)
        x = rng.normal(size=(4, 7)).astype("float32")
        # Output j is the max over its pieces: columns j * pieces + k.
        expected = np.stack(
            [(x @ kernel + bias)[:, j * 5 : (j + 1) * 5].max(axis=1) for j in range(3)],
            axis=1,
        )
        self.assertAllClose(layer(x), expected, atol=1e-5)

    def test_serialization_round_trip(self):
        layer = Maxout(units=2, pieces=4)
        layer.build((None, 3))
        rng = np.random.default_rng(1)
        for weight in layer.weights:
            weight.assign(rng.normal(size=weight.shape))
        assert_round_trip(layer, (5, 3))

    def test_rejects_bad_pieces(self):
        with pytest.raises(ValueError, match="Received: pieces=0"):
            Maxout(units=3, pieces=0)
