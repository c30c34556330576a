"""Per-layer geometry of contextual vectors: anisotropy, self-similarity, intra-text similarity, MEV, rogue dimensions.

Every function takes ``(..., n, dim)`` arrays (leading axes such as ``layers`` are kept) and works in float64.
Definitions:

- Ethayarajh (2019), "How Contextual are Contextualized Word Representations?": anisotropy (the mean cosine of
  units drawn from different contexts), self-similarity, intra-sentence similarity and maximum explainable variance,
  each also reported *anisotropy-adjusted* (minus its value for random units).
- Timkey & van Schijndel (2021), "All Bark and No Bite: Rogue Dimensions in Transformer Language Models Obscure
  Representational Quality": each dimension's share of the expected cosine, and the per-dimension standardisation
  that removes the rogue dimensions.
"""

from __future__ import annotations

import numpy as np


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, ``x / ||x||``; a zero row stays zero. Same shape as ``x``, float64."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def cosine_contributions(x: np.ndarray) -> np.ndarray:
    """Each dimension's contribution to the mean cosine of distinct pairs (Timkey & van Schijndel 2021).

    With ``u_i = x_i / ||x_i||``, the cosine is a sum over dimensions ``cos(x_i, x_j) = sum_d u_id u_jd``; the
    contribution of dimension ``d`` is its expectation over distinct pairs,
    ``CC_d = 1 / (n (n - 1)) sum_{i != j} u_id u_jd = ((sum_i u_id)^2 - sum_i u_id^2) / (n (n - 1))``, so that
    ``sum_d CC_d`` is the mean pairwise cosine.

    Args:
        x: ``(..., n, dim)`` with ``n >= 2``.

    Returns:
        ``(..., dim)``.
    """
    u = unit_rows(x)
    n = u.shape[-2]
    if n < 2:
        raise ValueError(f"need at least 2 vectors for a pairwise mean, got {n}")
    return (u.sum(axis=-2) ** 2 - (u**2).sum(axis=-2)) / (n * (n - 1))


def mean_pairwise_cosine(x: np.ndarray) -> np.ndarray:
    """Mean cosine over distinct pairs: ``1 / (n (n - 1)) sum_{i != j} cos(x_i, x_j)``.

    This is Ethayarajh's (2019) self-similarity when the rows are occurrences of one word in ``n`` different
    contexts (``SelfSim(w) = 1 / (n^2 - n) sum_j sum_{k != j} cos(f(s_j, i_j), f(s_k, i_k))``), and his anisotropy
    baseline when they are random units from different contexts.

    Args:
        x: ``(..., n, dim)`` with ``n >= 2``.

    Returns:
        ``(...)``.
    """
    return cosine_contributions(x).sum(axis=-1)


def self_similarity(occurrences: np.ndarray) -> np.ndarray:
    """Ethayarajh's (2019) self-similarity of one word: the mean cosine between its occurrences in different contexts.

    ``SelfSim(w) = 1 / (n^2 - n) sum_j sum_{k != j} cos(f(s_j, i_j), f(s_k, i_k))``; 1 when every context gives
    the same vector.

    Args:
        occurrences: ``(..., n, dim)``, ``n >= 2`` occurrences.

    Returns:
        ``(...)``.
    """
    return mean_pairwise_cosine(occurrences)


def intra_similarity(x: np.ndarray) -> np.ndarray:
    """Ethayarajh's (2019) intra-sentence similarity: the mean cosine between each unit and the context's mean.

    ``IntraSim(s) = 1 / n sum_i cos(s_vec, f(s, i))`` with ``s_vec = 1 / n sum_i f(s, i)``.

    Args:
        x: ``(..., words, dim)``, the units of one context.

    Returns:
        ``(...)``.
    """
    x = np.asarray(x, dtype=np.float64)
    centre = unit_rows(x.mean(axis=-2, keepdims=True))
    return (unit_rows(x) * centre).sum(axis=-1).mean(axis=-1)


def max_explainable_variance(x: np.ndarray) -> np.ndarray:
    """Ethayarajh's (2019) maximum explainable variance: the share of variance on the first principal component.

    ``MEV(w) = sigma_1^2 / sum_i sigma_i^2`` with ``sigma_i`` the singular values of the occurrence matrix after
    centring (PCA, as in the paper's code: sklearn ``PCA(n_components=1).explained_variance_ratio_``). 1 when the
    occurrences differ only along one direction; NaN when they are all equal (no variance).

    Args:
        x: ``(..., n, dim)``, ``n >= 2`` occurrences.

    Returns:
        ``(...)``.
    """
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=-2, keepdims=True)
    gram = centred @ np.swapaxes(centred, -1, -2)  # (..., n, n): same non-zero eigenvalues as the covariance
    eig = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    total = eig.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, eig[..., -1] / total, np.nan)


def rogue_dimensions(x: np.ndarray, top: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The dimensions with the largest share of the expected cosine (Timkey & van Schijndel 2021).

    The share of dimension ``d`` is ``CC_d / sum_k CC_k`` (see :func:`cosine_contributions`): near ``1 / dim`` each
    for isotropic vectors, near 1 for one rogue dimension that sets the cosine on its own. A share is relative to
    the expected cosine itself: where that is near 0 (isotropic vectors, or after :func:`standardise`) the shares
    are unstable and can exceed 1 or be negative, so read them only where the anisotropy is clearly above 0.

    Args:
        x: ``(..., n, dim)``.
        top: how many dimensions to return.

    Returns:
        ``(..., top)`` dimension indices, largest share first, and ``(..., top)`` their shares.
    """
    contributions = cosine_contributions(x)
    shares = contributions / contributions.sum(axis=-1, keepdims=True)
    order = np.argsort(-shares, axis=-1)[..., :top]
    return order, np.take_along_axis(shares, order, axis=-1)


def standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per-dimension standardisation, ``z_d = (x_d - mu_d) / sigma_d`` (Timkey & van Schijndel 2021).

    Args:
        x: ``(..., n, dim)``.
        mean: ``(..., dim)``, the per-dimension means (over a corpus sample).
        std: ``(..., dim)``, the standard deviations; a constant dimension (``sigma_d = 0``) is only centred.

    Returns:
        ``(..., n, dim)`` float64.
    """
    std = np.asarray(std, dtype=np.float64)
    safe = np.where(std > 0, std, 1.0)
    return (np.asarray(x, dtype=np.float64) - np.asarray(mean)[..., None, :]) / safe[..., None, :]


def grouped(vectors: np.ndarray, group: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Split ``(layers, m, dim)`` into one ``(layers, n_g, dim)`` array per group id in ``0..n_groups-1``."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    return [vectors[:, order[bounds[g] : bounds[g + 1]]] for g in range(n_groups)]
