"""Layers of kgan: activations (PSF, maxout), gates, padding, DRAW attention,
SAGAN self-attention and the PGGAN blocks."""

from kgan.layers.draw_attention import DrawRead, DrawWrite, draw_filterbank
from kgan.layers.draw_recurrent import DrawCanvas, DrawReader
from kgan.layers.equalized import EqualizedConv2D, EqualizedDense
from kgan.layers.fade_in import FadeIn
from kgan.layers.learned_state import LearnedInitialState
from kgan.layers.maxout import Maxout
from kgan.layers.minibatch_stddev import MinibatchStdDev
from kgan.layers.parametric_softsign import ParametricSoftsign
from kgan.layers.pixel_normalization import PixelNormalization
from kgan.layers.reflection_padding import ReflectionPadding2D
from kgan.layers.scaling_gate import ScalingGate
from kgan.layers.self_attention import SelfAttention2D

__all__ = [
    "DrawCanvas",
    "DrawRead",
    "DrawReader",
    "DrawWrite",
    "EqualizedConv2D",
    "EqualizedDense",
    "FadeIn",
    "LearnedInitialState",
    "Maxout",
    "MinibatchStdDev",
    "ParametricSoftsign",
    "PixelNormalization",
    "ReflectionPadding2D",
    "ScalingGate",
    "SelfAttention2D",
    "draw_filterbank",
]
