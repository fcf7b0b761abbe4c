import os
import tempfile
import warnings

import keras
import numpy as np
import pytest
from keras.layers import SpectralNormalization

from kgan.layers import Maxout, ParametricSoftsign
from kgan.models import GAN, dcgan, vanilla


def tiny_gan(loss="non_saturating", d_steps=1, ema=None, activation="lrelu", seed=None):
    generator, discriminator = dcgan(width=0.125, activation=activation, latent_dim=8)
    gan = GAN(
        generator, discriminator, latent_dim=8, loss=loss, d_steps=d_steps, ema=ema,
        seed=seed,
    )  # fmt: skip
    gan.compile(
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    return gan


def real_images(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, 28, 28, 1)).astype("float32")


def test_fit_reports_losses_and_counts_steps():
    keras.utils.set_random_seed(0)
    gan = tiny_gan(d_steps=2)
    history = gan.fit(real_images(32), batch_size=8, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert np.isfinite(history.history["d_loss"][0])
    assert int(gan.g_optimizer.iterations.numpy()) == 4
    assert int(gan.d_optimizer.iterations.numpy()) == 8


def test_call_and_generate():
    gan = tiny_gan()
    z = np.zeros((3, 8), np.float32)
    np.testing.assert_allclose(gan(z), gan.generator(z))
    images = gan.generate(5, seed=7)
    assert images.shape == (5, 28, 28, 1)
    assert images.min() >= -1 and images.max() <= 1
    np.testing.assert_array_equal(images, gan.generate(5, seed=7))
    assert not np.array_equal(images, gan.generate(5, seed=8))


def test_ema_generator_averages_weights():
    keras.utils.set_random_seed(2)
    gan = tiny_gan(ema=0.75)
    before = [w.numpy() for w in gan.generator.trainable_weights]
    gan.fit(real_images(8), batch_size=8, epochs=1, verbose=0)
    after = [w.numpy() for w in gan.generator.trainable_weights]
    trainable = [w.trainable for w in gan.generator.weights]
    averaged = [
        w.numpy()
        for w, t in zip(gan.ema_generator.weights, trainable, strict=True)
        if t
    ]
    for average, old, new in zip(averaged, before, after, strict=True):
        np.testing.assert_allclose(average, 0.75 * old + 0.25 * new, atol=1e-6)
    z = np.ones((2, 8), np.float32)
    np.testing.assert_allclose(gan(z), gan.ema_generator(z))


def test_explicit_latents_fix_the_noise():
    images = real_images(8)
    latents = np.random.default_rng(3).standard_normal((8, 2, 8)).astype("float32")

    def weights_after(noise_seed, z):
        keras.utils.set_random_seed(4)  # the same initial weights every time
        gan = tiny_gan(activation="psf", seed=noise_seed)
        gan.fit(images, z, batch_size=8, epochs=1, verbose=0, shuffle=False)
        return [w.numpy() for w in gan.generator.weights]

    fixed = weights_after(1, latents)
    # Another seed of the train-step noise, the same latents: the same update.
    for a, b in zip(fixed, weights_after(2, latents), strict=True):
        np.testing.assert_array_equal(a, b)
    # Other latents: another update.
    moved = weights_after(1, -latents)
    assert max(np.abs(a - b).max() for a, b in zip(fixed, moved, strict=True)) > 0


def test_save_load_and_continue_training_without_warnings():
    keras.utils.set_random_seed(5)
    gan = tiny_gan(ema=0.9)
    images = real_images(16)
    gan.fit(images, batch_size=8, epochs=1, verbose=0)
    z = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "gan.keras")
        gan.save(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            restored = keras.saving.load_model(path)
            np.testing.assert_array_equal(restored(z), gan(z))
            np.testing.assert_array_equal(restored.generator(z), gan.generator(z))
            assert int(restored.g_optimizer.iterations.numpy()) == 2
            for a, b in zip(
                restored.d_optimizer.variables, gan.d_optimizer.variables, strict=True
            ):
                np.testing.assert_array_equal(a.numpy(), b.numpy())
            restored.fit(images, batch_size=8, epochs=1, verbose=0)
        keras_warnings = [
            w for w in caught if not issubclass(w.category, DeprecationWarning)
        ]
        assert keras_warnings == [], [str(w.message) for w in keras_warnings]
        assert int(restored.g_optimizer.iterations.numpy()) == 4

        generator_path = os.path.join(directory, "generator.keras")
        gan.generator.save(generator_path)
        generator = keras.saving.load_model(generator_path)
        np.testing.assert_array_equal(generator(z), gan.generator(z))


def test_bad_arguments():
    generator, discriminator = dcgan(width=0.125, latent_dim=8)
    with pytest.raises(ValueError, match="Received: latent_dim=16"):
        GAN(generator, discriminator, latent_dim=16)
    with pytest.raises(ValueError, match="Received: d_steps=0"):
        GAN(generator, discriminator, latent_dim=8, d_steps=0)
    with pytest.raises(ValueError, match="Received: ema=1.5"):
        GAN(generator, discriminator, latent_dim=8, ema=1.5)
    with pytest.raises(ValueError, match="Received: loss='wgan'"):
        GAN(generator, discriminator, latent_dim=8, loss="wgan")
    _, other = dcgan(image_shape=(32, 32, 1), width=0.125, latent_dim=8)
    with pytest.raises(ValueError, match="Received: discriminator.input_shape"):
        GAN(generator, other, latent_dim=8)


def test_images_of_the_wrong_shape():
    gan = tiny_gan()
    wrong = np.zeros((8, 32, 32, 1), np.float32)
    with pytest.raises(ValueError, match="Received: images.shape=\\(8, 32, 32, 1\\)"):
        gan.fit(wrong, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Received: latents.shape"):
        gan.fit(real_images(8), np.zeros((8, 8), np.float32), batch_size=8, verbose=0)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("activation", ["lrelu", "psf"])
def test_dcgan_shapes_and_activations(size, activation):
    generator, discriminator = dcgan(
        image_shape=(size, size, 3), width=0.25, activation=activation
    )
    assert generator.output_shape == (None, size, size, 3)
    assert discriminator.output_shape == (None, 1)
    assert generator.layers[-1].activation is keras.activations.tanh
    assert discriminator.layers[-1].activation is keras.activations.linear
    hidden = ParametricSoftsign if activation == "psf" else keras.layers.LeakyReLU
    other = keras.layers.LeakyReLU if activation == "psf" else ParametricSoftsign
    for network in (generator, discriminator):
        acts = [layer for layer in network.layers if isinstance(layer, hidden)]
        assert not any(isinstance(layer, other) for layer in network.layers)
        # one activation after every weighted layer but the output layer
        weighted = [
            layer
            for layer in network.layers
            if isinstance(
                layer,
                (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose),
            )
        ]
        assert len(acts) == len(weighted) - 1


def test_dcgan_width_multiplier_scales_filters():
    small, _ = dcgan(width=0.5)
    large, _ = dcgan(width=1.0)
    assert (
        large.get_layer("g_deconv_0").filters
        == 2 * small.get_layer("g_deconv_0").filters
    )


@pytest.mark.parametrize("size", [28, 64])
def test_dcgan_refine_layers_keep_each_resolution(size):
    plain, _ = dcgan(image_shape=(size, size, 1), width=0.25)
    refined, _ = dcgan(
        image_shape=(size, size, 1), width=0.25, refine_layers=2, refine_kernel=3
    )

    def deconvs(model):
        kind = keras.layers.Conv2DTranspose
        return [layer for layer in model.layers if isinstance(layer, kind)]

    strides = [la.strides[0] for la in deconvs(refined)]
    upsamplings = strides.count(2)
    assert upsamplings == len(deconvs(plain))
    # two stride-1 layers before each upsampling, each keeping the map's shape
    assert strides == ([1, 1, 2] * upsamplings)
    for layer in deconvs(refined):
        if layer.strides[0] == 1:
            assert layer.input.shape == layer.output.shape
        assert layer.kernel_size == ((3, 3) if layer.strides[0] == 1 else (4, 4))
    assert refined.output_shape == plain.output_shape


def test_vanilla_shapes():
    generator, discriminator = vanilla(activation="psf")
    assert generator.output_shape == (None, 28, 28, 1)
    assert discriminator.output_shape == (None, 1)
    assert sum(isinstance(la, ParametricSoftsign) for la in generator.layers) == 2
    assert sum(isinstance(la, ParametricSoftsign) for la in discriminator.layers) == 2


def test_dcgan_initializer_draws_from_radfords_normal():
    keras.utils.set_random_seed(0)
    generator, discriminator = dcgan(initializer="dcgan", width=0.5)
    kernels = [
        layer.kernel.numpy().ravel()
        for model in (generator, discriminator)
        for layer in model.layers
        if hasattr(layer, "kernel")
    ]
    assert len(kernels) == 6  # projection, 2 deconvolutions, 2 convs, logit
    values = np.concatenate(kernels)
    assert abs(values.mean()) < 1e-3 and abs(values.std() - 0.02) < 1e-3
    glorot, _ = dcgan(width=0.5)
    assert abs(glorot.get_layer("g_out").kernel.numpy().std() - 0.02) > 0.005
    with pytest.raises(ValueError, match="Received: initializer='he'"):
        dcgan(initializer="he")


def test_dcgan_psf_on_most_layers_keeps_the_edges_lrelu():
    generator, discriminator = dcgan(activation="psf", psf_layers="most")
    lrelu = {
        layer.name
        for model in (generator, discriminator)
        for layer in model.layers
        if isinstance(layer, keras.layers.LeakyReLU)
    }
    assert lrelu == {"g_project_act", "d_conv_0_act"}
    psf = [
        la
        for la in generator.layers + discriminator.layers
        if isinstance(la, ParametricSoftsign)
    ]
    everywhere, critic = dcgan(activation="psf")
    psf_all = [
        la
        for la in everywhere.layers + critic.layers
        if isinstance(la, ParametricSoftsign)
    ]
    assert len(psf) == len(psf_all) - 2
    with pytest.raises(ValueError, match="Received: psf_layers='some'"):
        dcgan(psf_layers="some")


@pytest.mark.parametrize("size, at", [(28, 14), (32, 8)])
def test_dcgan_self_attention_and_spectral_norm_train(size, at):
    generator, discriminator = dcgan(
        image_shape=(size, size, 1), width=0.125, attention_at=at, spectral_norm=True
    )
    for model, prefix in ((generator, "g"), (discriminator, "d")):
        attention = model.get_layer(f"{prefix}_attention_{at}")
        assert attention.output.shape[1:3] == (at, at)
        wrapped = [la for la in model.layers if isinstance(la, SpectralNormalization)]
        assert wrapped and all(la.name.endswith("_sn") for la in wrapped)
    gan = GAN(generator, discriminator, latent_dim=100)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    real = np.random.default_rng(0).uniform(-1, 1, (8, size, size, 1))
    history = gan.fit(real.astype("float32"), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    # gamma starts at 0 and learns.
    assert float(generator.get_layer(f"g_attention_{at}").gamma.numpy()) != 0
    with pytest.raises(ValueError, match="Received: attention_at=5"):
        dcgan(attention_at=5)


def test_dcgan_discriminator_units_add_a_hidden_dense_layer():
    _, plain = dcgan(width=0.125)
    assert "d_dense" not in [la.name for la in plain.layers]
    assert plain.get_layer("d_logit").kernel.shape == (7 * 7 * 16, 1)

    _, discriminator = dcgan(width=0.125, discriminator_units=32)
    dense = discriminator.get_layer("d_dense")
    assert dense.kernel.shape == (7 * 7 * 16, 32) and not dense.use_bias
    assert discriminator.get_layer("d_logit").kernel.shape == (32, 1)
    # The head against NumPy: dense, BatchNorm at its initial statistics
    # (inference), LeakyReLU(0.2), logit.
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1))
    features = keras.Model(
        discriminator.input, discriminator.get_layer("d_flatten").output
    ).predict(images, verbose=0)
    hidden = features @ dense.kernel.numpy()
    hidden /= np.sqrt(1.0 + discriminator.get_layer("d_dense_bn").epsilon)
    hidden = np.where(hidden > 0, hidden, 0.2 * hidden)
    logit = discriminator.get_layer("d_logit")
    expected = hidden @ logit.kernel.numpy() + logit.bias.numpy()
    np.testing.assert_allclose(
        discriminator.predict(images, verbose=0), expected, rtol=1e-4, atol=1e-5
    )

    _, normalized = dcgan(width=0.125, discriminator_units=32, spectral_norm=True)
    assert isinstance(normalized.get_layer("d_dense_sn"), SpectralNormalization)


def test_vanilla_maxout_discriminator():
    _, discriminator = vanilla(maxout=True)
    maxouts = [la for la in discriminator.layers if isinstance(la, Maxout)]
    assert [(la.units, la.pieces) for la in maxouts] == [(240, 5), (240, 5)]
    # 784 -> 240 x 5 pieces -> 240 x 5 -> 1
    assert discriminator.count_params() == 785 * 1200 + 241 * 1200 + 241
    assert not any(
        isinstance(la, keras.layers.LeakyReLU) for la in discriminator.layers
    )


def test_network_bad_arguments():
    with pytest.raises(ValueError, match="Received: image_shape=\\(30, 30, 1\\)"):
        dcgan(image_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="Received: activation='relu'"):
        dcgan(activation="relu")
    with pytest.raises(ValueError, match="Received: width=0"):
        dcgan(width=0)
    with pytest.raises(ValueError, match="Received: refine_layers=-1"):
        dcgan(refine_layers=-1)
    with pytest.raises(ValueError, match="Received: refine_kernel=0"):
        dcgan(refine_kernel=0)
    with pytest.raises(ValueError, match="Received: discriminator_units=-1"):
        dcgan(discriminator_units=-1)
    with pytest.raises(ValueError, match="Received: discriminator_units=1.5"):
        dcgan(discriminator_units=1.5)


def test_synchronized_batchnorm_option():
    generator, _ = dcgan(synchronized_batchnorm=True, width=0.125)
    norms = [
        la for la in generator.layers if isinstance(la, keras.layers.BatchNormalization)
    ]
    assert norms and all(la.synchronized for la in norms)


def test_gate_penalty_enters_the_generator_loss():
    from kgan.layers import ScalingGate

    keras.utils.set_random_seed(6)
    z = keras.Input((8,))
    gate = ScalingGate(l1=0.0)
    x = gate(keras.layers.Dense(16)(z))
    image = keras.layers.Reshape((4, 4, 1))(
        keras.layers.Dense(16, activation="tanh")(x)
    )
    generator = keras.Model(z, image)
    d_in = keras.Input((4, 4, 1))
    discriminator = keras.Model(
        d_in, keras.layers.Dense(1)(keras.layers.Flatten()(d_in))
    )
    gan = GAN(generator, discriminator, latent_dim=8)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    images = np.zeros((8, 4, 4, 1), np.float32)
    latents = np.ones((8, 2, 8), np.float32)

    def g_loss():
        history = gan.fit(images, latents, batch_size=8, epochs=1, verbose=0)
        return history.history["g_loss"][0]

    base = g_loss()
    gate.l1 = 0.5
    penalised = g_loss()
    np.testing.assert_allclose(penalised - base, 0.5 * 16, rtol=1e-4)


def test_frozen_discriminator_step_equals_the_generator_update_by_hand():
    import tensorflow as tf

    from kgan.losses import non_saturating_generator

    keras.utils.set_random_seed(7)
    gan = tiny_gan()
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    gan.freeze_discriminator()
    images = real_images(8)
    latents = np.random.default_rng(1).normal(size=(8, 2, 8)).astype("float32")
    generator_before = [w.numpy().copy() for w in gan.generator.weights]
    discriminator_before = [w.numpy().copy() for w in gan.discriminator.weights]
    # By hand: one SGD step on the non-saturating loss of the generator
    # step's latents (the last of each example), D in training mode.
    with tf.GradientTape() as tape:
        fake = gan.generator(latents[:, -1], training=True)
        logits = gan.discriminator(fake, training=True)
        loss = tf.reduce_mean(non_saturating_generator(logits))
    variables = gan.generator.trainable_variables
    gradients = tape.gradient(loss, variables)
    expected = [
        v.numpy() - 0.1 * g.numpy() for v, g in zip(variables, gradients, strict=True)
    ]
    # Undo what the hand pass changed: the BatchNorm statistics.
    for weight, value in zip(gan.generator.weights, generator_before, strict=True):
        weight.assign(value)
    for weight, value in zip(
        gan.discriminator.weights, discriminator_before, strict=True
    ):
        weight.assign(value)
    logs = gan.train_on_batch(images, latents, return_dict=True)
    assert set(logs) == {"g_loss"}
    np.testing.assert_allclose(logs["g_loss"], float(loss), rtol=1e-5)
    for variable, value in zip(variables, expected, strict=True):
        np.testing.assert_allclose(variable.numpy(), value, rtol=1e-4, atol=1e-6)
    # Every weight of D, its moving statistics included, is as it was.
    for weight, value in zip(
        gan.discriminator.weights, discriminator_before, strict=True
    ):
        np.testing.assert_array_equal(weight.numpy(), value)
