import numpy as np
import pytest

from kgan.data.road_scenes import (
    LABEL_COLORS,
    ROAD_CLASSES,
    colorize,
    one_hot,
    road_scenes,
)


def test_shapes_dtypes_and_classes():
    labels, images = road_scenes(12, 32, seed=3)
    assert labels.shape == (12, 32, 32) and labels.dtype == np.uint8
    assert images.shape == (12, 32, 32, 3) and images.dtype == np.uint8
    # Every class appears somewhere in a dozen scenes, and each scene has
    # sky, road and sidewalk.
    assert set(np.unique(labels)) == set(range(len(ROAD_CLASSES)))
    for scene in labels:
        assert {0, 1, 3} <= set(np.unique(scene))


def test_deterministic_and_prefix_stable():
    labels, images = road_scenes(5, 32, seed=7)
    again_labels, again_images = road_scenes(8, 32, seed=7)
    np.testing.assert_array_equal(labels, again_labels[:5])
    np.testing.assert_array_equal(images, again_images[:5])
    other_labels, _ = road_scenes(5, 32, seed=8)
    assert (other_labels != labels).mean() > 0.05


def test_layout_is_the_same_at_every_resolution():
    small, _ = road_scenes(4, 32, seed=1)
    large, _ = road_scenes(4, 128, seed=1)
    # Pixel centres of the 32 px map fall between the 128 px pixels 4i+1 and
    # 4i+2; away from boundaries both resolutions give the same class.
    agreement = (large[:, 1::4, 1::4] == small).mean()
    assert agreement > 0.9


def test_classes_look_different():
    labels, images = road_scenes(20, 64, seed=0)
    means = [images[labels == c].mean(axis=0) for c in (0, 1, 5)]  # sky, road, trees
    sky, road, trees = means
    assert sky[2] > road[2] + 20  # the sky is bluer than asphalt
    assert trees[1] > trees[2] + 15  # foliage is green


def test_colorize_and_one_hot():
    labels = np.array([[0, 6], [1, 2]], np.uint8)
    colors = colorize(labels)
    for (i, j), label in np.ndenumerate(labels):
        np.testing.assert_array_equal(colors[i, j], LABEL_COLORS[label])
    assert len({tuple(c) for c in LABEL_COLORS}) == len(ROAD_CLASSES)  # distinct
    encoded = one_hot(labels)
    assert encoded.shape == (2, 2, len(ROAD_CLASSES))
    np.testing.assert_array_equal(encoded.argmax(-1), labels)
    with pytest.raises(ValueError, match="Received: range"):
        colorize(np.array([9]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "Received: n=0"),
        ({"n": 2, "resolution": 8}, "Received: resolution=8"),
        ({"n": 2, "resolution": 32.0}, "Received: resolution=32.0"),
        ({"n": 2, "seed": -1}, "Received: seed=-1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        road_scenes(**kwargs)


def test_load_road_scenes_by_name():
    from kgan.data import load, load_arrays

    x, y = load_arrays("road_scenes", "test", image_size=(16, 16))
    assert x.shape == (1000, 16, 16, 3) and x.dtype == np.uint8 and not y.any()
    _, expected = road_scenes(4, 16, seed=1)
    np.testing.assert_array_equal(x[:4], expected)
    batch = next(iter(load("road_scenes", "test", 8, image_size=(16, 16))))
    assert batch.shape == (8, 16, 16, 3) and -1.0 <= float(batch.numpy().min())
    with pytest.raises(ValueError, match="square"):
        load_arrays("road_scenes", "test", image_size=(16, 32))
    with pytest.raises(ValueError, match="no classes"):
        load_arrays("road_scenes", "test", classes=[1])
