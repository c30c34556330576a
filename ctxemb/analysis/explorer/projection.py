"""Occurrences in 2-D: one projection per word and per layer (or mix), turned to match the one before it.

- ``pca`` (the default): the top two principal components of the word's occurrences at that layer (NumPy SVD of
  the centred ``(n, dim)`` matrix), with the share of variance each explains. Deterministic and fast.
- ``umap``: UMAP (McInnes et al. 2018) with cosine distance, where the ``umap-learn`` package is installed.
- ``tsne``: t-SNE (van der Maaten & Hinton 2008; scikit-learn) with cosine distance, perplexity
  ``min(30, (n - 1) / 3)``.

A projection is fitted on each layer separately, so its axes mean nothing from one layer to the next. To make a
layer slider readable, each layer's points are rotated (or reflected) onto the previous layer's by orthogonal
Procrustes (``R = argmin ||P_k R - P_{k-1}||`` over orthogonal ``R``), which keeps every distance, and then scaled
so that the largest coordinate is 1: only the arrangement of the points is shown, not their spread.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np

from ...extras import MissingExtraError, require

Projection = Literal["pca", "umap", "tsne"]
PROJECTIONS: tuple[str, ...] = ("pca", "umap", "tsne")


def check_projection(method: str) -> None:
    """Check the method's name, and that its library is installed, before any work.

    Raises:
        ValueError: an unknown method.
        MissingExtraError: ``umap`` without ``umap-learn``, ``tsne`` without scikit-learn.
    """
    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; choose one of {', '.join(PROJECTIONS)}")
    if method == "umap" and importlib.util.find_spec("umap") is None:
        raise MissingExtraError("projection='umap' needs the umap-learn package: pip install umap-learn")
    if method == "tsne" and importlib.util.find_spec("sklearn") is None:
        raise MissingExtraError(
            "projection='tsne' needs scikit-learn, which comes with the 'analysis' extra: "
            "pip install 'ctxemb[analysis]'"
        )


def project(vectors: np.ndarray, method: Projection = "pca", seed: int = 0) -> tuple[np.ndarray, str]:
    """Project ``(n, dim)`` vectors to ``(n, 2)``; with a note on what the axes are (PCA: variance explained).

    Fewer than three points, or points that are all the same, are placed without fitting anything (on a line, or
    at the origin).
    """
    check_projection(method)
    x = np.asarray(vectors, dtype=np.float64)
    n = len(x)
    centred = x - x.mean(axis=0) if n else x
    if n < 3 or not np.any(np.abs(centred) > 1e-12):
        coords = np.zeros((n, 2))
        if n == 2 and np.any(np.abs(centred) > 1e-12):
            coords[:, 0] = [-1.0, 1.0]
        return coords, ""
    if method == "pca":
        return _pca(centred)
    if method == "tsne":
        manifold = require("sklearn.manifold", "analysis", "projection='tsne'")
        perplexity = max(1.0, min(30.0, (n - 1) / 3))
        solver = "exact" if n <= 500 else "barnes_hut"  # exact is many times faster on a word's few occurrences
        model = manifold.TSNE(2, perplexity=perplexity, metric="cosine", init="pca", method=solver, random_state=seed)
        return np.asarray(model.fit_transform(x.astype(np.float32)), dtype=np.float64), "t-SNE (cosine)"
    umap = require("umap", "analysis", "projection='umap'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs overridden by random_state; spectral init on tiny graphs
        model = umap.UMAP(n_neighbors=max(2, min(15, n - 1)), metric="cosine", random_state=seed)
        return np.asarray(model.fit_transform(x.astype(np.float32)), dtype=np.float64), "UMAP (cosine)"


def _pca(centred: np.ndarray) -> tuple[np.ndarray, str]:
    """The top two principal components of centred ``(n, dim)`` rows: ``(n, 2)`` scores and the variance note.

    From the eigenvectors of the smaller of the Gram matrix ``X X^T`` (scores ``u_i sqrt(lambda_i)``) and the
    scatter matrix ``X^T X`` (scores ``X v_i``): a word has far fewer occurrences than dimensions, and a small
    symmetric eigenproblem is many times faster than an SVD of the whole matrix.
    """
    n, dim = centred.shape
    if n <= dim:
        values, vectors = np.linalg.eigh(centred @ centred.T)  # ascending
        top = np.clip(values[::-1][:2], 0.0, None)
        coords = vectors[:, ::-1][:, :2] * np.sqrt(top)
    else:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        top = np.clip(values[::-1][:2], 0.0, None)
        coords = centred @ vectors[:, ::-1][:, :2]
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
        top = np.pad(top, (0, 2 - len(top)))
    total = float(np.clip(values, 0.0, None).sum())
    share = top / total if total > 0 else top
    return coords, f"PC1 {share[0]:.0%}, PC2 {share[1]:.0%} of the variance"


def align(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rotate or reflect centred ``(n, 2)`` points onto ``reference`` (orthogonal Procrustes); distances unchanged."""
    a = np.asarray(coords - coords.mean(axis=0), dtype=np.float64)
    b = np.asarray(reference - reference.mean(axis=0), dtype=np.float64)
    if not np.any(np.abs(a) > 1e-12) or not np.any(np.abs(b) > 1e-12):
        return a
    u, _, vt = np.linalg.svd(a.T @ b)
    return np.asarray(a @ (u @ vt), dtype=np.float64)


def unit_box(coords: np.ndarray) -> np.ndarray:
    """Centre ``(n, 2)`` points and scale them so that the largest absolute coordinate is 1."""
    centred = coords - coords.mean(axis=0) if len(coords) else coords
    top = float(np.abs(centred).max()) if centred.size else 0.0
    return centred / top if top > 1e-12 else centred


def project_series(
    series: Sequence[np.ndarray], method: Projection = "pca", seed: int = 0
) -> tuple[list[np.ndarray], list[str]]:
    """Project each ``(n, dim)`` array of a series (one word's occurrences at each layer, then each mix) to
    ``(n, 2)``, each turned onto the one before it and scaled into ``[-1, 1]``; with each projection's note."""
    out: list[np.ndarray] = []
    notes: list[str] = []
    for vectors in series:
        coords, note = project(vectors, method, seed)
        coords = unit_box(align(coords, out[-1]) if out else coords)
        out.append(coords)
        notes.append(note)
    return out, notes
