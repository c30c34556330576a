"""Corpus-scale extraction: a directory of shards plus a manifest, written streaming and resumably, read back
memory-mapped.

``extract_to(extractor, directory, texts, ...)`` (``ctxemb.extract_to``, ``ctxemb extract --output DIR``)
writes a store; :func:`open_store` reads it as one sequence of :class:`StoredText`. Layout on disk:
``manifest.json`` and ``shards/NNNNNN/{arrays.safetensors, texts.arrow}`` (see :mod:`ctxemb.store.shards`).

Modules: ``layout`` (what is kept of a text; its input comes through :mod:`ctxemb.sources`),
``content`` (one shard's texts and arrays, computed from the model), ``shards`` (files on disk, atomic writes,
checksums, memory maps), ``manifest`` (provenance, settings compared on resume), ``lock`` (one writer),
``writer`` (the run: resume, shards by rank, the finished manifest), ``reader`` (:class:`Store`),
``distributed`` (ranks under accelerate / torchrun).
"""

from __future__ import annotations

from ..sources import Record, Source, as_source
from .reader import Store, StoredText, open_store
from .writer import extract_to

__all__ = ["Record", "Source", "Store", "StoredText", "as_source", "extract_to", "open_store"]
