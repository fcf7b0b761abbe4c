import math

import numpy as np
import pytest
from keras.src import testing

from kgan.layers import EqualizedConv2D, EqualizedDense
from tests.layer_checks import assert_round_trip


def conv2d_reference(x, kernel, stride, padding):
    """Direct NumPy convolution (cross-correlation), NHWC, TF padding rules."""
    n, h, w, _ = x.shape
    kh, kw, _, filters = kernel.shape
    if padding == "same":
        out_h, out_w = -(-h // stride), -(-w // stride)
        pad_h = max((out_h - 1) * stride + kh - h, 0)
        pad_w = max((out_w - 1) * stride + kw - w, 0)
        x = np.pad(
            x,
            (
                (0, 0),
                (pad_h // 2, pad_h - pad_h // 2),
                (pad_w // 2, pad_w - pad_w // 2),
                (0, 0),
            ),
        )
    else:
        out_h, out_w = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, out_h, out_w, filters))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out


class EqualizedDenseTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            EqualizedDense,
            init_kwargs={"units": 3, "activation": "relu"},
            input_shape=(2, 4),
            expected_output_shape=(2, 3),
            expected_num_trainable_weights=2,
        )

    def test_matches_numpy(self):
        rng = np.random.default_rng(0)
        layer = EqualizedDense(5, gain=1.0, lr_multiplier=0.5)
        x = rng.normal(size=(3, 8)).astype("float32")
        layer.build(x.shape)
        layer.bias.assign(rng.normal(size=5))
        kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
        expected = x @ (kernel * 1.0 / math.sqrt(8) * 0.5) + bias * 0.5
        self.assertAllClose(layer(x), expected, rtol=1e-5, atol=1e-6)

    def test_initial_statistics(self):
        layer = EqualizedDense(512)
        layer.build((None, 512))
        self.assertAllClose(np.std(layer.kernel.numpy()), 1.0, atol=0.01)
        effective = layer.effective_kernel().numpy()
        self.assertAllClose(np.std(effective), math.sqrt(2) / math.sqrt(512), rtol=0.01)
        self.assertAllClose(layer.bias.numpy(), np.zeros(512))

    def test_lr_multiplier_keeps_effective_std(self):
        layer = EqualizedDense(256, lr_multiplier=0.1)
        layer.build((None, 256))
        self.assertAllClose(np.std(layer.kernel.numpy()), 10.0, rtol=0.02)
        effective = layer.effective_kernel().numpy()
        self.assertAllClose(np.std(effective), math.sqrt(2) / 16, rtol=0.02)

    def test_save_load_round_trip(self):
        layer = EqualizedDense(4, gain=1.0, activation="tanh")
        layer.build((None, 6))
        layer.bias.assign(np.arange(4) * 0.1)
        assert_round_trip(layer, (3, 6))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="Received: units=0"):
            EqualizedDense(0)
        with pytest.raises(ValueError, match="Received: gain=0"):
            EqualizedDense(3, gain=0)
        with pytest.raises(ValueError, match="Received: lr_multiplier=-1"):
            EqualizedDense(3, lr_multiplier=-1)
        with pytest.raises(ValueError, match="Received: input_shape=\\(4,\\)"):
            EqualizedDense(3).build((4,))


class EqualizedConv2DTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            EqualizedConv2D,
            init_kwargs={"filters": 3, "kernel_size": 3},
            input_shape=(2, 8, 8, 2),
            expected_output_shape=(2, 8, 8, 3),
            expected_num_trainable_weights=2,
        )

    def test_layer_harness_strided_valid(self):
        self.run_layer_test(
            EqualizedConv2D,
            init_kwargs={
                "filters": 4,
                "kernel_size": (3, 2),
                "strides": 2,
                "padding": "valid",
                "use_bias": False,
            },
            input_shape=(2, 9, 8, 3),
            expected_output_shape=(2, 4, 4, 4),
            expected_num_trainable_weights=1,
        )

    def test_matches_numpy(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(2, 7, 6, 3)).astype("float32")
        for strides, padding in ((1, "same"), (2, "same"), (2, "valid")):
            layer = EqualizedConv2D(4, 3, strides=strides, padding=padding)
            layer.build(x.shape)
            layer.bias.assign(rng.normal(size=4))
            kernel = layer.kernel.numpy() * math.sqrt(2) / math.sqrt(3 * 3 * 3)
            expected = conv2d_reference(x, kernel, strides, padding)
            expected += layer.bias.numpy()
            self.assertAllClose(layer(x), expected, rtol=1e-4, atol=1e-5)

    def test_initial_statistics(self):
        layer = EqualizedConv2D(64, 3)
        layer.build((None, 8, 8, 64))
        fan_in = 3 * 3 * 64
        self.assertAllClose(np.std(layer.kernel.numpy()), 1.0, atol=0.01)
        effective = layer.effective_kernel().numpy()
        self.assertAllClose(np.std(effective), math.sqrt(2 / fan_in), rtol=0.01)

    def test_save_load_round_trip(self):
        layer = EqualizedConv2D(2, 1, activation="relu")
        layer.build((None, 4, 4, 3))
        layer.bias.assign([0.5, -0.5])
        assert_round_trip(layer, (2, 4, 4, 3))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="Received: filters=-1"):
            EqualizedConv2D(-1, 3)
        with pytest.raises(ValueError, match="Received: padding=full"):
            EqualizedConv2D(2, 3, padding="full")
        with pytest.raises(ValueError, match="Received: kernel_size=\\(0, 0\\)"):
            EqualizedConv2D(2, 0)
        with pytest.raises(ValueError, match="Received: input_shape=\\(None, 4, 4\\)"):
            EqualizedConv2D(2, 3).build((None, 4, 4))
