"""GAN trainers and the networks they train."""

from kgan.models.draw import DRAWGAN, draw
from kgan.models.gan import GAN
from kgan.models.networks import dcgan, vanilla
from kgan.models.pix2pix import Pix2Pix
from kgan.models.pix2pix_networks import (
    patch_discriminator,
    resnet_generator,
    unet_generator,
)

__all__ = [
    "DRAWGAN",
    "GAN",
    "Pix2Pix",
    "dcgan",
    "draw",
    "patch_discriminator",
    "resnet_generator",
    "unet_generator",
    "vanilla",
]
