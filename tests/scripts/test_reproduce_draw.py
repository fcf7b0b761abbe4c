import json

import numpy as np
import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def reproduce_draw():
    return load_script("reproduce_draw")


def test_sharpness_drops_with_blur(reproduce_draw):
    rng = np.random.default_rng(0)
    crisp = np.where(rng.uniform(size=(4, 16, 16, 1)) > 0.5, 1.0, -1.0)
    blurred = (crisp + np.roll(crisp, 1, axis=1) + np.roll(crisp, 1, axis=2)) / 3
    assert reproduce_draw.sharpness(crisp) > reproduce_draw.sharpness(blurred) > 0
    assert reproduce_draw.sharpness(np.zeros((2, 8, 8, 1))) == 0


def test_z_conditions_follow_the_paper(reproduce_draw):
    conditions = reproduce_draw.z_conditions(np.random.default_rng(0), 3)
    assert len(conditions) == 2 + 6 + 3
    assert not conditions["all zero"].any()
    only_3 = conditions["only z_3 random"]
    assert only_3[:, 2].any() and not np.delete(only_3, 2, axis=1).any()
    np.testing.assert_array_equal(only_3[:, 2], conditions["all N(0,1)"][:, 2])
    large = conditions["std 10000 at z_6"]
    np.testing.assert_allclose(large[:, 5], 1e4 * conditions["all N(0,1)"][:, 5])
    np.testing.assert_array_equal(large[:, :5], conditions["all N(0,1)"][:, :5])


def test_steps_are_the_papers_iterations(reproduce_draw):
    # The paper's epochs over 50,000 digits at batch 100.
    assert reproduce_draw.run_steps(49, 1.0) == 24500
    assert reproduce_draw.run_steps(71, 1.0) == 35500
    assert reproduce_draw.run_steps(99, 0.5) == 24750


def test_short_protocol_over_two_sittings(reproduce_draw, tmp_path):
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--steps-scale", "0.0005", "--units", "8", "--eval-n", "200"]
    args += ["--probe-n", "60", "--no-xla", "--verbose", "0"]
    args += ["--runs", str(runs), "--results", str(results)]
    assert reproduce_draw.main(args + ["--models", "draw_5x5", "mlp_gan"]) == 0
    first = json.loads((results / "draw_mnist.json").read_text())
    assert set(first["records"]) == {"draw_5x5", "mlp_gan", "real"}
    assert reproduce_draw.main(args + ["--models", "draw_5x5_bare"]) == 0
    report = json.loads((results / "draw_mnist.json").read_text())
    records = report["records"]
    steps = [records[m]["steps"] for m in ("draw_5x5", "draw_5x5_bare", "mlp_gan")]
    assert steps == [12, 12, 25]
    assert records["draw_5x5_bare"]["settings"]["stabilisers"] is False
    assert records["mlp_gan"]["settings"]["maxout"] is True
    assert records["real"]["confident_share"] > 0.9
    for name in ("draw_5x5", "draw_5x5_bare"):
        probe = report["probes"][name]
        assert len(probe["step_influence"]) == 6
        assert all(v > 0 for v in probe["step_influence"])
        assert len(probe["z_conditions"]) == 11
        for values in probe["writes"].values():
            assert len(values) == 6
        assert all(0 <= v <= 1 for v in probe["writes"]["on_canvas_share"])
    for figure in (
        "draw_steps_5x5",
        "draw_steps_5x5_bare",
        "draw_z_conditions_5x5",
        "draw_z_conditions_5x5_bare",
        "draw_samples",
        "draw_losses",
    ):
        assert (results / f"{figure}.png").stat().st_size > 0

    # A finished model is not trained again.
    def fail(*args, **kwargs):
        raise AssertionError("trained again")

    record = json.loads((results / "draw" / "draw_5x5.json").read_text())
    namespace = reproduce_draw.argparse.Namespace(
        steps_scale=0.0005, units=8, seed=0, eval_n=200, no_xla=True, verbose=0
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reproduce_draw, "finish", fail)
        again = reproduce_draw.run_model("draw_5x5", namespace, runs, results)
    assert again == record


def test_a_diverged_run_is_recorded_not_retried(reproduce_draw, tmp_path, monkeypatch):
    def diverge(*args, **kwargs):
        raise reproduce_draw.NonFiniteLossError("Non-finite loss at step 3")

    monkeypatch.setattr(reproduce_draw, "finish", diverge)
    args = reproduce_draw.argparse.Namespace(
        steps_scale=0.0005, units=8, seed=0, eval_n=100, no_xla=True, verbose=0
    )
    record = reproduce_draw.run_model("draw_5x5_bare", args, tmp_path, tmp_path)
    assert record["diverged"] == "Non-finite loss at step 3"
    saved = json.loads((tmp_path / "draw" / "draw_5x5_bare.json").read_text())
    assert saved["diverged"] == record["diverged"] and "confident_share" not in saved
