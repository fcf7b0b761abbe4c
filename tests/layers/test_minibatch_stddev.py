import keras
import numpy as np
import pytest
from keras.src import testing

from kgan.layers import MinibatchStdDev
from tests.layer_checks import assert_round_trip


def stddev_feature_reference(x, group_size):
    """Extra channel of MinibatchStdDev, sample by sample, in float64."""
    n = x.shape[0]
    group = max(g for g in range(1, group_size + 1) if n % g == 0)
    columns = n // group
    out = np.zeros(n)
    for column in range(columns):
        members = x[column::columns]  # sample i belongs to group i % columns
        assert len(members) == group
        std = np.sqrt(members.var(axis=0) + 1e-8)
        out[column::columns] = std.mean()
    return out


class MinibatchStdDevTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            MinibatchStdDev,
            init_kwargs={"group_size": 2},
            input_shape=(4, 4, 4, 3),
            expected_output_shape=(4, 4, 4, 4),
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=0,
        )

    def test_batch_sizes_and_numpy_reference(self):
        rng = np.random.default_rng(0)
        for batch in (1, 3, 4, 6, 8):
            x = rng.normal(size=(batch, 5, 5, 3)).astype("float32")
            y = MinibatchStdDev(group_size=4)(x).numpy()
            self.assertEqual(y.shape, (batch, 5, 5, 4))
            self.assertAllClose(y[..., :3], x)
            expected = stddev_feature_reference(x.astype(np.float64), 4)
            self.assertAllClose(
                y[..., 3],
                np.broadcast_to(expected[:, None, None], (batch, 5, 5)),
                rtol=1e-5,
                msg=f"batch={batch}",
            )

    def test_unknown_batch_in_a_compiled_model(self):
        inputs = keras.Input((4, 4, 2))
        model = keras.Model(inputs, MinibatchStdDev()(inputs))
        self.assertEqual(tuple(model.output.shape), (None, 4, 4, 3))
        x = np.random.default_rng(1).normal(size=(10, 4, 4, 2)).astype("float32")
        # Batches of 4, 4 and a ragged 2 go through one traced function.
        y = model.predict(x, batch_size=4, verbose=0)
        for start, stop in ((0, 4), (4, 8), (8, 10)):
            expected = stddev_feature_reference(x[start:stop].astype(np.float64), 4)
            self.assertAllClose(y[start:stop, 0, 0, 2], expected, rtol=1e-5)

    def test_save_load_round_trip(self):
        assert_round_trip(MinibatchStdDev(group_size=2), (6, 3, 3, 2))

    def test_bad_input(self):
        for group_size in (0, -2, 2.5):
            with pytest.raises(ValueError, match=f"Received: group_size={group_size}"):
                MinibatchStdDev(group_size=group_size)
        with pytest.raises(ValueError, match="Received: inputs.shape=\\(2, 3, 3\\)"):
            MinibatchStdDev()(np.ones((2, 3, 3), "float32"))
