"""`kgan compress` on a user's generator: slim it, export each round, time
it beside the original, and write the final float32 and int8 `.tflite`."""

import json
import pathlib
import shutil

import numpy as np
import tensorflow as tf

from kgan.compress.deployment import deployment_table, export_int8
from kgan.compress.slimming import slim
from kgan.files import atomic_path
from kgan.images import to_uint8
from kgan.metrics.swd import swd

TABLE_FILE = "rounds.json"


def load_npz(path):
    """`(images, conditions or None)` from a `.npz` file holding `images`
    (`(N, H, W, C)`, uint8 or floats in [-1, 1]) and, for a conditional
    generator, `conditions`."""
    path = pathlib.Path(path)
    if path.suffix != ".npz" or not path.is_file():
        raise FileNotFoundError(
            "The data must be a .npz file with `images` (and `conditions` for a "
            f"conditional generator). Received: path={path}"
        )
    with np.load(path) as arrays:
        if "images" not in arrays:
            raise ValueError(
                f"The .npz file holds no `images`. Received: keys={sorted(arrays)}"
            )
        images = arrays["images"]
        conditions = arrays["conditions"] if "conditions" in arrays else None
    if images.ndim != 4:
        raise ValueError(
            "`images` must have shape (N, H, W, C). "
            f"Received: images.shape={images.shape}"
        )
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 127.5 - 1.0
    return images.astype(np.float32), conditions


def training_batches(images, conditions=None, batch_size=32, seed=0):
    """A shuffled, endless dataset of image batches, or of `(conditions,
    images)` pairs, the same stream each time it is iterated (so that a
    resumed slimming sees the batches an uninterrupted one would)."""
    arrays = images if conditions is None else (conditions.astype(np.float32), images)
    return (
        tf.data.Dataset.from_tensor_slices(arrays)
        .repeat()
        .shuffle(min(len(images), 10_000), seed=seed, reshuffle_each_iteration=False)
        .batch(batch_size, drop_remainder=True)
    )


def swd_quality(images, inputs):
    """`fn(generator) -> {"swd": ...}`: the sliced Wasserstein distance
    (x 1e3, mean over the pyramid) between `images` and the generator's
    outputs for `inputs` (latents or conditions)."""
    real = to_uint8(images)

    def quality(generator):
        fake = np.asarray(generator.predict(inputs, batch_size=64, verbose=0))
        return {"swd": float(swd(real, to_uint8(fake))["mean"])}

    return quality


def compress_generator(
    generator,
    discriminator,
    images,
    out,
    config=None,
    conditions=None,
    batch_size=32,
    evaluation_n=256,
    latency_runs=50,
    verbose=1,
    change_settings=False,
):
    """Slims a user's generator and writes what deploying it needs.

    `out` gets each round's `round_<k>.keras` (and what resuming needs, see
    `slim`), `round_<k>.tflite`, `generator.tflite` (the last round,
    float32), `generator_int8.tflite` (full-integer, calibrated on the
    generator's inputs), and `rounds.json`: per round the parameters,
    MACs, `.tflite` size, 1-thread LiteRT latency (median and p90, timed
    alternating with the original), the SWD to the training images, with
    the runtime and the machine that measured them.

    Args:
        generator, discriminator: The trained Keras networks.
        images: Training images `(N, H, W, C)` in [-1, 1].
        out: The output folder.
        config: A `SlimmingConfig`.
        conditions: The generator's inputs paired with `images`, for a
            conditional generator.
        batch_size: Training batch size.
        evaluation_n: Images the SWD compares (at most `len(images)`).
        latency_runs: Timed runs per model and row (>= 50).
        verbose: Progress bars (0: none).
        change_settings: As for `slim`.

    Returns:
        The table written to `rounds.json`.
    """
    out = pathlib.Path(out)
    data = training_batches(images, conditions, batch_size)
    n = min(evaluation_n, len(images))
    if conditions is None:
        latent_dim = generator.input_shape[-1]
        inputs = np.random.default_rng(1).normal(size=(n, latent_dim))
        inputs = inputs.astype(np.float32)
        calibration = None
    else:
        inputs = conditions[:n].astype(np.float32)
        calibration = [[x[None]] for x in inputs[:100]]
    records = slim(
        generator,
        discriminator,
        data,
        config,
        out,
        verbose=verbose,
        change_settings=change_settings,
    )
    rounds = [(r["round"], r["generator"]) for r in records]
    table = deployment_table(
        generator,
        rounds,
        out,
        quality=swd_quality(images[:n], inputs),
        runs=latency_runs,
    )
    final = rounds[-1][1]
    with atomic_path(out / "generator.tflite") as partial:
        shutil.copyfile(out / f"round_{rounds[-1][0]}.tflite", partial)
    table["int8"] = export_int8(
        final, out / "generator_int8.tflite", calibration, inputs[:8]
    )
    with atomic_path(out / TABLE_FILE) as partial:
        partial.write_text(json.dumps(table, indent=2, default=float) + "\n")
    return table
