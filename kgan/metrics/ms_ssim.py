"""Multi-scale SSIM (Wang, Simoncelli, Bovik 2003) and PGGAN's diversity score.

PGGAN (Karras et al. 2018, table 1) reports the mean MS-SSIM of pairs of
generated images: unrelated images are dissimilar, so a lower value means a
more diverse generator, and a collapsed one approaches 1.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kgan.metrics.checks import check_image_pair, check_images

# The standard weights of the five scales (Wang et al. 2003).
WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gaussian_taps(size, sigma):
    """Normalised 1-D Gaussian; its outer product is the 2-D SSIM window."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(coords**2) / (2.0 * sigma**2))
    return taps / taps.sum()


def _filter_valid(images, taps):
    """Separable 'valid' filtering of (N, H, W, C) float64 images."""
    size = len(taps)
    rows = sliding_window_view(images, size, axis=1) @ taps
    return sliding_window_view(rows, size, axis=2) @ taps


def _ssim_and_contrast(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """Per-pair mean SSIM and contrast-structure terms at one scale.

    As in the reference implementation, the window shrinks to the image
    when the image is smaller than `filter_size`, with sigma scaled alike.
    """
    size = min(filter_size, x.shape[1], x.shape[2])
    taps = _gaussian_taps(size, size * filter_sigma / filter_size)
    mu_x, mu_y = _filter_valid(x, taps), _filter_valid(y, taps)
    var_x = _filter_valid(x * x, taps) - mu_x * mu_x
    var_y = _filter_valid(y * y, taps) - mu_y * mu_y
    cov = _filter_valid(x * y, taps) - mu_x * mu_y
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    contrast = (2.0 * cov + c2) / (var_x + var_y + c2)
    luminance = (2.0 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    axes = (1, 2, 3)
    return np.mean(luminance * contrast, axis=axes), np.mean(contrast, axis=axes)


def _halve(images):
    """2x2 box filter and decimation; an odd last row or column is paired
    with itself (symmetric padding, as the reference implementation does)."""
    pad_h, pad_w = images.shape[1] % 2, images.shape[2] % 2
    images = np.pad(images, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), "symmetric")
    return 0.25 * (
        images[:, ::2, ::2]
        + images[:, 1::2, ::2]
        + images[:, ::2, 1::2]
        + images[:, 1::2, 1::2]
    )


def ms_ssim(
    x,
    y,
    max_val=255.0,
    weights=WEIGHTS,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
):
    """MS-SSIM of each pair `(x[i], y[i])`.

    Args:
        x: uint8 images `(N, H, W, C)`.
        y: uint8 images of the same shape.
        max_val: The dynamic range of the pixel values.
        weights: Exponents of the scales, finest first (five standard ones).
        filter_size: Side of the Gaussian window (11).
        filter_sigma: Its standard deviation (1.5).
        k1, k2: SSIM's stabilising constants.

    Returns:
        A float64 array `(N,)`: 1 for identical images. Negative per-scale
        terms are clipped to 0 before the weighted product, as
        `tf.image.ssim_multiscale` does, so the result is in [0, 1].
    """
    x, y = check_image_pair(x, y)
    smallest = 2 ** (len(weights) - 1)
    if min(x.shape[1:3]) < smallest:
        raise ValueError(
            f"{len(weights)} scales need images of at least {smallest}x{smallest} "
            f"pixels. Received: image size={x.shape[1:3]}"
        )
    weights = np.asarray(weights, dtype=np.float64)
    terms = []
    for scale in range(len(weights)):
        ssim, contrast = _ssim_and_contrast(
            x, y, max_val, filter_size, filter_sigma, k1, k2
        )
        terms.append(ssim if scale == len(weights) - 1 else contrast)
        x, y = _halve(x), _halve(y)
    terms = np.maximum(np.stack(terms, axis=1), 0.0)
    return np.prod(terms**weights, axis=1)


def ssim(x, y, max_val=255.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    """Single-scale SSIM of each pair `(x[i], y[i])` of uint8 images.

    The mean over 11x11 Gaussian windows (sigma 1.5) and channels of
    luminance x contrast x structure (Wang et al. 2004), as
    `tf.image.ssim` computes it.

    Returns:
        A float64 array `(N,)`: 1 for identical images.
    """
    x, y = check_image_pair(x, y)
    return _ssim_and_contrast(x, y, max_val, filter_size, filter_sigma, k1, k2)[0]


def ms_ssim_diversity(images, **kwargs):
    """PGGAN's diversity score: mean MS-SSIM of consecutive pairs
    `(images[0], images[1]), (images[2], images[3]), ...` of one generated
    set (lower is more diverse). Keyword arguments go to `ms_ssim`."""
    images = check_images(images, "images", min_count=2)
    pairs = len(images) // 2
    return float(
        np.mean(ms_ssim(images[0 : 2 * pairs : 2], images[1 : 2 * pairs : 2], **kwargs))
    )
