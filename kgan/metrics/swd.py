"""Sliced Wasserstein distance between image sets, as PGGAN computes it.

Karras et al. (2018), section 5 and appendix D: each image is split into a
Laplacian pyramid; from every level, 128 random 7x7 neighbourhoods per image
form a set of descriptors; each set is normalised per channel; the distance
between the two sets of a level is the sliced Wasserstein distance over
4 x 128 random directions, reported x1e3.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kgan.metrics.checks import check_images

# The 5-tap binomial filter; the 2-D filter is its outer product.
_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], dtype=np.float32) / 16.0


def _blur(images, gain=1.0):
    """Separable 5x5 binomial filter with mirror padding on (N, H, W, C)."""
    taps = _BINOMIAL * gain
    height, width = images.shape[1:3]
    padded = np.pad(images, ((0, 0), (2, 2), (0, 0), (0, 0)), mode="reflect")
    rows = sum(t * padded[:, i : i + height] for i, t in enumerate(taps))
    padded = np.pad(rows, ((0, 0), (0, 0), (2, 2), (0, 0)), mode="reflect")
    return sum(t * padded[:, :, i : i + width] for i, t in enumerate(taps))


def _downsample(images):
    return _blur(images)[:, ::2, ::2]


def _upsample(images, height, width):
    """Zero-insertion upsampling and blur (gain 4 per 2-D, 2 per axis)."""
    n, h, w, c = images.shape
    spread = np.zeros((n, 2 * h, 2 * w, c), dtype=images.dtype)
    spread[:, ::2, ::2] = images
    return _blur(spread, gain=2.0)[:, :height, :width]


def laplacian_pyramid(images, levels):
    """Laplacian pyramid of float images `(N, H, W, C)`.

    Returns:
        A list of `levels` arrays, finest first: band-pass levels, then the
        low-pass residual as the last level.
    """
    pyramid = [np.asarray(images, dtype=np.float32)]
    for _ in range(levels - 1):
        pyramid.append(_downsample(pyramid[-1]))
        height, width = pyramid[-2].shape[1:3]
        pyramid[-2] = pyramid[-2] - _upsample(pyramid[-1], height, width)
    return pyramid


class _Descriptors:
    """Random neighbourhoods of one pyramid level of an image set, with the
    per-channel normalisation PGGAN applies over the whole set.

    The normalisation is affine per channel, so it is folded into each
    projection (`project`) instead of being written over the descriptors:
    `(x - m) / s . d = x . (d / s) - (m / s) . d`.
    """

    def __init__(self, level, rng, patch_size, patches_per_image):
        n, height, width, channels = level.shape
        if height < patch_size or width < patch_size:
            raise ValueError(
                f"A pyramid level is smaller than the {patch_size}x{patch_size} "
                f"neighbourhood. Received: level shape={(height, width)}"
            )
        top = rng.integers(0, height - patch_size + 1, size=(n, patches_per_image))
        left = rng.integers(0, width - patch_size + 1, size=(n, patches_per_image))
        windows = sliding_window_view(level, (patch_size, patch_size), axis=(1, 2))
        patches = windows[np.arange(n)[:, None], top, left]  # (n, patches, C, p, p)
        self.values = patches.reshape(n * patches_per_image, -1)  # channel-major
        per_channel = self.values.reshape(len(self.values), channels, -1)
        count = per_channel.shape[0] * per_channel.shape[2]
        # Row sums of p*p values in float32, then float64 totals: accurate
        # and several times faster than a float64 reduction over both axes.
        mean = per_channel.sum(axis=2).sum(axis=0, dtype=np.float64) / count
        squares = np.einsum("ncj,ncj->nc", per_channel, per_channel)
        variance = squares.sum(axis=0, dtype=np.float64) / count - mean**2
        std = np.sqrt(np.maximum(variance, 0.0))
        # A constant channel (e.g. an all-black set) has no spread to normalise.
        std[std == 0] = 1.0
        pixels = per_channel.shape[2]
        self.scale = np.repeat(1.0 / std, pixels).astype(np.float32)
        self.offset = np.repeat(mean / std, pixels).astype(np.float32)

    def __len__(self):
        return len(self.values)

    def project(self, directions):
        """Projections `(directions, N)` of the normalised descriptors on
        the columns of `directions` `(C * p * p, directions)`."""
        scaled = directions * self.scale[:, None]
        # (directions, N) so that every projection is a contiguous row.
        return scaled.T @ self.values.T - (self.offset @ directions)[:, None]


def _quantile_rows(projections, count):
    """Sorts each row in place and reads it at `count` evenly spaced ranks."""
    projections.sort(axis=1)
    if projections.shape[1] == count:
        return projections
    ranks = np.round(np.linspace(0, projections.shape[1] - 1, count))
    return projections[:, ranks.astype(np.int64)]


def sliced_wasserstein(a, b, rng, repeats=4, directions=128):
    """Sliced Wasserstein distance between descriptor sets `a` and `b`.

    Both are projected on the same random unit directions; the sorted
    projections are compared as 1-D distributions (mean absolute
    difference). Sets of different sizes are compared at `min(len)` quantiles.

    Args:
        a: Descriptors `(N, D)` as an array, or a `_Descriptors` set (then
            normalised per channel as PGGAN does).
        b: Descriptors `(M, D)`, likewise.
        rng: NumPy generator of the directions.
        repeats: Independent draws of directions.
        directions: Directions per draw.
    """
    count = min(len(a), len(b))
    dimensions = a.values.shape[1] if isinstance(a, _Descriptors) else a.shape[1]
    results = []
    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        for _ in range(repeats):
            dirs = rng.standard_normal((dimensions, directions)).astype(np.float32)
            dirs /= np.sqrt(np.sum(np.square(dirs), axis=0, keepdims=True))
            proj_a, proj_b = _project(a, dirs), _project(b, dirs)

            def distance_sum(rows, proj_a=proj_a, proj_b=proj_b):
                sorted_a = _quantile_rows(proj_a[rows], count)
                sorted_b = _quantile_rows(proj_b[rows], count)
                return np.sum(np.abs(sorted_a - sorted_b), dtype=np.float64)

            # NumPy's sort releases the GIL: blocks of rows sort in parallel.
            blocks = [slice(i, i + 8) for i in range(0, directions, 8)]
            results.append(sum(pool.map(distance_sum, blocks)) / (directions * count))
    return float(np.mean(results))


def _project(descriptors, directions):
    if isinstance(descriptors, _Descriptors):
        return descriptors.project(directions)
    return directions.T @ np.asarray(descriptors, np.float32).T


def pyramid_resolutions(size, min_resolution=16):
    """The resolutions PGGAN evaluates: size, size/2, ... down to
    `min_resolution` (at least one level)."""
    resolutions = [size]
    while resolutions[-1] // 2 >= min_resolution:
        resolutions.append(resolutions[-1] // 2)
    return resolutions


def swd(
    real,
    fake,
    min_resolution=16,
    patch_size=7,
    patches_per_image=128,
    repeats=4,
    directions=128,
    seed=0,
):
    """Sliced Wasserstein distance between two image sets, per pyramid level.

    Args:
        real: uint8 images `(N, H, W, C)`, any channel count.
        fake: uint8 images `(M, H, W, C)` of the same size and channels.
        min_resolution: The coarsest pyramid level (16 px in PGGAN); an image
            smaller than twice this value gives one level.
        patch_size: Side of the neighbourhoods (7).
        patches_per_image: Neighbourhoods drawn per image and level (128).
        repeats: Independent draws of directions (4).
        directions: Random unit directions per draw (128).
        seed: Seed of the neighbourhoods and directions.

    Returns:
        A dict `{resolution: distance x 1e3}` for each level, finest first,
        plus `"mean"`, their average.
    """
    real = check_images(real, "real")
    fake = check_images(fake, "fake")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(
            "`real` and `fake` must have the same image shape. "
            f"Received: real.shape={real.shape}, fake.shape={fake.shape}"
        )
    resolutions = pyramid_resolutions(min(real.shape[1:3]), min_resolution)
    rng = np.random.default_rng(seed)
    real_levels = laplacian_pyramid(real, len(resolutions))
    fake_levels = laplacian_pyramid(fake, len(resolutions))
    result = {}
    for resolution, real_level, fake_level in zip(
        resolutions, real_levels, fake_levels, strict=True
    ):
        a = _Descriptors(real_level, rng, patch_size, patches_per_image)
        b = _Descriptors(fake_level, rng, patch_size, patches_per_image)
        result[resolution] = 1e3 * sliced_wasserstein(a, b, rng, repeats, directions)
    result["mean"] = float(np.mean(list(result.values())))
    return result
