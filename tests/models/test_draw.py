import keras
import numpy as np
import pytest

from kgan import export
from kgan.models import DRAWGAN, draw

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
    states = generator.get_layer("g_initial_state")(z)
    hidden = generator.get_layer("g_rnn")(z, initial_state=states)
    hidden = keras.ops.convert_to_numpy(hidden)
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


def test_initial_states_are_learned_and_saved(tmp_path):
    gan = small_gan()
    layers = [
        gan.generator.get_layer("g_initial_state"),
        gan.discriminator.get_layer("d_reader").initial_states,
    ]
    before = [[w.numpy().copy() for w in layer.weights] for layer in layers]
    assert [len(b) for b in before] == [2, 2]  # an LSTM's h_0 and c_0
    real = np.random.default_rng(0).uniform(-1, 1, (8, 12, 12, 1)).astype("float32")
    gan.fit(real, batch_size=8, epochs=1, verbose=0)
    for layer, old in zip(layers, before, strict=True):
        for weight, value in zip(layer.weights, old, strict=True):
            assert np.abs(weight.numpy() - value).max() > 0
    gan.save(tmp_path / "draw.keras")
    restored = keras.saving.load_model(tmp_path / "draw.keras")
    saved = restored.generator.get_layer("g_initial_state").weights[0].numpy()
    np.testing.assert_array_equal(saved, layers[0].weights[0].numpy())


def test_sigmoid_rnn_and_zero_states():
    generator, discriminator = draw(cell="sigmoid", initial_state="zeros", **SMALL)
    rnn = generator.get_layer("g_rnn")
    assert rnn.cell.activation is keras.activations.sigmoid
    names = [layer.name for layer in generator.layers]
    assert "g_initial_state" not in names
    z = latents(2)
    hidden = keras.ops.convert_to_numpy(rnn(z))
    # The paper's Eq. 1 from h_0 = 0: h_t = sigmoid(z_t W + h_{t-1} U + b).
    w, u, b = (np.asarray(v.numpy(), np.float64) for v in rnn.weights)
    h = np.zeros((2, u.shape[0]))
    for t in range(z.shape[1]):
        h = 1.0 / (1.0 + np.exp(-(z[:, t] @ w + h @ u + b)))
        np.testing.assert_allclose(hidden[:, t], h, rtol=1e-5, atol=1e-6)


def test_explicit_latents_replace_the_drawn_noise():
    real = np.random.default_rng(0).uniform(-1, 1, (8, 12, 12, 1)).astype("float32")
    z = np.random.default_rng(1).standard_normal((8, 2, 4, 8)).astype("float32")

    def weights_after(seed, latents):
        keras.utils.set_random_seed(0)  # the same initial weights every time
        gan = small_gan(seed=seed)
        gan.fit(real, latents, batch_size=8, epochs=1, verbose=0, shuffle=False)
        return gan.generator.get_weights()

    fixed = weights_after(1, z)
    # Other train-step noise, same latents: the same update.
    for a, b in zip(fixed, weights_after(2, z), strict=True):
        np.testing.assert_array_equal(a, b)
    # Other latents: another update.
    moved = weights_after(1, -z)
    assert max(np.abs(a - b).max() for a, b in zip(fixed, moved, strict=True)) > 0


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


@pytest.mark.parametrize("cell", ["lstm", "sigmoid"])
def test_generator_exports_with_builtin_ops(cell, tmp_path):
    generator, _ = draw(cell=cell, **SMALL)
    rng = np.random.default_rng(2)
    for weight in generator.weights:
        weight.assign(rng.normal(scale=0.2, size=weight.shape))
    path = export.to_litert(generator, tmp_path / "draw.tflite")
    assert export.verify(path, generator, n=8) < 1e-4
    assert not [op for op in export.operator_names(path) if op.startswith("CUSTOM")]
    assert export.LiteRTGenerator(path).latent_shape == (4, 8)
