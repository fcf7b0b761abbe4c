import csv
import json

import keras
import numpy as np
import pytest

from kgan import callbacks as gan_callbacks
from kgan.cli import main
from kgan.data import load_arrays
from kgan.metrics import Evaluator, ImageClassifier, format_table
from kgan.metrics.evaluate import has_classifier
from kgan.models import GAN, dcgan

needs_classifier = pytest.mark.skipif(
    not has_classifier("mnist"),
    reason="kgan/saved_models/mnist_classifier.keras is missing",
)


@pytest.fixture(scope="module")
def mnist_test():
    return load_arrays("mnist", "test")


@needs_classifier
def test_shipped_mnist_classifier_accuracy(mnist_test):
    x, y = mnist_test
    _, probabilities = ImageClassifier.for_dataset("mnist").predict(x)
    assert np.mean(probabilities.argmax(axis=1) == y) >= 0.98


@needs_classifier
def test_real_digits_score_far_better_than_noise(mnist_test):
    x, labels = (a[:1000] for a in mnist_test)  # SWD's cost grows with n
    evaluator = Evaluator("mnist")
    real = evaluator(x)
    noise = evaluator(
        np.random.default_rng(0).integers(0, 256, x.shape, dtype=np.uint8)
    )
    assert real["classes_covered"] == 10 and real["confident_share"] > 0.9
    assert real["kl_uniform"] < 0.02
    assert real["frechet_distance"] * 20 < noise["frechet_distance"]
    assert real["kid"] * 20 < noise["kid"]
    assert real["swd_mean"] * 20 < noise["swd_mean"]
    one_class = evaluator(x[labels == 3])
    assert one_class["classes_covered"] == 1
    assert "frechet distance" in format_table(real).lower()


def tiny_gan():
    generator, discriminator = dcgan((28, 28, 1), latent_dim=8, width=0.125)
    gan = GAN(generator, discriminator, latent_dim=8)
    gan.compile(
        g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3)
    )
    return gan


def test_evaluate_callback_logs_history_and_csv(tmp_path, mnist_test):
    x, _ = mnist_test
    # Real images only: SWD and MS-SSIM, without the classifier.
    evaluator = Evaluator(None, real=x[:200])
    gan = tiny_gan()
    images = x[:64].astype(np.float32) / 127.5 - 1
    callback = gan_callbacks.Evaluate(
        evaluator, every_n_steps=2, n=32, csv_path=tmp_path / "metrics.csv"
    )
    history = gan.fit(images, batch_size=16, epochs=2, callbacks=[callback], verbose=0)
    assert len(history.history["swd_mean"]) == 2
    assert np.all(np.isfinite(history.history["ms_ssim"]))
    with open(tmp_path / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8]
    assert float(rows[-1]["swd_mean"]) == pytest.approx(history.history["swd_mean"][-1])
    # The last row is the evaluation of the generator as training left it,
    # on the callback's fixed latents (seed 0).
    expected = evaluator.evaluate_generator(gan.sampler, n=32, seed=0)
    for key in ("swd_mean", "ms_ssim"):
        assert float(rows[-1][key]) == pytest.approx(expected[key], rel=1e-5)


@needs_classifier
def test_kgan_evaluate_on_keras_and_tflite(tmp_path, capsys):
    gan = tiny_gan()
    keras_path = tmp_path / "g.keras"
    gan.generator.save(keras_path)
    from kgan.export import to_litert

    tflite_path = to_litert(gan.generator, tmp_path / "g.tflite")
    results = {}
    for path in (keras_path, tflite_path):
        main(["evaluate", "--model", str(path), "--n", "200"])
        results[path.suffix] = json.loads(path.with_suffix(".metrics.json").read_text())
    assert "classes covered" in capsys.readouterr().out
    keras_result, lite_result = results[".keras"], results[".tflite"]
    assert keras_result["n"] == 200 and keras_result["dataset"] == "mnist"
    # Same latents, outputs within 1e-5: the metrics agree closely.
    assert lite_result["swd_mean"] == pytest.approx(keras_result["swd_mean"], rel=1e-3)
    assert lite_result["frechet_distance"] == pytest.approx(
        keras_result["frechet_distance"], rel=1e-3
    )


def test_evaluate_rejects_a_wrong_image_shape():
    evaluator = Evaluator(None, real=np.zeros((4, 28, 28, 1), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(28, 28, 1\)"):
        evaluator(np.zeros((4, 32, 32, 1), np.uint8))
    with pytest.raises(FileNotFoundError, match="No such generator file"):
        evaluator.evaluate_generator("missing.keras", n=4)
