"""One evaluation of a generator against a dataset: every kgan metric at once."""

import functools
import typing

import numpy as np

from kgan.images import to_uint8
from kgan.latents import normal_latents
from kgan.metrics.checks import check_images
from kgan.metrics.classifier import (
    ImageClassifier,
    classifier_path,
    classifier_score,
    frechet_distance,
    kernel_inception_distance,
    mode_coverage,
)
from kgan.metrics.ms_ssim import ms_ssim_diversity
from kgan.metrics.swd import swd
from kgan.saving import load_generator

# Metric names in display order, with how to read them.
DESCRIPTIONS = {
    "frechet_distance": "Frechet distance, classifier features (lower is better)",
    "kid": "KID, classifier features (lower is better)",
    "classifier_score": "classifier score, Inception-score formula (higher is better)",
    "classes_covered": "classes covered by >= 10% of a fair share of confident samples",
    "kl_uniform": "KL(predicted classes || uniform) (0 is balanced)",
    "confident_share": "share of samples classified with confidence >= 0.9",
    "swd_mean": "sliced Wasserstein distance x1e3, mean over levels",
    "ms_ssim": "MS-SSIM of sample pairs (lower is more diverse)",
}


@functools.lru_cache(maxsize=4)
def _training_images(dataset):
    from kgan.data import load_arrays

    images, _ = load_arrays(dataset, "train")
    images.flags.writeable = False  # shared by every evaluator of the dataset
    return images


@functools.lru_cache(maxsize=4)
def _shipped_classifier(dataset):
    return ImageClassifier.for_dataset(dataset)


@functools.lru_cache(maxsize=4)
def _reference_features(dataset):
    features, _ = _shipped_classifier(dataset).predict(_training_images(dataset))
    features.flags.writeable = False
    return features


class _ReferenceFeatures(typing.NamedTuple):
    """The shared features of a dataset's training images, computed when an
    evaluation first needs them."""

    dataset: str


def has_classifier(dataset: str) -> bool:
    """Whether a classifier for `dataset` is in `kgan/saved_models/`."""
    return classifier_path(dataset).exists()


class Evaluator:
    """Compares sets of generated images with a dataset's real images.

    The real images, their classifier features and the classifier are
    loaded once, so the evaluator can be called repeatedly during training.

    Args:
        dataset: A dataset name of `kgan.data` with a shipped classifier, or
            `None` with `real` given (then only SWD and MS-SSIM are computed).
        real: Optional uint8 real images; defaults to the dataset's training
            split, whose distribution the generator learns.
        classifier: Optional `ImageClassifier`; defaults to the dataset's one
            when `kgan/saved_models/` has it.
        seed: Seed of the SWD and KID sampling.
    """

    def __init__(self, dataset="mnist", real=None, classifier=None, seed=0):
        # The dataset's own images and classifier: loaded and classified once
        # per process, however many evaluators (one per run) use them.
        shared = real is None and classifier is None
        if real is None:
            if dataset is None:
                raise ValueError(
                    "Pass a dataset name or real images. Received: both None"
                )
            real = _training_images(dataset)
        self.real = check_images(real, "real", min_count=2)
        if classifier is None and dataset is not None and has_classifier(dataset):
            classifier = _shipped_classifier(dataset)
        self.classifier = classifier
        self.seed = seed
        self._real_features = None
        if shared and classifier is not None:
            self._real_features = _ReferenceFeatures(dataset)

    def __call__(self, images) -> dict:
        """All metrics of uint8 `images` (at least 2), as a flat dict."""
        images = check_images(images, "images", min_count=2)
        if images.shape[1:] != self.real.shape[1:]:
            raise ValueError(
                f"Generated images must have the real images' shape "
                f"{self.real.shape[1:]}. Received: images.shape={images.shape}"
            )
        result = {"n": len(images)}
        if self.classifier is not None:
            if self._real_features is None:
                self._real_features, _ = self.classifier.predict(self.real)
            elif isinstance(self._real_features, _ReferenceFeatures):
                self._real_features = _reference_features(self._real_features.dataset)
            features, probabilities = self.classifier.predict(images)
            result["frechet_distance"] = frechet_distance(self._real_features, features)
            kid, _ = kernel_inception_distance(
                self._real_features, features, seed=self.seed
            )
            result["kid"] = kid
            result["classifier_score"] = classifier_score(probabilities)
            result.update(mode_coverage(probabilities))
        real = self.real
        if len(real) > len(images):
            pick = np.random.default_rng(self.seed).choice(
                len(real), len(images), False
            )
            real = real[np.sort(pick)]
        for level, value in swd(real, images, seed=self.seed).items():
            result[f"swd_{level}"] = value
        result["ms_ssim"] = ms_ssim_diversity(images)
        return result

    def evaluate_generator(self, generator, n=10000, seed=0, batch_size=500):
        """Metrics of `n` images from a Keras generator, a `LiteRTGenerator`,
        or a path to a `.keras` or `.tflite` generator file."""
        return self(generate_uint8(generator, n, seed, batch_size))


def generate_uint8(generator, n, seed=0, batch_size=500):
    """`n` uint8 images from a generator model, `LiteRTGenerator` or file."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"`n` must be an integer of at least 2. Received: n={n!r}")
    generator = load_generator(generator)
    from kgan.export import LiteRTGenerator

    if isinstance(generator, LiteRTGenerator):
        return to_uint8(generator.generate(n, seed=seed))
    z = normal_latents(n, generator.input_shape[1:], seed)
    return to_uint8(generator.predict(z, batch_size=batch_size, verbose=0))


def format_table(result: dict) -> str:
    """The metrics as an aligned two-column text table."""
    rows = [("images", str(result["n"]))]
    for key, value in result.items():
        if key == "n":
            continue
        text = f"{value:d}" if isinstance(value, int) else f"{value:.4g}"
        name = DESCRIPTIONS.get(key)
        if name is None and key.startswith("swd_"):
            name = f"sliced Wasserstein distance x1e3, {key[4:]} px level"
        rows.append((name or key, text))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {text}" for name, text in rows)
