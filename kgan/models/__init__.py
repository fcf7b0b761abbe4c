"""GAN trainers and the networks they train."""

from kgan.models.draw import DRAWGAN, draw
from kgan.models.gan import GAN
from kgan.models.networks import dcgan, vanilla

__all__ = ["DRAWGAN", "GAN", "dcgan", "draw", "vanilla"]
