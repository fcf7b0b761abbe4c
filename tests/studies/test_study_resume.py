"""A study run killed with SIGKILL and started again ends in the record an
uninterrupted study writes: the same per-step losses and coverage probes."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

STUDY = """
from kgan.studies import Study
STUDY = Study(
    name="kill", recipe="dcgan", variants={"a": {}}, seeds=(0,),
    base=dict(steps=14, batch_size=8, latent_dim=8, width=0.125, eval_n=32,
              sample_every=7, checkpoint_every=2, jit_compile=False),
    history_every=7, history_n=32, record=("confident_share",),
)
"""


def study_run(root):
    (root / "studies").mkdir(parents=True, exist_ok=True)
    (root / "studies" / "kill.py").write_text(STUDY)
    return subprocess.Popen(
        [sys.executable, "-m", "kgan.cli", "study", "run", "kill", "--verbose", "0"],
        cwd=root,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_sigkill_mid_run_then_resume_writes_the_same_record(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    first = study_run(whole)
    process = study_run(killed)
    deadline = time.time() + 240
    while True:
        states = list(killed.glob("runs/kill/a_s0_*/checkpoint/state.json"))
        if states and json.loads(states[0].read_text())["step"] >= 6:
            break
        assert process.poll() is None, process.stdout.read().decode()
        assert time.time() < deadline, "the study did not reach step 6"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "results" / "kill" / "records" / "a_s0.json").exists()
    resumed = study_run(killed)
    for run in (first, resumed):
        output = run.communicate(timeout=240)[0].decode()
        assert run.returncode == 0, output
    a, b = (
        json.loads((root / "results" / "kill" / "records" / "a_s0.json").read_text())
        for root in (whole, killed)
    )
    assert a["key"] == b["key"] and b["spent"]["sittings"] == 2
    assert [r["step"] for r in b["losses"]] == list(range(1, 15))
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(
            [r[key] for r in b["losses"]], [r[key] for r in a["losses"]], rtol=1e-5
        )
    assert [r["step"] for r in b["history"]] == [0, 7, 14]
    for x, y in zip(a["history"], b["history"], strict=True):
        np.testing.assert_allclose(y["histogram"], x["histogram"], atol=1e-6)
    np.testing.assert_allclose(
        b["metrics"]["frechet_distance"], a["metrics"]["frechet_distance"], rtol=1e-4
    )
