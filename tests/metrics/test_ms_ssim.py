import numpy as np
import pytest
import tensorflow as tf

from kgan.data import load_arrays
from kgan.metrics import ms_ssim, ms_ssim_diversity


def smooth_pairs(seed, shape=(3, 180, 190, 3), noise=20.0):
    """Smooth random images and noisy copies: SSIM well inside (0, 1)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 255, shape).astype(np.float32)
    kernel = np.ones((5, 5, shape[-1], 1), np.float32) / 25.0
    smooth = tf.nn.depthwise_conv2d(base, kernel, [1, 1, 1, 1], "SAME").numpy()
    noisy = smooth + rng.normal(0, noise, shape)
    as_uint8 = [np.clip(np.rint(v), 0, 255).astype(np.uint8) for v in (smooth, noisy)]
    return as_uint8


def test_matches_tensorflow_on_large_images():
    # tf.image.ssim_multiscale needs >= 176 px for 5 scales of an 11x11 window.
    x, y = smooth_pairs(0)
    expected = tf.image.ssim_multiscale(
        x.astype(np.float32), y.astype(np.float32), max_val=255.0
    ).numpy()
    np.testing.assert_allclose(ms_ssim(x, y), expected, rtol=1e-4)


def test_identical_pairs_score_one():
    x, _ = smooth_pairs(1, shape=(4, 28, 28, 1))
    np.testing.assert_allclose(ms_ssim(x, x), 1.0, rtol=1e-12)
    assert ms_ssim_diversity(np.repeat(x[:1], 10, axis=0)) == pytest.approx(1.0)


def test_more_noise_lowers_the_score():
    scores = [
        ms_ssim(*smooth_pairs(2, (2, 32, 32, 1), noise)).mean() for noise in (5, 20, 80)
    ]
    assert scores == sorted(scores, reverse=True)


def test_diversity_uses_consecutive_pairs():
    x, y = smooth_pairs(3, shape=(3, 32, 32, 1))
    interleaved = np.stack([x, y], axis=1).reshape(6, 32, 32, 1)
    extra = np.concatenate([interleaved, x[:1]])  # an odd image is left out
    assert ms_ssim_diversity(extra) == pytest.approx(ms_ssim(x, y).mean())


def test_real_digits_are_diverse():
    digits, _ = load_arrays("mnist", "test")
    assert ms_ssim_diversity(digits) < 0.4


def test_errors():
    x = np.zeros((2, 32, 32, 1), np.uint8)
    with pytest.raises(ValueError, match="Received: x.dtype=float64"):
        ms_ssim(x.astype(np.float64), x)
    with pytest.raises(ValueError, match="same shape"):
        ms_ssim(x, x[:1])
    with pytest.raises(ValueError, match="at least 16x16"):
        ms_ssim(x[:, :12, :12], x[:, :12, :12])
    with pytest.raises(ValueError, match="at least 2 images"):
        ms_ssim_diversity(x[:1])
