"""The result of a layer analysis: one value per (metric, layer), the sample's description and CKA matrices."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...reports import TableReport

METRIC_NAMES: dict[str, str] = {  # metric -> what it is, for tables and plots
    "anisotropy": "anisotropy: mean cosine of random units from different texts",
    "selfsim": "self-similarity: mean cosine of a word's occurrences",
    "selfsim_adj": "self-similarity minus anisotropy",
    "intrasim": "intra-text similarity: mean cosine of a unit and its text's mean",
    "intrasim_adj": "intra-text similarity minus anisotropy",
    "mev": "maximum explainable variance (first PC share) of a word's occurrences",
    "mev_baseline": "MEV of as many random units from different texts",
    "mev_adj": "MEV minus its random baseline",
    "norm_mean": "mean Euclidean norm",
    "norm_std": "standard deviation of the norm",
    "rogue_top1": "share of the expected cosine from the top dimension",
    "rogue_top3": "share of the expected cosine from the top 3 dimensions",
    "rogue_dim": "index of the top dimension",
    "anisotropy_std": "anisotropy after per-dimension standardisation",
    "rogue_top1_std": "top dimension's share after standardisation",
}


@dataclass(eq=False)
class LayerReport(TableReport):
    """Per-layer metrics of one model over one corpus.

    Attributes:
        model: the model's name.
        source: the corpus's name.
        rows: ``(metric, layer, value)`` triples.
        options: the unit options, sample sizes and seed that produced the numbers.
        cka: named layer x layer matrices (``"within"``: the model against itself).
        cka_layers: for each matrix, the layers of its rows and of its columns.
        provenance: the model's name, weight and tokenizer hashes, type and size (as a store's manifest records
            them), and the ctxemb version.
    """

    model: str
    source: str
    rows: list[tuple[str, int, float]]
    options: dict[str, Any] = field(default_factory=dict)
    cka: dict[str, np.ndarray] = field(default_factory=dict)
    cka_layers: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        layers = sorted({layer for _, layer, _ in self.rows})
        return (
            f"LayerReport(model={self.model!r}, source={self.source!r}, layers={layers}, metrics={self.metrics}, "
            f"cka={list(self.cka)}); print() shows the table"
        )

    @property
    def metrics(self) -> list[str]:
        """The metrics present, in the order they were added."""
        return list(dict.fromkeys(m for m, _, _ in self.rows))

    @property
    def layers(self) -> list[int]:
        """The layers present, ascending."""
        return sorted({k for _, k, _ in self.rows})

    def value(self, metric: str, layer: int) -> float:
        """One number; NaN when absent."""
        for m, k, v in self.rows:
            if m == metric and k == layer:
                return v
        return float("nan")

    def layer_values(self, metric: str) -> tuple[list[int], list[float]]:
        """The layers that have ``metric`` and its values there."""
        pairs = sorted((k, v) for m, k, v in self.rows if m == metric)
        return [k for k, _ in pairs], [v for _, v in pairs]

    def table(self, metrics: Sequence[str] | None = None, digits: int = 3) -> str:
        """A markdown table: one row per layer, one column per metric."""
        metrics = [m for m in (metrics or self.metrics) if m in self.metrics]
        lines = ["| layer | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
        for k in self.layers:
            cells = [_cell(self.value(m, k), m, digits) for m in metrics]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def describe(self) -> str:
        """One line saying what the numbers were computed on (sample sizes, seed, options)."""
        return ", ".join(f"{k}={v}" for k, v in self.options.items())

    def plot(self, path: str | os.PathLike[str], metrics: Sequence[str] | None = None) -> Path:
        """Draw the per-layer curves (:func:`~ctxemb.analysis.geometry.plots.plot_layer_curves` of this report)."""
        from .plots import plot_layer_curves

        return plot_layer_curves([self], path, metrics)

    def to_html(
        self, path: str | os.PathLike[str], *, title: str | None = None, provenance: dict[str, Any] | None = None
    ) -> Path:
        """Write the explorer page of this report: its metric curves and CKA heat maps, interactive, in one
        self-contained HTML file (:func:`ctxemb.analysis.explorer.write_page`)."""
        from ..explorer import write_page

        return write_page(path, geometry=[self], title=title, provenance=provenance)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write ``model, source, metric, layer, value`` rows; returns the path."""
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["model", "source", "metric", "layer", "value"])
            for m, k, v in self.rows:
                writer.writerow([self.model, self.source, m, k, repr(float(v))])
        return path

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write everything (rows, options, CKA matrices) as JSON; :meth:`from_json` reads it back."""
        path = Path(path)
        payload = {
            "model": self.model,
            "source": self.source,
            "options": self.options,
            "provenance": self.provenance,
            "rows": [[m, int(k), _json_float(v)] for m, k, v in self.rows],
            "cka": {
                name: {"matrix": [[_json_float(v) for v in row] for row in matrix], "layers": self.cka_layers[name]}
                for name, matrix in self.cka.items()
            },
        }
        path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> LayerReport:
        """Read a report written by :meth:`to_json`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        cka = {n: np.array(c["matrix"], dtype=np.float64) for n, c in data.get("cka", {}).items()}
        layers = {n: (list(c["layers"][0]), list(c["layers"][1])) for n, c in data.get("cka", {}).items()}
        rows = [(m, int(k), float("nan") if v is None else float(v)) for m, k, v in data["rows"]]
        options = data.get("options", {})
        return cls(data["model"], data["source"], rows, options, cka, layers, data.get("provenance", {}))


def _cell(value: float, metric: str, digits: int) -> str:
    if math.isnan(value):
        return ""
    if metric == "rogue_dim":
        return str(int(value))
    text = f"{value:.{digits}f}" if abs(value) < 1000 else f"{value:.1f}"
    return text.replace("-0.000", "0.000") if digits == 3 else text


def _json_float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value
