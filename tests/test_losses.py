import numpy as np
import pytest
import tensorflow as tf

from kgan import losses

REAL = np.array([[2.0], [-1.0]], np.float32)
FAKE = np.array([[0.5], [-3.0]], np.float32)


def softplus(x):
    return np.log1p(np.exp(x))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_bce_discriminator_is_cross_entropy():
    expected = -np.log(sigmoid(REAL[:, 0])) - np.log(1 - sigmoid(FAKE[:, 0]))
    np.testing.assert_allclose(
        losses.discriminator_loss("minimax")(REAL, FAKE), expected, rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.discriminator_loss("non_saturating")(REAL, FAKE), expected, rtol=1e-6
    )


def test_generator_losses_by_hand():
    # log(1 - sigmoid(0.5)) = -softplus(0.5) = -0.974077
    # log(1 - sigmoid(-3)) = -0.048587
    np.testing.assert_allclose(
        losses.generator_loss("minimax")(FAKE), [-0.974077, -0.048587], rtol=1e-5
    )
    # -log(sigmoid(0.5)) = 0.474077; -log(sigmoid(-3)) = 3.048587
    np.testing.assert_allclose(
        losses.generator_loss("non_saturating")(FAKE), [0.474077, 3.048587], rtol=1e-5
    )
    np.testing.assert_allclose(losses.generator_loss("wgan_gp")(FAKE), [-0.5, 3.0])
    np.testing.assert_allclose(losses.generator_loss("hinge")(FAKE), [-0.5, 3.0])
    # (0.5 - 1)^2 / 2 = 0.125; (-3 - 1)^2 / 2 = 8
    np.testing.assert_allclose(losses.generator_loss("lsgan")(FAKE), [0.125, 8.0])


def test_discriminator_losses_by_hand():
    # fake - real
    np.testing.assert_allclose(
        losses.discriminator_loss("wgan_gp")(REAL, FAKE), [-1.5, -2.0]
    )
    # relu(1 - 2) + relu(1 + 0.5) = 1.5; relu(1 + 1) + relu(1 - 3) = 2
    np.testing.assert_allclose(
        losses.discriminator_loss("hinge")(REAL, FAKE), [1.5, 2.0]
    )
    # (2-1)^2/2 + 0.5^2/2 = 0.625; (-1-1)^2/2 + (-3)^2/2 = 6.5
    np.testing.assert_allclose(
        losses.discriminator_loss("lsgan")(REAL, FAKE), [0.625, 6.5]
    )


def test_patch_logits_are_averaged_per_example():
    real = np.ones((2, 4, 4, 1), np.float32)
    fake = np.zeros((2, 4, 4, 1), np.float32)
    np.testing.assert_allclose(
        losses.discriminator_loss("hinge")(real, fake), [1.0, 1.0]
    )


def test_large_logits_give_the_exact_losses():
    # softplus at +-1e4 is 1e4 or 0; a naive log(sigmoid) would give inf.
    big = np.array([[1e4], [-1e4]], np.float32)
    expected_g = {"minimax": [-1e4, 0.0], "non_saturating": [0.0, 1e4]}
    for name in ("minimax", "non_saturating"):
        d_loss = np.ravel(losses.discriminator_loss(name)(big, big))
        np.testing.assert_allclose(d_loss, [1e4, 1e4], rtol=1e-6)
        g_loss = np.ravel(losses.generator_loss(name)(big))
        np.testing.assert_allclose(g_loss, expected_g[name], rtol=1e-6, atol=1e-6)


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = sum(w * x): gradient w everywhere, so the penalty is (|w| - 1)^2.
    w = tf.constant(np.full((1, 2, 2, 1), 0.25), tf.float32)  # |w| = 0.5

    def critic(x, training=True):
        return tf.reduce_sum(w * x, axis=[1, 2, 3])[:, None]

    real = tf.random.normal((3, 2, 2, 1))
    fake = tf.random.normal((3, 2, 2, 1))
    penalty = losses.gradient_penalty(critic, real, fake, tf.constant([0.0, 0.3, 1.0]))
    np.testing.assert_allclose(penalty, [0.25, 0.25, 0.25], rtol=1e-5)


def test_gradient_penalty_uses_the_interpolates():
    # D(x) = sum(x^2) / 2: gradient x_hat, so the penalty depends on alpha.
    def critic(x, training=True):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    real = tf.ones((2, 1, 1, 1))
    fake = tf.fill((2, 1, 1, 1), 3.0)
    penalty = losses.gradient_penalty(critic, real, fake, tf.constant([0.0, 0.5]))
    np.testing.assert_allclose(penalty, [0.0, 1.0], rtol=1e-5)  # |1|-1, |2|-1


def test_r1_penalty_matches_the_numpy_input_gradient():
    import keras

    keras.utils.set_random_seed(3)
    x = keras.Input((3, 2, 1))
    hidden = keras.layers.Dense(5, activation="tanh")(keras.layers.Flatten()(x))
    critic = keras.Model(x, keras.layers.Dense(1)(hidden))
    (w1, b1), (w2, b2) = (critic.layers[i].get_weights() for i in (2, 3))
    real = np.random.default_rng(0).uniform(-1, 1, (4, 3, 2, 1)).astype("float32")

    penalty, logits = losses.r1_penalty(critic, real)

    flat = real.reshape(4, -1)
    activations = np.tanh(flat @ w1 + b1)
    # d logit / d x = W1 ((1 - tanh^2) * w2), one row per example.
    grads = ((1 - activations**2) * w2[:, 0]) @ w1.T
    np.testing.assert_allclose(penalty, np.sum(grads**2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(logits, activations @ w2 + b2, rtol=1e-5)


def test_unknown_loss():
    with pytest.raises(ValueError, match="Received: loss='wasserstein'"):
        losses.generator_loss("wasserstein")
