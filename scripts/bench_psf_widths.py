"""What a PSF-paper run costs at each DCGAN width on this machine.

    python scripts/bench_psf_widths.py   # writes results/psf_width_cost.json

Times training steps of the DCGAN that `scripts/reproduce_psf.py` trains
(28 px, PSF in most layers, N(0, 0.02) kernels, batch 64, Radford's
generator without refine layers) at each width, in alternating rounds
(median), and projects the hours of the paper's 20,000 iterations. Width 8
has Radford's filter counts (7x7x1024, 14x14x512).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.models import GAN, dcgan  # noqa: E402

PAPER_STEPS = 20000


def trainer(width, batch_size):
    """A compiled GAN and a dataset of one repeated random batch."""
    keras.utils.set_random_seed(0)
    generator, discriminator = dcgan(
        width=width, activation="psf", initializer="dcgan", psf_layers="most"
    )
    gan = GAN(generator, discriminator, latent_dim=100)
    gan.compile(
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        jit_compile=True,
    )
    images = np.random.default_rng(0).uniform(-1, 1, (batch_size, 28, 28, 1))
    data = tf.data.Dataset.from_tensors(images.astype("float32")).repeat()
    gan.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace and compile
    return gan, data, generator.count_params()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", nargs="+", type=float, default=[0.5, 1, 2, 4, 8])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default="results/psf_width_cost.json")
    args = parser.parse_args(argv)

    runners = {w: trainer(w, args.batch_size) for w in args.widths}
    seconds = {w: [] for w in args.widths}
    for _ in range(args.rounds):
        for width, (gan, data, _) in runners.items():
            start = time.perf_counter()
            gan.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
            seconds[width].append((time.perf_counter() - start) / args.steps)
    rows = {}
    for width, (_, _, params) in runners.items():
        step = statistics.median(seconds[width])
        rows[str(width)] = {
            "generator_params": params,
            "ms_per_step": 1e3 * step,
            "rounds_ms": [1e3 * s for s in seconds[width]],
            "hours_for_20000_iterations": step * PAPER_STEPS / 3600,
        }
        hours = step * PAPER_STEPS / 3600
        print(f"width {width:>4}: {1e3 * step:8.1f} ms/step, {hours:6.1f} h per run")
    report = {
        "machine": f"{platform.machine()} CPU, {len(os.sched_getaffinity(0))} cores",
        "batch_size": args.batch_size,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "widths": rows,
    }
    with atomic_path(args.out) as partial:
        partial.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
