import keras
import numpy as np
import pytest
from keras.src import testing

from kgan import export
from kgan.models import DRAWGAN, draw
from kgan.models.draw import DrawCanvas, DrawReader

SMALL = dict(image_shape=(12, 12, 1), latent_dim=8, n=3, steps=4, units=16)


def small_gan(cell="lstm", **kwargs):
    generator, discriminator = draw(cell=cell, **SMALL)
    gan = DRAWGAN(generator, discriminator, latent_dim=8, **kwargs)
    gan.compile(
        keras.optimizers.Adam(1e-3, beta_1=0.5),
        keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    return gan


def latents(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4, 8)).astype("float32")


def test_generator_takes_one_latent_per_step():
    generator, discriminator = draw(**SMALL)
    assert generator.input_shape == (None, 4, 8)
    assert generator.output_shape == (None, 12, 12, 1)
    assert discriminator.output_shape == (None, 1)


def test_canvas_is_the_running_sum_of_the_writes():
    gan = small_gan()
    z = latents(3)
    images, canvases, attention = gan.generate(3, z=z, return_steps=True)
    assert canvases.shape == (3, 4, 12, 12, 1) and attention.shape == (3, 4, 5)
    np.testing.assert_array_equal(images, canvases[:, -1])
    # Recompute c_t = c_0 + sum of writes from the layers, step by step.
    generator = gan.generator
    hidden = keras.ops.convert_to_numpy(generator.get_layer("g_rnn")(z))
    canvas_layer = generator.get_layer("g_canvas")
    canvas = canvas_layer.initial_canvas.numpy()[None]
    for t in range(4):
        written, where = canvas_layer.write(hidden[:, t])
        canvas = canvas + keras.ops.convert_to_numpy(written)
        np.testing.assert_allclose(canvases[:, t], np.tanh(canvas), atol=1e-5)
        np.testing.assert_allclose(attention[:, t], where, rtol=1e-5)


def test_a_step_does_not_change_earlier_canvases():
    gan = small_gan()
    z = latents(2)
    changed = z.copy()
    changed[:, 2] = 5.0
    _, before, _ = gan.generate(2, z=z, return_steps=True)
    _, after, _ = gan.generate(2, z=changed, return_steps=True)
    np.testing.assert_array_equal(before[:, :2], after[:, :2])
    assert np.abs(before[:, 2:] - after[:, 2:]).max() > 1e-4


def test_initial_canvas_from_the_data_mean():
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.2, 0.3, size=(50, 12, 12, 1)), -1, 1)
    layer = DrawCanvas(3, (12, 12, 1))
    layer.build((None, 4, 16))
    layer.initialize_from(images)
    np.testing.assert_allclose(
        np.tanh(layer.initial_canvas.numpy()), images.mean(axis=0), atol=1e-5
    )
    with pytest.raises(ValueError, match=r"Received: images.shape=\(50, 12, 12\)"):
        layer.initialize_from(images[..., 0])


def test_sigmoid_canvas_for_unit_range_data():
    images = np.random.default_rng(0).uniform(0.1, 0.9, size=(20, 6, 6, 2))
    layer = DrawCanvas(2, (6, 6, 2), activation="sigmoid")
    layer.build((None, 3, 5))
    layer.initialize_from(images)
    mean = 1 / (1 + np.exp(-layer.initial_canvas.numpy()))
    np.testing.assert_allclose(mean, images.mean(axis=0), atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
def test_reader_first_glimpse_ignores_the_image(cell):
    reader = DrawReader(3, steps=3, units=6, cell=cell, return_attention=True)
    rng = np.random.default_rng(1)
    a, b = (rng.uniform(-1, 1, size=(2, 10, 10, 1)).astype("float32") for _ in "ab")
    last_a, where_a = reader(a)
    last_b, where_b = reader(b)
    assert last_a.shape == (2, 6) and where_a.shape == (2, 3, 5)
    # h_0 = 0, so the first read is placed before anything is seen...
    np.testing.assert_allclose(where_a[:, 0], where_b[:, 0], rtol=1e-6)
    # ...and what it sees moves the later reads and the final state.
    assert np.abs(where_a[:, 1:] - where_b[:, 1:]).max() > 0
    assert np.abs(last_a - last_b).max() > 0


def test_fit_updates_both_networks():
    gan = small_gan(ema=0.9)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, size=(32, 12, 12, 1)).astype("float32")
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    history = gan.fit(real, batch_size=16, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))
    for before, model in ((g_before, gan.generator), (d_before, gan.discriminator)):
        after = model.get_weights()
        assert all(np.abs(x - y).max() > 0 for x, y in zip(before, after, strict=True))


def test_fit_with_explicit_latents():
    gan = small_gan()
    real = np.zeros((8, 12, 12, 1), "float32")
    z = np.zeros((8, 2, 4, 8), "float32")
    gan.fit(real, z, batch_size=8, epochs=1, verbose=0)


def test_generate_checks_z():
    gan = small_gan()
    with pytest.raises(ValueError, match=r"Received: z.shape=\(2, 3, 8\)"):
        gan.generate(2, z=np.zeros((2, 3, 8)))
    assert gan.generate(5, seed=0).shape == (5, 12, 12, 1)
    np.testing.assert_array_equal(gan.generate(3, seed=7), gan.generate(3, seed=7))


def test_save_and_load_round_trip(tmp_path):
    gan = small_gan(ema=0.99)
    real = np.random.default_rng(0).uniform(-1, 1, (16, 12, 12, 1)).astype("float32")
    gan.fit(real, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "draw.keras"
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, DRAWGAN)
    z = latents(4)
    for got, want in zip(
        restored.generate(4, z=z, return_steps=True),
        gan.generate(4, z=z, return_steps=True),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    restored.fit(real, batch_size=8, epochs=1, verbose=0)


def test_rejects_unknown_cell():
    with pytest.raises(ValueError, match="Received: cell='transformer'"):
        draw(cell="transformer", **{k: v for k, v in SMALL.items()})


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_generator_exports_with_builtin_ops(cell, tmp_path):
    generator, _ = draw(cell=cell, **SMALL)
    rng = np.random.default_rng(2)
    for weight in generator.weights:
        weight.assign(rng.normal(scale=0.2, size=weight.shape))
    path = export.to_litert(generator, tmp_path / "draw.tflite")
    assert export.verify(path, generator, n=8) < 1e-4
    assert not [op for op in export.operator_names(path) if op.startswith("CUSTOM")]
    assert export.LiteRTGenerator(path).latent_shape == (4, 8)


class DrawBlocksHarnessTest(testing.TestCase):
    def test_canvas_layer_harness(self):
        self.run_layer_test(
            DrawCanvas,
            init_kwargs={"n": 2, "image_shape": (6, 5, 1)},
            input_shape=(2, 3, 4),
            expected_output_shape=((2, 6, 5, 1), (2, 3, 6, 5, 1), (2, 3, 5)),
            expected_num_trainable_weights=5,
        )

    def test_reader_layer_harness(self):
        for cell in ("lstm", "gru", "simple"):  # 3 cell weights + the read's 2
            self.run_layer_test(
                DrawReader,
                init_kwargs={"n": 2, "steps": 2, "units": 3, "cell": cell},
                input_shape=(2, 6, 6, 1),
                expected_output_shape=(2, 3),
                expected_num_trainable_weights=5,
            )
