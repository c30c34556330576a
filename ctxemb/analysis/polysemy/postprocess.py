"""Post-processing of vectors before cosine: none, mean-centring, all-but-the-top, per-dimension standardisation.

Contextual vectors are anisotropic (Ethayarajh 2019): they share a large common direction, so every cosine is
high and differences between cosines are small. Removing common structure changes the results of every
cosine-based probe, which is why it is a switch and reported with the results:

- ``none``: the vectors as extracted.
- ``center``: ``x - mu``, with ``mu`` the mean over the fitted vectors.
- ``abtt``: all-but-the-top (Mu & Viswanath 2018): ``x' = (x - mu) - sum_{i<=D} (u_i . (x - mu)) u_i``, with
  ``u_1..u_D`` the top principal directions of the centred vectors (eigenvectors of their scatter matrix);
  ``D`` defaults to ``max(1, round(dim/100))`` (the paper's rule of thumb).
- ``standardize``: ``(x - mu) / sigma`` per dimension (``sigma`` the standard deviation; constant dimensions are
  left centred, not divided).

The statistics are fitted on all items of the probe (no labels are used), once per layer or mix.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

PostProcess = Literal["none", "center", "abtt", "standardize"]
POSTPROCESS: tuple[str, ...] = ("none", "center", "abtt", "standardize")


class PostProcessor:
    """Fit the statistics of one post-processing method on ``(n, dim)`` vectors and apply them.

    Args:
        method: ``none | center | abtt | standardize`` (see the module docstring for the formulas).
        n_components: ``D`` for ``abtt`` (``None``: ``max(1, round(dim / 100))``).
    """

    def __init__(self, method: PostProcess = "none", n_components: int | None = None) -> None:
        self.method = method
        self.n_components = n_components

    def fit(self, vectors: np.ndarray) -> PostProcessor:
        """Learn ``mean_`` (and ``scale_`` or ``components_``) from ``vectors``: ``(n, dim)``."""
        if self.method not in POSTPROCESS:
            raise ValueError(f"unknown post-processing {self.method!r}; choose one of {', '.join(POSTPROCESS)}")
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"post-processing needs (n, dim) vectors with n >= 1, got shape {x.shape}")
        self.mean_ = x.mean(axis=0) if self.method != "none" else np.zeros(x.shape[1])
        self.scale_ = np.ones(x.shape[1])
        self.components_ = np.zeros((0, x.shape[1]))
        if self.method == "standardize":
            std = x.std(axis=0)
            self.scale_ = np.where(std > 1e-12, std, 1.0)
        elif self.method == "abtt":
            d = self.n_components if self.n_components is not None else max(1, round(x.shape[1] / 100))
            d = min(d, x.shape[0] - 1, x.shape[1])
            if d >= 1:
                centred = x - self.mean_
                _, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
                self.components_ = eigenvectors[:, ::-1][:, :d].T
        return self

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Apply the fitted post-processing: ``(n, dim)`` in, ``(n, dim)`` float32 out."""
        x = np.asarray(vectors, dtype=np.float64) - self.mean_
        if self.components_.shape[0]:
            x = x - (x @ self.components_.T) @ self.components_
        return (x / self.scale_).astype(np.float32)

    def fit_transform(self, vectors: np.ndarray) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same vectors."""
        return self.fit(vectors).transform(vectors)
