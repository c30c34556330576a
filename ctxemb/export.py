"""Writing extracted vectors to one safetensors file, and reading them back with one call.

Format (``ctxemb-extract`` version 2), one ``.safetensors`` file:

- ``vectors``: float32 ``(layers, rows, dim)``; a row per word (``level="word"``) or per text
  (``level="sentence"``), texts one after another;
- ``text_ptr``: int64 ``(texts + 1,)``; the rows of text ``i`` are ``text_ptr[i]:text_ptr[i + 1]``;
- ``layers``: int64 ``(layers,)``, the absolute layer indices;
- ``word_spans``: int64 ``(words, 2)``, character spans of the words (word level only);
- metadata (JSON strings): ``format``, ``version``, ``model``, ``level``, ``pool``, ``texts``, ``words`` and
  ``text_ids`` (each text's input id: its line or row number, or the input's id column; files written before ids were
  kept read as positions).

Version 1 files (ctxemb 0.1) call ``text_ptr`` ``text_offsets``; they are read as well.

safetensors is safe to open (no pickle), memory-maps, is read by PyTorch, NumPy, JAX and Rust alike, and keeps
the texts and words beside the arrays in one file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from .filemodes import as_umask_gives
from .outputs import Embedding

Level = Literal["word", "sentence"]
FORMAT = "ctxemb-extract"
VERSION = "2"


@dataclass(frozen=True)
class Extraction:
    """Vectors read back from a file written by :func:`save_extraction`.

    Attributes:
        vectors: ``(layers, rows, dim)`` float32.
        text_ptr: ``(texts + 1,)``.
        layers: absolute layer indices.
        texts: the texts.
        words: the words of each text (empty lists at sentence level).
        word_spans: ``(words, 2)`` character spans (``(0, 2)`` array at sentence level).
        model, level, pool: how the file was made.
        text_ids: each text's input id (line or row number, or the input's id column), to trace rows to the input
            (``StoredText.id`` in a store).
    """

    vectors: np.ndarray
    text_ptr: np.ndarray
    layers: tuple[int, ...]
    texts: list[str]
    words: list[list[str]]
    word_spans: np.ndarray
    model: str
    level: Level
    pool: str
    text_ids: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        _, rows, dim = self.vectors.shape
        return (
            f"Extraction(model={self.model!r}, level={self.level!r}, pool={self.pool!r}, texts={len(self.texts)}, "
            f"rows={rows}, layers={list(self.layers)}, dim={dim})"
        )

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> np.ndarray:
        """The rows of text ``i``: ``(layers, words, dim)`` at word level, ``(layers, dim)`` at sentence level."""
        rows = self.vectors[:, self.text_ptr[i] : self.text_ptr[i + 1]]
        return rows[:, 0] if self.level == "sentence" else rows


def save_extraction(
    path: str | os.PathLike[str],
    results: Sequence[Embedding],
    level: Level,
    pool: str,
    model: str,
    text_ids: Sequence[str] | None = None,
) -> None:
    """Pool every result (``word_vectors(pool)`` or ``sentence_vector(pool)``) and write one file.

    Args:
        path: the ``.safetensors`` file to write (replaced atomically).
        results: the embedded texts.
        level: ``word`` or ``sentence``.
        pool: the word or sentence pool.
        model: the model's name, kept in the file.
        text_ids: each text's input id (default: its position, ``"0"``, ``"1"``, ...).
    """
    if level not in ("word", "sentence"):
        raise ValueError(f"unknown level {level!r}; choose word or sentence")
    if not results:
        raise ValueError("nothing to save: no texts")
    ids = [str(i) for i in range(len(results))] if text_ids is None else [str(i) for i in text_ids]
    if len(ids) != len(results):
        raise ValueError(f"{len(ids)} text ids for {len(results)} texts")
    blocks = [r.vectors(level, pool) for r in results]
    counts = [b.shape[1] for b in blocks]
    spans = [r.word_spans for r in results] if level == "word" else []
    tensors: dict[str, np.ndarray] = {
        "vectors": np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.float32),
        "text_ptr": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "layers": np.asarray(results[0].layers, dtype=np.int64),
        "word_spans": np.concatenate(spans).astype(np.int64) if spans else np.zeros((0, 2), dtype=np.int64),
    }
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "level": level,
        "pool": pool,
        "texts": json.dumps([r.text for r in results], ensure_ascii=False),
        "words": json.dumps([r.words if level == "word" else [] for r in results], ensure_ascii=False),
        "text_ids": json.dumps(ids, ensure_ascii=False),
    }
    tmp = f"{os.fspath(path)}.tmp"
    save_file(tensors, tmp, metadata=metadata)
    as_umask_gives(tmp)
    os.replace(tmp, path)


def load_extraction(path: str | os.PathLike[str]) -> Extraction:
    """Read a file written by :func:`save_extraction` (or ``ctxemb extract``)."""
    with safe_open(os.fspath(path), framework="numpy") as f:
        meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a ctxemb extraction file (format {meta.get('format')!r})")
        if not str(meta.get("version", "1")).isdigit() or int(meta.get("version", "1")) > int(VERSION):
            raise ValueError(f"{path} has format version {meta.get('version')!r}; this ctxemb reads up to {VERSION}")
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    texts = json.loads(meta["texts"])
    return Extraction(
        vectors=arrays["vectors"],
        text_ptr=arrays["text_ptr"] if "text_ptr" in arrays else arrays["text_offsets"],  # the older name
        layers=tuple(int(k) for k in arrays["layers"]),
        texts=texts,
        words=json.loads(meta["words"]),
        word_spans=arrays["word_spans"],
        model=meta["model"],
        level=meta["level"],
        pool=meta["pool"],
        text_ids=json.loads(meta["text_ids"]) if "text_ids" in meta else [str(i) for i in range(len(texts))],
    )
