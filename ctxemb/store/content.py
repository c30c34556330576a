"""One shard's content, computed from the model: its texts table and its arrays, a chunk of texts at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sources import Record
from .layout import Layout
from .shards import text_table

if TYPE_CHECKING:
    from ..extractor import Extractor

CHUNK_BYTES = 256 << 20  # float32 hidden states held at once while a shard is embedded
_CHARS_PER_PIECE = 3  # a low estimate, so that chunks stay under the budget


def embed_shard(
    extractor: Extractor, records: list[Record], layout: Layout, on_chunk: Callable[[int], object] | None = None
) -> tuple[Any, dict[str, np.ndarray]]:
    """Embed one shard's texts, a chunk at a time; its Arrow table of texts and its arrays.

    ``on_chunk(n)`` is called after each chunk with its number of texts (the store's progress bar).

    A chunk holds about :data:`CHUNK_BYTES` of float32 hidden states; each text's rows are converted to the
    stored dtype (and mixed) as soon as it is embedded, so a shard's peak is one chunk's states plus its rows.
    Chunks are cut from the shard's texts sorted by length, so that each chunk's batches are as even (as little
    padding) as one pass over the whole shard would give; the texts are put back in input order at the end.

    Returns:
        The texts table (see :func:`ctxemb.store.shards.text_table`) and the arrays ``token_ptr``, ``word_ptr``
        ``(texts + 1,)`` and ``{kind}_vectors`` ``(rows, layers, dim)`` (``(rows, dim)`` mixed).
    """
    sizes = [_estimate(r.text) for r in records]
    order = sorted(range(len(records)), key=sizes.__getitem__)
    per_piece = 4 * len(layout.layers) * int(extractor.model.config.hidden_size)
    done: list[Any] = [None] * len(records)
    for chunk in _chunks(order, sizes, max(1, CHUNK_BYTES // per_piece)):
        texts = [records[i].text for i in chunk]
        names = [f"text id {records[i].id!r}" for i in chunk]  # warnings name the input's ids, not chunk positions
        for i, result in zip(chunk, extractor.embed(texts, layers=layout.layers, names=names, progress=False)):
            rows = {kind: layout.rows(result, kind) for kind in layout.vectors}
            done[i] = (
                result.text,
                result.tokens,
                result.special,
                result.offsets,
                result.words,
                result.word_spans,
                rows,
            )
        if on_chunk is not None:
            on_chunk(len(chunk))
    token_ptr = np.concatenate([[0], np.cumsum([len(d[1]) for d in done])]).astype(np.int64)
    word_ptr = np.concatenate([[0], np.cumsum([len(d[4]) for d in done])]).astype(np.int64)
    table = text_table(
        {
            "id": [r.id for r in records],
            "text": [d[0] for d in done],
            "token_ptr": token_ptr,
            "word_ptr": word_ptr,
            "tokens": [token for d in done for token in d[1]],
            "special": np.concatenate([d[2] for d in done]),
            "offsets": np.concatenate([d[3] for d in done]).reshape(-1, 2),
            "words": [word for d in done for word in d[4]],
            "word_spans": np.concatenate([d[5] for d in done]).reshape(-1, 2),
        }
    )
    arrays = {"token_ptr": token_ptr, "word_ptr": word_ptr}
    for kind in layout.vectors:
        arrays[f"{kind}_vectors"] = np.ascontiguousarray(np.concatenate([d[6].pop(kind) for d in done]))
    return table, arrays


def _estimate(text: str | list[str]) -> int:
    """A high estimate of a text's pieces, from its length."""
    return len(text) // _CHARS_PER_PIECE + 2 if isinstance(text, str) else 2 * len(text) + 2


def _chunks(order: list[int], sizes: list[int], pieces: int) -> list[list[int]]:
    """Cut the texts, taken in ``order``, into runs of about ``pieces`` estimated pieces in all."""
    out: list[list[int]] = [[]]
    total = 0
    for i in order:
        if out[-1] and total + sizes[i] > pieces:
            out.append([])
            total = 0
        out[-1].append(i)
        total += sizes[i]
    return out
