"""Linear centred kernel alignment (CKA) between representations of the same units.

Kornblith, Norouzi, Lee & Hinton (2019), "Similarity of Neural Network Representations Revisited": with ``X``
``(n, p)`` and ``Y`` ``(n, q)`` centred column-wise, linear CKA is
``CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)``, which equals ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``
for the linear kernels ``K = X X^T``, ``L = Y Y^T``. It is 1 for ``X`` against itself and invariant to orthogonal
transforms and isotropic scaling of either side.

The debiased estimator replaces HSIC by the unbiased estimator of Song et al. (2012),
``HSIC_1(K, L) = [tr(K~ L~) + 1^T K~ 1 1^T L~ 1 / ((n - 1)(n - 2)) - 2 / (n - 2) 1^T K~ L~ 1] / (n (n - 3))``
with ``K~``, ``L~`` the kernels with their diagonal set to zero; it removes the upward bias of CKA when ``n`` is
not much larger than the dimension. Everything is computed in feature space (no ``n x n`` matrix).

The minibatch estimator (Nguyen, Raghu & Kornblith 2021, "Do Wide and Deep Networks Learn the Same Things?")
averages ``HSIC_1`` over minibatches of ``k`` units before taking the ratio:
``CKA_mb = mean_b HSIC_1(K_b, L_b) / sqrt(mean_b HSIC_1(K_b, K_b) mean_b HSIC_1(L_b, L_b))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check(x: np.ndarray, y: np.ndarray, least: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2:
        raise ValueError(f"CKA takes two (n, dim) matrices, got shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CKA compares the same n units: X has {x.shape[0]} rows, Y has {y.shape[0]}")
    if x.shape[0] < least:
        raise ValueError(f"this CKA estimator needs at least {least} units, got {x.shape[0]}")
    return x - x.mean(axis=0), y - y.mean(axis=0)


def _hsic(x: np.ndarray, y: np.ndarray, debiased: bool) -> float:
    """HSIC of centred ``x``, ``y`` up to a factor that cancels in CKA.

    Biased: ``||Y^T X||_F^2`` (``= tr(K H L H)`` for centred features). Debiased: ``n (n - 3) HSIC_1``, written
    with ``a_i = ||x_i||^2`` (the diagonal of ``K``), ``b_i = ||y_i||^2``:
    ``tr(K~ L~) = ||Y^T X||_F^2 - sum_i a_i b_i``, ``1^T K~ 1 = ||sum_i x_i||^2 - sum_i a_i``,
    ``1^T K~ L~ 1 = sum_i (x_i . s_x - a_i)(y_i . s_y - b_i)`` with ``s_x = sum_i x_i``.
    """
    cross = float(np.sum((y.T @ x) ** 2))
    if not debiased:
        return cross
    n: int = x.shape[0]
    a = np.einsum("ij,ij->i", x, x)
    b = np.einsum("ij,ij->i", y, y)
    sx, sy = x.sum(axis=0), y.sum(axis=0)
    ka = x @ sx - a  # K~ 1
    lb = y @ sy - b  # L~ 1
    trace = cross - float(a @ b)
    return trace + float(ka.sum() * lb.sum()) / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * float(ka @ lb)


def linear_cka(x: np.ndarray, y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA between two representations of the same ``n`` units (Kornblith et al. 2019).

    ``CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` after centring each column; with ``debiased=True``
    each HSIC is Song et al.'s (2012) unbiased ``HSIC_1`` (see the module docstring), which can be slightly
    negative for unrelated representations.

    Args:
        x: ``(n, p)``.
        y: ``(n, q)``.
        debiased: use the unbiased HSIC estimator (needs ``n >= 4``).

    Returns:
        CKA, in ``[0, 1]`` for the biased estimator; NaN when one side is constant.
    """
    x, y = _check(x, y, 4 if debiased else 2)
    xy = _hsic(x, y, debiased)
    xx = _hsic(x, x, debiased)
    yy = _hsic(y, y, debiased)
    denominator = np.sqrt(max(xx, 0.0) * max(yy, 0.0))
    return float(xy / denominator) if denominator > 0 else float("nan")


def minibatch_cka(
    x: np.ndarray, y: np.ndarray, batch_size: int = 1024, *, seed: int = 0, debiased: bool = True
) -> float:
    """Minibatch linear CKA (Nguyen, Raghu & Kornblith 2021): HSIC averaged over minibatches, then the ratio.

    ``CKA_mb = mean_b HSIC(K_b, L_b) / sqrt(mean_b HSIC(K_b, K_b) mean_b HSIC(L_b, L_b))``; the units are shuffled
    with ``seed`` and cut into batches of ``batch_size`` (a last, smaller batch of at least 4 units is kept). With
    the unbiased ``HSIC_1`` (default) the estimate does not depend on the batch size in expectation, so memory stays
    at one batch whatever ``n``.

    Args:
        x: ``(n, p)``.
        y: ``(n, q)``.
        batch_size: units per minibatch (at least 4).
        seed: the shuffle's seed.
        debiased: use ``HSIC_1`` (recommended; the biased HSIC depends on the batch size).
    """
    return float(minibatch_cka_matrix([x], [y], batch_size, seed=seed, debiased=debiased)[0, 0])


def cka_matrix(
    a: Sequence[np.ndarray] | np.ndarray,
    b: Sequence[np.ndarray] | np.ndarray | None = None,
    *,
    debiased: bool = False,
    batch_size: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Layer x layer linear CKA: within one model (``b=None``) or across two models on the same units.

    Args:
        a: ``(layers, n, dim)``, or a sequence of ``(n, dim_k)`` arrays.
        b: the other model's ``(layers, n, dim)``; ``None`` compares ``a`` with itself.
        debiased: the unbiased HSIC estimator.
        batch_size: ``None`` for the full-batch estimator, or the minibatch size of :func:`minibatch_cka`
            (always debiased).
        seed: the minibatch shuffle's seed.

    Returns:
        ``(layers_a, layers_b)``.
    """
    a = [np.asarray(m) for m in a]
    b = a if b is None else [np.asarray(m) for m in b]
    if batch_size is not None:
        return minibatch_cka_matrix(a, b, batch_size, seed=seed, debiased=True)
    for other in b:
        if other.shape[0] != a[0].shape[0]:
            raise ValueError(f"CKA compares the same units: {a[0].shape[0]} rows against {other.shape[0]}")
    ca = [_check(m, m, 4 if debiased else 2)[0] for m in a]
    cb = ca if b is a else [_check(m, m, 4 if debiased else 2)[0] for m in b]
    self_a = [_hsic(m, m, debiased) for m in ca]
    self_b = self_a if b is a else [_hsic(m, m, debiased) for m in cb]
    out = np.empty((len(ca), len(cb)))
    for i, x in enumerate(ca):
        for j, y in enumerate(cb):
            if b is a and j < i:
                out[i, j] = out[j, i]
                continue
            denominator = np.sqrt(max(self_a[i], 0.0) * max(self_b[j], 0.0))
            out[i, j] = _hsic(x, y, debiased) / denominator if denominator > 0 else np.nan
    return out


def minibatch_cka_matrix(
    a: Sequence[np.ndarray], b: Sequence[np.ndarray], batch_size: int, *, seed: int = 0, debiased: bool = True
) -> np.ndarray:
    """Layer x layer minibatch CKA; see :func:`minibatch_cka`. Returns ``(len(a), len(b))``."""
    if batch_size < 4:
        raise ValueError(f"batch_size={batch_size}: the unbiased HSIC needs at least 4 units per batch")
    n = a[0].shape[0]
    for m in (*a, *b):
        if m.ndim != 2 or m.shape[0] != n:
            raise ValueError(f"CKA compares the same units: expected ({n}, dim) arrays, got {m.shape}")
    order = np.random.default_rng(seed).permutation(n)
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < 4:
        starts.pop()  # fold a last batch too small for HSIC_1 into the one before
    cross = np.zeros((len(a), len(b)))
    self_a = np.zeros(len(a))
    self_b = np.zeros(len(b))
    for k, start in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n
        rows = order[start:stop]
        if len(rows) < 4:
            raise ValueError(f"minibatch CKA needs at least 4 units, got {n}")
        xa = [m[rows].astype(np.float64) for m in a]
        xa = [m - m.mean(axis=0) for m in xa]
        xb = [m[rows].astype(np.float64) for m in b]
        xb = [m - m.mean(axis=0) for m in xb]
        scale = 1.0 / (len(rows) * (len(rows) - 3)) if debiased else 1.0 / len(rows) ** 2
        self_a += [scale * _hsic(m, m, debiased) for m in xa]
        self_b += [scale * _hsic(m, m, debiased) for m in xb]
        for i, x in enumerate(xa):
            for j, y in enumerate(xb):
                cross[i, j] += scale * _hsic(x, y, debiased)
    denominator = np.sqrt(np.clip(self_a, 0.0, None)[:, None] * np.clip(self_b, 0.0, None)[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, cross / denominator, np.nan)
