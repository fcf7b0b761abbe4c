import numpy as np
import pytest
import tensorflow as tf

from kgan.metrics.ms_ssim import ssim
from kgan.metrics.paired import l1_error, paired_quality, psnr


def _images(seed, n=4, size=32, channels=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, channels), dtype=np.uint8)


def test_l1_and_psnr_of_a_constant_difference():
    real = np.full((2, 8, 8, 3), 100, np.uint8)
    fake = real + np.uint8(10)
    assert np.isclose(l1_error(real, fake), 10 / 255)
    assert np.isclose(psnr(real, fake), 20 * np.log10(255 / 10))


def test_psnr_is_the_mean_over_images():
    real = np.zeros((2, 4, 4, 1), np.uint8)
    fake = real.copy()
    fake[0] += 5
    fake[1] += 20
    expected = np.mean([20 * np.log10(255 / 5), 20 * np.log10(255 / 20)])
    assert np.isclose(psnr(real, fake), expected)


def test_ssim_matches_tensorflow():
    x, y = _images(0), _images(1)
    # A related pair, so that SSIM is far from 0.
    y = np.clip(x.astype(int) + (y.astype(int) - 128) // 8, 0, 255).astype(np.uint8)
    expected = tf.image.ssim(
        tf.constant(x, tf.float32), tf.constant(y, tf.float32), max_val=255.0
    ).numpy()
    np.testing.assert_allclose(ssim(x, y), expected, atol=1e-4)
    np.testing.assert_allclose(ssim(x, x), 1.0)


def test_paired_quality_and_errors():
    x = _images(2)
    quality = paired_quality(x, x)
    assert quality["l1"] == 0 and quality["ssim"] == pytest.approx(1.0)
    assert quality["psnr"] == pytest.approx(10 * np.log10(255**2 / 1e-10))  # floored
    with pytest.raises(ValueError, match="same shape"):
        psnr(x, x[:2])
    with pytest.raises(ValueError, match="uint8"):
        l1_error(x.astype(np.float32), x)
