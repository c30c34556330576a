"""Nearest rows by cosine: exact over blocks of an index (matrix products and a top-k merge), or through FAISS.

Rows and queries are L2-normalised, so the cosine is the dot product ``score[r, q] = v_r . u_q``. The exact
search reads the index :data:`BLOCK_ROWS` rows at a time, never the whole matrix: per block ``S = U V_b^T``
``(queries, block)``, rows that must not come back set to ``-inf``, and each query's best rows merged with the
best so far. Ties are broken by the lower row, as a stable sort of all the scores would: the result is exactly
the brute-force top-k.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BLOCK_ROWS = 65536  # index rows scored at once: (block, queries) float32 scores


def exact(
    vectors: np.ndarray,
    forms: np.ndarray,
    queries: np.ndarray,
    top: int,
    excluded: Sequence[np.ndarray],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``top`` rows nearest each query, over every searchable row (``forms >= 0``).

    Args:
        vectors: ``(rows, dim)`` normalised rows (a memory map is read block by block).
        forms: ``(rows,)`` form ids; ``-1`` marks rows never returned.
        queries: ``(queries, dim)`` normalised float32.
        top: how many rows per query.
        excluded: per query, the rows it must not return (sorted).

    Returns:
        Per query, ``(rows, scores)``, best first (fewer than ``top`` when fewer rows qualify).
    """
    n = len(queries)
    best_rows = [np.zeros(0, dtype=np.int64) for _ in range(n)]
    best_scores = [np.zeros(0, dtype=np.float32) for _ in range(n)]
    if n == 0 or top <= 0:
        return list(zip(best_rows, best_scores))
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    for begin in range(0, len(vectors), BLOCK_ROWS):
        block = np.asarray(vectors[begin : begin + BLOCK_ROWS], dtype=np.float32)
        scores = queries @ block.T  # (queries, block)
        scores[:, np.asarray(forms[begin : begin + len(block)]) < 0] = -np.inf
        for q, rows in enumerate(excluded):
            inside = rows[(rows >= begin) & (rows < begin + len(block))]
            scores[q, inside - begin] = -np.inf
        for q in range(n):
            rows, values = _best(scores[q], top)
            best_rows[q], best_scores[q] = _merge(best_rows[q], best_scores[q], rows + begin, values, top)
    return list(zip(best_rows, best_scores))


def among(vectors: np.ndarray, candidates: np.ndarray, query: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``top`` rows nearest one query among ``candidates`` (sorted row numbers): ``(rows, scores)``."""
    rows = np.zeros(0, dtype=np.int64)
    scores = np.zeros(0, dtype=np.float32)
    for begin in range(0, len(candidates), BLOCK_ROWS):
        chunk = candidates[begin : begin + BLOCK_ROWS]
        values = np.asarray(vectors[chunk], dtype=np.float32) @ query.astype(np.float32)
        picked, kept = _best(values, top)
        rows, scores = _merge(rows, scores, chunk[picked], kept, top)
    return rows, scores


def through_faiss(
    index: Any, queries: np.ndarray, top: int, excluded: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``top`` rows nearest each query by a FAISS index (ids are rows); rows in ``excluded`` are left out.

    Each query asks FAISS for ``top`` plus as many rows as it excludes, then drops those.
    """
    out = []
    extra = max((len(rows) for rows in excluded), default=0)
    k = min(top + extra, int(index.ntotal))
    if k <= 0 or len(queries) == 0:
        return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)) for _ in range(len(queries))]
    scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    for q, rows in enumerate(excluded):
        keep = (ids[q] >= 0) & ~np.isin(ids[q], rows)
        out.append((ids[q][keep][:top].astype(np.int64), scores[q][keep][:top].astype(np.float32)))
    return out


def _best(scores: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and values of the ``top`` best finite scores, and of every score tied with the last of them."""
    finite = np.flatnonzero(scores > -np.inf)
    if len(finite) > top:
        values = scores[finite]
        kth = np.partition(values, len(values) - top)[len(values) - top]
        finite = finite[values >= kth]
    return finite, scores[finite]


def _merge(
    rows: np.ndarray, scores: np.ndarray, new_rows: np.ndarray, new_scores: np.ndarray, top: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``top`` best of two candidate sets, by score and then the lower row."""
    rows = np.concatenate([rows, new_rows.astype(np.int64)])
    scores = np.concatenate([scores, new_scores.astype(np.float32)])
    order = np.lexsort((rows, -scores))[:top]
    return rows[order], scores[order]
