"""Latency of generators at batch 1, measured side by side in one process."""

import pathlib
import statistics
import tempfile
import time

import numpy as np

from kgan.export.converter import to_litert
from kgan.export.inspect import model_macs
from kgan.export.runtime import LiteRTGenerator


def keras_runner(generator):
    """One batch-1 inference through a traced `tf.function` (no Keras overhead)."""
    import tensorflow as tf

    latent = np.zeros((1,) + tuple(generator.input_shape[1:]), np.float32)
    call = tf.function(lambda z: generator(z, training=False))
    call(latent)  # trace once
    return lambda: call(latent).numpy()


def litert_runner(path, num_threads=1):
    """One batch-1 inference through the LiteRT interpreter."""
    return runner(LiteRTGenerator(path, num_threads=num_threads))


def runner(generator):
    """One batch-1 inference of a Keras generator or a `LiteRTGenerator`
    (as `kgan.saving.load_generator` returns them)."""
    if isinstance(generator, LiteRTGenerator):
        latent = np.zeros(generator.latent_shape, np.float32)
        return lambda: generator.run_one(latent)
    return keras_runner(generator)


def generator_macs(generator):
    """MACs of one inference of a Keras generator or a `LiteRTGenerator`;
    a Keras model is counted on its float32 TFLite conversion."""
    if isinstance(generator, LiteRTGenerator):
        return model_macs(generator.path)
    with tempfile.TemporaryDirectory() as directory:
        return model_macs(to_litert(generator, pathlib.Path(directory) / "g.tflite"))


def measure_latency(runners, warmup=5, runs=50):
    """Times each runner `runs` times, alternating them run by run.

    Args:
        runners: Mapping of names to zero-argument callables (one inference).
        warmup: Untimed calls of each runner first (at least 5).
        runs: Timed calls of each runner (at least 50).

    Returns:
        `{name: {"median_ms", "p90_ms", "runs"}}`.
    """
    if warmup < 5 or runs < 50:
        raise ValueError(
            "Latency needs at least 5 warm-up and 50 timed runs. "
            f"Received: warmup={warmup}, runs={runs}"
        )
    for run in runners.values():
        for _ in range(warmup):
            run()
    times = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {
        name: {
            "median_ms": statistics.median(values),
            "p90_ms": float(np.percentile(values, 90)),
            "runs": runs,
        }
        for name, values in times.items()
    }
