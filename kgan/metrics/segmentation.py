"""Segmentation metrics: mean IoU, and a small segmenter that labels images.

The Compact GAN measures how well generated road scenes keep their layout
by segmenting them with a network trained on real scenes and comparing with
the label maps they were generated from (the FCN score of pix2pix). kgan
ships that segmenter in `kgan/saved_models/` (`scripts/train_segmenter.py`).
"""

import keras
import numpy as np
import tensorflow as tf

from kgan.metrics.checks import check_images
from kgan.metrics.classifier import saved_models_dir


def confusion_matrix(true, predicted, num_classes):
    """`(num_classes, num_classes)` pixel counts, rows true, columns predicted."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.shape != predicted.shape:
        raise ValueError(
            "Label maps must have the same shape. "
            f"Received: true.shape={true.shape}, predicted.shape={predicted.shape}"
        )
    for name, labels in (("true", true), ("predicted", predicted)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"`{name}` labels must lie in [0, {num_classes - 1}]. "
                f"Received: range=[{labels.min()}, {labels.max()}]"
            )
    index = true.astype(np.int64).ravel() * num_classes + predicted.ravel()
    return np.bincount(index, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def mean_iou(true, predicted, num_classes):
    """Mean over classes of intersection over union, pooled over all pixels.

    Classes absent from both `true` and `predicted` are left out of the mean.

    Returns:
        `(miou, per_class)`: a float and a float array with NaN for the
        classes left out.
    """
    counts = confusion_matrix(true, predicted, num_classes).astype(np.float64)
    intersection = np.diag(counts)
    union = counts.sum(axis=0) + counts.sum(axis=1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(union > 0, intersection / union, np.nan)
    return float(np.nanmean(per_class)), per_class


def build_segmenter(image_size=64, num_classes=7, filters=32):
    """A small U-Net labelling every pixel of [-1, 1] RGB images.

    Two stride-2 stages (`filters`, 2x, 4x filters; conv-BN-ReLU pairs),
    upsampling back with skip connections, and per-pixel class logits.
    """
    inputs = keras.Input((image_size, image_size, 3))

    def block(x, width, name):
        for k in (1, 2):
            x = keras.layers.Conv2D(
                width, 3, padding="same", use_bias=False, name=f"{name}_conv{k}"
            )(x)
            x = keras.layers.BatchNormalization(name=f"{name}_norm{k}")(x)
            x = keras.layers.ReLU(name=f"{name}_act{k}")(x)
        return x

    skip1 = block(inputs, filters, "enc1")
    skip2 = block(keras.layers.MaxPooling2D()(skip1), 2 * filters, "enc2")
    x = block(keras.layers.MaxPooling2D()(skip2), 4 * filters, "middle")
    x = keras.layers.Concatenate()([keras.layers.UpSampling2D()(x), skip2])
    x = block(x, 2 * filters, "dec2")
    x = keras.layers.Concatenate()([keras.layers.UpSampling2D()(x), skip1])
    x = block(x, filters, "dec1")
    logits = keras.layers.Conv2D(num_classes, 1, name="logits")(x)
    return keras.Model(inputs, logits, name="segmenter")


def segmenter_path(dataset="road_scenes"):
    return saved_models_dir() / f"{dataset}_segmenter.keras"


class Segmenter:
    """A trained segmenter: labels uint8 images, scores them by mean IoU.

    Args:
        model: A Keras model from [-1, 1] images to per-pixel logits.
    """

    def __init__(self, model):
        self.model = model
        self.num_classes = int(model.output_shape[-1])

    @classmethod
    def load(cls, dataset="road_scenes"):
        """The segmenter shipped in `kgan/saved_models/`, or a clear error."""
        path = segmenter_path(dataset)
        if not path.is_file():
            raise FileNotFoundError(
                f"No segmenter for {dataset}; train one with "
                f"`python scripts/train_segmenter.py`. Received: path={path}"
            )
        return cls(keras.saving.load_model(path, compile=False))

    def predict(self, images, batch_size=64):
        """Per-pixel class indices `(n, H, W)` of uint8 RGB images.

        Images of another size than the segmenter's are resized to it
        (bilinear) and the logits resized back, so that any resolution can
        be scored; scores are most telling at the segmenter's own size.
        """
        images = check_images(images).astype(np.float32) / 127.5 - 1.0
        size = tuple(self.model.input_shape[1:3])
        original = images.shape[1:3]
        if original != size:
            images = tf.image.resize(images, size).numpy()
        logits = self.model.predict(images, batch_size=batch_size, verbose=0)
        if original != size:
            logits = tf.image.resize(logits, original).numpy()
        return logits.argmax(axis=-1).astype(np.uint8)

    def miou(self, images, labels):
        """Mean IoU of the segmentation of `images` against `labels`."""
        return mean_iou(labels, self.predict(images), self.num_classes)[0]
