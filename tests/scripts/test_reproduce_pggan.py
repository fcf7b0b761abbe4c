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
    results = {
        "progressive": timeline([90, 80, 70, 50]),
        "non_progressive": timeline([90, 60, 45, 30]),
    }
    summary = reproduce_pggan.time_to_reach_summary(results)
    assert summary["target_swd_mean"] == 50
    assert summary["progressive_seconds"] == 180
    assert summary["non_progressive_seconds"] == 120
    assert summary["speedup"] == 120 / 180
    assert reproduce_pggan.time_to_reach_summary({"progressive": []}) == {}


def test_short_protocol_end_to_end(reproduce_pggan, tmp_path):
    args = ["--minutes", "0.05", "--eval-every-minutes", "0.025", "--eval-n", "40"]
    args += ["--phase-kimg", "0.016", "--batch-size", "8", "--chunk-steps", "2"]
    args += ["--fmap-base", "32", "--fmap-max", "8", "--images", "80", "--no-xla"]
    args += ["--variants", "progressive", "non_progressive", "no_pixel_norm"]
    args += ["--tag", "short"]
    assert reproduce_pggan.main(args + ["--results", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "pggan_mnist_short.json").read_text())
    assert (
        report["real_vs_real"]["swd_mean"] < report["final"]["progressive"]["swd_mean"]
    )
    assert set(report["timelines"]) == {
        "progressive",
        "non_progressive",
        "no_pixel_norm",
    }
    for timeline in report["timelines"].values():
        assert len(timeline) >= 2
        assert {"swd_32", "swd_16", "swd_mean", "ms_ssim"} <= set(timeline[0])
        assert timeline[0]["seconds"] == 0 and timeline[-1]["seconds"] >= 3
    assert report["timelines"]["non_progressive"][0]["resolution"] == 32
    assert report["timelines"]["progressive"][0]["resolution"] == 4
    assert set(report["time_to_reach"]) == {
        "target_swd_mean", "progressive_seconds", "non_progressive_seconds", "speedup"
    }  # fmt: skip
    assert (tmp_path / "pggan_mnist_short_swd_time.png").stat().st_size > 0
