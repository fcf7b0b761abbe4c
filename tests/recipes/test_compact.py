import json

import keras
import pytest

from kgan.cli import main
from kgan.compress.slimming import SlimmingConfig
from kgan.layers.scaling_gate import ScalingGate
from kgan.recipes.compact import compress_pix2pix
from kgan.recipes.pix2pix import Pix2PixConfig
from kgan.runs.recipe import config_from_settings

TINY = [
    "--resolution", "16", "--scenes", "32", "--test-scenes", "16", "--steps", "4",
    "--sample-every", "2", "--batch-size", "8", "--filters", "4",
    "--max-filters", "16", "--checkpoint-every", "2", "--no-xla",
]  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pix2pix")
    assert main(["train", "pix2pix", *TINY, "--out", str(out)]) == 0
    return out


def test_train_pix2pix_writes_the_run_folder(run):
    settings = json.loads((run / "config.json").read_text())
    config = config_from_settings(Pix2PixConfig, settings)
    assert (config.resolution, config.steps, config.filters) == (16, 4, 4)
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "final.png",
        "step_000002.png",
        "step_000004.png",
    ]
    assert (run / "losses.csv").read_text().count("\n") == 5  # header + 4 steps
    quality = json.loads((run / "metrics.json").read_text())
    assert {"l1", "psnr", "ssim", "swd", "miou", "parameters"} <= set(quality)
    generator = keras.saving.load_model(run / "generator.keras", compile=False)
    assert generator.output_shape == (None, 16, 16, 3)


def test_compress_slims_the_run(run, tmp_path):
    out = tmp_path / "compact"
    # A threshold above every factor: the per-round cap decides.
    config = SlimmingConfig(
        target_ratio=0.5, max_prune_fraction=0.3, threshold=1e9, sparsity_steps=2,
        retrain_steps=2, recalibration_batches=2, channel_multiple=1,
    )  # fmt: skip
    records = compress_pix2pix(run / "pix2pix.keras", out, config)
    assert records[0]["round"] == 0 and records[0]["ratio"] == 1.0
    assert records[-1]["ratio"] <= 0.5
    table = json.loads((out / "rounds.json").read_text())
    assert [r["round"] for r in table] == [r["round"] for r in records]
    assert all({"psnr", "ssim", "miou", "swd", "l1"} <= set(r) for r in table)
    assert (out / "comparison.png").is_file()
    deployment = json.loads((out / "deployment.json").read_text())
    assert [r["round"] for r in deployment["rows"]] == [r["round"] for r in table]
    assert [r["parameters"] for r in deployment["rows"]] == [
        r["parameters"] for r in table
    ]
    assert deployment["runtime"]["api"] == "CompiledModel"
    last = keras.saving.load_model(out / f"round_{table[-1]['round']}.keras")
    assert not any(isinstance(layer, ScalingGate) for layer in last.layers)


def test_compress_command(run, tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["compress", "--model", str(run / "pix2pix.keras"), "--out", str(out)]
    args += ["--target-ratio", "0.6", "--sparsity-steps", "1", "--retrain-steps", "1"]
    args += ["--cost-weighting", "macs", "--threshold", "1e9"]
    args += ["--channel-multiple", "1"]
    args += ["--max-prune-fraction", "0.3", "--recalibration-batches", "2"]
    args += ["--latency-runs", "0"]  # deployment.json: test_compress_slims_the_run
    assert main(args) == 0
    assert "mIoU" in capsys.readouterr().out
    assert (out / "rounds.json").is_file()


def test_compress_command_on_a_resnet_run(tmp_path, capsys):
    run = tmp_path / "resnet"
    cap = TINY.index("--max-filters")
    tiny = TINY[:cap] + TINY[cap + 2 :]
    args = ["train", "pix2pix", *tiny, "--generator", "resnet", "--blocks", "2"]
    assert main([*args, "--out", str(run)]) == 0
    out = tmp_path / "compact"
    args = ["compress", "--model", str(run / "pix2pix.keras"), "--out", str(out)]
    args += ["--target-ratio", "0.7", "--sparsity-steps", "1", "--retrain-steps", "1"]
    args += ["--threshold", "1e9", "--max-prune-fraction", "0.2", "--min-filters", "2"]
    args += ["--recalibration-batches", "2", "--channel-multiple", "1"]
    args += ["--latency-runs", "0"]
    assert main(args) == 0
    table = json.loads((out / "rounds.json").read_text())
    assert table[-1]["ratio"] <= 0.7
    trunk = {table[-1]["filters"][c] for c in ("down2_conv", "block2_2_conv")}
    assert len(trunk) == 1


def test_compress_needs_a_pix2pix_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such pix2pix model"):
        compress_pix2pix(tmp_path / "missing.keras", tmp_path / "out")
