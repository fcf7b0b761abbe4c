"""Times kgan's metrics on 10,000 images and writes results/metrics_speed.json.

    python scripts/bench_metrics.py

SWD compares two sets of 10,000 32x32 images (1 and 3 channels: the Laplacian
pyramid has the 32 and 16 px levels, 128 neighbourhoods per image and level,
4 x 128 directions); MS-SSIM scores the 5,000 consecutive pairs of 10,000
images.
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kgan.files import atomic_path  # noqa: E402
from kgan.machine import machine_info  # noqa: E402
from kgan.metrics import ms_ssim_diversity, swd  # noqa: E402


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def main(out="results/metrics_speed.json"):
    rng = np.random.default_rng(0)
    report = {
        "machine": machine_info(),
        "numpy": np.__version__,
    }
    for channels in (1, 3):
        shape = (10000, 32, 32, channels)
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        b = rng.integers(0, 256, shape, dtype=np.uint8)
        result, seconds = timed(swd, a, b)
        report[f"swd_10000x32x32x{channels}_seconds"] = round(seconds, 2)
        print(f"SWD, two sets of {shape}: {seconds:.1f} s ({result['mean']:.3f})")
        _, seconds = timed(ms_ssim_diversity, a)
        report[f"ms_ssim_10000x32x32x{channels}_seconds"] = round(seconds, 2)
        print(f"MS-SSIM diversity of {shape}: {seconds:.1f} s")
    with atomic_path(out) as partial:
        partial.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
