import numpy as np
import pytest

from kgan.data.road_scenes import ROAD_CLASSES, road_scenes
from kgan.metrics.segmentation import (
    Segmenter,
    build_segmenter,
    confusion_matrix,
    mean_iou,
)


def test_mean_iou_by_hand():
    true = np.array([[0, 0, 1, 1], [2, 2, 2, 2]])
    predicted = np.array([[0, 1, 1, 1], [2, 2, 0, 2]])
    # class 0: intersection 1, union 3; class 1: 2 / 3; class 2: 3 / 4.
    miou, per_class = mean_iou(true, predicted, num_classes=4)
    np.testing.assert_allclose(per_class[:3], [1 / 3, 2 / 3, 3 / 4])
    assert np.isnan(per_class[3])  # absent from both: left out
    assert miou == pytest.approx(np.mean([1 / 3, 2 / 3, 3 / 4]))
    counts = confusion_matrix(true, predicted, 4)
    assert counts.sum() == true.size and counts[0, 1] == 1 and counts[2, 0] == 1


def test_label_checks():
    with pytest.raises(ValueError, match="same shape"):
        mean_iou(np.zeros((2, 2), int), np.zeros((2, 3), int), 3)
    with pytest.raises(ValueError, match=r"Received: range=\[0, 5\]"):
        mean_iou(np.array([0, 5]), np.array([0, 1]), 3)


def test_segmenter_predicts_a_label_map():
    model = build_segmenter(16, num_classes=len(ROAD_CLASSES), filters=4)
    _, images = road_scenes(3, 16, seed=0)
    labels = Segmenter(model).predict(images)
    assert labels.shape == (3, 16, 16) and labels.dtype == np.uint8
    logits = model(images.astype("float32") / 127.5 - 1.0).numpy()
    np.testing.assert_array_equal(labels, logits.argmax(-1))


def test_shipped_segmenter_labels_unseen_real_scenes():
    segmenter = Segmenter.load()
    size = segmenter.model.input_shape[1]
    labels, images = road_scenes(64, size, seed=12345)
    assert segmenter.miou(images, labels) > 0.85
    # Images that do not match the labels score far lower.
    assert segmenter.miou(images[::-1], labels) < 0.6


def test_other_sizes_are_resized_to_the_segmenter():
    model = build_segmenter(16, num_classes=len(ROAD_CLASSES), filters=4)
    _, images = road_scenes(2, 32, seed=0)
    labels = Segmenter(model).predict(images)
    # By hand: scaled, resized to 16 px, segmented, logits resized back.
    import tensorflow as tf

    small = tf.image.resize(images.astype("float32") / 127.5 - 1.0, (16, 16))
    logits = tf.image.resize(model(small), (32, 32)).numpy()
    np.testing.assert_array_equal(labels, logits.argmax(-1))
