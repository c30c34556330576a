"""Pieces <-> words <-> character spans, from the tokenizer's character offsets only (never token strings).

A word's pieces are stored as CSR-style index arrays: the pieces of word ``w`` are
``pieces[ptr[w]:ptr[w + 1]]`` (positions in the token sequence, ascending). A piece that overlaps several words
(a tokenizer that merges across a word boundary, such as BERT joining ``a\\u200bb`` into one piece) belongs to
each of them; a piece that overlaps no word (a lone space marker) belongs to none; a word with no piece has an
empty range and is reported by the caller.
"""

from __future__ import annotations

import numpy as np


def words_from_offsets(
    offsets: np.ndarray, special: np.ndarray, word_spans: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Map pieces to words by character overlap.

    Args:
        offsets: ``(tokens, 2)`` character span of every piece.
        special: ``(tokens,)`` True for special tokens, which never belong to a word.
        word_spans: ``(words, 2)`` character spans of the words, in text order, not overlapping.

    Returns:
        ``(ptr, pieces)``: ``ptr`` of shape ``(words + 1,)`` and ``pieces`` the piece indices, grouped by word.
    """
    n_words = len(word_spans)
    starts, ends = offsets[:, 0], offsets[:, 1]
    content = np.flatnonzero(~special & (ends > starts))
    if n_words == 0 or content.size == 0:
        return np.zeros(n_words + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = np.searchsorted(word_spans[:, 1], starts[content], side="right")
    last = np.searchsorted(word_spans[:, 0], ends[content], side="left") - 1
    count = np.maximum(last - first + 1, 0)
    piece = np.repeat(content, count)
    word = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    return _group(word, piece, n_words)


def _group(word: np.ndarray, piece: np.ndarray, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((piece, word))
    ptr = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(np.bincount(word, minlength=n_words), out=ptr[1:])
    return ptr, piece[order].astype(np.int64)


def pieces_in_span(offsets: np.ndarray, special: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Find the pieces inside a character span and those it cuts through.

    Returns:
        ``(inside, cut)``: indices of the pieces that lie within ``[start, end)`` and of those that straddle
        one of its ends.
    """
    starts, ends = offsets[:, 0], offsets[:, 1]
    content = ~special & (ends > starts)
    inside = content & (starts >= start) & (ends <= end)
    cut = content & (starts < end) & (ends > start) & ~inside
    return np.flatnonzero(inside), np.flatnonzero(cut)


# _IS_SPACE[c] is True for the code points that ``str.isspace`` accepts; none lies above U+3000, so codes are
# clipped to the table's last entry, which is False.
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x3000 + 1)] + [False], dtype=bool)


def trim_whitespace(offsets: np.ndarray, text: str) -> np.ndarray:
    """Shrink piece offsets that include white space at either end to the characters inside.

    Byte-level BPE without offset trimming (GPT-2) and SentencePiece-style ``▁`` pieces (DeBERTa) report a piece's
    span with the space before it; the span of ``Ġbank`` in ``"the bank"`` becomes that of ``bank``. A piece of
    white space only ends up empty (``start == end``) and belongs to no word.

    Args:
        offsets: ``(tokens, 2)`` character spans into ``text``.
        text: the text.

    Returns:
        ``(tokens, 2)``, a new array.
    """
    out = offsets.copy()
    if not text:
        return out
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    last = len(_IS_SPACE) - 1
    starts, ends = out[:, 0], out[:, 1]
    while True:
        at = codes[np.minimum(starts, len(text) - 1)]
        move = (starts < ends) & _IS_SPACE[np.minimum(at, last)]
        if not move.any():
            break
        starts[move] += 1
    while True:
        at = codes[np.maximum(ends - 1, 0)]
        move = (ends > starts) & _IS_SPACE[np.minimum(at, last)]
        if not move.any():
            break
        ends[move] -= 1
    return out
