import json

from tests.scripts import load_script

reproduce_compact = load_script("reproduce_compact")


def test_reproduce_compact_end_to_end(tmp_path):
    args = [
        "--resolution", "16", "--scenes", "32", "--test-scenes", "8",
        "--steps", "4", "--batch-size", "8", "--filters", "8",
        "--max-filters", "32", "--target-ratio", "0.5", "--sparsity-steps", "2",
        "--retrain-steps", "2", "--out", str(tmp_path / "run"),
        "--results", str(tmp_path / "results"),
    ]  # fmt: skip
    assert reproduce_compact.main(args) == 0
    report = json.loads((tmp_path / "results" / "compact_rounds.json").read_text())
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
    assert (tmp_path / "results" / "compact_comparison.png").is_file()
