import numpy as np
import pytest

from kgan.data import load_arrays
from kgan.metrics import laplacian_pyramid, swd
from kgan.metrics.swd import _blur, _upsample, pyramid_resolutions, sliced_wasserstein


def reference_blur(images):
    """Direct 5x5 binomial convolution with mirror padding, one tap at a time."""
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0
    height, width = images.shape[1:3]
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    out = np.zeros(images.shape, dtype=np.float64)
    for i in range(5):
        for j in range(5):
            out += kernel[i, j] * padded[:, i : i + height, j : j + width]
    return out


def reference_pyramid(images, levels):
    """PGGAN's Laplacian pyramid from the 2-D 5x5 binomial filter above:
    blur and drop odd pixels to go down; put the pixels on even positions,
    blur with 4x the filter (the energy of the zeros) to come back up."""
    pyramid = [images.astype(np.float64)]
    for _ in range(levels - 1):
        finer = pyramid[-1]
        coarser = reference_blur(finer)[:, ::2, ::2]
        n, height, width, channels = finer.shape
        spread = np.zeros((n, 2 * coarser.shape[1], 2 * coarser.shape[2], channels))
        spread[:, ::2, ::2] = coarser
        pyramid[-1] = finer - 4.0 * reference_blur(spread)[:, :height, :width]
        pyramid.append(coarser)
    return pyramid


def reference_swd(real, fake, min_resolution=16, seed=0):
    """PGGAN's SWD written out plainly in float64: patch by patch, each set
    normalised per channel, sorted projections per direction. It draws its
    random numbers in the order kgan does, so the two must agree."""
    rng = np.random.default_rng(seed)
    resolutions = pyramid_resolutions(real.shape[1], min_resolution)
    pyramids = [reference_pyramid(x, len(resolutions)) for x in (real, fake)]
    result = {}
    for index, resolution in enumerate(resolutions):
        sets = []
        for pyramid in pyramids:
            level = pyramid[index].astype(np.float64)
            n, height, width, channels = level.shape
            top = rng.integers(0, height - 6, size=(n, 128))
            left = rng.integers(0, width - 6, size=(n, 128))
            patches = np.array(
                [
                    level[i, y : y + 7, x : x + 7].transpose(2, 0, 1)
                    for i in range(n)
                    for y, x in zip(top[i], left[i], strict=True)
                ]
            ).reshape(n * 128, channels, 49)
            mean = patches.mean(axis=(0, 2), keepdims=True)
            std = patches.std(axis=(0, 2), keepdims=True)
            sets.append(((patches - mean) / std).reshape(n * 128, -1))
        distances = []
        for _ in range(4):
            dirs = rng.standard_normal((sets[0].shape[1], 128)).astype(np.float32)
            dirs /= np.sqrt(np.sum(np.square(dirs), axis=0, keepdims=True))
            a, b = (np.sort(x @ dirs.astype(np.float64), axis=0) for x in sets)
            distances.append(np.mean(np.abs(a - b)))
        result[resolution] = 1e3 * np.mean(distances)
    return result


@pytest.mark.parametrize("channels", [1, 3])
def test_swd_matches_a_plain_reference(channels):
    rng = np.random.default_rng(5)
    real = rng.integers(0, 256, (12, 32, 32, channels)).astype(np.uint8)
    smooth = reference_blur(reference_blur(real))
    fake = np.clip(np.rint(smooth + 40), 0, 255).astype(np.uint8)
    got = swd(real, fake)
    expected = reference_swd(real, fake)
    for resolution in (32, 16):
        assert got[resolution] == pytest.approx(expected[resolution], rel=1e-4)
    assert got[32] > 50  # far apart: the comparison is not between zeros


@pytest.fixture(scope="module")
def mnist():
    x, _ = load_arrays("mnist", "train")
    return x


def test_blur_matches_direct_convolution():
    images = np.random.default_rng(0).uniform(0, 255, (3, 13, 10, 2))
    np.testing.assert_allclose(
        _blur(images.astype(np.float32)), reference_blur(images), rtol=1e-5, atol=1e-3
    )


@pytest.mark.parametrize("size", [32, 28, 21])
def test_laplacian_pyramid_reconstructs_the_image(size):
    images = np.random.default_rng(1).integers(0, 256, (4, size, size, 3))
    pyramid = laplacian_pyramid(images.astype(np.uint8), 3)
    assert [p.shape[1] for p in pyramid] == [size, (size + 1) // 2, (size + 3) // 4]
    image = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        image = band + _upsample(image, *band.shape[1:3])
    np.testing.assert_allclose(image, images, atol=1e-3)


def test_resolutions_stop_at_16_pixels():
    assert pyramid_resolutions(32) == [32, 16]
    assert pyramid_resolutions(64) == [64, 32, 16]
    assert pyramid_resolutions(28) == [28]
    assert pyramid_resolutions(28, min_resolution=8) == [28, 14]


def test_sliced_wasserstein_of_shifted_1d_sets_is_the_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5000, 1)).astype(np.float32)
    # In one dimension every unit direction is +-1: the distance is exact.
    assert sliced_wasserstein(a, a + 3.0, rng) == pytest.approx(3.0, rel=1e-5)
    assert sliced_wasserstein(a, a[::-1].copy(), rng) == pytest.approx(0.0, abs=1e-7)


def test_swd_known_orderings(mnist):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (500, 28, 28, 1), dtype=np.uint8)
    itself = swd(mnist[:500], mnist[:500])["mean"]
    halves = swd(mnist[:500], mnist[500:1000])["mean"]
    versus_noise = swd(mnist[:500], noise)["mean"]
    # Sampling noise of 500 images: about 7 and 11 (PGGAN's 16k: near 0).
    assert itself < 15 and halves < 15
    assert versus_noise > 20 * halves


def test_swd_grows_with_blur(mnist):
    real = mnist[:250]
    blurred, values = real.astype(np.float32), []
    for _ in range(4):
        blurred = _blur(blurred)
        fake = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
        values.append(swd(real, fake, min_resolution=8))
    for level in (28, 14, "mean"):
        series = [v[level] for v in values]
        assert series == sorted(series), (level, series)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_swd_any_channel_count(channels):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (50, 32, 32, channels), dtype=np.uint8)
    result = swd(a, a[::-1])
    assert set(result) == {32, 16, "mean"}
    assert result["mean"] == pytest.approx((result[32] + result[16]) / 2)


def test_swd_rejects_float_images_and_mismatched_shapes():
    a = np.zeros((4, 32, 32, 1), np.uint8)
    with pytest.raises(ValueError, match="uint8.*Received: real.dtype=float32"):
        swd(a.astype(np.float32), a)
    with pytest.raises(ValueError, match="same image shape"):
        swd(a, np.zeros((4, 32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="smaller than the 7x7"):
        swd(a[:, :6, :6], a[:, :6, :6])
