"""The pix2pix recipe: label map -> image on synthetic road scenes, the
Compact GAN's task, scored on held-out scenes."""

import dataclasses
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from kgan.data.road_scenes import ROAD_CLASSES, colorize, one_hot, road_scenes
from kgan.images import make_grid, to_uint8
from kgan.metrics.seg_to_image import SegToImageEvaluator
from kgan.models.pix2pix import Pix2Pix
from kgan.models.pix2pix_networks import (
    patch_discriminator,
    resnet_generator,
    unet_generator,
)
from kgan.recipes.gan import scale_images
from kgan.runs.callbacks import global_step
from kgan.runs.data import Segment, StepData
from kgan.runs.recipe import Recipe, RunConfig, option

# Held-out scenes come from their own seed, never seen in training.
TEST_SEED = 2**20
SAMPLE_SCENES = 8


@dataclasses.dataclass(frozen=True)
class Pix2PixConfig(RunConfig):
    """Settings of a pix2pix run on `kgan.data.road_scenes`."""

    resolution: int = option(64, "image size (a power of two)", minimum=16)
    scenes: int = option(4000, "training scenes", minimum=1)
    test_scenes: int = option(500, "held-out scenes scored at the end", minimum=1)
    steps: int = option(3000, "generator updates to train for", minimum=1)
    batch_size: int = option(16, "batch size", minimum=1)
    generator: Literal["unet", "resnet"] = option(
        "unet", "pix2pix's U-Net or Johnson et al.'s ResNet-block generator"
    )
    filters: int = option(
        64, "filters of the generator's first layer (they double per level)", minimum=1
    )
    max_filters: int = option(512, "cap on the U-Net's filters per layer", minimum=1)
    blocks: int = option(9, "residual blocks of the ResNet generator", minimum=1)
    norm: Literal["batch", "instance"] = option(
        "batch", "normalization of the ResNet generator"
    )
    dropout: float = option(
        0.5,
        "dropout of the U-Net's inner decoder layers (the ResNet generator "
        "has none, as in pix2pix)",
        minimum=0.0,
    )
    l1_weight: float = option(100.0, "weight of the L1 loss", minimum=0.0)
    learning_rate: float = option(
        2e-4, "Adam learning rate of both networks", above=0.0, aliases=("--lr",)
    )
    beta_1: float = option(
        0.5, "Adam beta_1 of both networks", minimum=0.0, aliases=("--beta1",)
    )

    def check(self):
        if self.batch_size > self.scenes:
            raise ValueError(
                "`batch_size` cannot exceed the number of training scenes. "
                f"Received: batch_size={self.batch_size}, scenes={self.scenes}"
            )
        if self.dropout >= 1.0:
            raise ValueError(
                f"`dropout` must be below 1. Received: dropout={self.dropout}"
            )


def pix2pix_generator(config):
    """The generator a `Pix2PixConfig` names, freshly initialised."""
    if config.generator == "resnet":
        return resnet_generator(
            config.resolution, filters=config.filters, blocks=config.blocks,
            norm=config.norm,
        )  # fmt: skip
    return unet_generator(
        config.resolution,
        filters=config.filters,
        max_filters=config.max_filters,
        dropout=config.dropout,
    )


def scene_batch(labels, images):
    """uint8 label maps and images to (one-hot maps, images in [-1, 1])."""
    conditions = tf.one_hot(tf.cast(labels, tf.int32), len(ROAD_CLASSES))
    return conditions, scale_images(images)


def held_out_evaluator(config, segmenter=None):
    """A `SegToImageEvaluator` on the run's held-out scenes."""
    labels, images = road_scenes(config.test_scenes, config.resolution, TEST_SEED)
    return SegToImageEvaluator(labels, images, segmenter)


def comparison_tiles(labels, images, generators):
    """A uint8 grid: a row of label maps, one of the true images and
    one of each generator's images."""
    rows = [colorize(labels), images]
    for generator in generators:
        rows.append(to_uint8(generator(one_hot(labels), training=False)))
    tiles = np.concatenate(rows).astype(np.float32) / 127.5 - 1.0
    return make_grid(tiles, columns=len(labels))


def training_batches(config):
    """The run's training batches `(one-hot maps, images)`, endless, in the
    order its run loop serves them."""
    data = Pix2PixRecipe().data(config)
    return data.stream(Segment("train", config.steps, config.batch_size))


class Pix2PixRecipe(Recipe):
    name = "pix2pix"
    summary = "pix2pix: label map -> image on synthetic road scenes"
    config_class = Pix2PixConfig
    trainer_file = "pix2pix.keras"

    def data(self, config):
        arrays = road_scenes(config.scenes, config.resolution, config.seed)
        return StepData(arrays, config.seed, transform=scene_batch)

    def build(self, config, data):
        discriminator = patch_discriminator(config.resolution)
        trainer = Pix2Pix(
            pix2pix_generator(config),
            discriminator,
            l1_weight=config.l1_weight,
            seed=config.seed,
        )

        def adam():
            return keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1)

        trainer.compile(adam(), adam(), jit_compile=config.jit_compile)
        return trainer

    def segment(self, config, trainer):
        left = config.steps - global_step(trainer)
        return Segment("train", left, config.batch_size) if left > 0 else None

    def samples(self, config, trainer):
        # The first held-out scenes (scene i depends only on the seed and i).
        labels, images = road_scenes(SAMPLE_SCENES, config.resolution, TEST_SEED)
        return comparison_tiles(labels, images, [trainer.generator])

    def evaluator(self, config):
        """L1, PSNR, SSIM, SWD and mIoU (shipped segmenter) on held-out scenes."""
        evaluator = held_out_evaluator(config)
        real_miou = evaluator.reference()["miou"]

        def evaluate(trainer):
            quality = evaluator(trainer.generator)
            quality["parameters"] = trainer.generator.count_params()
            quality["real_images_miou"] = real_miou
            return quality

        return evaluate
