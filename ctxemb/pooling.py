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
_DENSE_MEAN_MACS = 1 << 21  # most multiply-adds (words x pieces x layers x dim) spent on an averaging matrix


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
    counts = np.diff(ptr)
    if counts.all():  # every word has a piece (the usual case): no NaN rows to fill
        return _pool_filled(hidden, ptr[:-1], counts, pieces, pool)
    n_layers, _, dim = hidden.shape
    out = np.full((n_layers, len(counts), 2 * dim if pool == "first_last" else dim), np.nan, dtype=np.float32)
    filled = np.flatnonzero(counts)
    if filled.size:
        out[:, filled] = _pool_filled(hidden, ptr[:-1][filled], counts[filled], pieces, pool)
    return out


def _pool_filled(
    hidden: np.ndarray, starts: np.ndarray, counts: np.ndarray, pieces: np.ndarray, pool: str
) -> np.ndarray:
    """Pool words that all have pieces into a new float32 array.

    Word ``w``'s pieces are ``pieces[starts[w]:starts[w] + counts[w]]``, and the words' ranges follow each other in
    ``pieces``.
    """
    if pool == "first":
        return hidden[:, pieces[starts]].astype(np.float32, copy=False)
    if pool == "last":
        return hidden[:, pieces[starts + counts - 1]].astype(np.float32, copy=False)
    if pool == "first_last":
        ends = pieces[starts + counts - 1]
        return np.concatenate([hidden[:, pieces[starts]], hidden[:, ends]], axis=2).astype(np.float32, copy=False)
    if pool == "mean" and len(starts) * hidden.size <= _DENSE_MEAN_MACS:
        # A short text: one small product with a (words, tokens) averaging matrix, read straight from `hidden`.
        weights = np.zeros((len(starts), hidden.shape[1]), dtype=np.float32)
        weights[np.repeat(np.arange(len(starts)), counts), pieces] = np.repeat(1.0 / counts, counts)
        pooled: np.ndarray = weights @ hidden  # numpy's stubs type `@` of these arrays as Any
        return pooled.astype(np.float32, copy=False)
    # Otherwise rank by rank: start from every word's first piece and fold in the k-th piece of the words that
    # have one, so the work follows the pieces, not words x pieces (most words have one piece).
    acc = hidden[:, pieces[starts]].astype(np.float32, copy=False)
    fold = np.add if pool == "mean" else np.maximum
    longer = np.flatnonzero(counts > 1)
    rank = 1
    while longer.size:
        acc[:, longer] = fold(acc[:, longer], hidden[:, pieces[starts[longer] + rank]])
        rank += 1
        longer = longer[counts[longer] > rank]
    if pool == "mean":
        acc *= (1.0 / counts).astype(np.float32)[:, None]
    return acc


def no_summary_token(model: str = "this model") -> ValueError:
    """The one error for ``pool="cls"`` on a model without a summary token (GPT-style models)."""
    return ValueError(
        f"{model} has no CLS-like summary token, so the sentence pool 'cls' is undefined; use 'last' (the last real "
        "token) or 'mean'"
    )


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
            raise no_summary_token()
        return hidden[:, cls_index].astype(np.float32, copy=True)
    content = np.flatnonzero(~special)
    if content.size == 0:
        return np.full((hidden.shape[0], hidden.shape[2]), np.nan, dtype=np.float32)
    if pool == "last":
        return hidden[:, content[-1]].astype(np.float32, copy=True)
    selected = hidden[:, content]
    reduced: np.ndarray = selected.mean(axis=1) if pool == "mean" else selected.max(axis=1)  # numpy's stubs: Any
    return reduced.astype(np.float32)
