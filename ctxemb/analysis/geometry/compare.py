"""Run one layer analysis over several models on the same corpus, with CKA across models on the same words."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .cka import cka_matrix

if TYPE_CHECKING:
    from .layerwise import LayerGeometry
    from .report import LayerReport

logger = logging.getLogger(__name__)


def model_name(model: str | os.PathLike[str]) -> str:
    """A short display name: the directory's name for a path, the id itself otherwise."""
    text = os.fspath(model)
    return (Path(text).name or text) if os.path.isdir(text) else text


def analyse_models(
    models: Sequence[str | os.PathLike[str]],
    texts: Sequence[str],
    geometry: LayerGeometry,
    *,
    source: str = "corpus",
    names: Sequence[str] | None = None,
    device: str = "auto",
    dtype: str | None = None,
    progress: bool | None = None,
    load_options: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> list[LayerReport]:
    """Analyse every model with the same ``geometry`` (so the same sample of words) and compare them with CKA.

    Each model is loaded, sampled and released before the next one. With the ``cka`` metric and word units, every
    report after the first also gets ``cka["vs FIRST"]``: the layer x layer CKA between it (rows) and the first
    model (columns) on the same words (:func:`~ctxemb.analysis.geometry.layerwise.cross_model_cka`); a model whose
    sampled words differ (a word with no piece in one tokenizer) gets none, with a log message.

    Args:
        models: local directories, hub ids or the alias ``minilm``.
        texts: the corpus, one context per item.
        geometry: the analysis options (metrics, sample sizes, seed).
        source: the corpus's name, for the reports.
        names: display names (default: :func:`model_name`).
        device: passed to :meth:`Extractor.from_pretrained`.
        dtype: passed to :meth:`Extractor.from_pretrained`.
        progress: progress bars over models and texts.
        load_options: more :meth:`Extractor.from_pretrained` arguments (``max_tokens``, ``lang`` ...).
        timings: if given, filled with each model's wall-clock seconds (load, tokenize, sample, embed, metrics).

    Returns:
        One :class:`LayerReport` per model, in order.

    Raises:
        ValueError: no model, or names that do not match the models one to one.
    """
    from ...extractor import Extractor
    from ...progress import progress_bar

    if not models:
        raise ValueError("no model to analyse")
    names = list(names) if names is not None else [model_name(m) for m in models]
    if len(names) != len(models) or len(set(names)) != len(names):
        raise ValueError(f"need one distinct name per model; got {names} for {len(models)} models")
    texts = list(texts)  # read twice (checked, then sampled per model): a one-shot iterator would be empty the 2nd time
    geometry.check_corpus(texts, source)  # before any model loads
    reports: list[LayerReport] = []
    first: tuple[str, np.ndarray, np.ndarray, list[int]] | None = None  # name, cka ids, cka vectors, layers
    for model, name in progress_bar(list(zip(models, names)), desc="models", unit="model", progress=progress):
        start = time.perf_counter()
        extractor = Extractor.from_pretrained(model, device=device, dtype=dtype, **(load_options or {}))
        sample = geometry.sample(extractor, texts, source=source, progress=progress)
        del extractor
        gc.collect()
        report = geometry.compute(sample, model_name=name)
        if "cka" in geometry.metrics and geometry.units == "words":
            if first is None:
                first = (name, sample.cka_ids, sample.cka, list(sample.layers))
            elif np.array_equal(first[1], sample.cka_ids):
                key = f"vs {first[0]}"
                report.cka[key] = cka_matrix(sample.cka, first[2], debiased=geometry.cka == "debiased")
                report.cka_layers[key] = (list(sample.layers), first[3])
            else:
                logger.info("%s: its sampled words differ from %s's; no CKA across the two", name, first[0])
        reports.append(report)
        if timings is not None:
            timings[name] = time.perf_counter() - start
    return reports


def summary_table(reports: Sequence[LayerReport], metrics: Sequence[str], digits: int = 3) -> str:
    """A markdown table with one row per (model, layer) and one column per metric present in any report."""
    present = [m for m in metrics if any(m in r.metrics for r in reports)]
    lines = ["| model | layer | " + " | ".join(present) + " |", "|---" * (len(present) + 2) + "|"]
    for report in reports:
        for k in report.layers:
            cells = []
            for m in present:
                v = report.value(m, k)
                cells.append("" if np.isnan(v) else (str(int(v)) if m == "rogue_dim" else f"{v:.{digits}f}"))
            lines.append(f"| {report.model} | {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines).replace("-0.000", "0.000")
