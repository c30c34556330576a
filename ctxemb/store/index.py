"""Search indexes beside a store: one per (layer or mix, vector kind), built streaming, shard by shard.

An index lives in ``STORE/indexes/NAME/``, ``NAME`` being the kind and the layer or mix (``word-layer6``,
``word-mean``, ``token-layer3``, ``word-mix`` for a store that keeps one mix):

- ``vectors.npy``: ``(rows, dim)``, every row of that kind, L2-normalised (so that cosine is a dot product), in
  float16 or float32. Row ``r`` is the store's row ``r`` of that kind: texts in store order, a text's words (or
  tokens) one after another. ``numpy.load(path, mmap_mode="r")`` opens it.
- ``forms.npy``: ``(rows,)`` int32, each row's word form (``text[s:e]``) as a position in ``forms.json``; ``-1``
  for rows a search never returns (special tokens, pieces or words without characters, zero or non-finite vectors).
- ``forms.json``: the word forms, in id order.
- ``ptr.npy``: ``(texts + 1,)`` int64; text ``i``'s rows are ``ptr[i]:ptr[i + 1]``.
- ``faiss.index`` (with ``method="faiss"``): a FAISS index of the searchable rows by inner product, row numbers as
  ids.
- ``index.json``, written last: what the index holds (kind, layer or mix, rows, dim, dtype, FAISS factory), the
  store's fingerprint (the SHA-256 of its manifest) and the ctxemb version.

The build reads one shard at a time (its arrays memory-mapped, then released) and appends to the files, so memory
depends on the shard size, not on the store. An index is written under ``indexes/.tmp-*`` and renamed when
complete. A store written again since (another manifest) makes its indexes stale: opening one is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..progress import progress_bar
from .manifest import write_json
from .selection import Selection
from .shards import ARRAYS, open_arrays, open_texts

if TYPE_CHECKING:
    from .reader import Store

logger = logging.getLogger(__name__)

INDEXES = "indexes"
INFO = "index.json"
FORMAT = "ctxemb-store-index"
VERSION = 1
IndexMethod = Literal["exact", "faiss"]
INDEX_METHODS: tuple[str, ...] = ("exact", "faiss")
BLOCK_ROWS = 4096  # rows converted and normalised at once while building


class StaleIndexError(ValueError):
    """An index was built over another state of its store (the store was written again since)."""


def fingerprint(store: Store) -> str:
    """The store's fingerprint: SHA-256 of its manifest (settings, provenance, every shard's files and checksums)."""
    text = json.dumps(store.manifest, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SearchIndex:
    """One index of a store, opened for search: its files memory-mapped (see the module docstring for them).

    Attributes:
        directory: the index's directory.
        info: the parsed ``index.json``.
        vectors: ``(rows, dim)`` normalised rows, memory-mapped.
        forms: ``(rows,)`` int32 form ids, ``-1`` for rows never returned.
        ptr: ``(texts + 1,)`` int64 row pointers of the texts.
    """

    def __init__(self, directory: Path, info: dict[str, Any]) -> None:
        self.directory = directory
        self.info = info
        self.vectors: np.ndarray = np.load(directory / "vectors.npy", mmap_mode="r")
        self.forms: np.ndarray = np.load(directory / "forms.npy", mmap_mode="r")
        self.ptr: np.ndarray = np.load(directory / "ptr.npy")
        self._form_ids: dict[str, int] | None = None
        self._faiss: Any = None

    @property
    def has_faiss(self) -> bool:
        """Whether a FAISS index was built beside the exact vectors."""
        return self.info.get("faiss") is not None

    def form_id(self, form: str) -> int:
        """The id of a word form, ``-1`` when no searchable row has it."""
        if self._form_ids is None:
            forms = json.loads((self.directory / "forms.json").read_text(encoding="utf-8"))
            self._form_ids = {f: i for i, f in enumerate(forms)}
        return self._form_ids.get(form, -1)

    def faiss_index(self) -> Any:
        """The FAISS index, read on first use.

        Raises:
            ValueError: the index was built without FAISS.
        """
        if not self.has_faiss:
            raise ValueError(f"{self.directory} has no FAISS index: build it with method='faiss' (--index faiss)")
        if self._faiss is None:
            from ..extras import require

            faiss = require("faiss", "search", "a FAISS index")
            self._faiss = faiss.read_index(str(self.directory / self.info["faiss"]["file"]))
        return self._faiss

    def __repr__(self) -> str:
        what = "faiss" if self.has_faiss else "exact"
        return f"SearchIndex({str(self.directory)!r}, rows={self.info['rows']}, dim={self.info['dim']}, {what})"


def open_index(store: Store, selection: Selection) -> SearchIndex | None:
    """The store's index of ``selection``, or ``None`` when none was built.

    Raises:
        StaleIndexError: the index was built over another state of the store.
        ValueError: a damaged ``index.json``, naming it.
    """
    directory = store.directory / INDEXES / selection.name
    path = directory / INFO
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            raise ValueError(f"not a ctxemb index (format {info.get('format') if isinstance(info, dict) else None})")
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is damaged: {error}; build the index again with overwrite=True") from None
    if info.get("store_fingerprint") != fingerprint(store):
        raise StaleIndexError(
            f"the index {directory} was built over another state of the store {store.directory} (its manifest "
            "changed since: the store was written again); build it again with "
            f"store.build_index({_call(selection)}, overwrite=True) or ctxemb search --rebuild"
        )
    return SearchIndex(directory, info)


def _call(selection: Selection) -> str:
    if selection.layer is not None:
        what = f"layer={selection.layer}"
    elif selection.mix is not None:
        what = f"layer={selection.mix.mode!r}" if selection.mix.weights is None else "layer=('weighted', ...)"
    else:
        what = "layer=None"
    return f"{what}, kind={selection.kind!r}"


def build_index(
    store: Store,
    selection: Selection,
    method: IndexMethod = "exact",
    dtype: str = "float32",
    faiss_factory: str = "HNSW32",
    overwrite: bool = False,
    progress: bool | None = None,
) -> SearchIndex:
    """Build the index of ``selection`` beside the store, streamed shard by shard (see the module docstring).

    An index that exists and is current is returned as it is (unless ``overwrite``); a FAISS index is added to an
    exact one that lacks it.

    Raises:
        ValueError: an unfinished store, an unknown method or dtype; a stale index without ``overwrite``.
        MissingExtraError: ``method="faiss"`` without faiss installed.
    """
    if method not in INDEX_METHODS:
        raise ValueError(f"unknown index {method!r}; choose one of {', '.join(INDEX_METHODS)}")
    if store.manifest.get("status") != "complete":
        raise ValueError(f"the store {store.directory} is not complete (its run has not finished): no index over it")
    if dtype not in ("float16", "float32"):
        raise ValueError(f"unknown index dtype {dtype!r}; choose float16 or float32")
    faiss = None
    if method == "faiss":
        from ..extras import require

        faiss = require("faiss", "search", "index='faiss'")
    if not overwrite:
        existing = open_index(store, selection)
        if existing is not None and (method == "exact" or existing.has_faiss):
            return existing
    root = store.directory / INDEXES
    root.mkdir(exist_ok=True)
    final = root / selection.name
    tmp = root / f".tmp-{selection.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    start = time.perf_counter()
    try:
        info = _write_exact(store, selection, tmp, np.dtype(dtype), progress)
        if faiss is not None:
            info["faiss"] = _write_faiss(faiss, tmp, faiss_factory)
        info["build_seconds"] = round(time.perf_counter() - start, 3)
        write_json(tmp / INFO, info)
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("built the index %s (%d rows) in %.1f s", final, info["rows"], info["build_seconds"])
    index = open_index(store, selection)
    assert index is not None
    return index


def _write_exact(
    store: Store, selection: Selection, directory: Path, dtype: np.dtype[Any], progress: bool | None
) -> dict[str, Any]:
    """Write ``vectors.npy``, ``forms.npy``, ``forms.json`` and ``ptr.npy``; the index's description."""
    kind = selection.kind
    total = int(store.manifest[f"{kind}s"])
    paths = store.shard_paths
    shape = None
    vocabulary: dict[str, int] = {}
    pointers = [np.zeros(1, dtype=np.int64)]
    done = 0
    bar = progress_bar(total=len(store), unit="text", desc=f"indexing {selection.name}", progress=progress)
    with open(directory / "vectors.npy", "wb") as vectors, open(directory / "forms.npy", "wb") as forms:
        for shard, path in enumerate(paths):
            store._check(shard, ARRAYS)
            arrays = open_arrays(path)
            block, ptr = arrays[f"{kind}_vectors"], arrays[f"{kind}_ptr"]
            if shape is None:
                dim = selection.rows(block[:1], store.layers).shape[1] if len(block) else 0
                shape = (total, dim)
                np.lib.format.write_array_header_1_0(vectors, _header(dtype, shape))
                np.lib.format.write_array_header_1_0(forms, _header(np.dtype(np.int32), (total,)))
            if done + len(block) > total:
                raise ValueError(f"{path}: more {kind} rows than the manifest of {store.directory} counts ({total})")
            ids = _forms(open_texts(path), np.asarray(ptr), kind, vocabulary)
            for begin, rows in _normalised(selection, block, store.layers):
                unusable = ~np.isfinite(rows).all(axis=1) | ~rows.any(axis=1)
                rows[unusable] = 0.0
                ids[begin : begin + len(rows)][unusable] = -1
                vectors.write(rows.astype(dtype, copy=False).data)
            forms.write(ids.tobytes())
            pointers.append(np.asarray(ptr[1:], dtype=np.int64) + done)
            done += len(block)
            bar.update(len(ptr) - 1)
            del arrays, block, ptr  # release the shard's memory map before the next
    bar.close()
    if done != total:
        raise ValueError(f"the shards of {store.directory} hold {done} {kind} rows, its manifest {total}")
    forms_list = sorted(vocabulary, key=vocabulary.__getitem__)
    (directory / "forms.json").write_text(json.dumps(forms_list, ensure_ascii=False), encoding="utf-8")
    np.save(directory / "ptr.npy", np.concatenate(pointers))
    from .writer import _version

    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "layer": selection.layer,
        "mix": None if selection.mix is None else {"mode": selection.mix.mode, "weights": selection.mix.weights},
        "store_mix": store.manifest["settings"]["extraction"]["mix"],
        "rows": total,
        "dim": 0 if shape is None else shape[1],
        "dtype": dtype.name,
        "metric": "cosine (rows L2-normalised, inner product)",
        "texts": len(store),
        "store_fingerprint": fingerprint(store),
        "ctxemb_version": _version(),
        "faiss": None,
    }


def _header(dtype: np.dtype[Any], shape: tuple[int, ...]) -> dict[str, Any]:
    return {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}


def _normalised(selection: Selection, block: np.ndarray, layers: tuple[int, ...]) -> Iterator[tuple[int, np.ndarray]]:
    """A shard's rows of ``selection``, L2-normalised, :data:`BLOCK_ROWS` at a time: ``(begin, (rows, dim))``.

    ``x / ||x||``; zero rows stay zero, non-finite ones stay non-finite (the caller marks both).
    """
    for begin in range(0, len(block), BLOCK_ROWS):
        rows = selection.rows(block[begin : begin + BLOCK_ROWS], layers)
        with np.errstate(invalid="ignore", divide="ignore"):
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            rows = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
        yield begin, rows


def _forms(table: Any, ptr: np.ndarray, kind: str, vocabulary: dict[str, int]) -> np.ndarray:
    """Each row's word form id (``-1`` for special tokens and pieces without characters), ``(rows,)`` int32."""
    import pyarrow.compute as pc

    if kind == "word":
        flat = pc.list_flatten(table.column("words")).combine_chunks().dictionary_encode()
        local = np.array([vocabulary.setdefault(f, len(vocabulary)) for f in flat.dictionary.to_pylist()], np.int32)
        return local[flat.indices.to_numpy(zero_copy_only=False)] if len(flat) else np.zeros(0, np.int32)
    texts = table.column("text").to_pylist()
    offsets = pc.list_flatten(pc.list_flatten(table.column("offsets"))).to_numpy().reshape(-1, 2)
    special = pc.list_flatten(table.column("special")).to_numpy(zero_copy_only=False)
    ids = np.full(len(offsets), -1, dtype=np.int32)
    for i, text in enumerate(texts):
        for row in range(int(ptr[i]), int(ptr[i + 1])):
            s, e = offsets[row]
            if not special[row] and e > s:
                ids[row] = vocabulary.setdefault(text[s:e], len(vocabulary))
    return ids


def _write_faiss(faiss: Any, directory: Path, factory: str) -> dict[str, Any]:
    """Add the searchable rows of ``vectors.npy`` to a FAISS index (inner product, row numbers as ids)."""
    vectors = np.load(directory / "vectors.npy", mmap_mode="r")
    forms = np.load(directory / "forms.npy", mmap_mode="r")
    try:
        inner = faiss.index_factory(int(vectors.shape[1]), factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise ValueError(f"FAISS does not understand the index factory {factory!r}: {error}") from None
    if not inner.is_trained:
        searchable = np.flatnonzero(np.asarray(forms) >= 0)
        sample = searchable[np.linspace(0, len(searchable) - 1, min(len(searchable), 100_000)).astype(np.int64)]
        inner.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    index = faiss.IndexIDMap2(inner)
    for begin in range(0, len(vectors), BLOCK_ROWS):
        keep = np.flatnonzero(np.asarray(forms[begin : begin + BLOCK_ROWS]) >= 0)
        rows = np.ascontiguousarray(vectors[begin + keep], dtype=np.float32)
        index.add_with_ids(rows, (begin + keep).astype(np.int64))
    faiss.write_index(index, str(directory / "faiss.index"))
    return {"file": "faiss.index", "factory": factory, "rows": int(index.ntotal)}
