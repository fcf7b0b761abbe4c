import json

from tests.scripts import load_script

reproduce_compact = load_script("reproduce_compact")


def test_reproduce_compact_end_to_end(tmp_path):
    # The threshold above every factor: the per-round cap decides.
    args = [
        "--generator", "resnet", "--blocks", "2", "--resolution", "16",
        "--scenes", "32", "--test-scenes", "8", "--steps", "4",
        "--batch-size", "8", "--filters", "4", "--target-ratio", "0.5",
        "--threshold", "1e9", "--max-prune-fraction", "0.3", "--min-filters", "2",
        "--sparsity-steps", "2", "--retrain-steps", "2", "--recalibration-batches", "2",
        "--baselines", "uniform", "magnitude",
        "--out", str(tmp_path / "run"), "--results", str(tmp_path / "results"),
    ]  # fmt: skip
    unet_rows = {"rows": [{"name": "round_0", "parameters": 7, "miou": 0.8}]}
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "compact_rounds.json").write_text(json.dumps(unet_rows))
    assert reproduce_compact.main(args) == 0
    results = tmp_path / "results"
    report = json.loads((results / "compact_resnet_rounds.json").read_text())
    assert report["unet_reference"]["rows"][0]["parameters"] == 7
    assert report["protocol"]["full_run"]["steps"] == 4
    slimming = json.loads((results / "compact_resnet_slimming.json").read_text())
    assert [r["round"] for r in slimming] == list(range(len(slimming)))
    names = [row["name"] for row in report["rows"]]
    assert names[0] == "round_0"
    assert names[-4:] == [
        "uniform_baseline",
        "magnitude",
        "magnitude_sparse",
        "compact_int8",
    ]
    rounds = [row for row in report["rows"] if row["name"].startswith("round_")]
    assert rounds[-1]["parameters"] <= 0.5 * rounds[0]["parameters"]
    for row in report["rows"]:
        assert {"macs", "tflite_bytes", "latency_ms", "psnr", "miou", "ssim"} <= set(
            row
        )
        assert row["latency_ms"]["runs"] == 50
    for row in report["rows"][:-1]:  # float32 exports match Keras
        assert row["max_abs_diff_vs_keras"] < 1e-4
    baseline = report["rows"][-4]
    assert 0.5 < baseline["parameters"] / rounds[-1]["parameters"] < 2.0
    dense, sparse = report["rows"][-3:-1]
    assert dense["parameters"] == rounds[0]["parameters"]
    sparsity = 1 - rounds[-1]["parameters"] / rounds[0]["parameters"]
    assert abs(dense["zero_weights"] - sparsity) < 0.01
    assert sparse["tflite_bytes"] < dense["tflite_bytes"]
    assert (results / "compact_resnet_comparison.png").is_file()
