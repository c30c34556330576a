"""Polysemy probes: do a word's senses separate, layer by layer, against static baselines?

``load_data("bundled")`` gives the bundled probe set; ``PolysemyProbe(...).run(extractor, data, static=kv)``
returns a tidy :class:`PolysemyReport` (``to_csv``, ``to_json``, ``table``, ``plot``, and ``to_html``, the explorer
page).
"""

from __future__ import annotations

from .data import Occurrence, Pair, ProbeData, assign_splits, check_occurrences, prepare, sense_pairs, sense_words
from .loaders import load_bundled, load_data, load_jsonl, load_wic, load_wsd
from .postprocess import POSTPROCESS, PostProcessor
from .report import PROBE_METRICS, PolysemyReport, ProbeRow, ProbeVectors
from .runner import PolysemyProbe, apply_mix
from .static import context_vectors, default_static_vectors, static_vectors, target_vectors

__all__ = [
    "POSTPROCESS",
    "PROBE_METRICS",
    "Occurrence",
    "Pair",
    "PolysemyProbe",
    "PolysemyReport",
    "PostProcessor",
    "ProbeData",
    "ProbeRow",
    "ProbeVectors",
    "apply_mix",
    "assign_splits",
    "check_occurrences",
    "context_vectors",
    "default_static_vectors",
    "load_bundled",
    "load_data",
    "load_jsonl",
    "load_wic",
    "load_wsd",
    "prepare",
    "sense_pairs",
    "sense_words",
    "static_vectors",
    "target_vectors",
]
