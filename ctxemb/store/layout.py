"""What a store keeps of each text, and one shard's content computed from the model: its texts table and arrays."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..layers import LayerSelection, resolve_layers
from ..mixing import MIX_MODES, Mix
from ..outputs import VECTOR_KINDS
from ..pooling import SENTENCE_POOLS, WORD_POOLS, check_pool
from .inputs import Record
from .shards import text_table

if TYPE_CHECKING:
    from ..extractor import Extractor
    from ..outputs import Embedding

logger = logging.getLogger(__name__)

StoreDtype = Literal["float32", "float16"]
STORE_DTYPES: tuple[str, ...] = ("float32", "float16")
CHUNK_BYTES = 256 << 20  # float32 hidden states held at once while a shard is embedded
_CHARS_PER_PIECE = 3  # a low estimate, so that chunks stay under the budget


@dataclass(frozen=True)
class Layout:
    """What a store keeps of each text, and how: which vectors, pooled how, mixed or not, in which dtype."""

    layers: tuple[int, ...]
    vectors: tuple[str, ...]
    word_pool: str
    sentence_pool: str
    mix: str | None
    mix_weights: tuple[float, ...] | None
    dtype: str

    @property
    def mixed(self) -> Mix | None:
        """The mix as one value (``None``: every layer is kept)."""
        return None if self.mix is None else Mix(self.mix, self.mix_weights)

    def rows(self, result: Embedding, kind: str) -> np.ndarray:
        """One text's stored rows of ``kind``: pooled and mixed by :meth:`ctxemb.Embedding.vectors`, then
        :meth:`stored`."""
        pool = {"word": self.word_pool, "sentence": self.sentence_pool}.get(kind, "mean")
        return self.stored(result.vectors(kind, pool, self.mixed))  # type: ignore[arg-type]

    def stored(self, source: np.ndarray) -> np.ndarray:
        """Pooled (and mixed) vectors as the store keeps them: ``(layers, n, dim)`` becomes ``(n, layers, dim)``,
        mixed ``(n, dim)`` stays, in the store's dtype.

        The dtype is converted before the axes are swapped (a contiguous pass); the shard's final concatenation
        lays the rows out contiguously. Values beyond the float16 range are counted and logged.
        """
        with np.errstate(over="ignore"):  # counted and logged below
            converted = source.astype(self.dtype, copy=False)
        stored = np.moveaxis(converted, 0, 1) if self.mix is None else converted
        if self.dtype == "float16" and stored.size and not np.isfinite(stored).all():
            overflow = int(np.count_nonzero(~np.isfinite(stored))) - int(np.count_nonzero(~np.isfinite(source)))
            if overflow:
                logger.warning("%d values exceed the float16 range and are stored as inf; use float32", overflow)
        return stored

    def describe(self) -> dict[str, Any]:
        """The settings under ``"extraction"`` and ``"storage"`` in the manifest."""
        return {
            "layers": list(self.layers),
            "vectors": list(self.vectors),
            "word_pool": self.word_pool if "word" in self.vectors else None,
            "sentence_pool": self.sentence_pool if "sentence" in self.vectors else None,
            "mix": self.mix,
            "mix_weights": None if self.mix_weights is None else list(self.mix_weights),
            "dtype": self.dtype,
        }


def make_layout(
    extractor: Extractor,
    vectors: Sequence[str],
    layers: LayerSelection | None,
    word_pool: str,
    sentence_pool: str,
    mix_mode: str | None,
    mix_weights: Sequence[float] | None,
    dtype: str,
) -> Layout:
    """Check the storage options before anything is read or computed.

    Raises:
        ValueError: an unknown vector kind, pool, mix or dtype; mix weights that do not fit the layers.
    """
    kinds = (vectors,) if isinstance(vectors, str) else tuple(vectors)
    unknown = [k for k in kinds if k not in VECTOR_KINDS]
    if unknown or not kinds:
        raise ValueError(f"vectors must be some of {', '.join(VECTOR_KINDS)}; got {list(kinds)}")
    kinds = tuple(k for k in VECTOR_KINDS if k in kinds)
    check_pool(word_pool, WORD_POOLS, "word")
    check_pool(sentence_pool, SENTENCE_POOLS, "sentence")
    if mix_mode is not None and mix_mode not in MIX_MODES:
        raise ValueError(f"unknown mix {mix_mode!r}; choose one of {', '.join(MIX_MODES)} or None")
    kept = resolve_layers(extractor.layers if layers is None else layers, extractor.num_layers)
    weights = None if mix_weights is None else tuple(float(w) for w in mix_weights)
    if (weights is not None) != (mix_mode == "weighted"):
        raise ValueError("mix_weights are required for mix='weighted' and only for it")
    if weights is not None and len(weights) != len(kept):
        raise ValueError(f"got {len(weights)} mix weights for {len(kept)} layers {list(kept)}")
    if dtype not in STORE_DTYPES:
        raise ValueError(f"unknown store dtype {dtype!r}; choose one of {', '.join(STORE_DTYPES)}")
    return Layout(kept, kinds, word_pool, sentence_pool, mix_mode, weights, dtype)


def embed_shard(extractor: Extractor, records: list[Record], layout: Layout) -> tuple[Any, dict[str, np.ndarray]]:
    """Embed one shard's texts, a chunk at a time; its Arrow table of texts and its arrays.

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
        for i, result in zip(chunk, extractor.embed([records[i].text for i in chunk], layers=layout.layers)):
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
