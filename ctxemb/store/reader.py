"""Reading a store back: one logical sequence of texts over all shards, arrays memory-mapped."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..encoding import Target
from ..mixing import MixLike
from .index import IndexMethod, SearchIndex, build_index
from .layout import StoreDtype
from .manifest import MANIFEST, read_manifest
from .selection import SearchKind, select
from .shards import ARRAYS, SHARDS, TEXTS, check_shard, complete_shards, open_arrays, open_texts, shard_metadata

if TYPE_CHECKING:
    from ..extractor import Extractor
    from .search import Hit

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class StoredText:
    """One text of a store, with its vectors as read-only memory-mapped views (read from disk when used).

    Shapes use ``layers`` (the stored layers), ``tokens`` (every piece, specials included), ``words`` and ``dim``.
    A store made with a layer ``mix`` has no layer axis. Arrays the store does not keep are ``None``.

    Attributes:
        id: the text's stable id (a line number, row index, or the input's id column).
        index: its position in the store.
        text: the text.
        tokens: ``tokens`` piece strings, specials included (as ``Embedding.tokens``).
        special: ``(tokens,)`` bool, True for special tokens.
        offsets: ``(tokens, 2)`` character span of each piece (``(0, 0)`` for specials).
        words: the words.
        word_spans: ``(words, 2)`` character spans; ``text[s:e] == word``.
        layers: absolute indices of the stored layers (0 = embedding output).
        token_vectors: ``(layers, tokens, dim)``, or ``(tokens, dim)`` mixed.
        word_vectors: ``(layers, words, dim)``, or ``(words, dim)`` mixed.
        sentence_vector: ``(layers, dim)``, or ``(dim,)`` mixed.
    """

    id: str
    index: int
    text: str
    tokens: list[str]
    special: np.ndarray
    offsets: np.ndarray
    words: list[str]
    word_spans: np.ndarray
    layers: tuple[int, ...]
    token_vectors: np.ndarray | None
    word_vectors: np.ndarray | None
    sentence_vector: np.ndarray | None

    def __repr__(self) -> str:
        preview = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return f"StoredText(id={self.id!r}, {preview!r}, tokens={len(self.tokens)}, words={len(self.words)})"


class Store(Sequence[StoredText]):
    """A store directory written by :func:`ctxemb.store.extract_to` (or ``ctxemb extract --output DIR``).

    ``store[i]`` is text number ``i`` (an ``int``), ``store["id"]`` the text with that id (ids are strings).
    Opening reads the manifest only; a shard's files are memory-mapped the first time one of its texts is read,
    and a text's vectors are read from disk only when used.

    Attributes:
        directory: where the store is.
        manifest: the parsed ``manifest.json`` (settings, provenance, shard list).
    """

    def __init__(
        self, directory: Path, manifest: dict[str, Any], shards: list[tuple[Path, int]], damaged: Sequence[str] = ()
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self._damaged = list(damaged)  # problems of shards a partial open left out
        self._paths = [path for path, _ in shards]
        self._files = [entry.get("files") for entry in manifest.get("shards", [])]  # none while a run is going
        self._starts = np.concatenate([[0], np.cumsum([n for _, n in shards])]).astype(np.int64)
        self._tables: dict[int, Any] = {}
        self._arrays: dict[int, dict[str, np.ndarray]] = {}
        self._ids: dict[str, int] | None = None
        extraction = manifest["settings"]["extraction"]
        self.layers: tuple[int, ...] = tuple(extraction["layers"])
        self.vectors: tuple[str, ...] = tuple(extraction["vectors"])
        self.mixed: bool = extraction["mix"] is not None
        self.dtype = np.dtype(manifest["settings"]["storage"]["dtype"])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, key: int | str) -> StoredText:  # type: ignore[override]
        """Text number ``key`` (an int, negatives count from the end) or the text whose id is ``key`` (a str).

        Raises:
            IndexError: an index out of range.
            KeyError: an id the store does not hold.
        """
        if isinstance(key, str):
            return self._text(self.index_of(key))
        if not isinstance(key, (int, np.integer)):
            raise TypeError(f"a store is indexed by position (int) or id (str), not {type(key).__name__}")
        index = int(key) + len(self) if key < 0 else int(key)
        if not 0 <= index < len(self):
            raise IndexError(f"text {key} is out of range for a store of {len(self)} texts")
        return self._text(index)

    def __iter__(self) -> Iterator[StoredText]:
        for shard in range(len(self._paths)):
            for row in range(self._table(shard).num_rows):
                yield self._text(int(self._starts[shard]) + row)

    def index_of(self, key: str) -> int:
        """The position of the text with id ``key`` (the id index is built on first use from the id columns).

        Raises:
            KeyError: no text has this id.
            ValueError: two texts share an id.
        """
        if self._ids is None:
            ids: dict[str, int] = {}
            for shard in range(len(self._paths)):
                column = self._table(shard).column("id").to_pylist()
                for row, value in enumerate(column, start=int(self._starts[shard])):
                    if ids.setdefault(value, row) != row:
                        raise ValueError(
                            f"id {value!r} is not unique in {self.directory}: texts {ids[value]} and {row}"
                        )
            self._ids = ids
        try:
            return self._ids[key]
        except KeyError:
            raise KeyError(f"no text with id {key!r} in {self.directory}") from None

    @property
    def ids(self) -> list[str]:
        """Every id, in store order."""
        return [value for shard in range(len(self._paths)) for value in self._table(shard).column("id").to_pylist()]

    @property
    def shard_paths(self) -> list[Path]:
        """The shard directories, in order."""
        return list(self._paths)

    @property
    def shard_starts(self) -> list[int]:
        """The position of each shard's first text, in order."""
        return [int(start) for start in self._starts[:-1]]

    def build_index(
        self,
        layer: int | MixLike | None = None,
        kind: SearchKind = "word",
        *,
        index: IndexMethod = "exact",
        dtype: StoreDtype = "float32",
        faiss_factory: str = "HNSW32",
        overwrite: bool = False,
        progress: bool | None = None,
    ) -> SearchIndex:
        """Build the search index of one layer (or mix) and vector kind beside the store, once.

        The index (``indexes/NAME/`` in the store: ``vectors.npy``, ``forms.npy``, ``forms.json``, ``ptr.npy``,
        ``index.json``, see :mod:`ctxemb.store.index`) holds every row of that kind L2-normalised, so that a
        search is a matrix product; it is built shard by shard (memory depends on the shard size, not on the
        store) and records the store's fingerprint. An index that exists and is current is returned as it is.

        Args:
            layer: a stored layer (negatives count from the model's last), a mix of the stored layers (``"mean"``,
                ``"sum"``, ``"concat"``, ``("weighted", weights)``, computed here), or ``None`` for the mix a mixed
                store keeps (or a store's only layer).
            kind: ``word`` or ``token`` vectors (one row per occurrence).
            index: ``exact`` (blocks of normalised vectors, matrix products, a top-k merge), or ``faiss``: also a
                FAISS index (``pip install 'ctxemb[search]'``) made by ``faiss_factory`` with inner product.
            dtype: the dtype of ``vectors.npy``: ``float32`` (the default), or ``float16``, which halves the disk
                but is slower to search on a CPU (NumPy converts each block to float32 before the product, which
                costs more than the product itself).
            faiss_factory: a FAISS ``index_factory`` string: ``HNSW32`` (approximate, the default), ``Flat``
                (exact), ``IVF1024,Flat`` (trained on up to 100,000 rows spread over the store) ...
            overwrite: build again even if a current index exists; needed for an index made before the store
                was written again.
            progress: a progress bar over texts.

        Raises:
            ValueError: a kind the store lacks, a layer it does not hold (listing those it holds), a bad mix, an
                unfinished store, a stale index without ``overwrite``.
            MissingExtraError: ``index="faiss"`` without faiss installed.
        """
        selection = select(self, layer, kind)
        return build_index(self, selection, index, dtype, faiss_factory, overwrite, progress)

    def search(
        self,
        targets: Sequence[Target],
        layer: int | MixLike | None = None,
        *,
        kind: SearchKind = "word",
        top: int = 10,
        same_form: bool = False,
        exclude_query_text: bool = False,
        index: IndexMethod = "exact",
        extractor: Extractor | None = None,
        build: bool = True,
        progress: bool | None = None,
    ) -> list[list[Hit]]:
        """The occurrences whose vectors at ``layer`` are nearest by cosine to each target's.

        Each target is ``(text, (start, end))`` as in :meth:`ctxemb.Extractor.embed_spans`. It is embedded with
        the store's own model and settings (read from the manifest; the weights and tokenizer hashes must match):
        the store's word pool over the span's pieces (their mean for token vectors), the layer or mix, rounded to
        the store's dtype, then ``score = q . v / (||q|| ||v||)`` against every row. Exact search returns the
        brute-force top-k (ties go to the earlier row). The index is built on first use (see
        :meth:`build_index`).

        Args:
            targets: the query occurrences.
            layer: a stored layer, a mix of the stored layers, or ``None`` (see :meth:`build_index`).
            kind: ``word`` or ``token`` vectors.
            top: hits per target.
            same_form: only occurrences of the same word form (``text[start:end]``, case and all). Stores keep
                no lemmas, so there is no lemma filter.
            exclude_query_text: leave out every stored text equal to the target's own text.
            index: ``exact``, or ``faiss`` (built with ``index="faiss"``; approximate unless its factory is
                exact). A ``same_form`` search scores only that form's rows, exactly, whatever the index.
            extractor: the store's model, already loaded (its hashes are checked); loaded from the manifest's
                model name otherwise.
            build: build a missing index (else a missing one is an error).
            progress: progress bars.

        Returns:
            One list of :class:`Hit` per target (``id``, ``text``, ``span``, ``word``, ``score``, ``index``,
            ``row``), best first; fewer than ``top`` when fewer occurrences qualify.

        Raises:
            ValueError: a kind the store lacks, a layer it does not hold, a span that cuts through a piece, a
                stale index, a model other than the store's.
            TypeError: a target that is not ``(text, (start, end))``.
        """
        from .search import search

        return search(
            self,
            targets,
            layer,
            kind=kind,
            top=top,
            same_form=same_form,
            exclude_query_text=exclude_query_text,
            index=index,
            extractor=extractor,
            build=build,
            progress=progress,
        )

    @property
    def text_files(self) -> list[Path]:
        """The Arrow files of the texts, one per shard, in order (for ``datasets``, see :meth:`to_dataset`)."""
        return [path / TEXTS for path in self._paths]

    def arrays(self, kind: str) -> list[np.ndarray]:
        """One kind of vector for bulk work, one read-only memory-mapped array per shard: ``(layers, rows, dim)``
        (layers first, as everywhere; a view of the on-disk ``(rows, layers, dim)`` block, nothing is copied), or
        ``(rows, dim)`` for a mixed store.

        Args:
            kind: ``token``, ``word`` or ``sentence``.
        """
        if kind not in self.vectors:
            raise KeyError(f"the store holds {', '.join(self.vectors)} vectors, not {kind}")
        blocks = [self._arrays_of(shard)[f"{kind}_vectors"] for shard in range(len(self._paths))]
        return blocks if self.mixed else [np.moveaxis(block, 0, 1) for block in blocks]

    def to_dataset(self) -> Any:
        """The texts as a ``datasets.Dataset`` (id, text, tokens, special, offsets, words, word_spans; ``pieces``
        instead of ``tokens`` in older stores).

        The shards' Arrow files are opened in place (memory-mapped, nothing copied). Vectors are not included:
        read them with ``store[i]`` or :meth:`arrays`, or add them with ``dataset.map`` if a copy is wanted.
        """
        import datasets

        parts = [datasets.Dataset.from_file(str(path)) for path in self.text_files]
        # shards of older stores call the tokens column "pieces" (a resumed store can hold both kinds)
        parts = [part.rename_column("pieces", "tokens") if "pieces" in part.column_names else part for part in parts]
        return datasets.concatenate_datasets(parts) if parts else datasets.Dataset.from_dict({})

    def verify(self, deep: bool = True) -> list[str]:
        """Check every shard: its files exist, have the sizes and (with ``deep``) the SHA-256 checksums recorded
        when they were written, and their headers, tables and row counts agree with the manifest.

        A store written before checksums existed (format version 1) is checked for everything but them.

        Returns:
            One line per problem, naming the file and what is wrong; empty when the store is sound.
        """
        problems = list(self._damaged)
        for shard, path in enumerate(self._paths):
            problems.extend(check_shard(path, self._expected(shard), deep, texts=self._count(shard)))
        return problems

    def _expected(self, shard: int) -> dict[str, Any] | None:
        """The file records the manifest holds for a shard (``None`` for a running or version-1 store)."""
        return self._files[shard] if shard < len(self._files) else None

    def _count(self, shard: int) -> int:
        return int(self._starts[shard + 1] - self._starts[shard])

    def _check(self, shard: int, name: str) -> None:
        """Cheap checks before a shard's file is first read: it exists and has the size recorded.

        Raises:
            FileNotFoundError: the file is missing.
            ValueError: it has another size than when it was written.
        """
        expected = self._expected(shard)
        path = self._paths[shard] / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing ({self.directory} is damaged; see Store.verify())")
        if expected and name in expected and path.stat().st_size != expected[name]["bytes"]:
            raise ValueError(
                f"{path}: {path.stat().st_size} bytes, {expected[name]['bytes']} when written (truncated?); "
                f"{self.directory} is damaged (see Store.verify())"
            )

    def _table(self, shard: int) -> Any:
        if shard not in self._tables:
            self._check(shard, TEXTS)
            table = open_texts(self._paths[shard])
            if table.num_rows != self._count(shard):
                raise ValueError(
                    f"{self._paths[shard] / TEXTS}: {table.num_rows} texts, {self._count(shard)} in the manifest"
                )
            self._tables[shard] = table
        return self._tables[shard]

    def _arrays_of(self, shard: int) -> dict[str, np.ndarray]:
        if shard not in self._arrays:
            self._check(shard, ARRAYS)
            arrays = open_arrays(self._paths[shard])
            rows = self._count(shard) + 1
            for name in ("token_ptr", "word_ptr"):
                if name in arrays and arrays[name].shape[0] != rows:
                    raise ValueError(
                        f"{self._paths[shard] / ARRAYS}: {name} has {arrays[name].shape[0]} rows, {rows} expected"
                    )
            self._arrays[shard] = arrays
        return self._arrays[shard]

    def _text(self, index: int) -> StoredText:
        shard = int(np.searchsorted(self._starts, index, side="right")) - 1
        row = index - int(self._starts[shard])
        meta = self._table(shard).slice(row, 1).to_pylist()[0]
        arrays = self._arrays_of(shard)
        vectors: dict[str, np.ndarray | None] = {}
        for kind, ptr in (("token", "token_ptr"), ("word", "word_ptr"), ("sentence", None)):
            if kind not in self.vectors:
                vectors[kind] = None
                continue
            start, stop = (row, row + 1) if ptr is None else (int(arrays[ptr][row]), int(arrays[ptr][row + 1]))
            rows = arrays[f"{kind}_vectors"][start:stop]
            if ptr is None:
                vectors[kind] = rows[0]
            else:
                vectors[kind] = rows if self.mixed else rows.transpose(1, 0, 2)
        return StoredText(
            id=meta["id"],
            index=index,
            text=meta["text"],
            tokens=meta["tokens"] if "tokens" in meta else meta["pieces"],  # "pieces" in older stores
            special=np.asarray(meta["special"], dtype=bool),
            offsets=np.asarray(meta["offsets"], dtype=np.int64).reshape(-1, 2),
            words=meta["words"],
            word_spans=np.asarray(meta["word_spans"], dtype=np.int64).reshape(-1, 2),
            layers=self.layers,
            token_vectors=vectors["token"],
            word_vectors=vectors["word"],
            sentence_vector=vectors["sentence"],
        )

    def __repr__(self) -> str:
        model = self.manifest["settings"]["model"]["name"]
        return (
            f"Store({str(self.directory)!r}, texts={len(self)}, model={model!r}, layers={list(self.layers)}, "
            f"vectors={list(self.vectors)}, dtype={self.dtype.name})"
        )


def open_store(directory: str | os.PathLike[str], *, partial: bool = False) -> Store:
    """Open a store directory for reading; only the manifest is read (and, for a partial open, each complete shard's
    headers and table, to leave damaged shards out with a warning).

    Args:
        directory: the store.
        partial: open a store whose run has not finished, over the sound complete shards present (in shard
            order); positions then count the texts of those shards only, and :meth:`Store.verify` lists the
            damaged shards left out.

    Raises:
        FileNotFoundError: no store there.
        ValueError: the run has not finished (and ``partial`` is False); a damaged manifest (naming the file and
            what is wrong). Damaged shards are reported when first read (naming the file); :meth:`Store.verify`
            checks them all.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise FileNotFoundError(f"{directory} holds no ctxemb store (no {MANIFEST})")
    if manifest.get("status") == "complete":
        shards = [(directory / SHARDS / entry["name"], int(entry["texts"])) for entry in manifest["shards"]]
        return Store(directory, manifest, shards)
    if not partial:
        done = len(complete_shards(directory))
        raise ValueError(
            f"the run writing {directory} has not finished ({done} shards complete); run the same command again to "
            "resume it, or open_store(..., partial=True) to read the complete shards"
        )
    sound, damaged = [], []
    for _, path in sorted(complete_shards(directory).items()):
        problems = check_shard(path)
        if problems:
            damaged.extend(problems)
            logger.warning("open_store(partial=True) leaves out the damaged shard %s: %s", path, "; ".join(problems))
        else:
            sound.append((path, int(shard_metadata(path)["texts"])))
    return Store(directory, manifest, sound, damaged)
