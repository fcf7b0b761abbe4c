import json

import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def reproduce_pggan():
    return load_script("reproduce_pggan")


def test_time_to_reach(reproduce_pggan):
    timeline = [
        {"seconds": s, "swd_mean": v} for s, v in ((0, 90), (60, 40), (120, 20))
    ]
    assert reproduce_pggan.time_to_reach(timeline, 40) == 60
    assert reproduce_pggan.time_to_reach(timeline, 10) is None


def test_time_to_reach_summary(reproduce_pggan):
    def timeline(values):
        return [{"seconds": 60 * i, "swd_mean": v} for i, v in enumerate(values)]

    # Growing bottoms out at 50, which the fixed networks reach at minute 2
    # and growing at minute 3: growing is 2/3 as fast.
    summary = reproduce_pggan.time_to_reach_summary(
        timeline([90, 80, 70, 50]), timeline([90, 60, 45, 30])
    )
    assert summary["target"] == 50
    assert summary["progressive_seconds"] == 180
    assert summary["non_progressive_seconds"] == 120
    assert summary["speedup"] == 120 / 180


def test_table_rows_are_cumulative(reproduce_pggan):
    variants = reproduce_pggan.VARIANTS
    rows = list(reproduce_pggan.TABLE_ROWS)
    assert rows[-1] == "progressive"
    # Each row switches on settings; none is switched off again.
    for before, after in zip(rows, rows[1:], strict=False):
        assert len(variants[after]) < len(variants[before])
    assert variants["table_a"]["learning_rate"] == 1e-4
    assert "learning_rate" not in variants["table_f"]


def fake_record(variant, seed, swd_means):
    timeline = [
        {"seconds": 60.0 * i, "swd_32": v, "swd_16": v, "swd_mean": v, "ms_ssim": 0.1}
        for i, v in enumerate(swd_means)
    ]
    return {
        "variant": variant,
        "seed": seed,
        "training_seconds": 60.0 * (len(swd_means) - 1),
        "compile_seconds": 5.0,
        "timeline": timeline,
    }


def test_summary_over_seeds(reproduce_pggan, tmp_path):
    records = [
        fake_record("progressive", 0, [90, 50, 30]),
        fake_record("non_progressive", 0, [90, 60, 30]),  # 30 at 120 s: 1x
        fake_record("progressive", 1, [90, 40, 20]),
        fake_record("non_progressive", 1, [90, 80, 40]),  # 40 at 120 s: 2x
        fake_record("table_a", 0, [90, 85, 70]),
    ]
    reference = {"swd_32": 5, "swd_16": 5, "swd_mean": 5, "ms_ssim": 0.2}
    summary = reproduce_pggan.summarize("mnist", records, reference, {})
    assert summary["runs"] == {
        "progressive": [0, 1], "non_progressive": [0, 1], "table_a": [0]
    }  # fmt: skip
    speedup = summary["time_to_reach"]["speedup"]
    assert speedup == {"mean": 1.5, "min": 1.0, "max": 2.0, "n": 2}
    assert summary["final"]["progressive"]["swd_mean"]["mean"] == 25
    rows = reproduce_pggan.TABLE_ROWS
    assert summary["table1_seed0"] == {
        rows["table_a"]: {"swd_mean": 70, "ms_ssim": 0.1},
        rows["progressive"]: {"swd_mean": 30, "ms_ssim": 0.1},
    }
    path = tmp_path / "fig4.png"
    reproduce_pggan.plot_fig4("mnist", records, reference, path)
    assert path.stat().st_size > 0


@pytest.fixture(scope="module")
def short_study(reproduce_pggan, tmp_path_factory):
    root = tmp_path_factory.mktemp("pggan")
    args = ["--minutes", "0.05", "--eval-every-minutes", "0.025", "--eval-n", "40"]
    args += ["--phase-kimg", "0.016", "--batch-size", "8", "--chunk-steps", "2"]
    args += ["--fmap-base", "32", "--fmap-max", "8", "--images", "80", "--no-xla"]
    args += ["--datasets", "mnist", "--seeds", "0", "--verbose", "0"]
    args += ["--runs", str(root / "runs"), "--results", str(root / "results")]
    assert reproduce_pggan.main(args) == 0
    return root, args


def test_short_study(short_study):
    root, _ = short_study
    names = sorted(p.name for p in (root / "results" / "pggan").glob("*.json"))
    assert names == ["mnist_non_progressive_s0.json", "mnist_progressive_s0.json"]
    record = json.loads((root / "results/pggan/mnist_progressive_s0.json").read_text())
    timeline = record["timeline"]
    assert len(timeline) >= 2
    assert timeline[0]["seconds"] == 0 and timeline[-1]["seconds"] >= 3
    assert timeline[0]["resolution"] == 4
    expected = {"swd_32", "swd_16", "swd_mean", "ms_ssim", "raw_swd_mean"}
    assert expected <= set(timeline[0])
    assert record["compile_seconds"] > 0
    fixed = json.loads(
        (root / "results/pggan/mnist_non_progressive_s0.json").read_text()
    )
    assert fixed["timeline"][0]["resolution"] == 32
    summary = json.loads((root / "results" / "pggan_mnist.json").read_text())
    assert set(summary["time_to_reach"]["per_seed"]) == {"0"}
    assert summary["real_vs_real"]["swd_mean"] < timeline[-1]["swd_mean"]
    assert summary["protocol"]["phase_over_ema_time_constant"] == pytest.approx(0.02)
    assert (root / "results" / "pggan_mnist_fig4.png").stat().st_size > 0


def test_finished_runs_are_not_rerun(reproduce_pggan, short_study):
    root, args = short_study
    record = root / "results" / "pggan" / "mnist_non_progressive_s0.json"
    before = json.loads(record.read_text())
    # The record is lost after the budget stopped the run: it is rebuilt
    # from the run folder without training on.
    record.unlink()
    assert reproduce_pggan.main(args) == 0
    after = json.loads(record.read_text())
    assert after["timeline"] == before["timeline"]
    assert after["training_seconds"] == before["training_seconds"]
