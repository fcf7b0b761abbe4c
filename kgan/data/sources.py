"""Where images come from: the embedded MNIST file, prepared npz files,
tensorflow-datasets and image folders.

Each source yields `(image, label)` pairs with images as uint8 (H, W, C).
"""

import os
import pathlib

import numpy as np
import tensorflow as tf

from kgan.data.road_scenes import road_scenes

EMBEDDED_MNIST = pathlib.Path(__file__).with_name("mnist_10k.npz")
MNIST_TRAIN_SIZE = 8000
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")

# Datasets kgan knows by name, with the sources each can be read from; the
# first source is the default.
SOURCES = {
    "mnist": ("embedded", "tfds"),
    "mnist_full": ("npz",),
    "fashion_mnist": ("npz", "tfds"),
    "cifar10": ("tfds",),
    "folder": ("folder",),
    "road_scenes": ("generated",),
}
# Generated road scenes: (scenes, seed) of each split, at 64 px unless
# `image_size` asks for another size.
ROAD_SCENE_SPLITS = {"train": (10_000, 0), "test": (1_000, 1)}
ROAD_SCENE_SIZE = 64


def generated_road_scenes(split, image_size=None):
    """The images of a road-scene split as uint8 arrays; labels are 0 (the
    label maps are `kgan.data.road_scenes`'s business)."""
    size = ROAD_SCENE_SIZE
    if image_size is not None:
        height, width = image_size
        if height != width:
            raise ValueError(
                f"Road scenes are square. Received: image_size={tuple(image_size)}"
            )
        size = int(height)
    count, seed = ROAD_SCENE_SPLITS[split]
    _, images = road_scenes(count, size, seed)
    return images, np.zeros(count, np.int64)


SPLITS = ("train", "test")
# Datasets with more splits than train and test.
EXTRA_SPLITS = {"mnist_full": ("validation",)}


def splits(name):
    """The splits of dataset `name`."""
    if name == "folder":
        return ("train",)
    return SPLITS + EXTRA_SPLITS.get(name, ())


def data_dir() -> pathlib.Path:
    """Returns kgan's data directory: `$KGAN_DATA_DIR` or `~/.kgan/datasets`."""
    return pathlib.Path(
        os.environ.get("KGAN_DATA_DIR", pathlib.Path.home() / ".kgan" / "datasets")
    )


def prepare_command(name: str, source: str) -> str:
    """The command a user runs to make `name` available from `source`."""
    # tfds is the default where kgan has no file of its own to prepare.
    flag = " --source tfds" if source == "tfds" and "npz" in SOURCES[name] else ""
    return f"kgan data prepare {name}{flag}"


def embedded_mnist(split):
    """The 10,000 embedded MNIST digits: first 8,000 train, last 2,000 test."""
    with np.load(EMBEDDED_MNIST) as archive:
        x, y = archive["x"], archive["y"]
    cut = (
        slice(None, MNIST_TRAIN_SIZE)
        if split == "train"
        else slice(MNIST_TRAIN_SIZE, None)
    )
    return x[cut, :, :, None], y[cut]


def prepared_npz(name, split):
    """Arrays of a dataset prepared by `kgan data prepare` in data_dir()."""
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"The {name} data is not prepared. Run `{prepare_command(name, 'npz')}` "
            f"(or set KGAN_DATA_DIR to where it was prepared). Received: path={path}"
        )
    with np.load(path) as archive:
        x, y = archive[f"x_{split}"], archive[f"y_{split}"]
    if x.ndim == 3:
        x = x[..., None]
    return x, y


def tfds_dataset(name, split):
    """A `(uint8 image, label)` dataset read by tensorflow-datasets, no download."""
    import tensorflow_datasets as tfds

    try:
        return tfds.load(name, split=split, as_supervised=True, download=False)
    except AssertionError as error:
        # tfds signals missing data with an AssertionError.
        raise FileNotFoundError(
            f"tensorflow-datasets has no prepared data for {name}. Run "
            f"`{prepare_command(name, 'tfds')}` on a machine that can reach the "
            "dataset's servers, or point TFDS_DATA_DIR at prepared data. "
            f"Received: name={name}"
        ) from error


def image_files(directory):
    """Sorted image paths and their class indices from subfolder names.

    Images directly in `directory` get label -1; images in subfolders get the
    index of their subfolder in sorted order.
    """
    root = pathlib.Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(
            f"The image folder does not exist. Received: directory={directory}"
        )
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise ValueError(
            f"The image folder holds no PNG or JPEG files. "
            f"Received: directory={directory}"
        )
    classes = sorted({p.parent for p in paths if p.parent != root})
    index = {folder: i for i, folder in enumerate(classes)}
    labels = [index.get(p.parent, -1) for p in paths]
    return [str(p) for p in paths], labels


def folder_dataset(directory, image_size, channels):
    """A `(uint8 image, label)` dataset of the PNG/JPEG files in `directory`."""
    paths, labels = image_files(directory)
    # The first image fixes the channel count and, without image_size, the size.
    first = tf.io.decode_image(
        tf.io.read_file(paths[0]), channels=channels or 0, expand_animations=False
    )
    height, width = image_size or first.shape[:2]
    channels = channels or first.shape[-1]

    def decode(path, label):
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=channels, expand_animations=False
        )
        if image_size is not None:
            image = tf.image.resize(image, (height, width), antialias=True)
            image = tf.cast(tf.round(tf.clip_by_value(image, 0, 255)), tf.uint8)
        else:
            message = (
                f"Images in the folder differ in size; pass image_size=(h, w) "
                f"to resize them. Expected ({height}, {width})"
            )
            check = tf.debugging.assert_equal(
                tf.shape(image)[:2], [height, width], message
            )
            with tf.control_dependencies([check]):
                image = tf.identity(image)
        return tf.ensure_shape(image, (height, width, channels)), label

    ds = tf.data.Dataset.from_tensor_slices((paths, np.asarray(labels, np.int64)))
    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE), labels
