import json

import pytest

from tests.scripts import load_script


@pytest.fixture(scope="module")
def ablate_draw():
    return load_script("ablate_draw")


def test_variants_switch_the_two_groups_of_stabilisers(ablate_draw):
    switched = {
        name: (v.get("stabilisers", True), v.get("global_clipnorm", "default"))
        for name, v in ablate_draw.VARIANTS.items()
    }
    assert switched == {
        "stabilised": (True, "default"),
        "no_clip": (True, None),
        "bare_numerics": (False, "default"),
        "bare": (False, None),
    }


def test_short_ablation_records_each_variant(ablate_draw, tmp_path):
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--steps", "5", "--units", "8", "--eval-n", "100", "--no-xla"]
    args += ["--verbose", "0", "--runs", str(runs), "--results", str(results)]
    assert ablate_draw.main(args + ["--variants", "no_clip", "bare"]) == 0
    report = json.loads((results / "draw_ablation.json").read_text())
    records = report["records"]
    assert set(records) == {"no_clip", "bare"}
    assert records["no_clip"]["settings"]["global_clipnorm"] is None
    assert records["bare"]["settings"]["stabilisers"] is False
    for record in records.values():
        assert record["steps"] == 5 and record["n"] == 100
        assert record["d_loss_last_fifth"] > 0
        assert 0 < record["sharpness"] < 1
    # The clip reached the optimizers: none for these two variants.
    config = json.loads((runs / "no_clip" / "config.json").read_text())
    assert config["global_clipnorm"] is None and config["attention_n"] == 5
    assert (results / "draw_ablation_samples.png").stat().st_size > 0
    # A finished variant is not trained again.
    mtime = (results / "draw_ablation" / "bare.json").stat().st_mtime_ns
    assert ablate_draw.main(args + ["--variants", "bare"]) == 0
    assert (results / "draw_ablation" / "bare.json").stat().st_mtime_ns == mtime
