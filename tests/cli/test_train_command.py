import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import keras
import matplotlib.image
import numpy as np
import pytest

from kgan import cli
from kgan.recipes import RECIPES

# Quick settings of each model, as command-line options.
QUICK = {
    "dcgan": ["--width", "0.125", "--batch-size", "16", "--latent-dim", "8",
              "--eval-n", "16", "--steps", "32"],
    "pix2pix": ["--resolution", "16", "--scenes", "32", "--test-scenes", "8",
                "--batch-size", "4", "--filters", "4", "--max-filters", "8",
                "--steps", "32"],
    "progan": ["--resolution", "16", "--kimg", "0.128", "--lod-training-kimg", "0.016",
               "--lod-transition-kimg", "0.016", "--batch-sizes", "4:8,8:8,16:8",
               "--fmap-base", "32", "--fmap-max", "8", "--eval-n", "16"],
}  # fmt: skip
EVERY = ["--sample-every", "4", "--checkpoint-every", "4", "--no-xla"]
# The step to kill at: progan's in its last phase (4 px, fading in 8 px,
# 8 px, fading in 16 px: 2 steps of 8 images each; then 16 px), so that
# the resumed run restores a grown network.
KILL_AT = {"dcgan": 8, "pix2pix": 8, "progan": 10}


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def option_flags(config_class):
    """Each field's flags, as `kgan.cli` generates them."""
    flags = set()
    for field in dataclasses.fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        flags |= {flag, *field.metadata["aliases"]}
        if field.type is bool:
            flags |= {"--no-" + f[2:] for f in {flag, *field.metadata["aliases"]}}
    return flags


def flags_in_help(capsys, argv):
    with pytest.raises(SystemExit):
        cli.main(argv + ["--help"])
    return {
        w.rstrip(",") for w in capsys.readouterr().out.split() if w.startswith("--")
    }


@pytest.mark.parametrize("model", sorted(RECIPES))
def test_help_lists_every_field_of_the_model_and_nothing_else(model, capsys):
    flags = flags_in_help(capsys, ["train", model])
    config_class = RECIPES[model].config_class
    own = option_flags(config_class)
    assert own <= flags
    for other in RECIPES.values():
        for flag in option_flags(other.config_class):
            assert flag in own or flag not in flags, (model, flag)


def test_options_of_other_models_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        cli.main(["train", "pix2pix", "--loss", "hinge", "--out", str(tmp_path / "x")])
    assert error.value.code == 2
    assert "unrecognized arguments: --loss" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "progan", "--batch-sizes", "4-8", "--out", str(tmp_path)])
    assert "Received: batch_sizes='4-8'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "dcgan", "--steps", "0", "--out", str(tmp_path / "y")])
    assert "Received: steps=0" in capsys.readouterr().err


def test_dry_run_prints_the_config_and_sizes(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "dcgan", "--width", "0.5", "--ema", "none", "--lr", "1e-3"]
    cli.main(argv + ["--dry-run", "--out", str(out)])
    printed = capsys.readouterr().out
    config = json.loads(printed[: printed.index("}") + 1])
    assert (config["width"], config["ema"], config["learning_rate"]) == (
        0.5,
        None,
        1e-3,
    )
    assert "generator parameters:" in printed and "discriminator parameters:" in printed
    assert not out.exists()


def dry_run_config(capsys, argv):
    cli.main(argv + ["--dry-run"])
    printed = capsys.readouterr().out
    return json.loads(printed[: printed.index("}") + 1])


def test_a_preset_sets_defaults_that_explicit_options_override(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(
        RECIPES["dcgan"], "presets", {"tiny": {"width": 0.25, "steps": 7}}
    )
    argv = ["train", "dcgan", "--out", str(tmp_path / "run")]
    config = dry_run_config(capsys, argv + ["--preset", "tiny"])
    assert (config["width"], config["steps"]) == (0.25, 7)
    config = dry_run_config(capsys, argv + ["--steps", "9", "--preset", "tiny"])
    assert (config["width"], config["steps"]) == (0.25, 9)
    assert dry_run_config(capsys, argv)["width"] == 1.0  # no preset: the defaults
    with pytest.raises(SystemExit):
        cli.main(argv + ["--preset", "huge"])
    assert "invalid choice: 'huge'" in capsys.readouterr().err


@pytest.mark.parametrize("model", sorted(RECIPES))
def test_presets_are_valid_configs(model):
    from kgan.recipes import validate

    recipe = RECIPES[model]
    fields = {f.name for f in dataclasses.fields(recipe.config_class)}
    for values in recipe.presets.values():
        assert set(values) <= fields
        validate(recipe.config_class(**values))


def test_train_progan_and_sample_commands(tmp_path):
    # The CLI's parsing and files; growing through the phases is the
    # recipe's test (tests/recipes/test_progan_recipe.py).
    out = tmp_path / "run"
    argv = ["train", "progan", "--resolution", "16", "--kimg", "0.008"]
    argv += ["--lod-training-kimg", "0.016", "--lod-transition-kimg", "0.016"]
    argv += ["--batch-sizes", "4:8,8:8,16:8", "--fmap-base", "32", "--eval-n", "16"]
    argv += ["--no-xla", "--out", str(out)]
    cli.main(argv)
    config = json.loads((out / "config.json").read_text())
    assert config["batch_sizes"] == {"4": 8, "8": 8, "16": 8}
    assert config["lod_training_kimg"] == 0.016 and config["kimg"] == 0.008
    # 8 images at 4 px: one step of 8, then the end.
    assert len(read_rows(out / "losses.csv")) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resolution"] == 4 and {"swd_mean", "ms_ssim"} <= set(metrics)

    grid = tmp_path / "grid.png"
    cli.main(
        ["sample", "--model", str(out / "generator.keras"), "--n", "9"]
        + ["--out", str(grid)]
    )
    generator = keras.saving.load_model(out / "generator.keras")
    size = generator.output_shape[1]
    assert matplotlib.image.imread(grid).shape[:2] == (3 * size + 4 * 2,) * 2


def run_kgan(args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "kgan.cli"] + args
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.mark.parametrize("model", sorted(QUICK))
def test_sigkill_then_resume_continues_exactly(model, tmp_path):
    # Each run in a fresh process: the in-process names and RNG of earlier
    # tests do not enter the comparison.
    args = ["train", model, *QUICK[model], *EVERY]
    whole = run_kgan(args + ["--out", str(tmp_path / "whole")])

    out = tmp_path / "killed"
    process = run_kgan(args + ["--out", str(out)])
    state = out / "checkpoint" / "state.json"
    deadline = time.time() + 240
    while not (
        state.exists() and json.loads(state.read_text())["step"] >= KILL_AT[model]
    ):
        assert process.poll() is None, process.stdout.read().decode()
        assert time.time() < deadline, f"training did not reach step {KILL_AT[model]}"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "generator.keras").exists()  # killed before the end

    resumed = run_kgan(args + ["--out", str(out), "--resume"])
    for process in (whole, resumed):
        output = process.communicate(timeout=240)[0].decode()
        assert process.returncode == 0, output
    # Equal to float32 rounding: two processes may sum a multithreaded
    # kernel's terms in another order (tests/runs/test_run_loop.py shows
    # bitwise equality within one process).
    whole = read_rows(tmp_path / "whole" / "losses.csv")
    resumed = read_rows(out / "losses.csv")
    assert [r["step"] for r in resumed] == [r["step"] for r in whole]
    for a, b in zip(whole, resumed, strict=True):
        for key in a:
            np.testing.assert_allclose(float(b[key]), float(a[key]), rtol=1e-5)
    assert json.loads((out / "run.json").read_text())["step"] == len(whole)
