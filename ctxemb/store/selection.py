"""What a search index holds: a vector kind, and one stored layer, a mix of the stored layers, or the store's mix."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..layers import resolve_layers
from ..mixing import Mix, MixLike

if TYPE_CHECKING:
    from .reader import Store

#: The vector kinds a search runs over: one row per occurrence (sentence vectors are one per text).
SEARCH_KINDS: tuple[str, ...] = ("word", "token")
SearchKind = Literal["word", "token"]


@dataclass(frozen=True)
class Selection:
    """Which vectors an index holds: a kind, and one stored layer, a mix of the stored layers, or the store's mix.

    Attributes:
        kind: ``word`` or ``token``.
        layer: the absolute layer (``None`` for a mix).
        mix: a mix of the stored layers, computed when the index is built (``None`` for a layer or the store's mix).
        name: the index's directory name.
    """

    kind: str
    layer: int | None
    mix: Mix | None
    name: str

    def rows(self, block: np.ndarray, layers: tuple[int, ...]) -> np.ndarray:
        """Stored rows ``(rows, layers, dim)`` (``(rows, dim)`` mixed) as index rows ``(rows, dim)`` float32."""
        if self.layer is not None:
            block = block[:, layers.index(self.layer)]
        elif self.mix is not None:
            return np.asarray(self.mix(np.asarray(block, dtype=np.float32), axis=1), dtype=np.float32)
        return np.asarray(block, dtype=np.float32)

    def queries(self, vectors: np.ndarray, layers: tuple[int, ...], store_mix: Mix | None, dtype: Any) -> np.ndarray:
        """Query vectors made as the store made its rows: ``(layers, n, dim)`` float32 to ``(n, dim)`` float32.

        Each layer is rounded to the store's dtype where the store rounded it: before a mix computed by the index,
        after the store's own mix.

        Args:
            vectors: ``(layers, n, dim)``, the stored layers (or only :attr:`layer`).
            layers: the layers of ``vectors``.
            store_mix: the store's own mix, if it keeps one.
            dtype: the store's dtype on disk.
        """
        with np.errstate(over="ignore"):
            if self.layer is not None:
                out = vectors[layers.index(self.layer)].astype(dtype)
            elif self.mix is not None:
                out = self.mix(vectors.astype(dtype).astype(np.float32), axis=0)
            else:
                assert store_mix is not None
                out = store_mix(vectors, axis=0).astype(dtype)
        return np.asarray(out, dtype=np.float32)


def select(store: Store, layer: int | MixLike | None = None, kind: str = "word") -> Selection:
    """Check what to search: a vector kind the store holds, and a layer it holds or a mix of its layers.

    Args:
        store: the store.
        layer: a layer (negatives count from the model's last), a mix of the stored layers (``"mean"``, ``"sum"``,
            ``"concat"``, ``("weighted", weights)``), or ``None``: the store's own mix, or its one layer.
        kind: ``word`` or ``token``.

    Raises:
        ValueError: a kind that is not searchable or not in the store, a layer the store does not hold, a mix of a
            store that keeps a mix already, a mix that does not fit the stored layers; each names the store.
    """
    where = store.directory
    if kind not in SEARCH_KINDS:
        raise ValueError(
            f"search runs over word or token vectors (one row per occurrence), not {kind!r} (sentence vectors are "
            "one per text)"
        )
    if kind not in store.vectors:
        raise ValueError(
            f"the store {where} holds no {kind} vectors (only {', '.join(store.vectors)}): extract it again with "
            f"vectors=[..., {kind!r}] (--vectors {kind}) to search them"
        )
    held = ", ".join(str(k) for k in store.layers)
    if store.mixed:
        own = store_mix(store)
        assert own is not None
        if layer is None or (not _is_layer(layer) and _same_mix(layer, own)):
            return Selection(kind, None, None, f"{kind}-mix")
        raise ValueError(
            f"the store {where} keeps one {own.name} mix of layers {held} instead of its layers: search it with "
            f"layer=None (no --layer), not {layer!r}"
        )
    if layer is None:
        if len(store.layers) > 1:
            raise ValueError(f"choose a layer or a mix: the store {where} holds layers {held}")
        layer = store.layers[0]
    if _is_layer(layer):
        total = int(store.manifest["settings"]["model"].get("num_layers", max(store.layers)))
        try:
            (absolute,) = resolve_layers(int(layer), total)  # type: ignore[arg-type]
        except ValueError:
            absolute = None
        if absolute not in store.layers:
            raise ValueError(f"layer {layer} is not in the store {where}: it holds layers {held}")
        return Selection(kind, absolute, None, f"{kind}-layer{absolute}")
    if isinstance(layer, str) and layer.lstrip("-").isdigit():
        raise ValueError(f"layer {layer!r} is a string; pass the layer as an int")
    mix = Mix.of(layer)  # type: ignore[arg-type]
    if not isinstance(mix.mode, str):
        raise ValueError("an index mixes layers with a fixed mix; for a ScalarMix pass ('weighted', its weights)")
    if mix.weights is not None and len(mix.weights) != len(store.layers):
        raise ValueError(f"got {len(mix.weights)} mix weights for the {len(store.layers)} layers {held} of {where}")
    name = mix.mode
    if mix.weights is not None:
        name += "-" + hashlib.sha256(json.dumps(mix.weights).encode()).hexdigest()[:12]
    return Selection(kind, None, mix, f"{kind}-{name}")


def _is_layer(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _same_mix(spec: object, own: Mix) -> bool:
    try:
        return Mix.of(spec) == own  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def store_mix(store: Store) -> Mix | None:
    """The mix a store keeps instead of its layers (``None``: it keeps every layer)."""
    extraction = store.manifest["settings"]["extraction"]
    if extraction["mix"] is None:
        return None
    weights = extraction.get("mix_weights")
    return Mix(extraction["mix"], None if weights is None else tuple(weights))
