"""Training throughput: kgan's DCGAN against the same DCGAN in PyTorch, on CPU.

Both train the 28x28 DCGAN of `kgan train dcgan` (same layers, widths, loss,
Adam settings and batch) on the embedded MNIST, in one process, alternating
rounds so that both see the same machine state. kgan is measured in several
variants to find what makes it fast: XLA on or off, and tf.data's autotuner
on or off (kgan.data.load turns it off). Writes `results/bench_train.json`.

Usage:
    python scripts/bench_train.py [--rounds 3] [--steps 100] [--width 0.5]

PyTorch is optional (`pip install torch==2.13.0`); without it the peer is
skipped with a message.
"""

import argparse
import json
import pathlib
import statistics
import time

import keras
import tensorflow as tf

import kgan
from kgan.machine import machine_info  # noqa: E402
from kgan.models import GAN, dcgan

RESULTS = pathlib.Path(__file__).resolve().parents[1] / "results"


def kgan_runner(width, batch_size, jit_compile, autotune):
    keras.utils.set_random_seed(0)
    generator, discriminator = dcgan(width=width)
    gan = GAN(generator, discriminator, latent_dim=100)
    gan.compile(
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        keras.optimizers.Adam(2e-4, beta_1=0.5),
        jit_compile=jit_compile,
    )
    if autotune:
        # tf.data's usual recipe: parallel map and prefetch sized by the
        # autotuner, which kgan.data.load turns off.
        x, _ = kgan.data.load_arrays("mnist")
        data = (
            tf.data.Dataset.from_tensor_slices(x)
            .shuffle(len(x), seed=0)
            .batch(batch_size, drop_remainder=True)
            .map(
                lambda b: tf.cast(b, tf.float32) / 127.5 - 1.0,
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .prefetch(tf.data.AUTOTUNE)
        )
    else:
        data = kgan.data.load(
            "mnist", batch_size=batch_size, seed=0, drop_remainder=True
        )
    data = data.repeat()

    def run(steps):
        gan.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)

    return run


def torch_runner(width, batch_size):
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch.set_num_threads(tf.config.threading.get_intra_op_parallelism_threads() or 2)
    f1, f2 = int(round(64 * width)), int(round(128 * width))
    lrelu = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    generator = nn.Sequential(
        nn.Linear(100, 7 * 7 * f2, bias=False),
        nn.BatchNorm1d(7 * 7 * f2, momentum=0.1),
        lrelu(),
        nn.Unflatten(1, (f2, 7, 7)),
        nn.ConvTranspose2d(f2, f1, 4, 2, 1, bias=False),
        nn.BatchNorm2d(f1, momentum=0.1),
        lrelu(),
        nn.ConvTranspose2d(f1, 1, 4, 2, 1),
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(1, f1, 4, 2, 1),
        lrelu(),
        nn.Conv2d(f1, f2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(f2, momentum=0.1),
        lrelu(),
        nn.Flatten(),
        nn.Linear(7 * 7 * f2, 1),
    )
    g_opt = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    x, _ = kgan.data.load_arrays("mnist")
    images = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    softplus = nn.functional.softplus

    def step():
        real = images[torch.randint(0, len(images), (batch_size,))]
        fake = generator(torch.randn(batch_size, 100))
        d_loss = (
            softplus(-discriminator(real)).mean()
            + softplus(discriminator(fake.detach())).mean()
        )
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        fake = generator(torch.randn(batch_size, 100))
        g_loss = softplus(-discriminator(fake)).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

    def run(steps):
        for _ in range(steps):
            step()

    return run


def measure(runners, rounds, steps):
    """Alternates the runners round by round; returns median steps/s of each."""
    for run in runners.values():
        run(10)  # warm-up: tracing, XLA compilation, allocator
    rates = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(steps)
            rates[name].append(steps / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}, rates


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--steps", type=int, default=100, help="steps per round")
    parser.add_argument("--width", type=float, default=0.5, help="DCGAN width")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", default=str(RESULTS / "bench_train.json"))
    args = parser.parse_args(argv)

    runners = {
        "kgan_xla": kgan_runner(args.width, args.batch_size, True, autotune=False),
        "kgan_no_xla": kgan_runner(args.width, args.batch_size, False, autotune=False),
        "kgan_xla_tfdata_autotune": kgan_runner(
            args.width, args.batch_size, True, autotune=True
        ),
    }
    try:
        import torch

        runners["pytorch"] = torch_runner(args.width, args.batch_size)
        torch_version = torch.__version__
    except ImportError:
        print("PyTorch is not installed: skipping the peer (pip install torch==2.13.0)")
        torch_version = None

    medians, all_rates = measure(runners, args.rounds, args.steps)
    result = {
        "what": "DCGAN 28x28 training steps/s on the embedded MNIST (one D and "
        "one G update per step), median over alternating rounds",
        "width": args.width,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "machine": machine_info(),
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "torch": torch_version,
        },
        "steps_per_second": {k: round(v, 2) for k, v in medians.items()},
        "all_rounds": {k: [round(x, 2) for x in v] for k, v in all_rates.items()},
        "ratios": {
            "xla_over_no_xla": round(medians["kgan_xla"] / medians["kgan_no_xla"], 3),
            "autotune_off_over_on": round(
                medians["kgan_xla"] / medians["kgan_xla_tfdata_autotune"], 3
            ),
        },
    }
    if "pytorch" in medians:
        result["ratios"]["kgan_over_pytorch"] = round(
            medians["kgan_xla"] / medians["pytorch"], 3
        )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["steps_per_second"], indent=2))
    print(json.dumps(result["ratios"], indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
