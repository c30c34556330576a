"""Length-sorted batches under a token budget, and overlapping windows for texts longer than the model window."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
    bounds: np.ndarray = np.clip(np.concatenate([[0], inner, [n]]), 0, n)  # numpy's stubs type this clip as Any
    return bounds.astype(np.int64)


@dataclass
class Plan:
    """The sequences to run for a list of texts, and how their outputs make each text's array again.

    A text is its leading specials, its content pieces ``first:stop`` and its trailing specials. A text that fits
    the window is one sequence; a longer one is several windows, each with the text's specials around a run of
    ``size`` content pieces. :meth:`collect` puts every sequence's output where it belongs.

    Attributes:
        units: ``(text, content start, content stop)`` of every sequence, in text order.
        lengths: ``(units,)`` pieces of each sequence, specials included.
        starts: per windowed text, the window starts relative to its content.
        shares: per windowed text, the bounds of the pieces each window supplies (:func:`window_shares`).
    """

    tokens: list[int]
    content: list[tuple[int, int]]
    units: list[tuple[int, int, int]] = field(default_factory=list)
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    starts: dict[int, np.ndarray] = field(default_factory=dict)
    shares: dict[int, np.ndarray] = field(default_factory=dict)

    def allocate(self, out: list[np.ndarray | None], layers: int, dim: int) -> None:
        """Give every empty text its empty array and every windowed text the array its windows fill."""
        for t, n in enumerate(self.tokens):
            if n == 0:
                out[t] = np.zeros((layers, 0, dim), dtype=np.float32)
            elif t in self.starts:
                out[t] = np.empty((layers, n, dim), dtype=np.float32)

    def collect(self, out: list[np.ndarray | None], unit: int, array: np.ndarray) -> None:
        """Put the output ``(layers, tokens, dim)`` of sequence ``unit`` where it belongs in ``out``.

        A whole text's output is its array (kept as it is, a view of its batch). A window copies the run of content
        pieces it supplies into the text's array (allocated by :meth:`allocate`), plus the leading specials if it
        is the first window and the trailing ones if it is the last, and is then free to go.
        """
        t, a, _ = self.units[unit]
        if t not in self.starts:
            out[t] = array
            return
        target = out[t]
        assert target is not None, "allocate() first"
        first, stop = self.content[t]
        starts = self.starts[t]
        j = int(np.searchsorted(starts, a - first))
        lo, hi, begin = int(self.shares[t][j]), int(self.shares[t][j + 1]), int(starts[j])
        target[:, first + lo : first + hi] = array[:, first + lo - begin : first + hi - begin]
        if j == 0:
            target[:, :first] = array[:, :first]
        if j == len(starts) - 1:
            trail = self.tokens[t] - stop
            target[:, stop:] = array[:, array.shape[1] - trail :]


def plan(tokens: list[int], content: list[tuple[int, int]], window: int | None, stride: int | None) -> Plan:
    """Plan the sequences of texts of ``tokens[t]`` pieces whose content (non-special) pieces are ``content[t]``.

    Args:
        tokens: pieces of each text, specials included.
        content: ``(first, stop)`` of each text's content pieces.
        window: the longest sequence the model runs, or ``None`` for no limit.
        stride: largest step between window starts; ``None`` for three quarters of the content a window holds.

    Raises:
        ValueError: a window with no room beside the specials, or a stride longer than a window's content.
    """
    result = Plan(tokens, content)
    for t, (n, (first, stop)) in enumerate(zip(tokens, content)):
        if window is None or n <= window:
            result.units.append((t, first, stop))
            continue
        size = window - (n - (stop - first))
        if size < 1:
            raise ValueError(f"a window of {window} pieces leaves no room beside the special tokens")
        step = stride or max(1, 3 * size // 4)
        if step > size:
            raise ValueError(
                f"stride {step} is longer than the {size} pieces a window holds beside its special tokens: "
                "pieces between windows would have no vectors"
            )
        result.starts[t] = window_starts(stop - first, size, step)
        result.shares[t] = window_shares(stop - first, result.starts[t], size)
        result.units.extend((t, first + int(a), first + int(a) + size) for a in result.starts[t])
    result.lengths = np.array(
        [tokens[t] - (content[t][1] - content[t][0]) + (b - a) for t, a, b in result.units], dtype=np.int64
    )
    return result
