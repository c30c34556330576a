"""Pieces <-> words <-> character spans, from the tokenizer's character offsets only (never token strings).

A word's pieces are stored as CSR-style index arrays: the pieces of word ``w`` are
``pieces[ptr[w]:ptr[w + 1]]`` (positions in the token sequence, ascending). A piece that overlaps several words
(a tokenizer that merges across a word boundary, such as BERT joining ``a\\u200bb`` into one piece) belongs to
each of them; a piece that overlaps no word (a lone space marker) belongs to none; a word with no piece has an
empty range and is reported by the caller.

Python-only tokenizers give no offsets; :func:`place` recovers them by aligning the piece strings with the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

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
    out: np.ndarray = offsets.copy()  # Any under Python 3.10: numpy's stubs take Self from typing
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


def place(surfaces: Sequence[str], text: str) -> tuple[np.ndarray, np.ndarray]:
    """Character spans of strings that spell ``text`` in order, after a tokenizer has rewritten it.

    Python-only tokenizers (transformers' XLM tokenizer) return pieces without offsets, and their pieces are not
    slices of the text: Moses normalises punctuation (curly quotes become straight ones, a full stop after a
    closing quote moves before it), the text is lowercased and stripped of accents, control and zero-width
    characters are deleted. The characters of the concatenated strings are matched with those of the text by
    ``spacy_alignments.get_charmap`` (spaCy's maintained aligner: both sides NFKD-normalised and lowercased, then
    matched along a shortest edit script, so the matching is monotone). A string's span runs from its first to its
    last matched character.

    What the aligner leaves unmatched is placed by two rules of ours (no library does this part):

    1. *Moved.* The strings of a run that matched nothing are matched again, by the same aligner, against the
       characters no other string covers between the second placed string before the run and the second after
       it. This finds punctuation that the tokenizer moved past a neighbour (``"ones".`` read as ``ones . "``);
       such a span is exact but out of order with its neighbour's.
    2. *Gap.* A run still unmatched gets the characters between its placed neighbours, trimmed of white space:
       exactly those no other string claims (an unknown piece, a quote Moses rewrote). When that gap is empty
       (Moses rewrote the characters and swapped them with a neighbour: ``“no”.`` read as ``no . "``), the run
       takes the uncovered characters right before its previous placed neighbour or right after its next one.
       That is a placement when the run is one string; when it holds several, each gets the whole stretch, and a
       string with nothing left to take gets an empty span (it belongs to no word). Those are *guessed*, and the
       caller reports them.

    Args:
        surfaces: the strings, in text order (a piece's surface: its string as the tokenizer decodes it; an
            unknown piece's is ``""``).
        text: the text.

    Returns:
        ``(spans, guessed)``: ``spans`` of shape ``(strings, 2)`` inside ``[0, len(text)]``, in order except for
        moved strings, and the indices of the guessed strings.
    """
    n = len(surfaces)
    spans = np.zeros((n, 2), dtype=np.int64)
    if n == 0:
        return spans, np.zeros(0, dtype=np.int64)
    if all(surfaces) and len(text.lower()) == len(text) and "".join(surfaces) == "".join(text.split()).lower():
        # Fast path, same result: the pieces spell the text's non-space characters, lowercased, one for one.
        visible = np.flatnonzero(~_space_mask(text))
        lengths = np.fromiter((len(s) for s in surfaces), dtype=np.int64, count=n)
        ends = np.cumsum(lengths)
        spans[:, 0] = visible[ends - lengths]
        spans[:, 1] = visible[ends - 1] + 1
        return spans, np.zeros(0, dtype=np.int64)
    placed = _match(surfaces, text, np.arange(len(text)), spans)
    anchors = np.flatnonzero(placed)
    covered = np.zeros(len(text) + 1, dtype=np.int64)
    np.add.at(covered, spans[placed, 0], 1)
    np.add.at(covered, spans[placed, 1], -1)
    free = (np.cumsum(covered)[:-1] == 0) & ~_space_mask(text)
    settled = placed.copy()
    for run in _runs(np.flatnonzero(~placed)):  # rule 1
        k = np.searchsorted(anchors, run[0])  # anchors[k - 1] < run < anchors[k]
        lo = int(spans[anchors[k - 2], 1]) if k >= 2 else 0
        hi = int(spans[anchors[k + 1], 0]) if k + 1 < len(anchors) else len(text)
        window = np.flatnonzero(free[lo:hi]) + lo
        if window.size:
            settled[run] = _match([surfaces[i] for i in run], text, window, spans, run)
            for i in run[settled[run]]:
                free[spans[i, 0] : spans[i, 1]] = False
    # Rule 2: a run's gap ends at the furthest end of a settled string before it and starts at the nearest start
    # of one after it (moved strings included), so no gap overlaps a settled span.
    ends = np.maximum.accumulate(np.where(settled, spans[:, 1], 0))
    starts = np.minimum.accumulate(np.where(settled, spans[:, 0], len(text))[::-1])[::-1]
    guessed: list[int] = []
    empty = []
    for run in _runs(np.flatnonzero(~settled)):
        before = int(ends[run[0] - 1]) if run[0] > 0 else 0
        after = int(starts[run[-1] + 1]) if run[-1] + 1 < n else len(text)
        gap = text[before:after] if after > before else ""
        a, b = before + len(gap) - len(gap.lstrip()), before + len(gap.rstrip())
        spans[run] = (a, max(a, b))
        if b > a:
            free[a:b] = False
            if len(run) > 1:
                guessed.extend(run.tolist())
        else:
            empty.append(run)
    # A run with an empty gap whose characters the tokenizer rewrote *and* swapped with a neighbour (Moses reads
    # '“no”.' as 'no . "'): it takes the uncovered characters right before its previous settled neighbour or right
    # after its next one, the only places such a swap leaves them.
    for run in empty:
        prev = run[0] - 1 if run[0] > 0 and settled[run[0] - 1] else None
        nxt = run[-1] + 1 if run[-1] + 1 < n and settled[run[-1] + 1] else None
        stretch = None
        if prev is not None and spans[prev, 0] > 0 and free[spans[prev, 0] - 1]:
            b = a = int(spans[prev, 0])
            while a > 0 and free[a - 1]:
                a -= 1
            stretch = (a, b)
        elif nxt is not None and spans[nxt, 1] < len(text) and free[spans[nxt, 1]]:
            a = b = int(spans[nxt, 1])
            while b < len(text) and free[b]:
                b += 1
            stretch = (a, b)
        if stretch is None:
            guessed.extend(run.tolist())
            continue
        spans[run] = stretch
        free[stretch[0] : stretch[1]] = False
        if len(run) > 1:
            guessed.extend(run.tolist())
    return spans, np.asarray(sorted(guessed), dtype=np.int64)


def _match(
    surfaces: Sequence[str], text: str, chars: np.ndarray, spans: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Align ``surfaces`` with the characters ``text[chars]``; write matched spans into ``spans[rows]``.

    Returns:
        ``(len(surfaces),)`` bool: which strings matched at least one character.
    """
    from spacy_alignments import get_charmap

    n = len(surfaces)
    lengths = np.fromiter((len(s) for s in surfaces), dtype=np.int64, count=n)
    owner = np.repeat(np.arange(n), lengths)
    matches, _ = get_charmap("".join(surfaces), "".join(text[c] for c in chars.tolist()))
    counts = np.fromiter((len(m) for m in matches), dtype=np.int64, count=len(matches))
    hit = chars[np.fromiter(chain.from_iterable(matches), dtype=np.int64, count=int(counts.sum()))]
    who = np.repeat(owner, counts)
    first = np.full(n, len(text), dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    np.minimum.at(first, who, hit)
    np.maximum.at(last, who, hit)
    found = last >= 0
    target = np.arange(n) if rows is None else rows
    spans[target[found], 0] = first[found]
    spans[target[found], 1] = last[found] + 1
    return found


def _runs(indices: np.ndarray) -> list[np.ndarray]:
    """Split ascending indices into runs of consecutive ones."""
    if indices.size == 0:
        return []
    return np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)


def _space_mask(text: str) -> np.ndarray:
    """``(len(text),)`` bool: which characters are white space."""
    if not text:
        return np.zeros(0, dtype=bool)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return _IS_SPACE[np.minimum(codes, len(_IS_SPACE) - 1)]
