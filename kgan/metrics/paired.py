"""Quality of image-to-image generators against the ground truth: L1, PSNR, SSIM."""

import numpy as np

from kgan.metrics.checks import check_image_pair
from kgan.metrics.ms_ssim import ssim


def _pair(real, fake):
    return check_image_pair(real, fake, ("real", "fake"))


def l1_error(real, fake):
    """Mean absolute difference of uint8 images, on a [0, 1] scale."""
    real, fake = _pair(real, fake)
    return float(np.mean(np.abs(real - fake)) / 255.0)


def psnr(real, fake):
    """Mean over images of the peak signal-to-noise ratio in dB (peak 255).

    An identical pair would be infinite; its error is floored at 1e-10.
    """
    real, fake = _pair(real, fake)
    mse = np.mean((real - fake) ** 2, axis=(1, 2, 3))
    return float(np.mean(10.0 * np.log10(255.0**2 / np.maximum(mse, 1e-10))))


def paired_quality(real, fake):
    """`{"l1", "psnr", "ssim"}` of generated images against their targets."""
    return {
        "l1": l1_error(real, fake),
        "psnr": psnr(real, fake),
        "ssim": float(np.mean(ssim(real, fake))),
    }
