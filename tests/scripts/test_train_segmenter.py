from tests.scripts import load_script

train_segmenter = load_script("train_segmenter")


def test_an_undertrained_segmenter_is_not_saved(tmp_path, capsys):
    args = ["--resolution", "16", "--scenes", "16", "--test-scenes", "8"]
    args += ["--epochs", "1", "--filters", "4", "--out", str(tmp_path)]
    assert train_segmenter.main(args) == 1
    assert "below the required" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
