"""Image grids: many generated images tiled into one PNG."""

import math

import numpy as np

from kgan.files import atomic_path


def to_uint8(images):
    """Maps images in [-1, 1] to uint8 [0, 255], rounding to the nearest value."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images, columns=None, padding=2):
    """Tiles `(n, H, W, C)` images in [-1, 1] into one uint8 `(h, w, C)` array.

    Args:
        images: Array of shape `(n, H, W, C)` with C = 1 or 3.
        columns: Images per row; defaults to a near-square layout.
        padding: Pixels of black between images.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "Images must have shape (n, height, width, 1 or 3). "
            f"Received: images.shape={images.shape}"
        )
    n, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros(
        (
            rows * (height + padding) + padding,
            columns * (width + padding) + padding,
            channels,
        ),
        np.uint8,
    )
    for index, image in enumerate(to_uint8(images)):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def save_png(array, path):
    """Writes a uint8 `(h, w, 1 or 3)` array as a PNG, atomically."""
    import matplotlib.image

    image = array[..., 0] if array.shape[-1] == 1 else array
    with atomic_path(path) as partial:
        matplotlib.image.imsave(
            partial, image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255
        )


def save_grid(images, path, columns=None):
    """Tiles images in [-1, 1] and writes them as one PNG."""
    save_png(make_grid(images, columns), path)
