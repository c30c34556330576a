"""The per-layer plot of a polysemy report: one panel per metric, static and label baselines as horizontal lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ...extras import require
from ...layers import layer_of


class Plottable(Protocol):
    """What the plot reads of a report (:class:`~ctxemb.analysis.polysemy.report.PolysemyReport` has it)."""

    @property
    def rows(self) -> Sequence[Any]: ...

    data_name: str
    postprocess: str

    def representations(self) -> list[tuple[str, str]]: ...

    def layer_values(self, metric: str) -> tuple[list[int], list[float]]: ...

    def value(self, metric: str, representation: str, model: str | None = None) -> float: ...


PLOTTED: dict[str, tuple[str, str]] = {  # metric -> (panel title, y label)
    "knn_accuracy": ("1-NN sense accuracy (leave-one-out)", "accuracy"),
    "centroid_accuracy": ("sense-centroid accuracy (test split)", "accuracy"),
    "ari": ("clustering, k = number of senses", "adjusted Rand index"),
    "nmi": ("clustering, k = number of senses", "normalised mutual information"),
    "wic_accuracy": ("WiC-style pairs (threshold tuned on train)", "accuracy"),
    "sense_gap": ("same-sense minus other-sense similarity", "cosine gap"),
}
_STATIC_STYLES = ("--", "-.", (0, (5, 2, 1, 2)), (0, (1, 1)))
_STATIC_COLOURS = ("tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
_MIX_STYLES = (("D", "tab:red"), ("s", "tab:cyan"), ("^", "tab:pink"), ("v", "tab:gray"), ("P", "tab:olive"))


def plot_report(
    report: Plottable, path: str | Path, metrics: Sequence[str] | None = None, title: str | None = None
) -> Path:
    """Plot each metric against the layer; mixes as points right of the last layer, baselines as lines.

    Args:
        report: the probe's report.
        path: the PNG to write.
        metrics: which metrics (default: those of :data:`PLOTTED` present in the report).
        title: the figure title (default: names the data and the post-processing).

    Returns:
        ``path``.
    """
    # a bare Figure renders with Agg; no global backend change
    Figure = require("matplotlib.figure", "analysis", "plotting").Figure

    present = {row.metric for row in report.rows}
    metrics = [m for m in (metrics or PLOTTED) if m in present]
    if not metrics:
        raise ValueError("the report has none of the metrics to plot")
    columns = min(3, len(metrics))
    rows_n = math.ceil(len(metrics) / columns)
    figure = Figure(figsize=(4.6 * columns, 3.6 * rows_n + 1.0), layout="constrained")
    axes = figure.subplots(rows_n, columns, squeeze=False).ravel()
    contextual = [(m, r) for m, r in report.representations() if layer_of(r) is not None]
    mixes = [(m, r) for m, r in report.representations() if r.startswith("mix ")]
    statics = [(m, r) for m, r in report.representations() if r.startswith("static ")]
    model = contextual[0][0] if contextual else (mixes[0][0] if mixes else "")
    handles: dict[str, object] = {}
    for ax, metric in zip(axes, metrics):
        layers, values = report.layer_values(metric)
        ticks, labels = list(layers), [str(k) for k in layers]
        if layers:
            (line,) = ax.plot(layers, values, "o-", color="tab:blue", lw=2, label=f"{model}: layer")
            handles.setdefault(line.get_label(), line)
        x = (max(layers) + 1) if layers else 0
        for i, (m, representation) in enumerate(mixes):
            v = report.value(metric, representation, m)
            if not math.isnan(v):
                marker, colour = _MIX_STYLES[i % len(_MIX_STYLES)]
                (point,) = ax.plot([x + i], [v], marker, color=colour, ms=8, label=f"{m}: {representation}")
                handles.setdefault(point.get_label(), point)
                ticks.append(x + i)
                labels.append(representation.removeprefix("mix "))
        for i, (m, representation) in enumerate(statics):
            v = report.value(metric, representation, m)
            if not math.isnan(v):
                style = _STATIC_STYLES[i % len(_STATIC_STYLES)]
                colour = _STATIC_COLOURS[i % len(_STATIC_COLOURS)]
                hline = ax.axhline(v, ls=style, color=colour, lw=1.6, label=f"{m}: {representation}")
                handles.setdefault(hline.get_label(), hline)
        v = report.value(metric, "most frequent sense", "baseline")
        if not math.isnan(v):
            label = "most frequent sense (WiC: majority label)"
            hline = ax.axhline(v, ls=":", color="black", lw=1.6, label=label)
            handles.setdefault(label, hline)
        ax.set_xticks(ticks, labels)
        ax.set_xlabel("layer (0 = embeddings)" + ("; mixes at right" if mixes else ""))
        heading, ylabel = PLOTTED.get(metric, (metric, metric))
        ax.set_ylabel(ylabel)
        ax.set_title(heading, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    figure.legend(
        list(handles.values()), list(handles), loc="outside lower center", ncol=min(4, len(handles)), fontsize=9
    )
    default = f"Do senses separate? {model or 'static'} on {report.data_name} (post-processing: {report.postprocess})"
    figure.suptitle(title or default)
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path
