"""Inference latency at batch 1: LiteRT against Keras, for every kgan generator.

For each generator (Goodfellow's MLP, DCGAN with LReLU, DCGAN with PSF, at
the quick-start sizes) the float32 `.tflite` export runs in the LiteRT
interpreter with one thread, alternated run by run with Keras's
`predict_on_batch` and with a direct `tf.function` call of the same model,
in one process. TensorFlow is limited to one thread too, so that the
comparison is thread for thread. Writes `results/bench_export.json`.

Usage:
    python scripts/bench_export.py [--warmup 10] [--runs 200]
"""

import argparse
import json
import pathlib
import tempfile

import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kgan import export  # noqa: E402
from kgan.export.bench import keras_runner, litert_runner, measure_latency  # noqa: E402
from kgan.machine import machine_info  # noqa: E402
from kgan.models import dcgan, vanilla  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "results"
GENERATORS = {
    "mlp_gan": lambda: vanilla()[0],
    "dcgan_lrelu_w0.5": lambda: dcgan(width=0.5)[0],
    "dcgan_psf_w0.5": lambda: dcgan(width=0.5, activation="psf")[0],
}


def predict_runner(generator):
    latent = np.zeros((1,) + tuple(generator.input_shape[1:]), np.float32)
    generator.predict_on_batch(latent)
    return lambda: generator.predict_on_batch(latent)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--out", default=str(RESULTS / "bench_export.json"))
    args = parser.parse_args(argv)

    rows = {}
    with tempfile.TemporaryDirectory() as directory:
        for name, build in GENERATORS.items():
            keras.utils.set_random_seed(0)
            generator = build()
            path = export.to_litert(
                generator, pathlib.Path(directory) / f"{name}.tflite"
            )
            timing = measure_latency(
                {
                    "litert_1_thread": litert_runner(path, num_threads=1),
                    "keras_predict_on_batch": predict_runner(generator),
                    "tf_function": keras_runner(generator),
                },
                warmup=args.warmup,
                runs=args.runs,
            )
            lite = timing["litert_1_thread"]["median_ms"]
            rows[name] = {
                "parameters": generator.count_params(),
                "macs": export.model_macs(path),
                "tflite_kib": round(path.stat().st_size / 1024, 1),
                "max_abs_diff_vs_keras": export.verify(path, generator),
                "latency_ms": {
                    k: {m: round(v, 4) for m, v in t.items() if m != "runs"}
                    for k, t in timing.items()
                },
                "speedup_of_litert_over": {
                    "keras_predict_on_batch": round(
                        timing["keras_predict_on_batch"]["median_ms"] / lite, 2
                    ),
                    "tf_function": round(timing["tf_function"]["median_ms"] / lite, 2),
                },
            }
            print(name, json.dumps(rows[name]["latency_ms"]))
            print("  speed-up of LiteRT:", rows[name]["speedup_of_litert_over"])

    result = {
        "what": "per-image latency at batch 1, median and p90 over alternating runs; "
        "TensorFlow and LiteRT each limited to one thread",
        "warmup": args.warmup,
        "runs": args.runs,
        "machine": machine_info(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "generators": rows,
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
