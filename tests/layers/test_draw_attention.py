import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src import testing

from kgan.layers import DrawRead, DrawWrite, draw_filterbank
from kgan.layers.draw_attention import decode_attention
from tests.layer_checks import assert_round_trip


def filterbank_reference(gx, gy, delta, sigma, height, width, n, eps=1e-4):
    """Gregor et al.'s eqs. 19-22 with explicit loops, 1-based indices, float64."""
    f_x = np.zeros((n, width))
    f_y = np.zeros((n, height))
    for i in range(1, n + 1):
        mu_x = gx + (i - n / 2 - 0.5) * delta
        mu_y = gy + (i - n / 2 - 0.5) * delta
        for a in range(1, width + 1):
            f_x[i - 1, a - 1] = np.exp(-((a - mu_x) ** 2) / (2 * sigma**2))
        for b in range(1, height + 1):
            f_y[i - 1, b - 1] = np.exp(-((b - mu_y) ** 2) / (2 * sigma**2))
    f_x /= f_x.sum(axis=1, keepdims=True) + eps
    f_y /= f_y.sum(axis=1, keepdims=True) + eps
    return f_y, f_x


def attention_reference(raw, height, width, n):
    """The paper's decoding of (gx~, gy~, log sigma^2, log delta~, log gamma),
    the logarithms soft-bounded as kgan's: 10 tanh(x / 10), 4 tanh(x / 4)."""
    gx = (width + 1) / 2 * (raw[0] + 1)
    gy = (height + 1) / 2 * (raw[1] + 1)
    sigma = np.sqrt(np.exp(10 * np.tanh(raw[2] / 10)))
    delta = (max(height, width) - 1) / (n - 1) * np.exp(10 * np.tanh(raw[3] / 10))
    return gx, gy, delta, sigma, np.exp(4 * np.tanh(raw[4] / 4))


def set_attention(layer, raw_rows):
    """Makes the layer's attention map output `raw_rows[k]` for the one-hot
    hidden state e_k (kernel rows = raw values, bias 0)."""
    kernel = np.zeros(layer.attention_dense.kernel.shape, "float32")
    kernel[: len(raw_rows)] = raw_rows
    layer.attention_dense.kernel.assign(kernel)
    layer.attention_dense.bias.assign(np.zeros(5, "float32"))


RAW = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [-0.4, 0.3, np.log(2.0), -0.5, 0.7],
        [0.6, -0.2, np.log(0.3), 0.2, -0.3],
    ],
    "float32",
)


class FilterbankTest(testing.TestCase):
    def test_matches_paper_formula(self):
        gx = np.array([14.5, 3.0, 20.0], "float32")
        gy = np.array([14.5, 25.0, 9.0], "float32")
        delta = np.array([6.75, 1.0, 2.5], "float32")
        sigma = np.array([1.0, 0.5, 3.0], "float32")
        f_y, f_x = draw_filterbank(gx, gy, delta, sigma, 28, 30, 5)
        self.assertEqual(tuple(f_y.shape), (3, 5, 28))
        self.assertEqual(tuple(f_x.shape), (3, 5, 30))
        for b in range(3):
            ref_y, ref_x = filterbank_reference(
                gx[b], gy[b], delta[b], sigma[b], 28, 30, 5
            )
            self.assertAllClose(f_y[b], ref_y, atol=1e-6)
            self.assertAllClose(f_x[b], ref_x, atol=1e-6)

    def test_rows_sum_to_one_and_off_image_rows_vanish(self):
        f_y, f_x = draw_filterbank(
            np.array([14.0]),
            np.array([-500.0]),
            np.array([1.0]),
            np.array([1.0]),
            28,
            28,
            4,
        )
        self.assertAllClose(np.sum(f_x, axis=-1), np.ones((1, 4)), atol=1e-4)
        self.assertAllClose(f_y, np.zeros((1, 4, 28)))

    def test_grid_just_off_the_canvas_fades_instead_of_spiking(self):
        # Filters 6.5 and 7.5 px beyond the first pixel carry 1e-9 of their
        # mass on the image: eps 1e-4 leaves them near zero, where 1e-8
        # renormalises them into a spike on the edge pixel.
        args = [np.array([v], "float32") for v in (14.0, -6.0, 1.0, 1.0)]
        f_y, _ = draw_filterbank(*args, 28, 28, 2)
        self.assertLess(float(np.max(f_y)), 1e-4)
        spiked, _ = draw_filterbank(*args, 28, 28, 2, eps=1e-8)
        self.assertGreater(float(np.max(spiked)), 0.05)

    def test_decoding_matches_paper(self):
        decoded, log_gamma = decode_attention(RAW, 28, 32, 5)
        decoded = keras.ops.convert_to_numpy(decoded)
        for row, raw in zip(decoded, RAW, strict=True):
            self.assertAllClose(row, attention_reference(raw, 28, 32, 5), rtol=1e-5)
        self.assertAllClose(np.exp(log_gamma), decoded[:, 4], rtol=1e-6)
        # The untrained (zero) state looks at the image centre.
        self.assertAllClose(decoded[0, :2], [16.5, 14.5])

    def test_unbounded_decoding_is_the_plain_exp(self):
        raw = RAW.copy()
        raw[1, 4] = 9.0  # beyond the bound of 4
        decoded, log_gamma = decode_attention(raw, 28, 32, 5, bounded=False)
        self.assertAllClose(decoded[:, 4], np.exp(raw[:, 4]), rtol=1e-5)
        self.assertAllClose(decoded[:, 3], np.exp(raw[:, 2] / 2), rtol=1e-5)
        self.assertAllClose(log_gamma, raw[:, 4])
        self.assertEqual(DrawRead(n=2, bounded=False).get_config()["bounded"], False)

    def test_log_gamma_and_scales_are_bounded(self):
        huge = np.array([[0.0, 0.0, -1e4, 1e4, -1e4], [0.0, 0.0, 1e4, -1e4, 1e4]])
        decoded, log_gamma = decode_attention(huge.astype("float32"), 28, 28, 5)
        self.assertAllClose(log_gamma, [-4.0, 4.0])
        self.assertAllClose(decoded[:, 3], np.exp([-5.0, 5.0]), rtol=1e-5)  # sigma
        self.assertAllClose(decoded[:, 2], 27 / 4 * np.exp([10.0, -10.0]), rtol=1e-5)

    def test_extreme_attention_stays_finite_with_finite_gradients(self):
        rng = np.random.default_rng(5)
        images = rng.uniform(-1, 1, size=(4, 12, 12, 1)).astype("float32")
        # Each hidden state e_k selects one row of extreme raw parameters:
        # far off the canvas, vanishing and exploding blur, stride and gamma.
        raw = np.array(
            [
                [1e3, -1e3, -1e3, -1e3, -1e3],
                [-1e3, 1e3, 1e3, 1e3, 1e3],
                [0.0, 0.0, -300.0, 300.0, -300.0],
                [3.0, -3.0, 300.0, -300.0, 300.0],
            ],
            "float32",
        )
        hidden = tf.constant(np.eye(4, dtype="float32"))
        read = DrawRead(n=5)
        write = DrawWrite(n=5, image_shape=(12, 12, 1))
        read.build([images.shape, hidden.shape])
        write.build(hidden.shape)
        set_attention(read, raw)
        set_attention(write, raw)
        with tf.GradientTape() as tape:
            tape.watch(hidden)
            loss = tf.reduce_sum(read([images, hidden])) + tf.reduce_sum(write(hidden))
        variables = read.trainable_weights + write.trainable_weights
        gradients = tape.gradient(loss, [hidden] + variables)
        self.assertTrue(np.isfinite(loss.numpy()))
        for gradient in gradients:
            self.assertTrue(np.all(np.isfinite(keras.ops.convert_to_numpy(gradient))))

    def test_attention_starts_small(self):
        layer = DrawRead(n=3)
        layer.build([(None, 8, 8, 1), (None, 512)])
        kernel = layer.attention_dense.kernel.numpy()
        self.assertAllClose(np.std(kernel), 0.01, rtol=0.1)
        self.assertAllClose(layer.attention_dense.bias.numpy(), np.zeros(5))


class DrawReadTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            DrawRead,
            init_kwargs={"n": 3},
            input_shape=((2, 8, 9, 2), (2, 6)),
            expected_output_shape=(2, 3, 3, 2),
            expected_num_trainable_weights=2,
        )

    def test_layer_harness_with_attention(self):
        self.run_layer_test(
            DrawRead,
            init_kwargs={"n": 4, "return_attention": True},
            input_shape=((2, 8, 8, 1), (2, 5)),
            expected_output_shape=((2, 4, 4, 1), (2, 5)),
            expected_num_trainable_weights=2,
        )

    def test_matches_numpy(self):
        rng = np.random.default_rng(0)
        images = rng.uniform(-1, 1, size=(3, 10, 12, 2)).astype("float32")
        hidden = np.eye(3, 7, dtype="float32")
        layer = DrawRead(n=4, return_attention=True)
        layer.build([images.shape, hidden.shape])
        set_attention(layer, RAW)
        glimpse, attention = layer([images, hidden])
        for b in range(3):
            gx, gy, delta, sigma, gamma = attention_reference(RAW[b], 10, 12, 4)
            self.assertAllClose(attention[b], [gx, gy, delta, sigma, gamma], rtol=1e-5)
            f_y, f_x = filterbank_reference(gx, gy, delta, sigma, 10, 12, 4)
            for c in range(2):
                expected = gamma * f_y @ images[b, :, :, c] @ f_x.T
                self.assertAllClose(glimpse[b, :, :, c], expected, atol=1e-5)

    def test_sharp_grid_reads_pixels(self):
        # A grid of stride 1 and tiny blur reads the 4x4 block under it.
        images = np.arange(64, dtype="float32").reshape(1, 8, 8, 1)
        layer = DrawRead(n=4)
        layer.build([images.shape, (1, 1)])
        # centre (4.5, 4.5) -> gx~ = 0; delta = 7/3 delta~ = 1; sigma = 0.05.
        raw = [[0.0, 0.0, 2 * np.log(0.05), np.log(3 / 7), 0.0]]
        set_attention(layer, np.array(raw, "float32"))
        glimpse = layer([images, np.ones((1, 1), "float32")])
        self.assertAllClose(glimpse[0, :, :, 0], images[0, 2:6, 2:6, 0], rtol=1e-3)

    def test_serialization_round_trip(self):
        images = keras.Input((8, 8, 3))
        hidden = keras.Input((4,))
        layer = DrawRead(n=3, return_attention=True)
        glimpse, attention = layer([images, hidden])
        model = keras.Model([images, hidden], [glimpse, attention])
        rng = np.random.default_rng(1)
        for variable in layer.weights:
            variable.assign(rng.normal(scale=0.3, size=variable.shape))
        x = [rng.normal(size=(2, 8, 8, 3)), rng.normal(size=(2, 4))]
        x = [v.astype("float32") for v in x]
        expected = model.predict(x, verbose=0)
        path = self.get_temp_dir() + "/read.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
        for got, want in zip(restored.predict(x, verbose=0), expected, strict=True):
            np.testing.assert_array_equal(got, want)
        self.assertEqual(restored.layers[-1].get_config(), layer.get_config())

    def test_rejects_small_grid(self):
        with pytest.raises(ValueError, match="Received: n=1"):
            DrawRead(n=1)

    def test_rejects_unknown_image_shape(self):
        layer = DrawRead(n=2)
        with pytest.raises(ValueError, match="known shape"):
            layer.build([(None, None, None, 1), (None, 4)])


class DrawWriteTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            DrawWrite,
            init_kwargs={"n": 3, "image_shape": (8, 9, 2)},
            input_shape=(2, 6),
            expected_output_shape=(2, 8, 9, 2),
            expected_num_trainable_weights=4,
        )

    def test_layer_harness_with_attention(self):
        self.run_layer_test(
            DrawWrite,
            init_kwargs={"n": 2, "image_shape": (6, 6, 1), "return_attention": True},
            input_shape=(2, 5),
            expected_output_shape=((2, 6, 6, 1), (2, 5)),
            expected_num_trainable_weights=4,
        )

    def test_matches_numpy(self):
        rng = np.random.default_rng(2)
        hidden = np.eye(3, 7, dtype="float32")
        layer = DrawWrite(n=5, image_shape=(11, 9, 3), return_attention=True)
        layer.build(hidden.shape)
        set_attention(layer, RAW)
        patches = rng.normal(size=(7, 5 * 5 * 3)).astype("float32")
        layer.patch_dense.kernel.assign(patches)
        layer.patch_dense.bias.assign(np.zeros(75, "float32"))
        written, attention = layer(hidden)
        for b in range(3):
            gx, gy, delta, sigma, gamma = attention_reference(RAW[b], 11, 9, 5)
            f_y, f_x = filterbank_reference(gx, gy, delta, sigma, 11, 9, 5)
            w = patches[b].reshape(5, 5, 3)
            for c in range(3):
                expected = f_y.T @ w[:, :, c] @ f_x / gamma
                self.assertAllClose(written[b, :, :, c], expected, atol=1e-5)

    def test_write_is_adjoint_of_read(self):
        # <read(x), w> = <x, write(w)> * gamma_read / (1 / gamma_write): with
        # the same attention, F_Y x F_X^T and F_Y^T w F_X are adjoint maps.
        rng = np.random.default_rng(3)
        read = DrawRead(n=3)
        write = DrawWrite(n=3, image_shape=(7, 7, 1))
        read.build([(1, 7, 7, 1), (1, 2)])
        write.build((1, 2))
        raw = np.array([[0.1, -0.2, 0.0, -0.1, 0.0]], "float32")
        set_attention(read, raw)
        set_attention(write, raw)
        w = rng.normal(size=(2, 9)).astype("float32")
        write.patch_dense.kernel.assign(w)
        write.patch_dense.bias.assign(np.zeros(9, "float32"))
        x = rng.normal(size=(1, 7, 7, 1)).astype("float32")
        hidden = np.array([[1.0, 0.0]], "float32")
        lhs = np.sum(read([x, hidden]) * w[0].reshape(1, 3, 3, 1))
        rhs = np.sum(x * write(hidden))
        self.assertAllClose(lhs, rhs, rtol=1e-4)

    def test_serialization_round_trip(self):
        layer = DrawWrite(n=3, image_shape=(6, 5, 2))
        layer.build((None, 4))
        rng = np.random.default_rng(4)
        for variable in layer.weights:
            variable.assign(rng.normal(scale=0.3, size=variable.shape))
        assert_round_trip(layer, (2, 4))

    def test_rejects_bad_image_shape(self):
        with pytest.raises(ValueError, match="Received: shape"):
            DrawWrite(n=3, image_shape=(28, 28))
