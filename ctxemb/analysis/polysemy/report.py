"""The results of a polysemy probe: a tidy table (model x layer-or-mix x metric), to CSV, JSON and text."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...layers import layer_of
from ...reports import TableReport

if TYPE_CHECKING:
    from ...mixing import MixLike
    from .data import Occurrence

PROBE_METRICS: dict[str, str] = {
    "self_similarity": "mean cosine between two occurrences of the same word (Ethayarajh 2019)",
    "anisotropy": "mean cosine between occurrences of different words",
    "within_sense": "mean cosine between two occurrences of one word in the same sense",
    "across_sense": "mean cosine between two occurrences of one word in different senses",
    "sense_gap": "within_sense - across_sense, macro-averaged over words",
    "knn_accuracy": "leave-one-out 1-NN sense accuracy among a word's occurrences",
    "centroid_accuracy": "nearest sense centroid (train split) accuracy on the test split",
    "ari": "adjusted Rand index of k-sense clustering against gold senses",
    "nmi": "normalised mutual information of k-sense clustering against gold senses",
    "wic_accuracy": "same-sense pair accuracy with a cosine threshold tuned on training pairs",
    "wic_threshold": "the tuned cosine threshold",
}
COLUMNS: dict[str, str] = {  # metric -> short heading of the printed table
    "within_sense": "within",
    "across_sense": "across",
    "sense_gap": "gap",
    "knn_accuracy": "1-NN",
    "centroid_accuracy": "centroid",
    "ari": "ARI",
    "nmi": "NMI",
    "wic_accuracy": "WiC",
    "self_similarity": "self-sim",
}


@dataclass(frozen=True)
class ProbeRow:
    """One value of the tidy table.

    Attributes:
        model: the contextual model's name, a static model's name, or ``baseline``.
        representation: ``layerK`` (:func:`ctxemb.layers.layer_name`), ``mix MODE``, ``static target``,
            ``static context`` or ``most frequent sense``.
        layer: the layer number for ``layerK`` rows, else ``None``.
        metric: one of :data:`PROBE_METRICS`.
        value: the score.
        n: how many words, occurrences or pairs it averages over.
    """

    model: str
    representation: str
    layer: int | None
    metric: str
    value: float
    n: int


@dataclass(frozen=True, eq=False)
class ProbeVectors:
    """The vectors a report's contextual rows were scored from, kept for its explorer page.

    :meth:`PolysemyReport.to_html` projects them to 2-D, word by word and layer by layer.

    Attributes:
        occurrences: the occurrences, as scored (with their splits).
        layers: the layer of each row of ``vectors``.
        vectors: ``(layers, n, dim)`` span vectors (the array the probe was given, not a copy).
        mixes: the mixes scored, as :meth:`ctxemb.Mix.of` reads them.
        postprocess: the post-processing applied before cosine (``none | center | abtt | standardize``).
        n_components: ``D`` for ``abtt``.
        cluster: the clustering method (``agglomerative | kmeans``), for words without sense labels.
        seed: the probe's seed.
    """

    occurrences: tuple[Occurrence, ...]
    layers: tuple[int, ...]
    vectors: np.ndarray
    mixes: tuple[MixLike, ...] = ()
    postprocess: str = "none"
    n_components: int | None = None
    cluster: str = "agglomerative"
    seed: int = 0


class PolysemyReport(TableReport):
    """The tidy table of a probe run, with the words skipped by the sense metrics.

    Args:
        rows: the table.
        data_name: the data's name.
        skipped_words: words with a single sense (left out of the sense metrics).
        postprocess: the post-processing applied before cosine.
        description: one line on the data (occurrences, words, senses, pairs).
        vectors: the occurrences and vectors the contextual rows were scored from (for :meth:`to_html`), or
            ``None``.
        provenance: where the numbers come from: the model (name, weight and tokenizer hashes, ...), the probe's
            settings, the static models, the ctxemb version.
    """

    def __init__(
        self,
        rows: Sequence[ProbeRow],
        data_name: str = "data",
        skipped_words: Sequence[str] = (),
        postprocess: str = "none",
        description: str = "",
        vectors: ProbeVectors | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        self.rows = list(rows)
        self.data_name = data_name
        self.skipped_words = tuple(skipped_words)
        self.postprocess = postprocess
        self.description = description
        self.vectors = vectors
        self.provenance = dict(provenance or {})

    def __repr__(self) -> str:
        models = list(dict.fromkeys(row.model for row in self.rows))
        metrics = list(dict.fromkeys(row.metric for row in self.rows))
        return (
            f"PolysemyReport(data={self.data_name!r}, models={models}, representations={len(self.representations())}, "
            f"metrics={len(metrics)}, postprocess={self.postprocess!r}); print() shows the table"
        )

    def representations(self) -> list[tuple[str, str]]:
        """The ``(model, representation)`` pairs in table order."""
        seen: dict[tuple[str, str], None] = {}
        for row in self.rows:
            seen.setdefault((row.model, row.representation), None)
        return list(seen)

    def value(self, metric: str, representation: str, model: str | None = None) -> float:
        """One value (NaN if absent); ``model`` is needed only where two models share a representation name."""
        for row in self.rows:
            if row.metric == metric and row.representation == representation and model in (None, row.model):
                return row.value
        return float("nan")

    def layer_values(self, metric: str) -> tuple[list[int], list[float]]:
        """The layers and their values of one metric (contextual layer rows only)."""
        pairs = [(row.layer, row.value) for row in self.rows if row.metric == metric and row.layer is not None]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def to_records(self) -> list[dict]:
        """The rows as dictionaries (NaN as ``None``), with the post-processing and data name added."""
        records = []
        for row in self.rows:
            record = asdict(row)
            record["value"] = None if math.isnan(row.value) else row.value
            records.append({**record, "postprocess": self.postprocess, "data": self.data_name})
        return records

    def to_csv(self, path: str | Path) -> Path:
        """Write the tidy table as CSV (one row per model x representation x metric)."""
        path = Path(path)
        records = self.to_records()
        fields = ["model", "representation", "layer", "metric", "value", "n", "postprocess", "data"]
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(records)
        return path

    def to_json(self, path: str | Path) -> Path:
        """Write the table, the metric descriptions, the skipped words and the provenance as JSON."""
        path = Path(path)
        document = {
            "data": self.data_name,
            "description": self.description,
            "postprocess": self.postprocess,
            "provenance": self.provenance,
            "skipped_words": list(self.skipped_words),
            "metrics": PROBE_METRICS,
            "rows": self.to_records(),
        }
        path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        return path

    def table(self, columns: dict[str, str] | None = None) -> str:
        """A readable wide table: one line per layer, mix, static baseline and label baseline."""
        columns = columns or COLUMNS
        present = {row.metric for row in self.rows}
        shown = {m: h for m, h in columns.items() if m in present}
        labels = []
        for model, representation in self.representations():
            if layer_of(representation) is not None:
                labels.append(str(layer_of(representation)))
            elif model == "baseline":
                labels.append(representation)
            elif representation.startswith("static"):
                labels.append(f"{representation} ({model})")
            else:
                labels.append(representation)
        width = max([len("layer"), *map(len, labels)])
        lines = ["layer".ljust(width) + "".join(f"  {h:>8}" for h in shown.values())]
        for label, (model, representation) in zip(labels, self.representations()):
            cells = []
            for metric in shown:
                v = self.value(metric, representation, model)
                cells.append(f"  {'-':>8}" if math.isnan(v) else f"  {v:>8.3f}".replace("-0.000", " 0.000"))
            lines.append(label.ljust(width) + "".join(cells))
        return "\n".join(lines)

    def plot(self, path: str | Path, metrics: Sequence[str] | None = None, title: str | None = None) -> Path:
        """Draw the per-layer plot (see :func:`~ctxemb.analysis.polysemy.plot.plot_report`)."""
        from .plot import plot_report

        return plot_report(self, path, metrics, title)

    def to_html(
        self,
        path: str | Path,
        *,
        projection: str = "pca",
        words: Sequence[str] | None = None,
        title: str | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> Path:
        """Write the explorer page: one self-contained HTML file (see :func:`ctxemb.analysis.explorer.write_page`).

        Each probed word's occurrences in 2-D per layer and mix (where the report kept its vectors), and the
        per-layer metric curves with the baselines.

        Args:
            path: the HTML file to write.
            projection: ``pca`` (default), ``umap`` or ``tsne``, fitted per word and layer.
            words: only these words in the occurrence view (default: all; a large data set makes a large page).
            title: the page title.
            provenance: more header entries, added to the report's own :attr:`provenance`.
        """
        from ..explorer import write_page

        return write_page(path, polysemy=self, projection=projection, words=words, title=title, provenance=provenance)
