"""Datasets as tf.data pipelines of images scaled to [-1, 1]."""

from kgan.data.loading import load, load_arrays
from kgan.data.prepare import prepare_fashion_mnist, prepare_mnist_full, prepare_tfds
from kgan.data.road_scenes import ROAD_CLASSES, road_scenes
from kgan.data.sources import data_dir

__all__ = [
    "ROAD_CLASSES",
    "data_dir",
    "load",
    "load_arrays",
    "prepare_fashion_mnist",
    "prepare_mnist_full",
    "prepare_tfds",
    "road_scenes",
]
