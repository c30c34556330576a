"""What a store keeps of each text: which vectors, pooled how, mixed or not, in which dtype (checked up front)."""

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

if TYPE_CHECKING:
    from ..extractor import Extractor
    from ..outputs import Embedding

logger = logging.getLogger(__name__)

StoreDtype = Literal["float32", "float16"]
STORE_DTYPES: tuple[str, ...] = ("float32", "float16")


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
