import os
import subprocess
import sys
import textwrap

# Logical devices must be configured before TensorFlow starts, so the check
# runs in its own interpreter.
SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras

    from kgan.models import GAN, vanilla


    def make():
        keras.utils.set_random_seed(0)
        g, d = vanilla(latent_dim=8, hidden_units=32, discriminator_units=16,
                       dropout=0.0)
        gan = GAN(g, d, latent_dim=8)
        # Plain SGD: a loss averaged per replica instead of over the global
        # batch would double the update, which Adam would hide.
        gan.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        return gan


    def weights(gan):
        return [np.array(w) for w in gan.generator.weights + gan.discriminator.weights]


    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    latents = rng.standard_normal((8, 2, 8)).astype("float32")
    data = tf.data.Dataset.from_tensors((images, latents))

    single = make()
    start = weights(single)
    single_logs = single.fit(data, epochs=1, verbose=0).history

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = make()
    for variable, value in zip(
        mirrored.generator.weights + mirrored.discriminator.weights, start
    ):
        variable.assign(value)
    mirrored_logs = mirrored.fit(data, epochs=1, verbose=0).history

    assert strategy.num_replicas_in_sync == 2
    moved = max(np.abs(a - b).max() for a, b in zip(weights(single), start))
    assert moved > 1e-3, moved
    for a, b in zip(weights(single), weights(mirrored)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(single_logs[key], mirrored_logs[key], rtol=1e-5)
    print("same weights after one step on 1 and 2 replicas; moved", moved)
    """
)


def test_mirrored_step_equals_single_device_step():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "same weights" in result.stdout
