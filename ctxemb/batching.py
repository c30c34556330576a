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


def window_shares(n: int, starts: np.ndarray, size: int) -> np.ndarray:
    """Which pieces each window supplies: each piece from the window in which it has most context on both sides.

    The context of piece ``p`` in a window ``[a, a + size)`` is ``min(p - a, a + size - 1 - p)``, which is
    ``(size - 1) / 2 - |p - c|`` for the window's centre ``c = a + (size - 1) / 2``. Since the windows cover every
    piece and have one size, the best is the window with the nearest centre (ties go to the earlier one), so each
    window supplies one contiguous run of pieces: piece ``p`` goes to window ``j`` while
    ``4 p <= c2_j + c2_{j+1}`` with ``c2 = 2 c`` (doubled, to stay in integers).

    Args:
        n: number of pieces.
        starts: ``(windows,)`` ascending starts, as from :func:`window_starts`.
        size: pieces per window.

    Returns:
        ``(windows + 1,)`` bounds: window ``j`` supplies pieces ``bounds[j]:bounds[j + 1]``.
    """
    centres = 2 * np.asarray(starts, dtype=np.int64) + size - 1
    inner = (centres[:-1] + centres[1:]) // 4 + 1
    return np.clip(np.concatenate([[0], inner, [n]]), 0, n).astype(np.int64)
