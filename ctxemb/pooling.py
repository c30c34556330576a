"""Pooling: subword pieces to words, and tokens to one sentence vector.

Word pools (``pieces`` of word ``w`` are ``P_w``, ``h`` the hidden states of one layer):
``first = h[P_w[0]]``, ``last = h[P_w[-1]]``, ``mean = sum_{p in P_w} h[p] / |P_w|``, ``max`` the element-wise
maximum over ``P_w``, ``first_last = [first; last]`` (``2 * dim``). A word with no piece gets a row of NaN.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

WordPool = Literal["first", "last", "mean", "max", "first_last"]
SentencePool = Literal["mean", "max", "cls", "last"]
WORD_POOLS: tuple[str, ...] = ("first", "last", "mean", "max", "first_last")
SENTENCE_POOLS: tuple[str, ...] = ("mean", "max", "cls", "last")
_DENSE_MEAN_CELLS = 1 << 16  # largest (words x pieces) averaging matrix built for the mean pool


def check_pool(pool: str, allowed: tuple[str, ...], what: str) -> None:
    """Raise a ValueError naming the allowed values when ``pool`` is not one of them."""
    if pool not in allowed:
        raise ValueError(f"unknown {what} pool {pool!r}; choose one of {', '.join(allowed)}")


def pool_words(hidden: np.ndarray, ptr: np.ndarray, pieces: np.ndarray, pool: WordPool) -> np.ndarray:
    """Pool pieces into words.

    Args:
        hidden: ``(layers, tokens, dim)``.
        ptr: ``(words + 1,)``; the pieces of word ``w`` are ``pieces[ptr[w]:ptr[w + 1]]``.
        pieces: piece indices grouped by word.
        pool: ``first | last | mean | max | first_last``.

    Returns:
        ``(layers, words, dim)``, or ``(layers, words, 2 * dim)`` for ``first_last``; float32.
    """
    check_pool(pool, WORD_POOLS, "word")
    n_layers, _, dim = hidden.shape
    n_words = len(ptr) - 1
    width = 2 * dim if pool == "first_last" else dim
    out = np.full((n_layers, n_words, width), np.nan, dtype=np.float32)
    counts = np.diff(ptr)
    filled = np.flatnonzero(counts > 0)
    if filled.size == 0:
        return out
    starts = ptr[:-1][filled]
    if pool in ("first", "first_last"):
        out[:, filled, :dim] = hidden[:, pieces[starts]]
    if pool in ("last", "first_last"):
        out[:, filled, width - dim :] = hidden[:, pieces[ptr[1:][filled] - 1]]
    if pool in ("mean", "max"):
        # Segments of filled words are contiguous in `pieces`. Short texts: the mean is a small matrix product
        # with a (words, tokens) averaging matrix, read straight from `hidden`; long ones: a difference of float64
        # running sums (no quadratic matrix). Both are far faster than reduceat along the middle axis.
        if pool == "mean" and len(filled) * hidden.shape[1] <= _DENSE_MEAN_CELLS:
            weights = np.zeros((len(filled), hidden.shape[1]), dtype=np.float32)
            weights[np.repeat(np.arange(len(filled)), counts[filled]), pieces] = np.repeat(
                1.0 / counts[filled], counts[filled]
            )
            out[:, filled] = weights @ hidden
            return out
        gathered = hidden[:, pieces]
        if pool == "mean":
            running = np.zeros((n_layers, len(pieces) + 1, dim), dtype=np.float64)
            np.cumsum(gathered, axis=1, dtype=np.float64, out=running[:, 1:])
            sums = running[:, ptr[1:][filled]] - running[:, starts]
            out[:, filled] = sums / counts[filled][None, :, None]
        else:
            out[:, filled] = np.maximum.reduceat(gathered, starts, axis=1)
    return out


def pool_sentence(hidden: np.ndarray, special: np.ndarray, pool: SentencePool, cls_index: int | None) -> np.ndarray:
    """Pool the tokens of one text into one vector per layer.

    ``mean`` and ``max`` run over the non-special tokens only; ``cls`` reads the family's summary token;
    ``last`` reads the last non-special token (the last piece of the text itself). A text with no non-special
    token gives NaN for ``mean``, ``max`` and ``last``.

    Args:
        hidden: ``(layers, tokens, dim)``.
        special: ``(tokens,)`` bool.
        pool: ``mean | max | cls | last``.
        cls_index: position of the summary token, or ``None`` when the model has none.

    Returns:
        ``(layers, dim)`` float32.

    Raises:
        ValueError: ``cls`` on a model without a summary token, or an unknown pool.
    """
    check_pool(pool, SENTENCE_POOLS, "sentence")
    if pool == "cls":
        if cls_index is None:
            raise ValueError(
                "this model has no CLS-like summary token, so pool='cls' is undefined; "
                "use pool='last' (the last real token) or 'mean'"
            )
        return hidden[:, cls_index].astype(np.float32, copy=True)
    content = np.flatnonzero(~special)
    if content.size == 0:
        return np.full((hidden.shape[0], hidden.shape[2]), np.nan, dtype=np.float32)
    if pool == "last":
        return hidden[:, content[-1]].astype(np.float32, copy=True)
    selected = hidden[:, content]
    return (selected.mean(axis=1) if pool == "mean" else selected.max(axis=1)).astype(np.float32)
