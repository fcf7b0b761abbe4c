"""Evaluation metrics: SWD and MS-SSIM (PGGAN) and classifier metrics
(Frechet distance, KID, classifier score, mode coverage), and the
image-to-image metrics (L1, PSNR, SSIM, segmentation mIoU)."""

from kgan.metrics.classifier import (
    ImageClassifier,
    build_classifier,
    classifier_score,
    frechet_distance,
    kernel_inception_distance,
    mode_coverage,
)
from kgan.metrics.evaluate import Evaluator, format_table, generate_uint8
from kgan.metrics.ms_ssim import ms_ssim, ms_ssim_diversity, ssim
from kgan.metrics.paired import l1_error, paired_quality, psnr
from kgan.metrics.segmentation import Segmenter, mean_iou
from kgan.metrics.swd import laplacian_pyramid, swd

__all__ = [
    "Evaluator",
    "ImageClassifier",
    "Segmenter",
    "build_classifier",
    "classifier_score",
    "format_table",
    "frechet_distance",
    "generate_uint8",
    "kernel_inception_distance",
    "l1_error",
    "laplacian_pyramid",
    "mean_iou",
    "mode_coverage",
    "ms_ssim",
    "ms_ssim_diversity",
    "paired_quality",
    "psnr",
    "ssim",
    "swd",
]
