"""Windowed word-context co-occurrence counts, sparse, built in bounded chunks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import scipy.sparse as sp

Weighting = Literal["uniform", "harmonic", "linear"]
WEIGHTINGS: tuple[str, ...] = ("uniform", "harmonic", "linear")
Context = Literal["symmetric", "left", "right"]
CONTEXTS: tuple[str, ...] = ("symmetric", "left", "right")


def distance_weights(window: int, weighting: Weighting) -> np.ndarray:
    """Weight of a context at distance ``d = 1..window``: ``(window,)`` float64.

    ``uniform``: 1; ``harmonic``: ``1 / d`` (GloVe); ``linear``: ``(window - d + 1) / window``, the expected
    weight under word2vec's dynamic window (Levy, Goldberg & Dagan 2015, "dyn").
    """
    d = np.arange(1, window + 1, dtype=np.float64)
    if weighting == "uniform":
        return np.ones_like(d)
    if weighting == "harmonic":
        return 1.0 / d
    if weighting == "linear":
        return (window - d + 1) / window
    raise ValueError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")


def cooccurrence(
    encoded: Iterable[np.ndarray],
    size: int,
    window: int = 5,
    weighting: Weighting = "uniform",
    context: Context = "symmetric",
    chunk: int = 1 << 22,
) -> sp.csr_matrix:
    """Count word-context pairs within ``window`` words: ``(words, words)`` float64 CSR.

    ``X[i, j] = sum of weight(d)`` over every occurrence of word ``i`` and every occurrence of ``j`` at distance
    ``d <= window`` from it: on either side (``symmetric``, so ``X`` is symmetric), only before it (``left``)
    or only after it (``right``). Out-of-vocabulary words have already been removed from the texts, so they do
    not count towards distances: GloVe's ``cooccur`` skips them the same way, and so does hyperwords'
    ``corpus2pairs.py`` with ``--del``; without it (its default) hyperwords keeps them as placeholders that take
    up window positions and pair with nothing, so the same window reaches fewer words there. Pairs never cross
    texts.

    Args:
        encoded: the rows of each text's words, ``(words,)`` int per text.
        size: the vocabulary size.
        window: the largest distance counted.
        weighting: ``uniform | harmonic | linear``, see :func:`distance_weights`.
        context: ``symmetric | left | right``.
        chunk: pairs held before they are summed into the running matrix (bounds memory).
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; choose one of {', '.join(CONTEXTS)}")
    weights = distance_weights(window, weighting)
    total = sp.csr_matrix((size, size), dtype=np.float64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    held = 0

    def flush() -> sp.csr_matrix:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        rows.clear()
        cols.clear()
        vals.clear()
        return total + sp.coo_matrix((v, (r, c)), shape=(size, size)).tocsr()

    for ids in encoded:
        for d in range(1, min(window, len(ids) - 1) + 1):
            before, after = ids[:-d], ids[d:]
            pairs = {
                "symmetric": [(before, after), (after, before)],
                "left": [(after, before)],
                "right": [(before, after)],
            }
            for r, c in pairs[context]:
                rows.append(r)
                cols.append(c)
                vals.append(np.full(len(r), weights[d - 1]))
                held += len(r)
        if held >= chunk:
            total, held = flush(), 0
    if rows:
        total = flush()
    total.sum_duplicates()
    return total
