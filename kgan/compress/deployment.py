"""What each round of a slimming buys on a CPU: size, MACs, LiteRT latency
beside the original's, and quality."""

import pathlib

import numpy as np

from kgan.export.bench import measure_latency
from kgan.export.compiled import CompiledGenerator
from kgan.export.converter import to_litert
from kgan.export.inspect import model_macs
from kgan.machine import machine_info


def _runner(compiled, seed=0):
    x = np.random.default_rng(seed).normal(size=compiled.input_shape)
    x = x.astype(np.float32)
    return lambda: compiled.run_one(x)


def deployment_table(
    original, rounds, out_dir, quality=None, num_threads=1, warmup=5, runs=50
):
    """Exports each generator to float32 `.tflite` and measures it.

    Every row's latency is timed alternating run by run with the
    original's, in this process, on LiteRT's `CompiledModel` with XNNPACK
    (see `CompiledGenerator`) and `num_threads` threads: the ratio of the
    medians, `speedup`, compares two models timed under the same
    conditions.

    Args:
        original: The generator before slimming (row `round` 0).
        rounds: `[(round, generator)]`.
        out_dir: Folder for `round_<k>.tflite` (`round_0.tflite`: the
            original).
        quality: Optional `fn(generator) -> dict` added to each row.
        num_threads: LiteRT's CPU threads.
        warmup, runs: Untimed and timed runs of each model (>= 5, >= 50).

    Returns:
        `{"runtime", "machine", "rows"}`: what ran (runtime and version,
        API, kernels, threads, input shape), the machine (CPU model, vector
        extensions, usable cores), and one row per generator: `round`,
        `parameters`, `macs`, `tflite_bytes`, `latency_median_ms`,
        `latency_p90_ms`, `original_median_ms`, `original_p90_ms`,
        `speedup`, `fully_accelerated` and the quality.
    """
    out_dir = pathlib.Path(out_dir)
    original_path = to_litert(original, out_dir / "round_0.tflite")
    reference = CompiledGenerator(original_path, num_threads)
    run_reference = _runner(reference)
    rows = []
    for index, generator in [(0, original), *rounds]:
        path = original_path
        if index:
            path = to_litert(generator, out_dir / f"round_{index}.tflite")
        compiled = CompiledGenerator(path, num_threads)
        times = measure_latency(
            {"original": run_reference, "round": _runner(compiled)}, warmup, runs
        )
        row = {
            "round": index,
            "parameters": generator.count_params(),
            "macs": model_macs(path),
            "tflite_bytes": path.stat().st_size,
            "latency_median_ms": times["round"]["median_ms"],
            "latency_p90_ms": times["round"]["p90_ms"],
            "original_median_ms": times["original"]["median_ms"],
            "original_p90_ms": times["original"]["p90_ms"],
            "speedup": times["original"]["median_ms"] / times["round"]["median_ms"],
            "fully_accelerated": compiled.fully_accelerated,
        }
        if quality is not None:
            row.update(quality(generator))
        rows.append(row)
    runtime = reference.runtime()
    del runtime["fully_accelerated"]  # per row
    runtime.update(warmup=warmup, runs=runs)
    return {"runtime": runtime, "machine": machine_info(), "rows": rows}


def export_int8(generator, path, representative_data=None, inputs=None):
    """Exports `generator` to full-integer int8 and checks it on XNNPACK.

    Returns `{"path", "tflite_bytes", "fully_accelerated", "mean_abs_diff",
    "mean_abs_output"}`: whether XNNPACK (its qs8 kernels) runs every op,
    and the mean difference from the Keras model on `inputs` (or 8
    standard normal inputs) beside the mean output size.
    """
    path = to_litert(
        generator, path, quantize="int8", representative_data=representative_data
    )
    compiled = CompiledGenerator(path)
    if inputs is None:
        shape = (8, *compiled.input_shape)
        inputs = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    expected = np.asarray(generator(inputs, training=False))
    outputs = np.stack([compiled.run_one(x) for x in inputs])
    return {
        "path": str(path),
        "tflite_bytes": pathlib.Path(path).stat().st_size,
        "fully_accelerated": compiled.fully_accelerated,
        "mean_abs_diff": float(np.abs(outputs - expected).mean()),
        "mean_abs_output": float(np.abs(expected).mean()),
    }
