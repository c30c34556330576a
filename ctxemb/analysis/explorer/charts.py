"""The explorer page's charts: metric curves per layer, CKA heat maps and linear probes, each a Bokeh grid.

Every series is its own legend entry (a click hides or shows it) and shows its values on hover. Mixes sit right of
the last layer; baselines that do not depend on the layer (static vectors, the most frequent sense, the majority
label) are horizontal lines across the chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ...extras import require
from ...layers import layer_of
from .points import PALETTE

if TYPE_CHECKING:
    from ..geometry.report import LayerReport
    from ..polysemy.report import PolysemyReport
    from ..probing import LayerProbe

TOOLTIPS = [("", "@series"), ("at", "@at"), ("value", "@value{0.000}")]
DASHES = ("dashed", "dashdot", "dotdash", "dotted")


def _bokeh() -> tuple[Any, Any, Any]:
    feature = "the explorer page"
    return (
        require("bokeh.models", "analysis", feature),
        require("bokeh.plotting", "analysis", feature),
        require("bokeh.layouts", "analysis", feature),
    )


def _figure(title: str, ylabel: str, ticks: Sequence[float], labels: Mapping[int, str], xlabel: str) -> Any:
    models, plotting, _ = _bokeh()
    fig = plotting.figure(title=title, width=360, height=320, tools="pan,wheel_zoom,box_zoom,reset,save")
    fig.add_tools(models.HoverTool(tooltips=TOOLTIPS))
    fig.xaxis.ticker = models.FixedTicker(ticks=list(ticks))
    fig.xaxis.major_label_overrides = {float(k): v for k, v in labels.items()}
    fig.xaxis.axis_label = xlabel
    fig.yaxis.axis_label = ylabel
    fig.title.text_font_size = "10pt"
    return fig


def _series(fig: Any, name: str, xs: Sequence[float], ys: Sequence[float], at: Sequence[str], **style: Any) -> None:
    """One series: a line with markers (``line=False``: markers only; ``marker=False``: a line only)."""
    models, _, _ = _bokeh()
    keep = [i for i, y in enumerate(ys) if y is not None and math.isfinite(y)]
    if not keep:
        return
    source = models.ColumnDataSource(
        {
            "x": [float(xs[i]) for i in keep],
            "y": [float(ys[i]) for i in keep],
            "value": [float(ys[i]) for i in keep],
            "at": [at[i] for i in keep],
            "series": [name] * len(keep),
        }
    )
    colour = style.get("color", PALETTE[0])
    if style.get("line", True):
        fig.line(
            "x", "y", source=source, color=colour, line_width=2, line_dash=style.get("dash", "solid"), legend_label=name
        )
    if style.get("marker", True):
        fig.scatter(
            "x",
            "y",
            source=source,
            color=colour,
            size=style.get("size", 7),
            marker=style.get("shape", "circle"),
            legend_label=name,
        )


def _finish(figures: list[Any], columns: int = 3) -> Any:
    _, _, layouts = _bokeh()
    for fig in figures:
        if fig.legend:
            fig.legend.click_policy = "hide"
            fig.legend.label_text_font_size = "8pt"
            fig.legend.background_fill_alpha = 0.6
            fig.legend.location = "bottom_right"
            fig.legend.spacing = 0
            fig.legend.padding = 4
    return layouts.gridplot(figures, ncols=columns, toolbar_location="right", merge_tools=True)


def polysemy_curves(report: PolysemyReport, metrics: Sequence[str] | None = None) -> Any:
    """One chart per metric of a polysemy report: the layers as a line, mixes as points right of the last layer,
    static baselines and the most frequent sense as horizontal lines."""
    from ..polysemy.plot import PLOTTED

    present = {row.metric for row in report.rows}
    metrics = [m for m in (metrics or PLOTTED) if m in present]
    if not metrics:
        raise ValueError("the polysemy report has none of the metrics to chart")
    reps = report.representations()
    contextual = [(m, r) for m, r in reps if layer_of(r) is not None]
    mixes = [(m, r) for m, r in reps if r.startswith("mix ")]
    statics = [(m, r) for m, r in reps if r.startswith("static ")]
    model = contextual[0][0] if contextual else (mixes[0][0] if mixes else "")
    figures = []
    for metric in metrics:
        layers, values = report.layer_values(metric)
        right = (max(layers) + 1) if layers else 0
        ticks = [*layers, *range(right, right + len(mixes))]
        labels = {k: str(k) for k in layers} | {right + i: r.removeprefix("mix ") for i, (_, r) in enumerate(mixes)}
        heading, ylabel = PLOTTED.get(metric, (metric, metric))
        fig = _figure(heading, ylabel, ticks, labels, "layer (0 = embeddings)" + ("; mixes at right" if mixes else ""))
        _series(fig, f"{model}: layers", layers, values, [f"layer {k}" for k in layers])
        for i, (m, r) in enumerate(mixes):
            v = report.value(metric, r, m)
            _series(fig, f"{m}: {r}", [right + i], [v], [r], line=False, size=11, shape="diamond", color=PALETTE[3 + i])
        span = [min(ticks, default=0), max(ticks, default=0)]
        for i, (m, r) in enumerate(statics):
            v = report.value(metric, r, m)
            style = {"marker": False, "dash": DASHES[i % len(DASHES)], "color": PALETTE[(1 + i) % len(PALETTE)]}
            _series(fig, f"{m}: {r}", span, [v, v], [r, r], **style)
        v = report.value(metric, "most frequent sense", "baseline")
        _series(fig, "most frequent sense", span, [v, v], ["baseline"] * 2, marker=False, dash="dotted", color="#000")
        figures.append(fig)
    return _finish(figures)


def geometry_curves(reports: Sequence[LayerReport], metrics: Sequence[str] | None = None) -> Any:
    """One chart per geometry metric, one line per model (report)."""
    from ..geometry.plots import CURVES, DEFAULT_CURVES

    present = {m for r in reports for m in r.metrics}
    metrics = [m for m in (metrics or DEFAULT_CURVES) if m in present]
    if not metrics:
        raise ValueError("the layer reports have none of the metrics to chart")
    figures = []
    for metric in metrics:
        layers = sorted({k for r in reports for k in r.layer_values(metric)[0]})
        heading, ylabel = CURVES.get(metric, (metric, metric))
        fig = _figure(heading, ylabel, layers, {k: str(k) for k in layers}, "layer (0 = embeddings)")
        for i, report in enumerate(reports):
            ks, vs = report.layer_values(metric)
            _series(fig, report.model, ks, vs, [f"layer {k}" for k in ks], color=PALETTE[i % len(PALETTE)])
        figures.append(fig)
    return _finish(figures)


def cka_maps(reports: Sequence[LayerReport]) -> Any:
    """One heat map per CKA matrix of each report (``within``: the model against itself; ``vs X``: across models)."""
    models, plotting, _ = _bokeh()
    mapper = models.LinearColorMapper(palette="Viridis256", low=0.0, high=1.0)
    figures = []
    for report in reports:
        for name, matrix in report.cka.items():
            rows, columns = report.cka_layers[name]
            i, j = np.meshgrid(np.arange(len(rows)), np.arange(len(columns)), indexing="ij")
            values = np.asarray(matrix, dtype=np.float64)
            source = models.ColumnDataSource(
                {
                    "row": [str(rows[a]) for a in i.ravel()],
                    "column": [str(columns[b]) for b in j.ravel()],
                    "value": [float(v) if math.isfinite(v) else float("nan") for v in values.ravel()],
                }
            )
            other = report.model if name == "within" else name.removeprefix("vs ")
            fig = plotting.figure(
                title=f"CKA: {report.model} ({name})",
                width=360,
                height=340,
                x_range=[str(c) for c in columns],
                y_range=[str(r) for r in rows],
                tools="save",
                tooltips=[(f"{report.model} layer", "@row"), (f"{other} layer", "@column"), ("CKA", "@value{0.000}")],
            )
            fig.rect(
                "column",
                "row",
                1,
                1,
                source=source,
                fill_color={"field": "value", "transform": mapper},
                line_color=None,
            )
            fig.xaxis.axis_label = f"{other} layer"
            fig.yaxis.axis_label = f"{report.model} layer"
            fig.title.text_font_size = "10pt"
            fig.add_layout(models.ColorBar(color_mapper=mapper, width=10), "right")
            figures.append(fig)
    return _finish(figures)


def probe_charts(probes: Mapping[str, LayerProbe]) -> Any:
    """Per probe: accuracy, control accuracy and selectivity per layer (the scalar mix at the right, the majority
    label as a line), and the scalar mix's layer weights as bars."""
    models, plotting, _ = _bokeh()
    figures = []
    for name, probe in probes.items():
        if not hasattr(probe, "accuracy_"):
            raise ValueError(f"probe {name!r} is not fitted: call fit() first")
        layers = list(probe.layers_)
        right = max(layers) + 1
        mixed = not math.isnan(probe.mix_accuracy_)
        ticks = [*layers, right] if mixed else layers
        labels = {k: str(k) for k in layers} | ({right: "mix"} if mixed else {})
        fig = _figure(f"{name}: accuracy per layer", "accuracy", ticks, labels, "layer (0 = embeddings)")
        at = [f"layer {k}" for k in layers]
        _series(fig, "probe", layers, probe.accuracy_.tolist(), at, color=PALETTE[0])
        _series(fig, "control task", layers, probe.control_accuracy_.tolist(), at, color=PALETTE[1], dash="dashed")
        _series(fig, "selectivity", layers, probe.selectivity_.tolist(), at, color=PALETTE[2])
        if mixed:
            label = f"scalar mix (centre of gravity {probe.centre_of_gravity_:.2f})"
            _series(
                fig,
                "scalar mix",
                [right],
                [probe.mix_accuracy_],
                [label],
                line=False,
                size=11,
                shape="diamond",
                color=PALETTE[3],
            )
        span = [min(ticks), max(ticks)]
        _series(
            fig,
            "majority label",
            span,
            [probe.majority_] * 2,
            ["baseline"] * 2,
            marker=False,
            dash="dotted",
            color="#000",
        )
        figures.append(fig)
        weights = np.asarray(probe.mix_weights_, dtype=np.float64)
        if mixed and np.all(np.isfinite(weights)):
            source = models.ColumnDataSource({"layer": [str(k) for k in layers], "weight": weights.tolist()})
            bars = plotting.figure(
                title=f"{name}: scalar-mix weights",
                width=360,
                height=320,
                x_range=[str(k) for k in layers],
                tools="save",
                tooltips=[("layer", "@layer"), ("softmax weight", "@weight{0.000}")],
            )
            bars.vbar(x="layer", top="weight", width=0.8, source=source, color=PALETTE[3])
            bars.xaxis.axis_label = "layer"
            bars.yaxis.axis_label = "weight"
            bars.title.text_font_size = "10pt"
            figures.append(bars)
    return _finish(figures)
