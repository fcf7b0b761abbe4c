"""kgan as a user installs it: a built wheel, not the source checkout."""

import json
import pathlib
import shutil
import site
import subprocess
import sys
import zipfile

import pytest

from kgan.metrics import Evaluator
from kgan.models import dcgan

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(*command, cwd):
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, check=True, capture_output=True, text=True
    )


def test_installed_wheel_evaluates_a_generator(tmp_path):
    # Built from a copy, so that the build leaves nothing in the checkout.
    source = tmp_path / "source"
    skipped = shutil.ignore_patterns("*.egg-info", "__pycache__", ".*_cache")

    def ignore(folder, names):
        top = {".git", ".venv", "build", "runs", "results"}
        top = top if folder == str(ROOT) else set()
        return set(skipped(folder, names)) | (top & set(names))

    shutil.copytree(ROOT, source, ignore=ignore)
    run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--quiet", "-w", tmp_path / "dist", source, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("kgan-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {"kgan/data/mnist_10k.npz", "kgan/data/NOTICE",
               "kgan/saved_models/mnist_classifier.keras",
               "kgan/saved_models/mnist_classifier.md"}  # fmt: skip
    assert shipped <= names
    assert not any(n.startswith(("tests/", "studies/", "scripts/")) for n in names)
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    run(
        sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
        "--target", purelib, wheel, cwd=tmp_path,
    )  # fmt: skip
    # The dependencies come from this environment's site-packages, whose
    # .pth files (the editable install of the checkout) are not run.
    dependencies = [p for p in site.getsitepackages() if pathlib.Path(p).is_dir()]
    (pathlib.Path(purelib) / "dependencies.pth").write_text(
        "\n".join(dependencies) + "\n"
    )

    generator, _ = dcgan(width=0.125, latent_dim=8)
    generator.save(tmp_path / "generator.keras")
    result = run(
        python, "-c",
        "import sys, kgan; from kgan.cli import main; print(kgan.__file__); "
        "main(sys.argv[1:])",
        "evaluate", "--model", "generator.keras", "--dataset", "mnist",
        "--n", "16", "--out", "metrics.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.stdout.splitlines()[0].startswith(purelib)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    # The installed package computes what the checkout does, with the
    # classifier it ships as package data.
    expected = Evaluator("mnist", seed=0).evaluate_generator(
        tmp_path / "generator.keras", n=16, seed=0
    )
    for name in ("frechet_distance", "kid", "classes_covered", "swd_mean"):
        assert metrics[name] == pytest.approx(expected[name], rel=1e-4)
