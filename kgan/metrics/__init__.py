"""Evaluation metrics: SWD and MS-SSIM (PGGAN) and classifier metrics
(Frechet distance, KID, classifier score, mode coverage)."""

from kgan.metrics.classifier import (
    ImageClassifier,
    build_classifier,
    classifier_score,
    frechet_distance,
    kernel_inception_distance,
    mode_coverage,
)
from kgan.metrics.evaluate import Evaluator, format_table, generate_uint8
from kgan.metrics.ms_ssim import ms_ssim, ms_ssim_diversity
from kgan.metrics.swd import laplacian_pyramid, swd

__all__ = [
    "Evaluator",
    "ImageClassifier",
    "build_classifier",
    "classifier_score",
    "format_table",
    "frechet_distance",
    "generate_uint8",
    "kernel_inception_distance",
    "laplacian_pyramid",
    "mode_coverage",
    "ms_ssim",
    "ms_ssim_diversity",
    "swd",
]
