"""kgan: generative adversarial networks for Keras 3."""

__version__ = "0.1.0"

from kgan import (  # noqa: E402
    compress,
    data,
    layers,
    losses,
    metrics,
    models,
    recipes,
    runs,
    saving,
)
from kgan.runs import callbacks  # noqa: E402  (the callbacks `fit` users pass)

__all__ = [
    "__version__",
    "callbacks",
    "compress",
    "data",
    "layers",
    "losses",
    "metrics",
    "models",
    "recipes",
    "runs",
    "saving",
]
