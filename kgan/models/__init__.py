"""GAN trainers and the networks they train."""

from kgan.models.gan import GAN
from kgan.models.networks import dcgan, vanilla

__all__ = ["GAN", "dcgan", "vanilla"]
