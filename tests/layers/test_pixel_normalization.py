import keras
import numpy as np
import pytest
from keras.src import testing

from kgan.layers import PixelNormalization
from tests.layer_checks import assert_round_trip


class PixelNormalizationTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            PixelNormalization,
            init_kwargs={},
            input_shape=(2, 4, 4, 3),
            expected_output_shape=(2, 4, 4, 3),
            expected_num_trainable_weights=0,
            supports_masking=True,
        )

    def test_matches_numpy(self):
        x = np.random.default_rng(0).normal(scale=5, size=(2, 3, 3, 8))
        expected = x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-8)
        self.assertAllClose(
            PixelNormalization()(x.astype("float32")), expected, rtol=1e-5
        )

    def test_unit_mean_square_at_every_pixel(self):
        x = np.random.default_rng(1).normal(scale=30, size=(4, 5, 5, 16))
        y = PixelNormalization()(x.astype("float32")).numpy()
        self.assertAllClose(np.mean(y**2, axis=-1), np.ones((4, 5, 5)), rtol=1e-5)

    def test_channels_first_axis(self):
        x = np.random.default_rng(2).normal(size=(2, 6, 3, 3))
        y = PixelNormalization(axis=1)(x.astype("float32")).numpy()
        self.assertAllClose(np.mean(y**2, axis=1), np.ones((2, 3, 3)), rtol=1e-5)

    def test_float16_large_values_do_not_overflow(self):
        x = np.full((1, 2, 2, 4), 3000.0, "float32")
        y = PixelNormalization(dtype="mixed_float16")(x)
        self.assertEqual(keras.backend.standardize_dtype(y.dtype), "float16")
        self.assertAllClose(y.numpy().astype("float32"), np.ones_like(x), rtol=1e-3)

    def test_save_load_round_trip(self):
        assert_round_trip(PixelNormalization(epsilon=1e-6), (3, 4, 4, 5))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="Received: epsilon=0"):
            PixelNormalization(epsilon=0)
        with pytest.raises(ValueError, match="Received: inputs.shape=\\(3,\\)"):
            PixelNormalization()(np.ones(3, "float32"))
