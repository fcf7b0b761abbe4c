"""`load`: any kgan dataset as a batched, prefetched tf.data pipeline."""

import numpy as np
import tensorflow as tf

from kgan.data import sources

TFDS_SHUFFLE_BUFFER = 10_000
PREFETCH_BATCHES = 2


def load(
    name: str,
    split: str = "train",
    batch_size: int = 64,
    *,
    with_labels: bool = False,
    seed: int | None = None,
    shuffle: bool = True,
    source: str | None = None,
    classes: list[int] | None = None,
    directory: str | None = None,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Loads a dataset as batches of float32 images in [-1, 1].

    Args:
        name: `"mnist"`, `"mnist_full"` (the 50,000 / 10,000 / 10,000
            split, prepared by `kgan data prepare mnist_full`),
            `"fashion_mnist"`, `"cifar10"`, `"folder"` or `"road_scenes"`
            (10,000 generated training and 1,000 test scenes, 64 px or
            `image_size`; see `kgan.data.road_scenes`).
        split: `"train"` or `"test"`, and `"validation"` for `mnist_full`.
            MNIST from the embedded file has a fixed 8,000/2,000 split; an
            image folder has only `"train"`.
        batch_size: Positive integer.
        with_labels: If `True`, yield `(images, labels)` with int32 labels.
        seed: Shuffle seed, for reproducible order.
        shuffle: Whether to shuffle, reshuffling every epoch.
        source: Where to read from. `"embedded"` (MNIST's default, the file
            shipped with kgan), `"npz"` (Fashion-MNIST's default, prepared by
            `kgan data prepare`), `"tfds"` (tensorflow-datasets, never
            downloading) or `"folder"`. Defaults to the dataset's first source.
        classes: Optional list of class indices to keep, e.g. `[1]` for the
            CIFAR-10 automobiles.
        directory: The image folder, for `name="folder"`. Images in
            subfolders are labelled by subfolder, in sorted order.
        image_size: `(height, width)` to resize folder images to; without it
            all images of the folder must have one size.
        channels: 1 or 3 to convert folder images; defaults to the first
            image's channel count.
        drop_remainder: Whether to drop a last, smaller batch.

    Returns:
        A prefetched `tf.data.Dataset` of float32 `(batch, H, W, C)` images,
        or of `(images, labels)` pairs when `with_labels=True`.
    """
    source = _check_arguments(name, split, source, classes)
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(
            "`batch_size` must be a positive integer. "
            f"Received: batch_size={batch_size}"
        )
    ds, buffer = _examples(
        name, split, source, classes, directory, image_size, channels
    )
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def scale(images, labels):
        images = tf.cast(images, tf.float32) / 127.5 - 1.0
        return (images, tf.cast(labels, tf.int32)) if with_labels else images

    ds = ds.map(scale).prefetch(PREFETCH_BATCHES)
    # tf.data's autotuner keeps threads busy that the training step needs: on
    # a 2-core CPU it halved DCGAN's steps/s (scripts/bench_train.py).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def load_arrays(
    name: str,
    split: str = "train",
    *,
    source: str | None = None,
    classes: list[int] | None = None,
    directory: str | None = None,
    image_size: tuple[int, int] | None = None,
    channels: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Loads a whole split into memory as uint8 images and int64 labels.

    Takes the same arguments as `load`. Returns `(x, y)` with `x` of shape
    `(n, H, W, C)` and dtype uint8.
    """
    source = _check_arguments(name, split, source, classes)
    if source in ("embedded", "npz"):
        return _filtered_arrays(name, split, source, classes)
    if source == "generated":
        return sources.generated_road_scenes(split, image_size)
    ds, _ = _examples(name, split, source, classes, directory, image_size, channels)
    images, labels = [], []
    for image, label in ds.batch(1024).as_numpy_iterator():
        images.append(image)
        labels.append(label)
    if not images:
        raise ValueError(
            f"No images match the request. Received: name={name}, "
            f"split={split}, classes={classes}"
        )
    return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def _check_arguments(name, split, source, classes):
    if name not in sources.SOURCES:
        raise ValueError(
            f"Unknown dataset. Expected one of {sorted(sources.SOURCES)}. "
            f"Received: name={name!r}"
        )
    known_sources = sources.SOURCES[name]
    source = source or known_sources[0]
    if source not in known_sources:
        raise ValueError(
            f"Dataset {name} can be read from {list(known_sources)}. "
            f"Received: source={source!r}"
        )
    splits = sources.splits(name)
    if split not in splits:
        raise ValueError(
            f"Dataset {name} has the splits {list(splits)}. Received: split={split!r}"
        )
    if classes is not None:
        if isinstance(classes, (int, str)) or not all(
            isinstance(c, (int, np.integer)) and c >= 0 for c in classes
        ):
            raise ValueError(
                "`classes` must be a list of non-negative class indices. "
                f"Received: classes={classes!r}"
            )
        if name == "road_scenes":
            raise ValueError(
                f"Road scenes have no classes to filter. Received: classes={classes!r}"
            )
        if name != "folder" and max(classes, default=0) > 9:
            raise ValueError(
                f"Dataset {name} has classes 0 to 9. Received: classes={classes!r}"
            )
    return source


def _filtered_arrays(name, split, source, classes):
    if source == "embedded":
        x, y = sources.embedded_mnist(split)
    else:
        x, y = sources.prepared_npz(name, split)
    if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], y[keep]
    if len(x) == 0:
        raise ValueError(
            f"No images of {name} ({split}) belong to the requested classes. "
            f"Received: classes={classes}"
        )
    return x, y.astype(np.int64)


def _examples(name, split, source, classes, directory, image_size, channels):
    """Returns an unbatched `(uint8 image, label)` dataset and a shuffle buffer."""
    if source in ("embedded", "npz"):
        x, y = _filtered_arrays(name, split, source, classes)
        return tf.data.Dataset.from_tensor_slices((x, y)), len(x)
    if source == "generated":
        x, y = sources.generated_road_scenes(split, image_size)
        return tf.data.Dataset.from_tensor_slices((x, y)), len(x)
    if source == "tfds":
        ds = sources.tfds_dataset(name, split)
        buffer = TFDS_SHUFFLE_BUFFER
    else:
        if directory is None:
            raise ValueError(
                "An image folder dataset needs `directory`. Received: directory=None"
            )
        if channels not in (None, 1, 3):
            raise ValueError(
                f"`channels` must be 1 or 3. Received: channels={channels}"
            )
        ds, labels = sources.folder_dataset(directory, image_size, channels)
        buffer = len(labels)
    if classes is not None:
        wanted = tf.constant(list(classes), dtype=tf.int64)
        ds = ds.filter(
            lambda image, label: tf.reduce_any(
                tf.equal(tf.cast(label, tf.int64), wanted)
            )
        )
    return ds, buffer
