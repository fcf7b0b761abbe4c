import json

import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def bench_quickstart():
    return load_script("bench_quickstart")


def test_time_to_targets_is_the_first_point_meeting_both(bench_quickstart):
    curve = [
        {"wall_seconds": 60, "classes_covered": 10, "confident_share": 0.6},
        {"wall_seconds": 120, "classes_covered": 8, "confident_share": 0.75},
        {"wall_seconds": 180, "classes_covered": 9, "confident_share": 0.70},
    ]
    assert bench_quickstart.time_to_targets(curve) == 180
    assert bench_quickstart.time_to_targets(curve[:2]) is None


def test_variants_resolve_to_their_presets(bench_quickstart):
    def config(name):
        return bench_quickstart.resolve(bench_quickstart.VARIANTS[name] | {"seed": 0})

    assert config("quality").refine_layers == 1
    assert config("default").discriminator_units == 256
    assert config("quality").discriminator_units == 0
    assert config("radford_d").discriminator_units == 0
    assert config("sagan").spectral_norm is True


def test_short_benchmark(bench_quickstart, tmp_path):
    # Two variants: the default, and SAGAN on the default's training time.
    tiny = {"steps": 4, "width": 0.125, "batch_size": 16, "eval_n": 100}
    tiny |= {"jit_compile": False, "sample_every": 2, "checkpoint_every": 2}
    out, records = tmp_path / "quickstart.json", tmp_path / "records"
    args = ["--seeds", "0", "--curve-every", "1e-3", "--set", json.dumps(tiny)]
    args += ["--variants", "default", "sagan"]
    args += ["--out", str(out), "--records", str(records)]
    assert bench_quickstart.main(args) == 0
    report = json.loads(out.read_text())
    assert sorted(p.name for p in records.iterdir()) == [
        "default_s0.json",
        "sagan_s0.json",
    ]
    default, sagan = report["runs"]
    assert [r["variant"] for r in report["runs"]] == ["default", "sagan"]
    assert default["steps"] == 4  # the shared settings override the preset
    assert default["final"]["n"] == 100
    curve = default["curve"]
    # Before training, after each chunk of 2 steps, and the final point.
    assert [p["step"] for p in curve] == [0, 2, 4, 4]
    walls = [p["wall_seconds"] for p in curve]
    assert walls == sorted(walls) and walls[0] > 0
    assert default["wall_seconds"] == walls[-1] > default["training_seconds"]
    assert sagan["settings"]["spectral_norm"] is True
    # SAGAN's blocks train for the default run's time, not for its steps.
    assert sagan["budget_seconds"] == default["training_seconds"]
    steps = sagan["curve"][-1]["step"]
    assert steps == 4 or sagan["training_seconds"] >= default["training_seconds"]
    assert report["summary"]["sagan"]["meets_targets"] == [False]
    assert out.with_suffix(".png").stat().st_size > 0


def test_recorded_runs_are_reused_and_changed_ones_retrained(
    bench_quickstart, tmp_path, monkeypatch
):
    tiny = {"steps": 2, "width": 0.125, "batch_size": 16, "eval_n": 100}
    tiny |= {"jit_compile": False, "sample_every": 1, "checkpoint_every": 1}
    out, records = tmp_path / "quickstart.json", tmp_path / "records"

    def bench(settings):
        args = ["--seeds", "0", "--variants", "default", "--curve-every", "1e6"]
        args += ["--set", json.dumps(settings), "--out", str(out)]
        return bench_quickstart.main([*args, "--records", str(records)])

    assert bench(tiny) == 0
    first = json.loads((records / "default_s0.json").read_text())
    assert first["config"]["steps"] == 2 and first["config"]["width"] == 0.125

    trained = []
    real = bench_quickstart.run_variant
    monkeypatch.setattr(
        bench_quickstart,
        "run_variant",
        lambda *a: trained.append(a[0]) or real(*a),
    )
    assert bench(tiny) == 0  # recorded: nothing to train
    assert trained == []
    assert json.loads(out.read_text())["runs"] == [first]

    # Another default (here: through the shared settings) is trained again.
    assert bench(tiny | {"steps": 3}) == 0
    assert trained == ["default"]
    assert json.loads((records / "default_s0.json").read_text())["steps"] == 3

    # --recorded trains nothing: what has no record is listed as missing.
    args = ["--seeds", "0", "1", "--variants", "default", "sagan", "--recorded"]
    args += ["--set", json.dumps(tiny | {"steps": 3}), "--out", str(out)]
    assert bench_quickstart.main([*args, "--records", str(records)]) == 0
    assert trained == ["default"]
    report = json.loads(out.read_text())
    assert report["missing"] == ["sagan_s0", "default_s1", "sagan_s1"]
    assert report["summary"]["default"]["seeds"] == [0]


def test_equal_time_variant_needs_its_reference(bench_quickstart, tmp_path):
    args = ["--seeds", "0", "--variants", "sagan", "--records", str(tmp_path)]
    with pytest.raises(ValueError, match="time of the default run"):
        bench_quickstart.main(args)
