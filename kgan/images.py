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


RED = (255, 0, 0)


def draw_box(rgb, left, top, right, bottom, color=RED):
    """Draws a 1-pixel rectangle outline into a uint8 `(h, w, 3)` array in place.

    Coordinates are pixel edges (floats allowed); the parts of the box that
    fall outside the array are not drawn.
    """
    height, width = rgb.shape[:2]
    x0, x1 = int(round(left)), int(round(right)) - 1
    y0, y1 = int(round(top)), int(round(bottom)) - 1
    cols = slice(max(x0, 0), min(x1, width - 1) + 1)
    rows = slice(max(y0, 0), min(y1, height - 1) + 1)
    for y in (y0, y1):
        if 0 <= y < height:
            rgb[y, cols] = color
    for x in (x0, x1):
        if 0 <= x < width:
            rgb[rows, x] = color
    return rgb


def attention_box(attention, n, scale=1.0):
    """The `(left, top, right, bottom)` edges, in 0-based pixels times
    `scale`, of a DRAW grid: centre (1-based) +- N * stride / 2."""
    center_x, center_y, stride = attention[0], attention[1], attention[2]
    half = n * stride / 2.0
    # a 1-based centre g lies in the middle of 0-based pixel g - 1, i.e. at
    # edge coordinate g - 0.5.
    x, y = center_x - 0.5, center_y - 0.5
    return tuple(scale * v for v in (x - half, y - half, x + half, y + half))


def attention_steps_grid(canvases, attention, n, scale=4, padding=2):
    """Step-by-step DRAW canvases with each write's attention box in red.

    Args:
        canvases: `(rows, T, H, W, C)` canvases in [-1, 1], e.g. from
            `DRAWGAN.generate(..., return_steps=True)`.
        attention: `(rows, T, 5)` write attention parameters.
        n: The write grid size N.
        scale: Nearest-neighbour magnification of each canvas.
        padding: Pixels of black between canvases.

    Returns:
        A uint8 RGB array: one row per sample, one column per step.
    """
    canvases = np.asarray(canvases)
    attention = np.asarray(attention)
    if canvases.ndim != 5 or attention.shape != canvases.shape[:2] + (5,):
        raise ValueError(
            "Expected canvases (rows, T, H, W, C) and attention (rows, T, 5). "
            f"Received: canvases.shape={canvases.shape}, "
            f"attention.shape={attention.shape}"
        )
    rows, steps, height, width, _ = canvases.shape
    cells = []
    for row in range(rows):
        for step in range(steps):
            image = to_uint8(canvases[row, step])
            image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
            if image.shape[-1] == 1:
                image = np.repeat(image, 3, axis=-1)
            box = attention_box(attention[row, step], n, scale)
            cells.append(draw_box(np.ascontiguousarray(image), *box))
    # make_grid takes images in [-1, 1].
    cells = np.stack(cells).astype(np.float32) / 127.5 - 1.0
    return make_grid(cells, columns=steps, padding=padding)
