"""Linear CKA against NumPy references written with explicit n x n kernels, and its known properties."""

from __future__ import annotations

import numpy as np
import pytest

from ctxemb.analysis import cka_matrix, linear_cka, minibatch_cka


def _centring(n: int) -> np.ndarray:
    return np.eye(n) - np.ones((n, n)) / n


def reference_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Kornblith et al. 2019, eq. via kernels: HSIC(K, L) = tr(K H L H) / (n - 1)^2, linear kernels."""
    h = _centring(len(x))
    k, lk = x @ x.T, y @ y.T

    def hsic(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.trace(a @ h @ b @ h))

    return hsic(k, lk) / np.sqrt(hsic(k, k) * hsic(lk, lk))


def reference_debiased(x: np.ndarray, y: np.ndarray) -> float:
    """Song et al. 2012 unbiased HSIC_1 on explicit kernels with zeroed diagonals (features centred first)."""
    x = x - x.mean(0)
    y = y - y.mean(0)
    n = len(x)

    def hsic1(k: np.ndarray, lk: np.ndarray) -> float:
        k = k - np.diag(np.diag(k))
        lk = lk - np.diag(np.diag(lk))
        one = np.ones(n)
        value = np.trace(k @ lk) + (one @ k @ one) * (one @ lk @ one) / ((n - 1) * (n - 2))
        value -= 2.0 / (n - 2) * (one @ k @ lk @ one)
        return value / (n * (n - 3))

    k, lk = x @ x.T, y @ y.T
    return hsic1(k, lk) / np.sqrt(hsic1(k, k) * hsic1(lk, lk))


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 12))
    y = np.tanh(x @ rng.normal(size=(12, 9))) + 0.5 * rng.normal(size=(60, 9))
    return x, y


def test_matches_kernel_references(pair):
    x, y = pair
    assert linear_cka(x, y) == pytest.approx(reference_cka(x, y), rel=1e-9)
    assert linear_cka(x, y, debiased=True) == pytest.approx(reference_debiased(x, y), rel=1e-9)
    # the two estimators differ at this small n: the debiased one is lower
    assert linear_cka(x, y, debiased=True) < linear_cka(x, y) - 0.01


@pytest.mark.parametrize("debiased", [False, True])
def test_identity_orthogonal_and_scaling_invariance(pair, debiased):
    x, y = pair
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert linear_cka(x, x, debiased) == pytest.approx(1.0, abs=1e-12)
    base = linear_cka(x, y, debiased)
    assert linear_cka(x @ q, y, debiased) == pytest.approx(base, rel=1e-9)
    assert linear_cka(7.5 * x, 0.01 * y, debiased) == pytest.approx(base, rel=1e-9)
    assert linear_cka(x + 3.0, y - 2.0, debiased) == pytest.approx(base, rel=1e-9)  # centring
    # not invariant to an arbitrary invertible linear map (that is what separates CKA from CCA)
    a = rng.normal(size=(12, 12)) @ np.diag(np.geomspace(1, 100, 12))
    assert abs(linear_cka(x @ a, y, debiased) - base) > 1e-3


def test_unrelated_representations():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(400, 50)), rng.normal(size=(400, 50))
    assert linear_cka(x, y, debiased=True) == pytest.approx(0.0, abs=0.02)
    assert linear_cka(x, y) > 0.08  # the biased estimator is pulled up when n is not >> dim


def test_minibatch_matches_full_debiased():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 20))
    y = x[:, :10] @ rng.normal(size=(10, 15)) + rng.normal(size=(3000, 15))
    full = linear_cka(x, y, debiased=True)
    assert minibatch_cka(x, y, batch_size=3000) == pytest.approx(full, rel=1e-9)  # one batch is the full estimator
    assert minibatch_cka(x, y, batch_size=500) == pytest.approx(full, abs=0.02)
    assert minibatch_cka(x, x, batch_size=500) == pytest.approx(1.0, abs=1e-12)


def test_matrix_within_and_across():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(200, 16))
    layers = np.stack([base, base @ rng.normal(size=(16, 16)), rng.normal(size=(200, 16))])
    m = cka_matrix(layers)
    assert m.shape == (3, 3)
    np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-12)
    np.testing.assert_allclose(m, m.T)
    assert m[0, 1] == pytest.approx(linear_cka(layers[0], layers[1]))
    across = cka_matrix(layers[:2], layers, debiased=True)
    assert across.shape == (2, 3)
    assert across[1, 1] == pytest.approx(1.0)
    assert across[0, 2] == pytest.approx(linear_cka(layers[0], layers[2], debiased=True))
    mini = cka_matrix(layers, batch_size=50)
    assert mini.shape == (3, 3) and mini[0, 0] == pytest.approx(1.0)


def test_bad_input():
    with pytest.raises(ValueError, match="same n units: X has 5 rows, Y has 6"):
        linear_cka(np.ones((5, 2)), np.ones((6, 2)))
    with pytest.raises(ValueError, match="at least 4 units"):
        linear_cka(np.ones((3, 2)), np.ones((3, 2)), debiased=True)
    with pytest.raises(ValueError, match="at least 4 units per batch"):
        minibatch_cka(np.ones((10, 2)), np.ones((10, 2)), batch_size=2)
