"""Analyses of contextual embeddings: polysemy probes and layer analyses (geometry, CKA, probes)."""

from __future__ import annotations
