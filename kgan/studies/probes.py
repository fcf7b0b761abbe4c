"""Probes a study runs on each finished trainer: measurements of a model
beyond its final metrics (`Study(probes=...)`). Each is a function
`probe(trainer, config) -> dict`; an `"images"` entry is saved as PNGs."""

import numpy as np

from kgan.images import attention_steps_grid, make_grid, to_uint8
from kgan.models import DRAWGAN

# The DRAW-GAN paper's z_t conditions: one step's z with a huge spread.
LARGE_STD = 10000.0
LARGE_STD_STEPS = (1, 3, 6)  # 1-based, as in the paper
PROBE_N = 1000  # images per probe and z_t condition


def sharpness(images):
    """Mean absolute difference of neighbouring pixels, images in [-1, 1]
    mapped to [0, 1]: blurred digits score lower than crisp ones."""
    x = (np.asarray(images, np.float64) + 1.0) / 2.0
    dx = np.abs(np.diff(x, axis=2)).mean()
    dy = np.abs(np.diff(x, axis=1)).mean()
    return float(dx + dy)


def sample_sharpness(trainer, config):
    """The sharpness of `eval_n` samples (seed: the run's)."""
    return {"sharpness": sharpness(trainer.generate(config.eval_n, seed=config.seed))}


def draw_steps(trainer, config):
    """For a DRAW-GAN (others: nothing): the canvas after each write with its
    box; each z_t's influence (mean |pixel change| in [0, 1] units when z_t
    alone is drawn again); per step the share of writes centred on the
    canvas and the median write intensity gamma."""
    if not isinstance(trainer, DRAWGAN):
        return {}
    rng = np.random.default_rng(config.seed)
    shape = (PROBE_N, trainer.steps, trainer.latent_dim)
    z = rng.standard_normal(shape).astype("float32")
    base = trainer.generate(PROBE_N, z=z)
    influence = []
    for t in range(trainer.steps):
        changed = z.copy()
        changed[:, t] = rng.standard_normal((PROBE_N, trainer.latent_dim))
        change = np.abs(trainer.generate(PROBE_N, z=changed) - base).mean() / 2
        influence.append(float(change))
    _, _, attention = trainer.generate(PROBE_N, seed=config.seed, return_steps=True)
    height, width = trainer.sampler.output_shape[1:3]
    centre_x, centre_y, gamma = attention[..., 0], attention[..., 1], attention[..., 4]
    on_canvas = (centre_x >= 1) & (centre_x <= width) & (centre_y >= 1)
    on_canvas &= centre_y <= height
    _, canvases, boxes = trainer.generate(10, seed=config.seed, return_steps=True)
    return {
        "step_influence": influence,
        "on_canvas_share": on_canvas.mean(axis=0).tolist(),
        "gamma_median": np.median(gamma, axis=0).tolist(),
        "images": {"steps": attention_steps_grid(canvases, boxes, config.attention_n)},
    }


def z_conditions(rng, n, steps, latent_dim):
    """The paper's z_t conditions: name -> latents `(n, T, z)`."""
    shape = (n, steps, latent_dim)
    normal = rng.standard_normal(shape).astype("float32")
    conditions = {"all N(0,1)": normal, "all zero": np.zeros(shape, "float32")}
    for t in range(steps):
        z = np.zeros(shape, "float32")
        z[:, t] = normal[:, t]
        conditions[f"only z_{t + 1} random"] = z
    for t in LARGE_STD_STEPS:
        z = normal.copy()
        z[:, t - 1] *= LARGE_STD
        conditions[f"std {LARGE_STD:g} at z_{t}"] = z
    return conditions


def draw_z_conditions(trainer, config):
    """For a DRAW-GAN (others: nothing): the mode coverage and sharpness of
    the images under each of the paper's z_t conditions, and a figure with
    the same 10 columns of z under each (rows in the conditions' order)."""
    if not isinstance(trainer, DRAWGAN):
        return {}
    from kgan.metrics import ImageClassifier, mode_coverage

    classifier = ImageClassifier.for_dataset(config.dataset)
    conditions = z_conditions(
        np.random.default_rng(config.seed), PROBE_N, trainer.steps, trainer.latent_dim
    )
    results, rows = {}, []
    for name, z in conditions.items():
        generated = trainer.generate(PROBE_N, z=z)
        rows.append(make_grid(generated[:10], columns=10))
        if name == "all zero":  # one image n times: metrics say nothing
            continue
        _, probabilities = classifier.predict(to_uint8(generated))
        results[name] = mode_coverage(probabilities)
        results[name]["sharpness"] = sharpness(generated)
    figure = np.concatenate(rows, axis=0)
    return {"conditions": results, "order": list(conditions), "images": {"z": figure}}
