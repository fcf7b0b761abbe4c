"""All quality figures of a label-map-to-image generator on held-out scenes."""

import keras
import numpy as np

from kgan.data.road_scenes import one_hot
from kgan.images import to_uint8
from kgan.metrics.paired import paired_quality
from kgan.metrics.segmentation import Segmenter
from kgan.metrics.swd import swd


class SegToImageEvaluator:
    """Scores a generator from one-hot label maps to images in [-1, 1].

    For held-out `(labels, images)` pairs it reports the L1 error (on a
    [0, 1] scale), PSNR and SSIM of the generated images against the true
    ones, SWD (x1e3, mean over pyramid levels) of the generated set against
    the real set, and the mean IoU of the segmenter's labelling of the
    generated images against `labels`.

    Args:
        labels: uint8 label maps `(n, H, W)`.
        images: uint8 RGB images `(n, H, W, 3)` that the labels depict.
        segmenter: A `Segmenter`; defaults to the one shipped in
            `kgan/saved_models/`.
        batch_size: Label maps per generator call.
    """

    def __init__(self, labels, images, segmenter=None, batch_size=64):
        labels, images = np.asarray(labels), np.asarray(images)
        if labels.shape != images.shape[:3]:
            raise ValueError(
                "Each label map needs its image. Received: "
                f"labels.shape={labels.shape}, images.shape={images.shape}"
            )
        self.labels = labels
        self.images = images
        self.segmenter = segmenter or Segmenter.load()
        self.batch_size = batch_size

    def generate(self, generator):
        """uint8 images that `generator` (a Keras model, run in inference
        mode, or any callable on batches of one-hot maps, such as a
        `LiteRTGenerator`) makes from the held-out label maps."""
        outputs = []
        for start in range(0, len(self.labels), self.batch_size):
            batch = one_hot(self.labels[start : start + self.batch_size])
            if isinstance(generator, keras.Model):
                outputs.append(np.asarray(generator(batch, training=False)))
            else:
                outputs.append(np.asarray(generator(batch)))
        return to_uint8(np.concatenate(outputs))

    def __call__(self, generator):
        fake = self.generate(generator)
        result = paired_quality(self.images, fake)
        result["swd"] = float(swd(self.images, fake)["mean"])
        result["miou"] = self.segmenter.miou(fake, self.labels)
        return result

    def reference(self):
        """The segmenter's mIoU on the real images: the ceiling of `miou`."""
        return {"miou": self.segmenter.miou(self.images, self.labels)}
