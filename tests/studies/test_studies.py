import dataclasses
import json
import os

import keras
import numpy as np
import pytest

from kgan.cli import main
from kgan.latents import normal_latents
from kgan.machine import machine_info
from kgan.studies import (
    Study,
    StudyPaths,
    load_study,
    read_record,
    report,
    run_study,
    runner,
)
from kgan.studies.metrics import excursions, thin_curve, time_to_reach, window_std
from kgan.studies.records import write_record

TINY = dict(
    dataset="mnist", steps=4, batch_size=8, latent_dim=8, width=0.125,
    sample_every=4, checkpoint_every=2, eval_n=64, jit_compile=False,
)  # fmt: skip


def tiny_study(**changes):
    settings = dict(
        name="tiny",
        recipe="dcgan",
        base=TINY,
        variants={"lrelu": dict(activation="lrelu"), "psf": dict(activation="psf")},
        seeds=(0, 1, 2),
        record=("frechet_distance", "d_loss_window_std"),
        compare=(("psf", "lrelu"),),
    )
    return Study(**{**settings, **changes})


def fake_record(study, variant, seed, **metrics):
    """A record as the runner writes it, with chosen metrics."""
    config = study.config(variant, seed)
    return {
        "study": study.name,
        "variant": variant,
        "seed": seed,
        "key": study.key(variant, seed),
        "protocol": study.protocol(variant),
        "config": dataclasses.asdict(config),
        "budget": {"steps": config.steps, "seconds": None},
        "spent": {"training_seconds": 1.0, "wall_seconds": 2.0},
        "machine": machine_info(),
        "metrics": metrics,
        "history": [],
        "losses": [{"step": 1, "d_loss": 1.0, "g_loss": 1.0}],
        "curves": {},
    }


def test_unknown_variant_field_names_the_value():
    with pytest.raises(
        ValueError, match=r"psf sets a field .* Received: actvation='psf'"
    ):
        tiny_study(variants={"psf": dict(actvation="psf")})
    with pytest.raises(ValueError, match="Received: variant='gelu'"):
        tiny_study(compare=(("gelu", "lrelu"),))
    with pytest.raises(ValueError, match="Received: base: seed=3"):
        tiny_study(base={**TINY, "seed": 3})


def test_variants_alternate_within_each_seed():
    assert tiny_study().runs() == [
        ("lrelu", 0), ("psf", 0), ("lrelu", 1), ("psf", 1), ("lrelu", 2), ("psf", 2),
    ]  # fmt: skip


def test_key_follows_the_resolved_config_and_protocol():
    study = tiny_study()
    assert study.key("lrelu", 0) == tiny_study().key("lrelu", 0)
    keys = {
        study.key("lrelu", 0),
        study.key("lrelu", 1),
        study.key("psf", 0),
        tiny_study(base={**TINY, "steps": 5}).key("lrelu", 0),
        tiny_study(history_every=2).key("lrelu", 0),
    }
    assert len(keys) == 5
    # An override equal to the default resolves to the same config.
    explicit = dict(activation="lrelu", loss="non_saturating")
    same = tiny_study(variants={"lrelu": explicit}, compare=())
    assert same.key("lrelu", 0) == study.key("lrelu", 0)


def test_summary_uses_the_sample_std_and_geometric_mean_ratios(tmp_path):
    study = tiny_study()
    paths = StudyPaths("tiny", tmp_path / "results", tmp_path / "runs")
    lrelu, psf = [10.0, 12.0, 17.0], [5.0, 6.5, 8.0]
    for seed in study.seeds:
        for variant, values in (("lrelu", lrelu), ("psf", psf)):
            record = fake_record(study, variant, seed, frechet_distance=values[seed])
            write_record(paths, record)
    summary = report.study_table(study, paths)
    stats = summary["variants"]["lrelu"]["frechet_distance"]
    assert stats["n"] == 3 and stats["mean"] == pytest.approx(13.0)
    assert stats["std"] == pytest.approx(np.std(lrelu, ddof=1))
    entry = summary["comparisons"][0]["metrics"]["frechet_distance"]
    logs = np.log(np.array(psf) / np.array(lrelu))
    assert entry["ratio_geomean"] == pytest.approx(np.exp(logs.mean()))
    assert entry["ratio_spread"] == pytest.approx(np.exp(logs.std(ddof=1)))
    assert entry["verdict"] == "psf better"  # lower is better, every seed agrees
    text = (paths.folder / "README.md").read_text()
    assert "13 ± 3.61 (n=3)" in text and "| frechet_distance |" in text
    assert json.loads((paths.folder / "summary.json").read_text()) == summary


@pytest.mark.parametrize(
    "differences, verdict",
    [
        ([-1.0, -2.0, -1.5], "a better"),
        ([1.0, 2.0, 1.5], "b better"),
        ([-1.0, 2.0, -1.5], "unclear (seeds disagree)"),
        ([-0.1, -5.0, -0.2], "unclear (spread > difference)"),
        ([-1.0, -2.0], "unclear (n=2 < 3)"),
        ([-1.0, 0.0, -1.5], "unclear (no difference on some seeds)"),
    ],
)
def test_verdict(differences, verdict):
    assert report.verdict(differences, "lower", "a", "b") == verdict


def test_stability_measures_against_numpy():
    rng = np.random.default_rng(0)
    values = rng.normal(size=5000)
    tail = values[-1000:]
    expected = np.std(tail.reshape(2, 500).mean(axis=1), ddof=1)
    assert window_std(values) == pytest.approx(expected)
    steady = np.ones(5000)
    steady[-300:-200] = 10.0  # one spike of one 100-step window
    assert excursions(steady + 0.01 * rng.normal(size=5000)) == 1
    rows = [{"step": i + 1, "d_loss": float(i)} for i in range(10)]
    thinned = thin_curve(rows, points=5)
    assert [r["step"] for r in thinned] == [2, 4, 6, 8, 10]
    assert [r["d_loss"] for r in thinned] == [0.5, 2.5, 4.5, 6.5, 8.5]
    assert thinned[0]["d_loss_max"] == 1.0


def test_bad_records_are_one_line_errors_and_never_reused(tmp_path):
    study = tiny_study()
    paths = StudyPaths("tiny", tmp_path / "results", tmp_path / "runs")
    good = write_record(paths, fake_record(study, "lrelu", 0, frechet_distance=1.0))
    path = paths.record("lrelu", 0)
    assert read_record(path)["key"] == good["key"]
    path.write_text(path.read_text()[:100])  # truncated
    with pytest.raises(ValueError, match=f"record {path} is truncated") as error:
        run_study(study, paths, seeds=[0], verbose=0)
    assert "\n" not in str(error.value)
    assert path.read_text().endswith(path.read_text()[-10:])  # left as it was
    tampered = {**good, "config": {**good["config"], "steps": 99}}
    path.write_text(json.dumps(tampered))
    with pytest.raises(ValueError, match=f"{path} was not written by the config"):
        run_study(study, paths, seeds=[0], verbose=0)


def test_run_reuse_and_rerun_of_a_changed_config(tmp_path, monkeypatch):
    paths = StudyPaths("tiny", tmp_path / "results", tmp_path / "runs")
    study = tiny_study(seeds=(0,), variants={"lrelu": dict(activation="lrelu")},
                       compare=(), history_every=2, history_n=32,
                       probes=(probe_mean,))  # fmt: skip
    (record,) = run_study(study, paths, verbose=0)
    run_folder = paths.run("lrelu", 0, record["key"])
    generator = keras.saving.load_model(run_folder / "generator.keras")
    images = generator.predict(normal_latents(4, (8,), 0), verbose=0)
    probe = record["probes"]["probe_mean"]
    assert probe["mean"] == pytest.approx(float(images.mean()), abs=1e-6)
    assert (paths.folder / probe["images"]["first"]).exists()
    assert record["spent"]["steps"] == 4 and record["spent"]["status"] == "finished"
    assert [row["step"] for row in record["history"]] == [0, 2, 4]
    assert record["machine"]["usable_cores"] == sorted(os.sched_getaffinity(0))
    assert record["config"]["seed"] == 0 and record["budget"]["steps"] == 4
    assert (paths.folder / record["samples"]).exists()
    losses = runner.read_rows(paths.run("lrelu", 0, record["key"]) / "losses.csv")
    assert [r["d_loss"] for r in record["losses"]] == [r["d_loss"] for r in losses]

    def no_training(*args, **kwargs):
        raise AssertionError("a recorded run trained again")

    monkeypatch.setattr(runner, "finish", no_training)
    assert run_study(study, paths, verbose=0) == [record]
    shorter = {"lrelu": dict(activation="lrelu", steps=2)}
    changed = tiny_study(seeds=(0,), variants=shorter, compare=())
    monkeypatch.undo()
    (rerun,) = run_study(changed, paths, verbose=0)
    assert rerun["spent"]["steps"] == 2 and rerun["key"] != record["key"]
    stale = paths.folder / "records" / "stale" / f"lrelu_s0_{record['key'][:8]}.json"
    assert json.loads(stale.read_text()) == record


def test_study_file_and_cli(tmp_path, capsys):
    studies = tmp_path / "studies"
    studies.mkdir()
    (studies / "mine.py").write_text(
        "from kgan.studies import Study\n"
        "STUDY = Study(name='mine', recipe='dcgan', base={'steps': 3},\n"
        "              variants={'a': {}, 'b': {'activation': 'psf'}}, seeds=(0, 1))\n"
    )
    study = load_study("mine", studies)
    assert study.source == str(studies / "mine.py")
    args = ["--studies", str(studies), "--results", str(tmp_path / "r"),
            "--runs", str(tmp_path / "runs")]  # fmt: skip
    assert main(["study", "status", "mine", *args]) == 0
    out = capsys.readouterr().out
    assert "0/4 runs done" in out and out.count("to do") == 4
    (studies / "typo.py").write_text(
        "from kgan.studies import Study\n"
        "STUDY = Study(name='typo', recipe='dcgan', base={},\n"
        "              variants={'a': {'actvation': 'psf'}})\n"
    )
    with pytest.raises(SystemExit):
        main(["study", "status", "typo", *args])
    error = capsys.readouterr().err
    assert f"({studies / 'typo.py'})" in error and "actvation='psf'" in error
    assert error.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["study", "status", "nothere", *args])
    assert "Received: study='nothere'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["study", "run", "mine", "--core", "999", *args])
    assert "Received: core=999" in capsys.readouterr().err


def test_a_variant_may_train_with_another_recipe():
    from kgan.recipes.gan import VanillaConfig

    study = tiny_study(
        base=dict(steps=4, batch_size=8, latent_dim=8),
        variants={"dcgan": {}, "mlp": dict(recipe="gan", maxout=True)},
        compare=(("mlp", "dcgan"),),
    )
    assert isinstance(study.config("mlp", 0), VanillaConfig)
    assert study.config("mlp", 0).maxout is True
    assert study.protocol("mlp")["recipe"] == "gan"
    assert study.protocol("dcgan")["recipe"] == "dcgan"
    with pytest.raises(ValueError, match="mlp sets a field the gan .* width=0.5"):
        tiny_study(
            base=dict(steps=4),
            variants={"mlp": dict(recipe="gan", width=0.5)},
            compare=(),
        )


def test_a_diverged_run_is_recorded_not_retried(tmp_path, monkeypatch):
    paths = StudyPaths("tiny", tmp_path / "results", tmp_path / "runs")
    study = tiny_study(seeds=(0,), variants={"lrelu": {}}, compare=())
    calls = []

    def diverging(recipe, config, out, **kwargs):
        calls.append(out)
        (out / "losses.csv").write_text("step,d_loss,g_loss\n1,0.5,0.7\n2,9.5,0.9\n")
        raise runner.NonFiniteLossError("non-finite loss at step 2")

    monkeypatch.setattr(runner, "finish", diverging)
    (record,) = run_study(study, paths, verbose=0)
    assert record["spent"]["status"] == "diverged" and record["spent"]["steps"] == 2
    assert record["spent"]["error"] == "non-finite loss at step 2"
    assert run_study(study, paths, verbose=0) == [record] and len(calls) == 1


def probe_mean(trainer, config):
    """A study probe: the mean of 4 samples, and the first as an image."""
    from kgan.images import to_uint8

    images = np.asarray(trainer.generate(4, seed=0))
    return {"mean": float(images.mean()), "images": {"first": to_uint8(images[:1])[0]}}


def test_time_to_reach_the_best_value_both_reach():
    def rows(*points):
        return [{"seconds": t, "step": i, "swd": v} for i, (t, v) in enumerate(points)]

    fast = rows((0, 9.0), (10, 3.0), (20, 1.0))
    slow = rows((0, 9.0), (15, 5.0), (30, 2.5))
    # Both reach 2.5 (slow's best): fast at 20 s, slow at 30 s.
    assert time_to_reach(fast, slow, "swd") == {
        "target": 2.5, "seconds": 20, "baseline_seconds": 30, "speedup": 1.5,
    }  # fmt: skip
    assert time_to_reach(slow, fast, "swd")["speedup"] == pytest.approx(20 / 30)
    assert time_to_reach(fast, [{"seconds": 0, "step": 0}], "swd") is None


def test_reach_needs_a_timeline():
    with pytest.raises(ValueError, match="Received: reach=.*timeline_seconds=None"):
        tiny_study(reach=("swd_mean",))


def test_timeline_evaluates_on_training_time(tmp_path):
    from kgan.runs import Progress
    from kgan.studies.metrics import Timeline

    calls = []
    timeline = Timeline(
        tmp_path / "timeline.json", lambda t: calls.append(1) or {"m": 1.0}, 10.0, 25.0
    )
    for step, seconds in ((0, 0.0), (1, 4.0), (2, 11.0), (3, 19.0), (4, 26.0)):
        timeline(None, Progress(step, seconds, step, 4))
    # Before training, after 10 s, and at the budget's end.
    assert [(r["step"], r["seconds"]) for r in timeline.rows] == [
        (0, 0.0), (2, 11.0), (4, 26.0),
    ]  # fmt: skip
    resumed = Timeline(tmp_path / "timeline.json", lambda t: {"m": 2.0}, 10.0, 25.0)
    resumed(None, Progress(2, 11.0, 2, 4))  # back at the checkpoint of step 2
    assert [r["step"] for r in resumed.rows] == [0, 2]


def test_summary_compares_the_time_to_reach(tmp_path):
    study = tiny_study(timeline_seconds=10.0, reach=("swd_mean",))
    paths = StudyPaths("tiny", tmp_path / "results", tmp_path / "runs")
    for seed, psf_seconds in zip(study.seeds, (20, 25, 16), strict=True):
        for variant, seconds in (("lrelu", 30), ("psf", psf_seconds)):
            record = fake_record(study, variant, seed, swd_mean=1.0)
            record["timeline"] = [
                {"seconds": 0, "step": 0, "swd_mean": 9.0},
                {"seconds": seconds, "step": 9, "swd_mean": 2.0},
            ]
            write_record(paths, record)
    summary = report.study_table(study, paths)
    entry = summary["comparisons"][0]["time_to_reach"]["swd_mean"]
    speedups = [30 / 20, 30 / 25, 30 / 16]
    assert [r["speedup"] for r in entry["per_seed"].values()] == speedups
    assert entry["speedup_geomean"] == pytest.approx(np.exp(np.log(speedups).mean()))
    assert entry["verdict"] == "psf faster"
    assert "time to reach the best swd_mean" in (paths.folder / "README.md").read_text()
    assert "timeline.png" in summary["figures"]
