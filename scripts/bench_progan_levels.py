"""Times one Progressive GAN training step at each level, same batch size.

    python scripts/bench_progan_levels.py   # writes results/pggan_level_cost.json

A level's networks hold only the layers up to its resolution and its data is
pooled before the step, so a step at 8x8 should cost a fraction of a step at
32x32. Levels are timed in alternating rounds (median of the rounds), stable
and fading, with the networks `kgan train progan` uses for MNIST at 32x32.
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.models.progressive_gan import ProgressiveGAN  # noqa: E402
from kgan.models.progressive_schedule import Phase  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fmap-base", type=int, default=1024)
    parser.add_argument("--fmap-max", type=int, default=128)
    parser.add_argument("--out", default="results/pggan_level_cost.json")
    args = parser.parse_args(argv)

    gan = ProgressiveGAN(
        resolution=32, channels=1, fmap_base=args.fmap_base, fmap_max=args.fmap_max
    )
    gan.compile(jit_compile=True)
    rng = np.random.default_rng(0)
    phases = [Phase(r, False, 0, float("inf")) for r in gan.networks.levels]
    phases += [Phase(r, True, 0, 1e9) for r in gan.networks.levels[1:]]
    datasets, functions = {}, {}
    for phase in phases:
        size = phase.resolution
        images = rng.uniform(-1, 1, (args.batch_size, size, size, 1)).astype("float32")
        datasets[phase] = tf.data.Dataset.from_tensors(images).repeat()
        gan.set_phase(phase)
        gan.fit(datasets[phase], steps_per_epoch=3, epochs=1, verbose=0)  # trace
        functions[phase] = gan.train_function
    seconds = {phase: [] for phase in phases}
    for _ in range(args.rounds):
        for phase in phases:
            gan.set_phase(phase)
            gan.train_function = functions[phase]
            start = time.perf_counter()
            gan.fit(datasets[phase], steps_per_epoch=args.steps, epochs=1, verbose=0)
            seconds[phase].append((time.perf_counter() - start) / args.steps)

    def key(phase):
        return f"{phase.resolution}{'_fade' if phase.fading else ''}"

    ms = {key(p): 1e3 * float(np.median(v)) for p, v in seconds.items()}
    report = {
        "machine": f"{platform.machine()} CPU, {len(os.sched_getaffinity(0))} cores",
        "batch_size": args.batch_size,
        "fmap_base": args.fmap_base,
        "fmap_max": args.fmap_max,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "ms_per_step": ms,
        "rounds_ms": {key(p): [1e3 * s for s in v] for p, v in seconds.items()},
        "ratio_32_over_8": ms["32"] / ms["8"],
        "ratio_32_over_8_fading": ms["32_fade"] / ms["8_fade"],
    }
    with atomic_path(args.out) as partial:
        partial.write_text(json.dumps(report, indent=2) + "\n")
    for name, value in ms.items():
        print(f"{name:>8}: {value:7.1f} ms/step")
    print(
        f"32x32 / 8x8: {report['ratio_32_over_8']:.1f}x stable, "
        f"{report['ratio_32_over_8_fading']:.1f}x fading"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
