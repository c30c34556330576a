"""Analyses of contextual embeddings: polysemy probes and layer analyses (geometry, CKA, probes)."""

from __future__ import annotations

from .polysemy import PolysemyProbe, PolysemyReport, load_data

__all__ = ["PolysemyProbe", "PolysemyReport", "load_data"]
