"""Length-sorted batches under a token budget, and overlapping windows for texts longer than the model window."""

from __future__ import annotations

import math

import numpy as np


def plan_batches(lengths: np.ndarray, max_tokens: int, max_batch: int) -> list[np.ndarray]:
    """Group sequences into batches of similar length.

    Sequences are sorted by length, longest first, and packed greedily so that a batch's padded size
    (``count * longest``) stays within ``max_tokens`` and its count within ``max_batch``. A sequence longer than
    ``max_tokens`` gets a batch of its own.

    Args:
        lengths: ``(n,)`` length of each sequence in pieces; zero-length sequences are left out.
        max_tokens: budget of padded pieces per batch.
        max_batch: most sequences per batch.

    Returns:
        Index arrays into ``lengths``, one per batch.
    """
    if max_tokens < 1 or max_batch < 1:
        raise ValueError(f"max_tokens and max_batch must be positive, got {max_tokens} and {max_batch}")
    order = np.argsort(-np.asarray(lengths), kind="stable")
    order = order[np.asarray(lengths)[order] > 0]
    batches: list[np.ndarray] = []
    i = 0
    while i < len(order):
        longest = int(lengths[order[i]])
        size = max(1, min(max_batch, max_tokens // longest))
        batches.append(order[i : i + size])
        i += size
    return batches


def window_starts(n: int, size: int, stride: int) -> np.ndarray:
    """Start positions of overlapping windows of ``size`` pieces covering ``n`` pieces.

    Windows are spread evenly from 0 to ``n - size`` with a step of at most ``stride``, so the first window is
    exactly the text's first ``size`` pieces.
    """
    if n <= size:
        return np.zeros(1, dtype=np.int64)
    count = math.ceil((n - size) / stride) + 1
    return np.round(np.linspace(0, n - size, count)).astype(np.int64)


def best_window(n: int, starts: np.ndarray, size: int) -> np.ndarray:
    """For each of ``n`` pieces, the window in which it has the most context on both sides.

    The score of piece ``p`` in a window ``[a, a + size)`` is ``min(p - a, a + size - 1 - p)``; ties go to the
    earlier window.

    Returns:
        ``(n,)`` window index of every piece.
    """
    p = np.arange(n)[None, :]
    a = starts[:, None]
    score = np.minimum(p - a, a + size - 1 - p)
    score = np.where((p >= a) & (p < a + size), score, -1)
    return score.argmax(axis=0)


def stitch(windows: dict[int, np.ndarray], starts: np.ndarray, content: tuple[int, int], n_tokens: int) -> np.ndarray:
    """Join the windows of one long text: each content piece from the window where it has most context.

    The leading specials come from the first window and the trailing ones from the last.
    """
    first, stop = content
    stacked = np.stack([windows[first + int(a)] for a in starts])  # (windows, layers, window tokens, dim)
    size = stacked.shape[2] - (n_tokens - (stop - first))
    p = np.arange(stop - first)
    w = best_window(stop - first, starts, size)
    middle = stacked[w, :, first + p - starts[w]]  # (content, layers, dim)
    return np.concatenate(
        [
            stacked[0, :, :first],
            middle.transpose(1, 0, 2),
            stacked[-1, :, stacked.shape[2] - (n_tokens - stop) :],
        ],
        axis=1,
    )
