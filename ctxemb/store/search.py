"""Meaning search over a store: the occurrences whose vectors at a layer (or a mix) are nearest by cosine to
query occurrences, embedded with the store's own model and settings.

A query is a target as in :meth:`ctxemb.Extractor.embed_spans`, ``(text, (start, end))``. Its vector is made as
the store made its rows: the store's word pool over the pieces of the span (the mean of the pieces for token
vectors), the stored layer or the mix, rounded to the store's dtype. ``score = cos(query, row)``.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..encoding import Target, check_targets
from ..mixing import MixLike
from ..pooling import WordPool
from .index import INDEX_METHODS, IndexMethod, SearchIndex, build_index, open_index
from .manifest import model_provenance
from .nearest import among, exact, through_faiss
from .selection import Selection, select, store_mix

if TYPE_CHECKING:
    from ..extractor import Extractor
    from .reader import Store

logger = logging.getLogger(__name__)

#: Models loaded for a store's queries (one per store object), and those checked against a store's provenance.
_LOADED: weakref.WeakKeyDictionary[Store, Extractor] = weakref.WeakKeyDictionary()
_CHECKED: weakref.WeakKeyDictionary[Extractor, dict[str, Any]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Hit:
    """One occurrence a search found.

    Attributes:
        id: the text's id in the store.
        text: the text.
        span: ``(start, end)``, the occurrence's characters: ``text[start:end] == word``.
        word: the word (the piece's characters, for token vectors).
        score: the cosine between its vector and the query's.
        index: the text's position in the store.
        row: the occurrence's row among the store's rows of its kind (and the index's).
    """

    id: str
    text: str
    span: tuple[int, int]
    word: str
    score: float
    index: int
    row: int

    @property
    def left(self) -> str:
        """The text before the occurrence."""
        return self.text[: self.span[0]]

    @property
    def right(self) -> str:
        """The text after the occurrence."""
        return self.text[self.span[1] :]


def search(
    store: Store,
    targets: Sequence[Target],
    layer: int | MixLike | None = None,
    *,
    kind: str = "word",
    top: int = 10,
    same_form: bool = False,
    exclude_query_text: bool = False,
    index: IndexMethod = "exact",
    extractor: Extractor | None = None,
    build: bool = True,
    progress: bool | None = None,
) -> list[list[Hit]]:
    """The ``top`` occurrences nearest each target by cosine, at one layer or a mix; see :meth:`Store.search`."""
    selection = select(store, layer, kind)
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    if index not in INDEX_METHODS:
        raise ValueError(f"unknown index {index!r}; choose one of {', '.join(INDEX_METHODS)}")
    check_targets(targets)
    found = _index(store, selection, index, build, progress)
    if extractor is None:
        if store not in _LOADED:
            _LOADED[store] = store_extractor(store)
        extractor = _LOADED[store]
    model = extractor
    if _CHECKED.get(model) != store.manifest["settings"]["model"]:
        check_model(store, model)
        _CHECKED[model] = store.manifest["settings"]["model"]
    queries = query_vectors(store, selection, model, targets, progress)
    excluded = _excluded(store, found, targets) if exclude_query_text else [np.zeros(0, np.int64)] * len(targets)
    if same_form:
        results = []
        for (text, (start, end)), query, rows in zip(targets, queries, excluded):
            form = found.form_id(text[start:end])
            candidates = np.flatnonzero(np.asarray(found.forms) == form) if form >= 0 else np.zeros(0, np.int64)
            results.append(among(found.vectors, np.setdiff1d(candidates, rows), query, int(top)))
    elif index == "faiss":
        results = through_faiss(found.faiss_index(), queries, int(top), excluded)
    else:
        results = exact(found.vectors, found.forms, queries, int(top), excluded)
    return [_hits(store, found, rows, scores) for rows, scores in results]


def _index(store: Store, selection: Selection, method: IndexMethod, build: bool, progress: bool | None) -> SearchIndex:
    """The index to search: opened, or built when missing (and ``build``).

    Raises:
        StaleIndexError: the store changed since the index was built.
        ValueError: no index (or no FAISS index) and ``build`` is False.
    """
    found = open_index(store, selection)
    if found is not None and (method == "exact" or found.has_faiss):
        return found
    if not build:
        what = "a FAISS index" if found is not None else "an index"
        raise ValueError(
            f"the store {store.directory} has no {what} of {selection.name}: build it once with "
            f"store.build_index(..., index={method!r})"
        )
    logger.info("building the %s index %s of %s once", method, selection.name, store.directory)
    return build_index(store, selection, method, progress=progress)


def store_extractor(store: Store, device: str = "auto") -> Extractor:
    """Load the store's model with the store's settings (name, compute dtype, window, stride, word split, language).

    Raises:
        ValueError: the model cannot be loaded from the name in the manifest (pass it as ``extractor=``).
    """
    from ..extractor import Extractor

    settings = store.manifest["settings"]
    model, extraction = settings["model"], settings["extraction"]
    options = {k: extraction[k] for k in ("split", "stride", "lang") if extraction.get(k) is not None}
    if extraction.get("window") is not None:
        options["max_length"] = extraction["window"]
    try:
        return Extractor.from_pretrained(model["name"], device=device, dtype=model.get("compute_dtype"), **options)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"cannot load the model {model['name']!r} that made the store {store.directory} ({error}); load it "
            "yourself and pass it as extractor= (--model)"
        ) from None


def check_model(store: Store, extractor: Extractor) -> None:
    """Check that ``extractor`` runs the model and tokenizer that made the store (their SHA-256 in the manifest).

    Raises:
        ValueError: another model or tokenizer, naming both.
    """
    stored = store.manifest["settings"]["model"]
    current = model_provenance(extractor)
    if current["tokenizer_sha256"] != stored.get("tokenizer_sha256"):
        raise ValueError(
            f"the tokenizer of {current['name']!r} is not the one that made the store {store.directory} "
            f"({stored['name']!r}): queries must be embedded with the store's own model"
        )
    if current["weights_from"] != stored.get("weights_from"):
        logger.warning(
            "the weights of %r cannot be compared with the store's (hashed from %s, the store's from %s)",
            current["name"],
            current["weights_from"],
            stored.get("weights_from"),
        )
    elif current["weights_sha256"] != stored.get("weights_sha256"):
        raise ValueError(
            f"the weights of {current['name']!r} are not those that made the store {store.directory} "
            f"({stored['name']!r}, SHA-256 {str(stored.get('weights_sha256'))[:12]}...): queries must be embedded "
            "with the store's own model"
        )


def query_vectors(
    store: Store, selection: Selection, extractor: Extractor, targets: Sequence[Target], progress: bool | None = None
) -> np.ndarray:
    """The targets' vectors as the store made its rows, L2-normalised: ``(n, dim)`` float32.

    Raises:
        ValueError: a span that cuts through a piece or covers none (from ``embed_spans``); a query whose vector
            is zero or not finite.
    """
    extraction = store.manifest["settings"]["extraction"]
    pool: WordPool = extraction["word_pool"] if selection.kind == "word" else "mean"
    layers = store.layers if selection.layer is None else (selection.layer,)
    vectors = extractor.embed_spans(targets, pool, layers=list(layers), progress=progress)
    queries = selection.queries(vectors, layers, store_mix(store), store.dtype)
    norms = np.linalg.norm(queries, axis=1, keepdims=True)
    bad = [i for i, n in enumerate(norms[:, 0]) if not np.isfinite(n) or n == 0]
    if bad:
        raise ValueError(f"targets[{bad[0]}] has a zero or non-finite vector: nothing is near it")
    return np.asarray(queries / norms, dtype=np.float32)


def _excluded(store: Store, found: SearchIndex, targets: Sequence[Target]) -> list[np.ndarray]:
    """Per target, the rows of every stored text equal to its own text (sorted)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = sorted({text for text, _ in targets})
    positions: dict[str, list[int]] = {text: [] for text in wanted}
    value_set = pa.array(wanted, pa.string())
    for shard, start in enumerate(store.shard_starts):
        column = store._table(shard).column("text")
        inside = np.flatnonzero(pc.is_in(column, value_set=value_set).to_numpy(zero_copy_only=False))
        for i, text in zip(inside, column.take(pa.array(inside)).to_pylist()):
            positions[text].append(start + int(i))
    ptr = found.ptr
    rows = {
        text: np.concatenate([np.arange(ptr[i], ptr[i + 1]) for i in found_texts] or [np.zeros(0)]).astype(np.int64)
        for text, found_texts in positions.items()
    }
    return [rows[text] for text, _ in targets]


def _hits(store: Store, found: SearchIndex, rows: np.ndarray, scores: np.ndarray) -> list[Hit]:
    """Hits for index rows: the text, its id and the occurrence's span, read from the store."""
    hits = []
    for row, score in zip(rows, scores):
        position = int(np.searchsorted(found.ptr, row, side="right")) - 1
        stored = store[position]
        within = int(row - found.ptr[position])
        spans = stored.word_spans if found.info["kind"] == "word" else stored.offsets
        start, end = (int(x) for x in spans[within])
        hits.append(Hit(stored.id, stored.text, (start, end), stored.text[start:end], float(score), position, int(row)))
    return hits


_MARK = re.compile(r"\[([^\[\]]+)\]")


def marked_target(query: str) -> Target:
    """A query with its target in square brackets, as a target: ``"the [bank] of" -> ("the bank of", (4, 8))``.

    Raises:
        ValueError: no marked target, more than one, an empty one, or a bracket left unpaired; naming the query.
    """
    marks = list(_MARK.finditer(query))
    if len(marks) != 1 or query.count("[") != 1 or query.count("]") != 1:
        found = "no target" if not marks else f"{len(marks)} targets" if len(marks) > 1 else "unpaired brackets"
        raise ValueError(
            f"the query {query!r} marks {found}: put the one word to search for in square brackets, "
            "as in 'the [bank] of the river'"
        )
    mark = marks[0]
    text = query[: mark.start()] + mark.group(1) + query[mark.end() :]
    return text, (mark.start(), mark.start() + len(mark.group(1)))
