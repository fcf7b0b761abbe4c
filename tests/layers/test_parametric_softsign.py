import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src import testing

from kgan.layers import ParametricSoftsign
from tests.layer_checks import assert_round_trip


def psf_reference(x, alpha):
    """The PSF formula of DESIGN section 3, in float64."""
    x = np.asarray(x, np.float64)
    return np.where(x >= 0, x, x / (1.0 + np.abs(x) * np.exp(-alpha)))


def psf(x, alpha, dtype="float32"):
    layer = ParametricSoftsign(
        alpha_initializer=keras.initializers.Constant(alpha), dtype=dtype
    )
    inputs = np.asarray(x, "float32" if dtype.startswith("mixed") else dtype)
    return keras.ops.convert_to_numpy(layer(inputs))


class ParametricSoftsignTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            ParametricSoftsign,
            init_kwargs={},
            input_shape=(2, 3, 4),
            expected_output_shape=(2, 3, 4),
            expected_num_trainable_weights=1,
            expected_num_non_trainable_weights=0,
            supports_masking=True,
        )

    def test_layer_harness_per_channel(self):
        self.run_layer_test(
            ParametricSoftsign,
            init_kwargs={"shared_axes": [1, 2], "alpha_initializer": "ones"},
            input_shape=(2, 5, 5, 3),
            expected_output_shape=(2, 5, 5, 3),
            expected_num_trainable_weights=1,
        )

    def test_matches_numpy_formula(self):
        x = np.linspace(-20, 20, 401)
        for alpha in (-3.0, -1.0, 0.0, 0.5, 2.0):
            self.assertAllClose(psf(x, alpha), psf_reference(x, alpha), rtol=1e-5)

    def test_default_is_one_alpha_per_layer_at_zero(self):
        layer = ParametricSoftsign()
        layer.build((None, 8, 8, 4))
        self.assertEqual(tuple(layer.alpha.shape), ())
        self.assertEqual(float(layer.alpha.numpy()), 0.0)

    def test_limits_are_relu_and_identity(self):
        x = np.linspace(-5, 5, 1001)
        self.assertAllClose(psf(x, -30.0), np.maximum(x, 0), atol=1e-3)
        self.assertAllClose(psf(x, 30.0), x, atol=1e-3)

    def test_continuous_with_unit_slope_at_zero(self):
        x = tf.constant([-4.0, -1e-7, 0.0, 1e-7, 3.0], dtype=tf.float64)
        for alpha in (-2.0, 0.0, 2.0):
            layer = ParametricSoftsign(
                alpha_initializer=keras.initializers.Constant(alpha), dtype="float64"
            )
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
            slopes = tape.gradient(y, x).numpy()
            self.assertAllClose(y.numpy()[1:4], [-1e-7, 0.0, 1e-7], rtol=1e-6)
            # d/dx of x / (1 + |x| e^-a) is 1 / (1 + |x| e^-a)^2 for x < 0.
            expected = 1.0 / (1.0 + np.abs(x.numpy()) * np.exp(-alpha)) ** 2
            expected[x.numpy() >= 0] = 1.0
            self.assertAllClose(slopes, expected, rtol=1e-9)
            self.assertAllClose(slopes[1:4], np.ones(3), atol=1e-6)

    def test_bounded_below_by_minus_exp_alpha(self):
        x = -np.logspace(-3, 6, 500)
        for alpha in (-2.0, 0.0, 1.5):
            y = psf(x, alpha, dtype="float64")
            self.assertTrue(np.all(y > -np.exp(alpha)))
            # The bound is approached far out on the negative side.
            self.assertAllClose(y[-1], -np.exp(alpha), rtol=1e-4)

    def test_alpha_gradient_matches_finite_differences(self):
        x = np.linspace(-4, 2, 13)
        step = 1e-6
        for alpha in (-1.0, 0.3, 2.0):
            layer = ParametricSoftsign(
                alpha_initializer=keras.initializers.Constant(alpha), dtype="float64"
            )
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(layer(x))
            analytic = tape.gradient(total, layer.alpha).numpy()
            numeric = (
                psf_reference(x, alpha + step).sum()
                - psf_reference(x, alpha - step).sum()
            ) / (2 * step)
            self.assertAllClose(analytic, numeric, rtol=1e-6)

    def test_no_nan_or_inf_at_extremes(self):
        magnitudes = np.logspace(-6, 6, 25)
        x = tf.constant(np.concatenate([-magnitudes, [0.0], magnitudes]), tf.float32)
        for alpha in np.linspace(-50, 50, 21):
            layer = ParametricSoftsign(
                alpha_initializer=keras.initializers.Constant(alpha)
            )
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(x)
                y = layer(x)
                total = tf.reduce_sum(y)
            grads = [tape.gradient(total, x), tape.gradient(total, layer.alpha)]
            for value in [y] + grads:
                self.assertTrue(np.all(np.isfinite(value.numpy())), msg=f"a={alpha}")

    def test_float16_is_finite_for_extreme_alpha(self):
        x = np.array([-60000.0, -1.0, -1e-3, 0.0, 2.0], np.float32)
        for alpha in (-50.0, 50.0):
            y = psf(x, alpha, dtype="mixed_float16")
            self.assertTrue(np.all(np.isfinite(y)))

    def test_shared_axes_gives_per_channel_alphas(self):
        alphas = np.array([-1.0, 0.0, 2.0])
        layer = ParametricSoftsign(shared_axes=[1, 2])
        x = np.random.default_rng(0).normal(scale=3, size=(2, 4, 4, 3))
        layer.build(x.shape)
        self.assertEqual(tuple(layer.alpha.shape), (1, 1, 3))
        layer.alpha.assign(alphas.reshape(1, 1, 3))
        expected = np.stack(
            [psf_reference(x[..., c], alphas[c]) for c in range(3)], axis=-1
        )
        self.assertAllClose(layer(x.astype("float32")), expected, rtol=1e-5)

    def test_alpha_is_learned(self):
        inputs = keras.Input((4,))
        layer = ParametricSoftsign()
        model = keras.Model(inputs, layer(inputs))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        x = -np.ones((32, 4), "float32")
        model.fit(x, x, epochs=3, verbose=0)  # identity target: alpha must grow
        self.assertGreater(float(layer.alpha.numpy()), 0.0)

    def test_save_load_round_trip(self):
        layer = ParametricSoftsign(shared_axes=[1])
        layer.build((None, 5, 3))
        layer.alpha.assign(np.array([[0.3, -1.2, 2.0]]))
        assert_round_trip(layer, (4, 5, 3))

    def test_bad_shared_axes(self):
        with pytest.raises(ValueError, match="Received: shared_axes=\\[0\\]"):
            ParametricSoftsign(shared_axes=[0])
        with pytest.raises(ValueError, match="Received: shared_axes=\\[3\\]"):
            ParametricSoftsign(shared_axes=[3]).build((None, 4, 4))
