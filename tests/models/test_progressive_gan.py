import numpy as np
import pytest

from kgan.models.progressive_gan import ProgressiveGAN
from kgan.models.progressive_schedule import Phase

SMALL = dict(resolution=16, channels=1, fmap_base=32, fmap_max=8)


def real_images(n=16, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, size, size, 1)).astype("float32")


def weights_of(gan, prefix):
    return {
        layer.name: [w.copy() for w in layer.get_weights()]
        for layer in gan.network_layers
        if layer.name.startswith(prefix)
    }


def changed(before, gan, prefix):
    after = weights_of(gan, prefix)
    return {
        name
        for name, values in before.items()
        if any(
            np.abs(a - b).max() > 0 for a, b in zip(values, after[name], strict=True)
        )
    }


@pytest.fixture
def gan():
    model = ProgressiveGAN(**SMALL, ema=0.9)
    model.compile()
    return model


def test_a_low_level_step_touches_only_its_layers(gan):
    gan.set_phase(Phase(8, True, 0, 64))
    g_before, d_before = weights_of(gan, "g_"), weights_of(gan, "d_")
    history = gan.fit(real_images(), batch_size=8, epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))
    # The trained layers of levels 4 and 8, and the fade-in alpha.
    assert changed(g_before, gan, "g_") == {
        "g_8_fade",
        "g_4_dense",
        "g_4_conv",
        "g_4_torgb",
        "g_8_conv0",
        "g_8_conv1",
        "g_8_torgb",
    }
    assert changed(d_before, gan, "d_") == {
        "d_8_fade",
        "d_4_fromrgb",
        "d_8_fromrgb",
        "d_8_conv0",
        "d_8_conv1",
        "d_4_conv",
        "d_4_dense",
        "d_4_score",
    }


def test_fade_in_alpha_follows_images_shown(gan):
    gan.set_phase(Phase(8, True, 0, 64))
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    assert float(gan.images_shown.numpy()) == 16
    g_fade, d_fade = gan.networks.fade_layers(8)
    # alpha is set before each step from the images shown after it: 16 / 64
    assert float(g_fade.alpha.numpy()) == pytest.approx(0.25)
    assert float(d_fade.alpha.numpy()) == pytest.approx(0.25)
    assert float(gan.ema_networks.fade_layers(8)[0].alpha.numpy()) == pytest.approx(
        0.25
    )
    gan.fit(real_images(16), batch_size=8, epochs=3, verbose=0)
    assert float(g_fade.alpha.numpy()) == pytest.approx(1.0)


def test_real_images_are_pooled_and_faded(gan):
    gan.set_phase(Phase(8, True, 0, 100))
    real = real_images(2, 16)
    pooled = real.reshape(2, 8, 2, 8, 2, 1).mean(axis=(2, 4))
    coarse = pooled.reshape(2, 4, 2, 4, 2, 1).mean(axis=(2, 4))
    coarse = coarse.repeat(2, axis=1).repeat(2, axis=2)
    for alpha in (0.0, 0.3, 1.0):
        got = gan._real_at_level(real, alpha)
        np.testing.assert_allclose(got, coarse + alpha * (pooled - coarse), atol=1e-6)
    with pytest.raises(ValueError, match="multiple of 8"):
        gan._real_at_level(real_images(2, 12), 1.0)


def test_ema_is_the_average_update_of_the_trained_weights():
    gan = ProgressiveGAN(**SMALL, ema=0.9, ema_warmup=False)
    gan.compile()
    gan.fit(real_images(8), batch_size=8, epochs=1, verbose=0)  # builds, moves
    pairs = list(gan.ema_pairs())
    averages = [np.array(a.numpy()) for a, _ in pairs]
    gan.fit(real_images(8), batch_size=8, epochs=1, verbose=0)  # one step
    for (average, weight), before in zip(pairs, averages, strict=True):
        if weight.trainable:
            expected = 0.9 * before + 0.1 * weight.numpy()
        else:  # batch statistics are copied
            expected = weight.numpy()
        np.testing.assert_allclose(average.numpy(), expected, rtol=1e-5, atol=1e-7)
    assert any(not np.allclose(a.numpy(), w.numpy()) for a, w in pairs)


def optimizer_state(optimizer):
    return {
        v.name: np.asarray(v.numpy())
        for v in optimizer.variables
        if v.name != "learning_rate"
    }


def test_a_new_phase_resets_both_optimizers(gan):
    gan.set_phase(Phase(8, True, 0, 64))
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        assert int(optimizer.iterations.numpy()) == 2
        assert any(np.abs(v).max() > 0 for v in optimizer_state(optimizer).values())
    learning_rate = float(gan.g_optimizer.learning_rate.numpy())
    gan.set_phase(Phase(8, False, 64, 128))  # the level turns stable
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        assert int(optimizer.iterations.numpy()) == 0
        assert all(not np.any(v) for v in optimizer_state(optimizer).values())
    assert float(gan.g_optimizer.learning_rate.numpy()) == learning_rate
    # The generator updates go on counting, and training continues.
    assert int(gan.generator_updates.numpy()) == 2
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations.numpy()) == 2
    assert int(gan.generator_updates.numpy()) == 4


def test_resuming_inside_a_phase_keeps_the_optimizers(gan):
    phase = Phase(8, True, 0, 64)
    gan.set_phase(phase)
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    before = optimizer_state(gan.g_optimizer)
    gan.set_phase(phase)  # as after a resume: the phase already began
    for name, value in optimizer_state(gan.g_optimizer).items():
        np.testing.assert_array_equal(value, before[name])


def test_no_reset_when_switched_off():
    gan = ProgressiveGAN(**SMALL, ema=None, reset_optimizer_per_level=False)
    gan.compile()
    gan.set_phase(Phase(8, True, 0, 64))
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    gan.set_phase(Phase(8, False, 64, 128))
    assert int(gan.g_optimizer.iterations.numpy()) == 2
    assert gan.get_config()["reset_optimizer_per_level"] is False


def test_ema_warmup_restarts_at_each_level():
    gan = ProgressiveGAN(**SMALL, ema=0.999, ema_warmup=True)
    gan.compile()
    gan.set_phase(Phase(4, False, 0, 16))
    assert float(gan.ema_decay()) == pytest.approx(0.1)  # t = 0: (1 + 0) / 10
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    assert float(gan.ema_decay()) == pytest.approx(3 / 12)  # t = 2
    gan.set_phase(Phase(8, True, 16, 32))  # a new level: t starts again
    assert float(gan.ema_decay()) == pytest.approx(0.1)
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    gan.set_phase(Phase(8, False, 32, 64))  # the same level, stable: t goes on
    assert float(gan.ema_decay()) == pytest.approx(3 / 12)
    # With t large the decay is the configured one.
    gan.generator_updates.assign(10**6)
    assert float(gan.ema_decay()) == pytest.approx(0.999)
    # Without warm-up the decay is constant, and a decay of 0.1 moves the
    # average nearly onto the trained weights in one step.
    assert ProgressiveGAN(**SMALL, ema=0.999).ema_decay() == 0.999


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: ema=1.0"):
        ProgressiveGAN(**SMALL, ema=1.0)
    with pytest.raises(ValueError, match="Received: drift=-1"):
        ProgressiveGAN(**SMALL, drift=-1)


def test_final_ema_generator_exports_with_builtin_ops(gan, tmp_path):
    from kgan import export

    gan.set_phase(Phase(16, False, 0, float("inf")))
    gan.fit(real_images(16), batch_size=8, epochs=1, verbose=0)
    generator = gan.sampler
    assert generator is gan.ema_networks.generator(16)
    path = export.to_litert(generator, tmp_path / "progan.tflite")
    assert export.verify(path, generator, n=4) < 1e-4
    assert not [op for op in export.operator_names(path) if op.startswith("CUSTOM")]
