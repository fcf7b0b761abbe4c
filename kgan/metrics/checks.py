"""Input checks shared by the metrics."""

import numpy as np


def check_images(images, name="images", min_count=1):
    """Returns `images` as an array after checking it holds uint8 images.

    Metrics compare images on the 0-255 scale of the data; float images
    (e.g. a generator's [-1, 1] output) must be converted explicitly with
    `kgan.images.to_uint8`, never guessed.
    """
    array = np.asarray(images)
    if array.dtype != np.uint8 or array.ndim != 4:
        raise ValueError(
            f"`{name}` must be uint8 images of shape (n, height, width, channels); "
            "convert [-1, 1] images with kgan.images.to_uint8. Received: "
            f"{name}.dtype={array.dtype}, {name}.shape={array.shape}"
        )
    if len(array) < min_count:
        raise ValueError(
            f"`{name}` must hold at least {min_count} images. "
            f"Received: {name}.shape={array.shape}"
        )
    return array


def check_image_pair(a, b, names=("x", "y")):
    """Checks two uint8 image sets of one shape; returns them as float64."""
    a = check_images(a, names[0]).astype(np.float64)
    b = check_images(b, names[1]).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must have the same shape. Received: "
            f"{names[0]}.shape={a.shape}, {names[1]}.shape={b.shape}"
        )
    return a, b
