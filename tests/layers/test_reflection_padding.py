import numpy as np
import pytest
from keras.src import testing

from kgan.layers import ReflectionPadding2D
from tests.layer_checks import assert_round_trip


class ReflectionPadding2DTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            ReflectionPadding2D,
            init_kwargs={"padding": (1, 2)},
            input_shape=(2, 4, 5, 3),
            expected_output_shape=(2, 6, 9, 3),
            expected_num_trainable_weights=0,
            supports_masking=False,
        )

    def test_matches_numpy(self):
        x = np.random.default_rng(0).normal(size=(2, 5, 6, 3)).astype("float32")
        expected = np.pad(x, ((0, 0), (3, 3), (2, 2), (0, 0)), mode="reflect")
        self.assertAllClose(ReflectionPadding2D((3, 2))(x), expected)

    def test_edge_pixel_is_not_repeated(self):
        x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
        x = np.repeat(x, 3, axis=1)
        row = ReflectionPadding2D((0, 2))(x).numpy()[0, 0, :, 0]
        self.assertAllClose(row, [2, 1, 0, 1, 2, 3, 2, 1])

    def test_save_load_round_trip(self):
        assert_round_trip(ReflectionPadding2D(2), (2, 5, 5, 3))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="Received: padding=\\(-1, -1\\)"):
            ReflectionPadding2D(-1)
        with pytest.raises(ValueError, match="smaller than the height"):
            ReflectionPadding2D(3)(np.ones((1, 3, 8, 1), "float32"))
