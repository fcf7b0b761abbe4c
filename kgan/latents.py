"""Standard normal latent vectors, drawn one way everywhere in kgan."""

import numpy as np


def normal_latents(n, shape, seed=None):
    """Returns `(n, *shape)` float32 samples of N(0, I).

    Args:
        n: Positive number of samples.
        shape: Shape of one sample, e.g. `(latent_dim,)` or `(T, z_dim)`.
        seed: Integer seed of a fresh `numpy.random.default_rng`, so the same
            seed always gives the same latents; `None` draws from NumPy's
            global generator, which `keras.utils.set_random_seed` seeds.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"`n` must be a positive integer. Received: n={n!r}")
    shape = (int(n),) + tuple(int(d) for d in shape)
    if seed is None:
        return np.random.standard_normal(shape).astype(np.float32)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
