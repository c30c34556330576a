"""Corpus-scale extraction: a directory of shards plus a manifest, written streaming and resumably, read back
memory-mapped.

``extract_to(extractor, directory, texts, ...)`` (or ``Extractor.extract_to``, ``ctxemb extract --output DIR``)
writes a store; :func:`open_store` reads it as one sequence of :class:`StoredText`. Layout on disk:
``manifest.json`` and ``shards/NNNNNN/{arrays.safetensors, texts.arrow}`` (see :mod:`ctxemb.store.shards`).
"""

from __future__ import annotations

from .inputs import Record, Source, as_source
from .reader import Store, StoredText, open_store
from .writer import extract_to

__all__ = ["Record", "Source", "Store", "StoredText", "as_source", "extract_to", "open_store"]
