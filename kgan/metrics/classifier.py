"""Metrics from a small dataset classifier: Frechet distance, KID, classifier
score and mode coverage.

No Inception network can be downloaded offline, so kgan ships a small CNN per
dataset in `kgan/saved_models/` (trained by `scripts/train_classifier.py`) and
computes the Inception-based formulas on its penultimate features and its
class probabilities instead. Values are comparable between kgan runs on the
same dataset, not with published FID/IS numbers.
"""

import importlib.resources
import os
import pathlib

import keras
import numpy as np

from kgan.metrics.checks import check_images

FEATURES_LAYER = "features"


def saved_models_dir() -> pathlib.Path:
    """`$KGAN_SAVED_MODELS`, or the `kgan/saved_models/` package data installed
    with kgan."""
    if "KGAN_SAVED_MODELS" in os.environ:
        return pathlib.Path(os.environ["KGAN_SAVED_MODELS"])
    return pathlib.Path(str(importlib.resources.files("kgan") / "saved_models"))


# Datasets that share another dataset's classifier (the same classes and images).
CLASSIFIER_OF = {"mnist_full": "mnist"}


def classifier_path(dataset: str) -> pathlib.Path:
    name = CLASSIFIER_OF.get(dataset, dataset)
    return saved_models_dir() / f"{name}_classifier.keras"


def build_classifier(image_shape=(28, 28, 1), num_classes=10, feature_dim=128):
    """A small CNN for 28-32 px images: two conv-BN-ReLU-pool blocks (32 and
    64 filters), a `features` layer
    (the embedding used by the Frechet distance and KID) and class logits.

    Inputs are images in [-1, 1], the range of kgan's data and generators.
    """
    inputs = keras.Input(image_shape)
    x = inputs
    for filters in (32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(feature_dim, activation="relu", name=FEATURES_LAYER)(x)
    x = keras.layers.Dropout(0.4)(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="classifier")


class ImageClassifier:
    """A trained classifier seen as a feature extractor and class predictor.

    Args:
        model: A Keras model from `build_classifier` (or any model with a
            layer named `features` and logits as output).

    Example:
        ```python
        classifier = ImageClassifier.for_dataset("mnist")
        features, probabilities = classifier.predict(uint8_images)
        ```
    """

    def __init__(self, model):
        try:
            features = model.get_layer(FEATURES_LAYER).output
        except ValueError as error:
            raise ValueError(
                f"The classifier needs a layer named {FEATURES_LAYER!r}. "
                f"Received: layers={[layer.name for layer in model.layers]}"
            ) from error
        self.model = model
        self.image_shape = tuple(model.input_shape[1:])
        self._both = keras.Model(model.input, [features, model.output])

    @classmethod
    def for_dataset(cls, dataset: str) -> "ImageClassifier":
        """Loads the classifier shipped for `dataset` in `kgan/saved_models/`."""
        path = classifier_path(dataset)
        if not path.exists():
            raise FileNotFoundError(
                f"No classifier for {dataset}. Train one with `python "
                f"scripts/train_classifier.py {dataset}` (or set "
                f"KGAN_SAVED_MODELS). Received: path={path}"
            )
        return cls(keras.saving.load_model(path))

    def predict(self, images, batch_size=500):
        """Returns `(features, probabilities)` of uint8 images."""
        images = check_images(images)
        if images.shape[1:] != self.image_shape:
            raise ValueError(
                f"The classifier takes images of shape {self.image_shape}. "
                f"Received: images.shape={images.shape}"
            )
        features, probabilities = [], []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].astype(np.float32)
            f, logits = self._both.predict_on_batch(batch / 127.5 - 1.0)
            features.append(np.asarray(f, dtype=np.float64))
            probabilities.append(_softmax(np.asarray(logits, dtype=np.float64)))
        return np.concatenate(features), np.concatenate(probabilities)


def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _check_features(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if (
        a.ndim != 2
        or b.ndim != 2
        or a.shape[1] != b.shape[1]
        or min(len(a), len(b)) < 2
    ):
        raise ValueError(
            "Features must be two 2-D arrays (n >= 2, dim) of the same dim. "
            f"Received: shapes {a.shape} and {b.shape}"
        )
    return a, b


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two feature sets.

    `|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`; the trace of the
    root is computed as that of `(S_a^(1/2) S_b S_a^(1/2))^(1/2)`, which is
    symmetric, so no complex matrix square root is needed.
    """
    a, b = _check_features(features_a, features_b)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(cross, 0.0, None)))
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
    return float(max(distance - 2.0 * trace_root, 0.0))


def kernel_inception_distance(
    features_a, features_b, subsets=100, subset_size=1000, seed=0
):
    """KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial
    kernel `(x.y / dim + 1)^3`, averaged over random subsets.

    Returns:
        `(mean, std)` over the subsets.
    """
    a, b = _check_features(features_a, features_b)
    size = min(subset_size, len(a), len(b))
    dim = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        k_xx = (x @ x.T / dim + 1.0) ** 3
        k_yy = (y @ y.T / dim + 1.0) ** 3
        k_xy = (x @ y.T / dim + 1.0) ** 3
        off_diagonal = size * (size - 1)
        values.append(
            (k_xx.sum() - np.trace(k_xx)) / off_diagonal
            + (k_yy.sum() - np.trace(k_yy)) / off_diagonal
            - 2.0 * k_xy.mean()
        )
    return float(np.mean(values)), float(np.std(values))


def _check_probabilities(probabilities):
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(
            "`probabilities` must be a 2-D array (n, classes) whose rows sum "
            f"to 1. Received: shape={p.shape}"
        )
    return p


def classifier_score(probabilities):
    """The Inception-score formula `exp(E_x KL(p(y|x) || p(y)))` on the
    classifier's probabilities: from 1 (no class information) to the number
    of classes (confident and balanced)."""
    p = _check_probabilities(probabilities)
    marginal = p.mean(axis=0)
    kl = np.sum(p * (np.log(p + 1e-12) - np.log(marginal + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def mode_coverage(probabilities, confidence=0.9, min_share=0.1):
    """How well the classes of the data are covered by a set of samples.

    Args:
        probabilities: `(n, classes)` class probabilities of the samples.
        confidence: A sample is confident when its top probability is at
            least this.
        min_share: A class is covered when at least this share of its fair
            count (`n / classes`) of confident samples falls in it, so a few
            stray samples do not count as a mode.

    Returns:
        A dict with `classes_covered`, `kl_uniform` (KL divergence of the
        predicted-class histogram from the uniform distribution; 0 when
        balanced, `log(classes)` when all samples fall in one class) and
        `confident_share`.
    """
    p = _check_probabilities(probabilities)
    n, classes = p.shape
    predicted = p.argmax(axis=1)
    confident = p.max(axis=1) >= confidence
    confident_counts = np.bincount(predicted[confident], minlength=classes)
    histogram = np.bincount(predicted, minlength=classes) / n
    nonzero = histogram > 0
    kl = np.sum(histogram[nonzero] * np.log(histogram[nonzero] * classes))
    return {
        "classes_covered": int(np.sum(confident_counts >= min_share * n / classes)),
        "kl_uniform": float(kl),
        "confident_share": float(confident.mean()),
    }
