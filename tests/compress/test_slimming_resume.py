"""A slimming killed with SIGKILL mid-round resumes to the same state."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np

import kgan.layers  # noqa: F401 (registers the layers the saved rounds use)

SCRIPT = """
import sys

import keras
import tensorflow as tf

from kgan.compress import SlimmingConfig, slim
from kgan.data.road_scenes import one_hot, road_scenes
from kgan.models.pix2pix_networks import patch_discriminator, resnet_generator

keras.utils.set_random_seed(0)
generator = resnet_generator(16, condition_channels=7, filters=4, blocks=2)
discriminator = patch_discriminator(16, filters=4, downsamplings=2)
labels, images = road_scenes(16, 16, seed=0)
pairs = (one_hot(labels), images.astype("float32") / 127.5 - 1.0)
data = tf.data.Dataset.from_tensor_slices(pairs).batch(8).repeat()
config = SlimmingConfig(
    target_ratio=0.75, max_prune_fraction=0.1, threshold=1e9, min_filters=2,
    sparsity_steps=4, retrain_steps=4, recalibration_batches=2,
    channel_multiple=1, checkpoint_every=2,
)
slim(generator, discriminator, data, config, sys.argv[1])
"""


def _start(out):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(process):
    output = process.communicate(timeout=300)[0].decode()
    assert process.returncode == 0, output
    return output


def test_sigkill_mid_round_then_resume_gives_the_same_rounds(tmp_path):
    whole = _start(tmp_path / "whole")
    out = tmp_path / "killed"
    process = _start(out)
    state = out / "checkpoint" / "state.json"
    deadline = time.time() + 240

    def mid_round_two():
        if not state.exists():
            return False
        counters = json.loads(state.read_text())
        return counters["round"] == 2 and counters["phase_step"] >= 2

    while not mid_round_two():
        assert process.poll() is None, process.stdout.read().decode()
        assert time.time() < deadline, "the slimming did not reach round 2"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = json.loads(state.read_text())
    assert 2 <= killed["phase_step"] < killed["phase_steps"]  # inside a phase

    output = _finish(_start(out))
    assert f"resuming round 2 at its {killed['phase']} phase" in output
    _finish(whole)
    expected = json.loads((tmp_path / "whole" / "slimming.json").read_text())
    resumed = json.loads((out / "slimming.json").read_text())
    assert len(resumed["records"]) == len(expected["records"]) >= 2
    for a, b in zip(expected["records"], resumed["records"], strict=True):
        assert (a["round"], a["parameters"], a["filters"]) == (
            b["round"],
            b["parameters"],
            b["filters"],
        )
        for phase in ("sparsity", "retrain"):
            assert a[phase].keys() == b[phase].keys()
            for key in a[phase]:
                np.testing.assert_allclose(b[phase][key], a[phase][key], rtol=1e-5)
    last = expected["records"][-1]["round"]
    before = keras.saving.load_model(tmp_path / "whole" / f"round_{last}.keras")
    after = keras.saving.load_model(out / f"round_{last}.keras")
    for x, y in zip(before.weights, after.weights, strict=True):
        np.testing.assert_allclose(y.numpy(), x.numpy(), rtol=1e-5, atol=1e-6)
