"""kgan: generative adversarial networks for Keras 3."""

__version__ = "0.1.0"

from kgan import callbacks, compress, data, layers, losses, metrics, models  # noqa: E402

__all__ = [
    "__version__",
    "callbacks",
    "compress",
    "data",
    "layers",
    "losses",
    "metrics",
    "models",
]
