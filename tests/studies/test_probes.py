import keras
import numpy as np
import pytest

from kgan.models import DRAWGAN, draw
from kgan.recipes.gan import DrawConfig
from kgan.studies import probes


def test_sharpness_hand_values():
    checkerboard = np.indices((1, 4, 4))[1:].sum(axis=0) % 2 * 2.0 - 1.0
    stripes = np.tile([[-1.0], [1.0]], (2, 4))[None]  # rows alternate
    assert probes.sharpness(checkerboard[..., None]) == pytest.approx(2.0)
    assert probes.sharpness(stripes[..., None]) == pytest.approx(1.0)
    assert probes.sharpness(np.zeros((2, 4, 4, 1))) == 0.0


def test_z_conditions_are_the_papers():
    rng = np.random.default_rng(0)
    conditions = probes.z_conditions(rng, 3, 6, 4)
    normal = conditions["all N(0,1)"]
    assert len(conditions) == 2 + 6 + 3
    assert not conditions["all zero"].any()
    only = conditions["only z_2 random"]
    np.testing.assert_array_equal(only[:, 1], normal[:, 1])
    assert not np.delete(only, 1, axis=1).any()
    large = conditions["std 10000 at z_3"]
    np.testing.assert_array_equal(large[:, 2], normal[:, 2] * 10000)
    np.testing.assert_array_equal(np.delete(large, 2, axis=1), np.delete(normal, 2, 1))


@pytest.fixture(scope="module")
def tiny_draw():
    keras.utils.set_random_seed(0)
    generator, discriminator = draw(
        image_shape=(8, 8, 1), latent_dim=3, n=2, steps=3, units=8
    )
    return DRAWGAN(generator, discriminator, latent_dim=3)


def test_draw_steps_influence_and_writes(tiny_draw, monkeypatch):
    monkeypatch.setattr(probes, "PROBE_N", 16)
    config = DrawConfig(attention_n=2, seed=0)
    result = probes.draw_steps(tiny_draw, config)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((16, 3, 3)).astype("float32")
    base = tiny_draw.generate(16, z=z)
    expected = []
    for t in range(3):
        changed = z.copy()
        changed[:, t] = rng.standard_normal((16, 3))
        expected.append(np.abs(tiny_draw.generate(16, z=changed) - base).mean() / 2)
    np.testing.assert_allclose(result["step_influence"], expected, rtol=1e-6)
    _, _, attention = tiny_draw.generate(16, seed=0, return_steps=True)
    x, y = attention[..., 0], attention[..., 1]
    inside = ((x >= 1) & (x <= 8) & (y >= 1) & (y <= 8)).mean(axis=0)
    np.testing.assert_allclose(result["on_canvas_share"], inside)
    np.testing.assert_allclose(result["gamma_median"], np.median(attention[..., 4], 0))
    assert result["images"]["steps"].dtype == np.uint8


def test_draw_probes_skip_other_models():
    class NotDraw:
        pass

    assert probes.draw_steps(NotDraw(), DrawConfig()) == {}
    assert probes.draw_z_conditions(NotDraw(), DrawConfig()) == {}
