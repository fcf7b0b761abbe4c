import math

import keras
import numpy as np
import pytest
from keras.src import testing

from kgan.layers import FadeIn, MinibatchStdDev, PixelNormalization
from kgan.models.progressive import (
    ProgressiveNetworks,
    filters_at,
    resolution_levels,
)
from kgan.models.progressive_schedule import phase_at, phases

SMALL = dict(resolution=16, channels=3, fmap_base=64, fmap_max=16)


@pytest.fixture(scope="module")
def networks():
    return ProgressiveNetworks(**SMALL)


def latents(n, dim, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype("float32")


def images(n, size, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, size, size, 3)).astype("float32")


def set_alphas(networks, resolution, value):
    for layer in networks.fade_layers(resolution):
        layer.alpha.assign(value)


def test_levels_and_filters():
    assert resolution_levels(32) == [4, 8, 16, 32]
    assert resolution_levels(8) == [4, 8]
    for bad in (4, 24, 32.0):
        with pytest.raises(ValueError, match="power of two"):
            resolution_levels(bad)
    # PGGAN's defaults (fmap_base 8192, max 512): 512 up to 32 px, then halving.
    assert [filters_at(r, 8192, 512) for r in (4, 32, 64, 128)] == [512, 512, 256, 128]


def test_shapes_of_every_level(networks):
    for level in networks.levels:
        for fade in (False, True) if level > 4 else (False,):
            generator = networks.generator(level, fade)
            discriminator = networks.discriminator(level, fade)
            assert generator.output_shape == (None, level, level, 3)
            assert discriminator.input_shape == (None, level, level, 3)
            assert discriminator.output_shape == (None, 1)


def test_a_level_holds_only_its_resolution_and_below(networks):
    # What makes a step at a low resolution cost only that resolution.
    names = {layer.name for layer in networks.generator(8, fade=True).layers}
    assert "g_8_conv1" in names and "g_4_torgb" in names
    assert not any(name.startswith("g_16") for name in names)
    names = {layer.name for layer in networks.discriminator(8, fade=True).layers}
    assert "d_8_conv0" in names and "d_4_fromrgb" in names
    assert not any(name.startswith("d_16") for name in names)
    sizes = [networks.generator(r).count_params() for r in networks.levels]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)


def test_levels_share_weights(networks):
    low = networks.generator(8).get_layer("g_4_dense")
    high = networks.generator(16, fade=True).get_layer("g_4_dense")
    assert low is high
    assert networks.discriminator(4).get_layer("d_4_score") is (
        networks.discriminator(16).get_layer("d_4_score")
    )


def test_generator_fade_in_runs_from_the_level_below_to_the_new_level(networks):
    z = latents(4, networks.latent_dim)
    below = keras.ops.convert_to_numpy(networks.generator(8)(z))
    new = keras.ops.convert_to_numpy(networks.generator(16)(z))
    fading = networks.generator(16, fade=True)
    set_alphas(networks, 16, 0.0)
    upsampled = below.repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_allclose(fading(z), upsampled, atol=1e-5)
    set_alphas(networks, 16, 1.0)
    np.testing.assert_allclose(fading(z), new, atol=1e-5)
    set_alphas(networks, 16, 0.25)
    np.testing.assert_allclose(
        fading(z), upsampled + 0.25 * (new - upsampled), atol=1e-5
    )


def test_discriminator_fade_in_runs_from_the_level_below_to_the_new_level(networks):
    x = images(8, 16)
    pooled = x.reshape(8, 8, 2, 8, 2, 3).mean(axis=(2, 4))
    below = keras.ops.convert_to_numpy(networks.discriminator(8)(pooled))
    new = keras.ops.convert_to_numpy(networks.discriminator(16)(x))
    fading = networks.discriminator(16, fade=True)
    set_alphas(networks, 16, 0.0)
    np.testing.assert_allclose(fading(x), below, rtol=1e-4, atol=1e-5)
    set_alphas(networks, 16, 1.0)
    np.testing.assert_allclose(fading(x), new, rtol=1e-4, atol=1e-5)


def test_ablation_switches():
    plain = ProgressiveNetworks(
        **SMALL, pixel_norm=False, minibatch_stddev=False, equalized=False
    )
    generator = plain.generator(16)
    discriminator = plain.discriminator(16)
    assert not any(isinstance(la, PixelNormalization) for la in generator.layers)
    assert not any(isinstance(la, MinibatchStdDev) for la in discriminator.layers)
    assert isinstance(generator.get_layer("g_16_conv0"), keras.layers.Conv2D)
    full = ProgressiveNetworks(**SMALL)
    assert any(isinstance(la, PixelNormalization) for la in full.generator(16).layers)
    assert any(isinstance(la, MinibatchStdDev) for la in full.discriminator(16).layers)
    # the same number of weights either way
    assert generator.count_params() == full.generator(16).count_params()


def test_copy_has_the_same_structure(networks):
    copy = ProgressiveNetworks(**networks.config)
    assert [la.name for la in copy.all_layers] == [
        la.name for la in networks.all_layers
    ]
    for mine, theirs in zip(networks.all_layers, copy.all_layers, strict=True):
        theirs.set_weights(mine.get_weights())
    z = latents(2, networks.latent_dim)
    np.testing.assert_allclose(copy.generator(16)(z), networks.generator(16)(z))


def test_bad_levels(networks):
    with pytest.raises(ValueError, match="Received: resolution=12"):
        networks.generator(12)
    with pytest.raises(ValueError, match="fade=True"):
        networks.discriminator(4, fade=True)


class FadeInTest(testing.TestCase):
    def test_layer_harness(self):
        self.run_layer_test(
            FadeIn,
            init_kwargs={"initial_alpha": 0.5},
            input_shape=((2, 4, 4, 3), (2, 4, 4, 3)),
            expected_output_shape=(2, 4, 4, 3),
            expected_num_trainable_weights=0,
            expected_num_non_trainable_weights=1,
        )

    def test_blend(self):
        layer = FadeIn(initial_alpha=0.3)
        old, new = np.zeros((1, 2)), np.ones((1, 2)) * 10
        self.assertAllClose(layer([old, new]), [[3.0, 3.0]])
        layer.alpha.assign(1.0)
        self.assertAllClose(layer([old, new]), [[10.0, 10.0]])

    def test_rejects_bad_alpha_and_shapes(self):
        with pytest.raises(ValueError, match="Received: initial_alpha=1.5"):
            FadeIn(initial_alpha=1.5)
        with pytest.raises(ValueError, match="same shape"):
            FadeIn()([keras.Input((4, 4, 3)), keras.Input((4, 4, 2))])


def test_schedule_follows_images_shown():
    schedule = phases([4, 8, 16], training_kimg=2, transition_kimg=1)
    assert [(p.resolution, p.fading, p.start, p.end) for p in schedule] == [
        (4, False, 0, 2000),
        (8, True, 2000, 3000),
        (8, False, 3000, 5000),
        (16, True, 5000, 6000),
        (16, False, 6000, math.inf),
    ]
    assert phase_at(schedule, 0).resolution == 4
    fading = phase_at(schedule, 2500)
    assert (fading.resolution, fading.fading) == (8, True)
    assert fading.alpha(2500) == 0.5 and fading.alpha(2000) == 0.0
    assert phase_at(schedule, 4999).alpha(4999) == 1.0
    assert phase_at(schedule, 10**9).resolution == 16
    with pytest.raises(ValueError, match="Received: transition_kimg=0"):
        phases([4, 8], 1, 0)
