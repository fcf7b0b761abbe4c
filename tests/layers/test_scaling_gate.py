import keras
import numpy as np
import pytest
from keras.src import testing

from kgan.layers import ScalingGate
from tests.layer_checks import assert_round_trip


def gated_model(first, norm=None, filters=4):
    """Input -> first -> [norm] -> gate -> 1x1 conv head."""
    inputs = keras.Input((6, 6, 3))
    x = first(inputs)
    if norm is not None:
        x = norm(x)
    gate = ScalingGate(l1=0.0)
    x = gate(x)
    outputs = keras.layers.Conv2D(2, 1)(x)
    return keras.Model(inputs, outputs), gate


def randomize(layer, rng):
    for variable in layer.weights:
        variable.assign(rng.uniform(0.5, 1.5, size=variable.shape))


class ScalingGateTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            ScalingGate,
            init_kwargs={"l1": 0.01},
            input_shape=(2, 4, 4, 3),
            expected_output_shape=(2, 4, 4, 3),
            expected_num_trainable_weights=1,
            expected_num_non_trainable_weights=1,
            expected_num_losses=1,
            supports_masking=True,
        )

    def test_scales_last_axis(self):
        gate = ScalingGate()
        x = np.random.default_rng(0).normal(size=(2, 3, 3, 4)).astype("float32")
        gate.build(x.shape)
        factors = np.array([0.5, -2.0, 0.0, 3.0], "float32")
        gate.scale.assign(factors)
        self.assertAllClose(gate(x), x * factors)

    def test_starts_at_one(self):
        gate = ScalingGate()
        gate.build((None, 7))
        self.assertAllClose(gate.scale, np.ones(7))

    def test_penalty_in_model_losses(self):
        inputs = keras.Input((5,))
        gate = ScalingGate(l1=0.25)
        model = keras.Model(inputs, gate(keras.layers.Dense(3)(inputs)))
        gate.scale.assign([1.0, -2.0, 0.5])
        model(np.ones((2, 5), "float32"))
        self.assertLen(model.losses, 1)
        self.assertAllClose(model.losses[0], 0.25 * 3.5)

    def test_l1_changes_between_fits_without_recompiling(self):
        rng = np.random.default_rng(0)
        inputs = keras.Input((4,))
        gate = ScalingGate(l1=0.0)
        outputs = keras.layers.Dense(1)(gate(keras.layers.Dense(8)(inputs)))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        x = rng.normal(size=(64, 4)).astype("float32")
        y = rng.normal(size=(64, 1)).astype("float32")

        model.fit(x, y, epochs=1, batch_size=64, verbose=0)
        train_function = model.train_function
        data_loss = model.evaluate(x, y, verbose=0)
        test_function = model.test_function

        gate.l1 = 2.0
        before = np.abs(gate.scale.numpy()).sum()
        penalised = model.evaluate(x, y, verbose=0)
        self.assertIs(model.test_function, test_function)
        self.assertAllClose(penalised - data_loss, 2.0 * before, rtol=1e-4)

        model.fit(x, y, epochs=5, batch_size=64, verbose=0)
        self.assertIs(model.train_function, train_function)
        # SGD on 2 * sum|s| lowers every |s| by 5 * 0.01 * 2 plus the data term.
        self.assertLess(np.abs(gate.scale.numpy()).sum(), before - 0.5)

    def test_fold_into_batch_normalization(self):
        rng = np.random.default_rng(1)
        norm = keras.layers.BatchNormalization()
        model, gate = gated_model(keras.layers.Conv2D(4, 3), norm)
        randomize(norm, rng)
        gate.scale.assign(rng.normal(size=4))
        x = rng.normal(size=(3, 6, 6, 3)).astype("float32")
        expected = model.predict(x, verbose=0)
        gate.fold_into(norm)
        self.assertAllClose(gate.scale, np.ones(4))
        self.assertAllClose(model.predict(x, verbose=0), expected, atol=1e-5)

    def test_fold_into_conv_dense_and_transposed_conv(self):
        rng = np.random.default_rng(2)
        for first in (
            keras.layers.Conv2D(4, 3, padding="same"),
            keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same"),
            keras.layers.Dense(4),
        ):
            model, gate = gated_model(first)
            first.bias.assign(rng.normal(size=4))
            gate.scale.assign(rng.normal(size=4))
            x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
            expected = model.predict(x, verbose=0)
            gate.fold_into(first)
            self.assertAllClose(
                model.predict(x, verbose=0), expected, atol=1e-5, msg=first.name
            )

    def test_mask_keeps_filters_above_threshold(self):
        gate = ScalingGate()
        gate.build((None, 4))
        gate.scale.assign([0.0, 0.5, 1e-3, -2.0])
        np.testing.assert_array_equal(gate.mask(1e-2), [False, True, False, True])
        np.testing.assert_array_equal(gate.mask(0.0), [False, True, True, True])

    def test_save_load_round_trip(self):
        gate = ScalingGate(l1=0.125)
        gate.build((None, 3))
        gate.scale.assign([0.2, -1.5, 3.0])
        restored = assert_round_trip(gate, (4, 3))
        self.assertEqual(restored.layers[-1].l1, 0.125)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="Received: l1=-0.1"):
            ScalingGate(l1=-0.1)
        gate = ScalingGate()
        gate.build((None, 3))
        with pytest.raises(ValueError, match="Received: l1=-1"):
            gate.l1 = -1
        with pytest.raises(ValueError, match="Received: threshold=-1"):
            gate.mask(-1)
        with pytest.raises(ValueError, match="Received: layer=ReLU"):
            gate.fold_into(keras.layers.ReLU())
        dense = keras.layers.Dense(5)
        dense.build((None, 2))
        with pytest.raises(ValueError, match="Received: filters=5"):
            gate.fold_into(dense)
