"""The trainer family: one train step of each trainer against the same update
computed by hand with `tf.GradientTape` and plain SGD, and the seed of the
train-step noise."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.models import GAN, Pix2Pix
from kgan.models.progressive_gan import ProgressiveGAN
from kgan.models.progressive_schedule import Phase

LEARNING_RATE = 0.05

# Each loss by hand from the logits: (discriminator, generator), both means.
softplus, relu = tf.math.softplus, tf.nn.relu
LOSSES_BY_HAND = {
    "minimax": (
        lambda r, f: tf.reduce_mean(softplus(-r) + softplus(f)),
        lambda f: -tf.reduce_mean(softplus(f)),  # log(1 - D(G(z)))
    ),
    "non_saturating": (
        lambda r, f: tf.reduce_mean(softplus(-r) + softplus(f)),
        lambda f: tf.reduce_mean(softplus(-f)),  # -log D(G(z))
    ),
    "hinge": (
        lambda r, f: tf.reduce_mean(relu(1.0 - r) + relu(1.0 + f)),
        lambda f: -tf.reduce_mean(f),
    ),
    "lsgan": (
        lambda r, f: tf.reduce_mean(0.5 * tf.square(r - 1.0) + 0.5 * tf.square(f)),
        lambda f: tf.reduce_mean(0.5 * tf.square(f - 1.0)),
    ),
    "wgan_gp": (
        lambda r, f: tf.reduce_mean(f - r),
        lambda f: -tf.reduce_mean(f),
    ),
}


class LatentRecorder(keras.layers.Layer):
    """Passes its input through and keeps a copy of every training input."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=False):
        if training:
            self.seen.append(keras.ops.convert_to_numpy(inputs))
        return inputs


def mlp_networks(latent_dim=4, pixels=6, recorder=None):
    keras.utils.set_random_seed(0)
    z = keras.Input((latent_dim,))
    hidden = recorder(z) if recorder is not None else z
    hidden = keras.layers.Dense(8, activation="tanh")(hidden)
    image = keras.layers.Dense(pixels, activation="tanh")(hidden)
    generator = keras.Model(z, keras.layers.Reshape((pixels, 1, 1))(image))
    x = keras.Input((pixels, 1, 1))
    logit = keras.layers.Dense(1)(
        keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(x))
    )
    return generator, keras.Model(x, logit)


def sgd():
    return keras.optimizers.SGD(LEARNING_RATE)


def apply_sgd(tape, loss, variables):
    """The plain SGD update w <- w - lr * dloss/dw, by hand."""
    for variable, gradient in zip(
        variables, tape.gradient(loss, variables), strict=True
    ):
        variable.assign(variable - LEARNING_RATE * gradient)


def penalty_by_hand(discriminator, real, fake, mix):
    """WGAN-GP's (||grad D(x_hat)|| - 1)^2 per example, x_hat between the
    real and the fake image by `mix`."""
    mixed = real + tf.reshape(mix, (-1, 1, 1, 1)) * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = discriminator(mixed)
    gradients = tape.gradient(scores, mixed)
    slopes = tf.norm(tf.reshape(gradients, (len(mix), -1)), axis=1)
    return tf.square(slopes - 1.0)


def snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def restore(variables, values):
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def fit_one_step(model, *data):
    history = model.fit(
        *data, batch_size=len(data[0]), epochs=1, verbose=0, shuffle=False
    )
    return {k: v[0] for k, v in history.history.items()}


def assert_same_weights(expected, variables):
    for want, variable in zip(expected, variables, strict=True):
        np.testing.assert_allclose(variable.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", sorted(LOSSES_BY_HAND))
def test_gan_step_equals_the_update_by_hand(loss):
    generator, discriminator = mlp_networks()
    gan = GAN(generator, discriminator, latent_dim=4, loss=loss, seed=11)
    gan.compile(sgd(), sgd(), jit_compile=False)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (5, 6, 1, 1)).astype("float32")
    latents = rng.standard_normal((5, 2, 4)).astype("float32")
    start = snapshot(gan.variables)

    # The reference: the discriminator step on latents[:, 0], then the
    # generator step on latents[:, 1] against the updated discriminator.
    noise = keras.random.SeedGenerator(11)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    with tf.GradientTape() as tape:
        fake = generator(latents[:, 0], training=True)
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        d_loss = LOSSES_BY_HAND[loss][0](real_logits, fake_logits)
        if loss == "wgan_gp":
            alpha = tf.random.stateless_uniform((5,), seed=noise.next())
            penalty = penalty_by_hand(discriminator, real, fake, alpha)
            d_loss += 10.0 * tf.reduce_mean(penalty)
    apply_sgd(tape, d_loss, d_vars)
    with tf.GradientTape() as tape:
        fake_logits = discriminator(generator(latents[:, 1], training=True))
        g_loss = LOSSES_BY_HAND[loss][1](fake_logits)
    apply_sgd(tape, g_loss, g_vars)
    expected = snapshot(g_vars + d_vars)

    restore(gan.variables, start)
    logs = fit_one_step(gan, real, latents)
    assert_same_weights(expected, g_vars + d_vars)
    np.testing.assert_allclose(logs["d_loss"], float(d_loss), rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], float(g_loss), rtol=1e-5)
    if loss == "wgan_gp":
        np.testing.assert_allclose(
            logs["gp"], float(tf.reduce_mean(penalty)), rtol=1e-5
        )


@pytest.mark.parametrize("loss", ["non_saturating", "hinge", "wgan_gp"])
def test_simultaneous_step_takes_both_gradients_before_either_update(loss):
    generator, discriminator = mlp_networks()
    gan = GAN(generator, discriminator, 4, loss=loss, update="simultaneous", seed=11)
    gan.compile(sgd(), sgd(), jit_compile=False)
    assert GAN.from_config(gan.get_config()).update == "simultaneous"
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (5, 6, 1, 1)).astype("float32")
    latents = rng.standard_normal((5, 1, 4)).astype("float32")
    start = snapshot(gan.variables)

    # The reference: one batch of fakes; both losses, and both gradients,
    # from the networks as they were before the step.
    noise = keras.random.SeedGenerator(11)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(latents[:, 0], training=True)
        fake_logits = discriminator(fake)
        d_loss = LOSSES_BY_HAND[loss][0](discriminator(real), fake_logits)
        if loss == "wgan_gp":
            alpha = tf.random.stateless_uniform((5,), seed=noise.next())
            d_loss += 10.0 * tf.reduce_mean(
                penalty_by_hand(discriminator, real, fake, alpha)
            )
        g_loss = LOSSES_BY_HAND[loss][1](fake_logits)
    g_grads = tape.gradient(g_loss, g_vars)
    apply_sgd(tape, d_loss, d_vars)
    for variable, gradient in zip(g_vars, g_grads, strict=True):
        variable.assign(variable - LEARNING_RATE * gradient)
    expected = snapshot(g_vars + d_vars)

    restore(gan.variables, start)
    logs = fit_one_step(gan, real, latents)
    assert_same_weights(expected, g_vars + d_vars)
    np.testing.assert_allclose(logs["d_loss"], float(d_loss), rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], float(g_loss), rtol=1e-5)


def test_simultaneous_update_arguments():
    generator, discriminator = mlp_networks()
    with pytest.raises(ValueError, match="Received: d_steps=2"):
        GAN(generator, discriminator, latent_dim=4, update="simultaneous", d_steps=2)
    with pytest.raises(ValueError, match="Received: update='joint'"):
        GAN(generator, discriminator, latent_dim=4, update="joint")
    gan = GAN(generator, discriminator, latent_dim=4, update="simultaneous")
    gan.compile(sgd(), sgd(), jit_compile=False)
    real = np.zeros((5, 6, 1, 1), np.float32)
    with pytest.raises(ValueError, match=r"\(batch, 1, 4\)"):
        fit_one_step(gan, real, np.zeros((5, 2, 4), np.float32))


def test_r1_penalty_joins_the_discriminator_step():
    generator, discriminator = mlp_networks()
    gan = GAN(generator, discriminator, latent_dim=4, r1_gamma=2.0, seed=11)
    gan.compile(sgd(), sgd(), jit_compile=False)
    assert GAN.from_config(gan.get_config()).r1_gamma == 2.0
    rng = np.random.default_rng(0)
    real = tf.constant(rng.uniform(-1, 1, (5, 6, 1, 1)), tf.float32)
    latents = rng.standard_normal((5, 2, 4)).astype("float32")
    start = snapshot(gan.variables)

    # The reference: the non-saturating D loss plus gamma/2 ||grad_x D(x)||^2
    # on the real images, then the generator step as without R1.
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    with tf.GradientTape() as tape:
        with tf.GradientTape() as inner:
            inner.watch(real)
            real_logits = discriminator(real)
        slopes = inner.gradient(real_logits, real)
        r1 = tf.reduce_sum(tf.square(tf.reshape(slopes, (5, -1))), axis=1)
        fake_logits = discriminator(generator(latents[:, 0], training=True))
        d_loss = LOSSES_BY_HAND["non_saturating"][0](real_logits, fake_logits)
        d_loss += tf.reduce_mean(r1)  # gamma / 2 = 1
    apply_sgd(tape, d_loss, d_vars)
    with tf.GradientTape() as tape:
        fake_logits = discriminator(generator(latents[:, 1], training=True))
        g_loss = LOSSES_BY_HAND["non_saturating"][1](fake_logits)
    apply_sgd(tape, g_loss, g_vars)
    expected = snapshot(g_vars + d_vars)

    restore(gan.variables, start)
    logs = fit_one_step(gan, real.numpy(), latents)
    assert_same_weights(expected, g_vars + d_vars)
    np.testing.assert_allclose(logs["d_loss"], float(d_loss), rtol=1e-5)
    np.testing.assert_allclose(logs["r1"], float(tf.reduce_mean(r1)), rtol=1e-5)
    with pytest.raises(ValueError, match="r1_gamma"):
        GAN(generator, discriminator, latent_dim=4, r1_gamma=0.0)


def test_progressive_step_at_a_fading_level_equals_the_update_by_hand():
    keras.utils.set_random_seed(0)
    gan = ProgressiveGAN(resolution=8, fmap_base=32, fmap_max=16, ema=None, seed=5)
    gan.compile(sgd(), sgd(), jit_compile=False)
    # The 8 px level fades in over images 100..200; 130 have been shown.
    gan.set_phase(Phase(8, True, 100.0, 200.0))
    gan.images_shown.assign(130.0)
    real = np.random.default_rng(1).uniform(-1, 1, (6, 16, 16, 1)).astype("float32")
    start = snapshot(gan.variables)

    generator, discriminator = gan.level_generator(), gan.level_discriminator()
    alpha = (130.0 + 6 - 100.0) / 100.0  # the fade after this batch
    for layer in gan.networks.fade_layers(8):
        layer.alpha.assign(alpha)
    pooled = real.reshape(6, 8, 2, 8, 2, 1).mean(axis=(2, 4))
    coarse = pooled.reshape(6, 4, 2, 4, 2, 1).mean(axis=(2, 4))
    coarse = coarse.repeat(2, axis=1).repeat(2, axis=2)
    level_real = tf.constant(coarse + alpha * (pooled - coarse), tf.float32)

    noise = keras.random.SeedGenerator(5)
    z = tf.random.stateless_normal((6, gan.latent_dim), seed=noise.next())
    mix = tf.random.stateless_uniform((6,), seed=noise.next())
    with tf.GradientTape() as tape:
        fake = generator(z, training=True)
        real_scores = discriminator(level_real)[:, 0]
        fake_scores = discriminator(fake)[:, 0]
        d_loss = tf.reduce_mean(
            fake_scores
            - real_scores
            + 10.0 * penalty_by_hand(discriminator, level_real, fake, mix)
            + 0.001 * tf.square(real_scores)
        )
    apply_sgd(tape, d_loss, discriminator.trainable_variables)
    z = tf.random.stateless_normal((6, gan.latent_dim), seed=noise.next())
    with tf.GradientTape() as tape:
        g_loss = -tf.reduce_mean(discriminator(generator(z, training=True)))
    apply_sgd(tape, g_loss, generator.trainable_variables)
    gan.images_shown.assign_add(6.0)
    gan.generator_updates.assign_add(1)
    expected = snapshot(gan.variables)

    restore(gan.variables, start)
    logs = fit_one_step(gan, real)
    for variable, want in zip(gan.variables, expected, strict=True):
        if variable.path.endswith("seed_generator_state"):
            continue  # the reference drew from a copy of the generator
        np.testing.assert_allclose(variable.numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logs["d_loss"], float(d_loss), rtol=1e-5)
    np.testing.assert_allclose(logs["g_loss"], float(g_loss), rtol=1e-5)
    np.testing.assert_allclose(logs["alpha"], alpha, rtol=1e-6)


def recorded_latents(seed, steps=2):
    recorder = LatentRecorder()
    generator, discriminator = mlp_networks(recorder=recorder)
    gan = GAN(generator, discriminator, latent_dim=4, seed=seed)
    gan.compile(sgd(), sgd(), run_eagerly=True)
    real = np.zeros((4 * steps, 6, 1, 1), np.float32)
    history = gan.fit(real, batch_size=4, epochs=1, verbose=0, shuffle=False)
    return np.stack(recorder.seen), history.history["d_loss"][0]


def test_the_seed_sets_the_train_step_noise():
    latents_a, loss_a = recorded_latents(seed=1)
    latents_b, loss_b = recorded_latents(seed=1)
    latents_c, _ = recorded_latents(seed=2)
    # Two steps, each drawing a D batch and a G batch of 4 latents.
    assert latents_a.shape == (4, 4, 4)
    np.testing.assert_array_equal(latents_a, latents_b)
    assert loss_a == loss_b
    assert not np.allclose(latents_a, latents_c)
    # The networks start from the same weights: only the noise differs.


def test_sample_inputs_and_bad_arguments():
    generator, discriminator = mlp_networks()
    gan = GAN(generator, discriminator, latent_dim=4, ema=0.5)
    a, b = gan.sample_inputs(3, seed=4), gan.sample_inputs(3, seed=4)
    assert a.shape == (3, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Received: n=0"):
        gan.sample_inputs(0)
    with pytest.raises(ValueError, match="Received: seed='1'"):
        GAN(generator, discriminator, latent_dim=4, seed="1")
    with pytest.raises(ValueError, match="Received: ema=1.0"):
        Pix2Pix(generator, discriminator, ema=1.0)
    with pytest.raises(TypeError, match="take conditions"):
        Pix2Pix(generator, discriminator).sample_inputs(2)


def conditional_networks(pixels=6):
    keras.utils.set_random_seed(0)
    condition = keras.Input((pixels, 1, 1))
    hidden = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(condition))
    image = keras.layers.Dense(pixels, activation="tanh")(hidden)
    generator = keras.Model(condition, keras.layers.Reshape((pixels, 1, 1))(image))
    c, x = keras.Input((pixels, 1, 1)), keras.Input((pixels, 1, 1))
    pair = keras.layers.Flatten()(keras.layers.Concatenate()([c, x]))
    logit = keras.layers.Dense(1)(keras.layers.Dense(8, activation="tanh")(pair))
    return generator, keras.Model([c, x], logit)


def test_pix2pix_step_equals_the_update_by_hand():
    generator, discriminator = conditional_networks()
    gan = Pix2Pix(generator, discriminator, l1_weight=100.0)
    gan.compile(sgd(), sgd(), jit_compile=False)
    rng = np.random.default_rng(0)
    conditions = rng.uniform(-1, 1, (5, 6, 1, 1)).astype("float32")
    real = rng.uniform(-1, 1, (5, 6, 1, 1)).astype("float32")
    start = snapshot(gan.variables)
    conditions_t, real_t = tf.constant(conditions), tf.constant(real)

    # The reference: one forward pass, both losses (pix2pix's D loss is half
    # the BCE; its G loss the non-saturating loss plus 100 x L1), both
    # gradients, then both updates.
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(conditions_t, training=True)
        fake_logits = discriminator([conditions_t, fake], training=True)
        real_logits = discriminator([conditions_t, real_t], training=True)
        adversarial = tf.reduce_mean(softplus(-fake_logits))
        l1 = tf.reduce_mean(tf.abs(real_t - fake))
        g_loss = adversarial + 100.0 * l1
        d_loss = 0.5 * tf.reduce_mean(softplus(-real_logits) + softplus(fake_logits))
    g_grads, d_grads = tape.gradient(g_loss, g_vars), tape.gradient(d_loss, d_vars)
    for variable, gradient in zip(g_vars + d_vars, g_grads + d_grads, strict=True):
        variable.assign(variable - LEARNING_RATE * gradient)
    expected = snapshot(g_vars + d_vars)

    restore(gan.variables, start)
    logs = fit_one_step(gan, conditions, real)
    assert_same_weights(expected, g_vars + d_vars)
    for key, value in (("d_loss", d_loss), ("g_loss", g_loss),
                       ("g_adversarial", adversarial), ("g_l1", l1)):  # fmt: skip
        np.testing.assert_allclose(logs[key], float(value), rtol=1e-5)
