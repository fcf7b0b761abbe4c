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


def test_steps_are_epochs_of_the_training_split(reproduce_draw):
    assert reproduce_draw.run_steps(49, 1.0) == 49 * 80
    assert reproduce_draw.run_steps(99, 0.5) == 3960


def test_short_protocol_end_to_end(reproduce_draw, tmp_path):
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--epochs-scale", "0.003", "--units", "8", "--eval-n", "200"]
    args += ["--probe-n", "60", "--no-xla"]
    args += ["--runs", str(runs), "--results", str(results)]
    assert reproduce_draw.main(args + ["--verbose", "0"]) == 0
    report = json.loads((results / "draw_mnist.json").read_text())
    records = report["records"]
    assert [records[m]["steps"] for m in ("draw_5x5", "draw_4x4", "mlp_gan")] == [
        12,
        17,
        24,
    ]
    assert records["real"]["confident_share"] > 0.9
    for name in ("draw_5x5", "draw_4x4"):
        probe = report["probes"][name]
        assert len(probe["step_influence"]) == 6
        assert all(v > 0 for v in probe["step_influence"])
        assert len(probe["z_conditions"]) == 11
        for values in probe["writes"].values():
            assert len(values) == 6
        assert all(0 <= v <= 1 for v in probe["writes"]["on_canvas_share"])
    for figure in (
        "draw_steps_5x5",
        "draw_steps_4x4",
        "draw_z_conditions_5x5",
        "draw_z_conditions_4x4",
        "draw_samples",
        "draw_losses",
    ):
        assert (results / f"{figure}.png").stat().st_size > 0
    # A finished protocol is not trained again.
    assert reproduce_draw.main(args + ["--verbose", "0"]) == 0
