"""Adversarial losses as pure functions of discriminator logits.

Every function returns per-example losses (shape `(batch,)`), so that a
trainer can average them over the global batch under a distribution strategy.
`discriminator_loss(name)` and `generator_loss(name)` look them up by name.
"""

import tensorflow as tf
from keras import ops

LOSSES = ("minimax", "non_saturating", "wgan_gp", "hinge", "lsgan")


def _flat(logits):
    return ops.reshape(ops.cast(logits, "float32"), (ops.shape(logits)[0], -1))


def _mean(values):
    return ops.mean(values, axis=-1)


def bce_discriminator(real_logits, fake_logits):
    """`-log D(x) - log(1 - D(G(z)))` with `D = sigmoid(logits)`."""
    return _mean(ops.softplus(-_flat(real_logits))) + _mean(
        ops.softplus(_flat(fake_logits))
    )


def minimax_generator(fake_logits):
    """Goodfellow's original generator loss `log(1 - D(G(z)))`."""
    return -_mean(ops.softplus(_flat(fake_logits)))


def non_saturating_generator(fake_logits):
    """The non-saturating generator loss `-log D(G(z))`."""
    return _mean(ops.softplus(-_flat(fake_logits)))


def wasserstein_discriminator(real_logits, fake_logits):
    """`D(G(z)) - D(x)`; add `gradient_penalty` for WGAN-GP."""
    return _mean(_flat(fake_logits)) - _mean(_flat(real_logits))


def wasserstein_generator(fake_logits):
    """`-D(G(z))`, also the generator loss of the hinge GAN."""
    return -_mean(_flat(fake_logits))


def hinge_discriminator(real_logits, fake_logits):
    """`max(0, 1 - D(x)) + max(0, 1 + D(G(z)))`."""
    return _mean(ops.relu(1.0 - _flat(real_logits))) + _mean(
        ops.relu(1.0 + _flat(fake_logits))
    )


def lsgan_discriminator(real_logits, fake_logits):
    """Least squares: `(D(x) - 1)^2 / 2 + D(G(z))^2 / 2`."""
    return 0.5 * _mean(ops.square(_flat(real_logits) - 1.0)) + 0.5 * _mean(
        ops.square(_flat(fake_logits))
    )


def lsgan_generator(fake_logits):
    """Least squares: `(D(G(z)) - 1)^2 / 2`."""
    return 0.5 * _mean(ops.square(_flat(fake_logits) - 1.0))


_DISCRIMINATOR = {
    "minimax": bce_discriminator,
    "non_saturating": bce_discriminator,
    "wgan_gp": wasserstein_discriminator,
    "hinge": hinge_discriminator,
    "lsgan": lsgan_discriminator,
}
_GENERATOR = {
    "minimax": minimax_generator,
    "non_saturating": non_saturating_generator,
    "wgan_gp": wasserstein_generator,
    "hinge": wasserstein_generator,
    "lsgan": lsgan_generator,
}


def check_loss_name(name):
    if name not in LOSSES:
        raise ValueError(
            f"Unknown loss. Expected one of {LOSSES}. Received: loss={name!r}"
        )
    return name


def discriminator_loss(name):
    """Returns the per-example discriminator loss function called `name`."""
    return _DISCRIMINATOR[check_loss_name(name)]


def generator_loss(name):
    """Returns the per-example generator loss function called `name`."""
    return _GENERATOR[check_loss_name(name)]


def r1_penalty(discriminator, real):
    """R1 penalty `||grad_x D(x)||^2` on real images, per example.

    Args:
        discriminator: Callable from images to logits.
        real: Real images, `(batch, ...)`.

    Returns:
        `(penalty, logits)`: the `(batch,)` penalty and the discriminator's
        logits of `real`, which the loss reuses. Multiply the penalty by
        gamma / 2.

    Reference:
        - Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do
          actually Converge?", ICML 2018.
    """
    return _input_gradient_squares(discriminator, real)


def _input_gradient_squares(discriminator, images):
    """`(||grad_x D(x)||^2 per example, D(x))` for images `x`."""
    images = tf.cast(images, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = discriminator(images, training=True)
    # Each logit depends only on its own example, so the gradient of their
    # sum holds every example's input gradient.
    grads = tape.gradient(tf.cast(logits, tf.float32), images)
    flat = tf.reshape(grads, (tf.shape(grads)[0], -1))
    return tf.reduce_sum(tf.square(flat), axis=1), logits


def gradient_penalty(discriminator, real, fake, alpha, target=1.0):
    """WGAN-GP penalty `(||grad D(x_hat)||_2 - target)^2` per example.

    Args:
        discriminator: Callable from images to logits.
        real: Real images, `(batch, ...)`.
        fake: Generated images of the same shape.
        alpha: Interpolation weights of shape `(batch,)`, drawn from U(0, 1)
            once per example.
        target: The gradient norm the penalty pulls towards. Defaults to 1.

    Returns:
        A `(batch,)` tensor. Multiply by lambda (10 in the paper).

    Reference:
        - Gulrajani et al., "Improved Training of Wasserstein GANs", 2017.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    shape = tf.concat([tf.shape(alpha), tf.ones([tf.rank(real) - 1], tf.int32)], 0)
    alpha = tf.reshape(tf.cast(alpha, tf.float32), shape)
    squares, _ = _input_gradient_squares(discriminator, real + alpha * (fake - real))
    return tf.square(tf.sqrt(squares + 1e-12) - target)
