import numpy as np
import pytest

from kgan.metrics import (
    classifier_score,
    frechet_distance,
    kernel_inception_distance,
    mode_coverage,
)


def gaussian(rng, n, mean, scale):
    dim = len(mean)
    mixing = rng.standard_normal((dim, dim)) * scale
    return rng.standard_normal((n, dim)) @ mixing + mean


def test_frechet_distance_matches_the_nonsymmetric_formula():
    rng = np.random.default_rng(0)
    a = gaussian(rng, 500, np.zeros(6), 1.0)
    b = gaussian(rng, 400, np.full(6, 0.5), 0.7)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr sqrt(S_a S_b) = sum of the square roots of the eigenvalues of S_a S_b.
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b)
    expected = (
        np.sum((mu_a - mu_b) ** 2)
        + np.trace(cov_a)
        + np.trace(cov_b)
        - 2 * np.sum(np.sqrt(eigenvalues.real))
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_shifted_sets_is_the_squared_shift():
    a = np.random.default_rng(1).standard_normal((300, 4))
    assert frechet_distance(a, a + [1, 2, 0, 0]) == pytest.approx(5.0, rel=1e-8)


def test_kid_matches_an_explicit_double_sum():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((30, 5)), rng.standard_normal((30, 5)) + 0.3

    def k(x, y):
        return (x @ y / 5 + 1) ** 3

    n = len(a)
    xx = sum(k(a[i], a[j]) for i in range(n) for j in range(n) if i != j)
    yy = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j)
    xy = sum(k(a[i], b[j]) for i in range(n) for j in range(n))
    expected = xx / (n * (n - 1)) + yy / (n * (n - 1)) - 2 * xy / n**2
    mean, std = kernel_inception_distance(a, b, subsets=3, subset_size=30)
    assert mean == pytest.approx(expected, rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_positive_otherwise():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8))
    same, _ = kernel_inception_distance(a, b, subsets=20, subset_size=500)
    shifted, _ = kernel_inception_distance(a, b + 0.5, subsets=20, subset_size=500)
    assert abs(same) < 0.02 < shifted


def one_hot(labels, classes=10, confidence=1.0):
    p = np.full((len(labels), classes), (1 - confidence) / (classes - 1))
    p[np.arange(len(labels)), labels] = confidence
    return p


def test_classifier_score_bounds():
    balanced = one_hot(np.arange(1000) % 10)
    assert classifier_score(balanced) == pytest.approx(10.0, rel=1e-6)
    assert classifier_score(one_hot(np.zeros(100, int))) == pytest.approx(1.0)
    assert classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_single_class_covers_one_mode():
    result = mode_coverage(one_hot(np.full(500, 3)))
    assert result == {
        "classes_covered": 1,
        "kl_uniform": pytest.approx(np.log(10)),
        "confident_share": 1.0,
    }


def test_balanced_confident_set_covers_every_mode():
    result = mode_coverage(one_hot(np.arange(1000) % 10, confidence=0.95))
    assert result["classes_covered"] == 10
    assert result["kl_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert result["confident_share"] == 1.0


def test_unconfident_and_stray_samples_do_not_count():
    labels = np.concatenate([np.zeros(990, int), np.arange(1, 10)])
    unsure = mode_coverage(one_hot(np.arange(1000) % 10, confidence=0.5))
    assert unsure["classes_covered"] == 0 and unsure["confident_share"] == 0.0
    assert mode_coverage(one_hot(labels))["classes_covered"] == 1


def test_errors():
    with pytest.raises(ValueError, match="rows sum to 1"):
        mode_coverage(np.ones((3, 10)))
    with pytest.raises(ValueError, match="same dim"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
