"""Plots of layer analyses: per-layer curves (one line per model), CKA heatmaps, and a probe's layers and mix.

Every function draws on a bare :class:`matplotlib.figure.Figure`, which renders with the Agg backend without
changing matplotlib's global backend, and writes a PNG.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from ...extras import require

if TYPE_CHECKING:
    from ..probing import LayerProbe
    from .report import LayerReport

XAxis = Literal["layer", "depth"]

CURVES: dict[str, tuple[str, str]] = {  # metric -> (panel title, y label)
    "anisotropy": ("anisotropy (random units, different texts)", "mean cosine"),
    "selfsim": ("self-similarity (same word, different texts)", "mean cosine"),
    "selfsim_adj": ("self-similarity minus anisotropy", "cosine"),
    "intrasim": ("intra-text similarity", "mean cosine to the text's mean"),
    "mev": ("maximum explainable variance", "first PC share"),
    "mev_adj": ("MEV minus its random baseline", "first PC share"),
    "norm_mean": ("vector norm", "mean L2 norm (log scale)"),
    "rogue_top1": ("rogue dimension: top dimension's share", "share of expected cosine"),
    "rogue_top3": ("rogue dimensions: top 3 dimensions' share", "share of expected cosine"),
    "anisotropy_std": ("anisotropy after standardisation", "mean cosine"),
}
DEFAULT_CURVES: tuple[str, ...] = ("anisotropy", "selfsim", "selfsim_adj", "intrasim", "mev", "rogue_top1")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def plot_layer_curves(
    reports: Sequence[LayerReport],
    path: str | os.PathLike[str],
    metrics: Sequence[str] | None = None,
    *,
    x: XAxis = "layer",
    title: str | None = None,
) -> Path:
    """Plot each metric against the layer, one panel per metric and one line per model.

    Args:
        reports: one report per model.
        path: the PNG to write.
        metrics: which metrics (default: those of :data:`DEFAULT_CURVES` present in any report).
        x: ``layer`` (the absolute index, 0 = embeddings) or ``depth`` (``layer / L``, to compare models of
            different depths).
        title: the figure title (default: names the corpus).

    Returns:
        ``path``.

    Raises:
        ValueError: no report, an unknown ``x``, or none of the metrics present.
    """
    Figure = require("matplotlib.figure", "analysis", "plotting").Figure

    if not reports:
        raise ValueError("no report to plot")
    if x not in ("layer", "depth"):
        raise ValueError(f"unknown x={x!r}; choose layer or depth")
    present = {m for r in reports for m in r.metrics}
    metrics = [m for m in (metrics or DEFAULT_CURVES) if m in present]
    if not metrics:
        raise ValueError(f"the reports have none of the metrics to plot; they have {', '.join(sorted(present))}")
    columns = min(3, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    figure = Figure(figsize=(4.8 * columns, 3.5 * rows + 0.9), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    colours = [f"C{i % 10}" for i in range(len(reports))]
    handles: dict[str, object] = {}
    for ax, metric in zip(axes, metrics):
        for i, report in enumerate(reports):
            layers, values = report.layer_values(metric)
            if not layers:
                continue
            xs = np.asarray(layers, dtype=float)
            if x == "depth":
                xs = xs / max(max(layers), 1)
            marker = _MARKERS[i % len(_MARKERS)]
            (line,) = ax.plot(xs, values, marker=marker, color=colours[i], lw=1.8, ms=5, label=report.model)
            handles.setdefault(report.model, line)
        heading, ylabel = CURVES.get(metric, (metric, metric))
        ax.set_title(heading, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("layer (0 = embeddings)" if x == "layer" else "relative depth (layer / L)")
        if metric == "norm_mean":
            ax.set_yscale("log")
        if x == "layer":
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    figure.legend(
        list(handles.values()), list(handles), loc="outside lower center", ncol=min(5, len(handles)), fontsize=9
    )
    figure.suptitle(title or f"Layer geometry on {reports[0].source}")
    path = Path(path)
    figure.savefig(path, dpi=100)
    return path


def plot_cka(
    reports: Sequence[LayerReport],
    path: str | os.PathLike[str],
    *,
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Draw every CKA matrix of the reports as a heatmap (colour scale 0 to 1, values written in small ones).

    Args:
        reports: reports holding CKA matrices (``report.cka``).
        path: the PNG to write.
        names: which matrices (default: every one, e.g. ``within`` and cross-model ones).
        title: the figure title.

    Returns:
        ``path``.

    Raises:
        ValueError: no CKA matrix in the reports.
    """
    Figure = require("matplotlib.figure", "analysis", "plotting").Figure

    panels = [(report, name) for report in reports for name in report.cka if names is None or name in names]
    if not panels:
        raise ValueError("no CKA matrix to plot (run the analysis with the 'cka' metric)")
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.3 * columns + 0.8, 4.0 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    image = None
    for ax, (report, name) in zip(axes, panels):
        matrix = np.asarray(report.cka[name], dtype=float)
        row_layers, col_layers = report.cka_layers.get(name, (range(matrix.shape[0]), range(matrix.shape[1])))
        image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower")
        ax.set_yticks(range(matrix.shape[0]), [str(k) for k in row_layers])
        ax.set_xticks(range(matrix.shape[1]), [str(k) for k in col_layers])
        if max(matrix.shape) <= 13:
            for (i, j), value in np.ndenumerate(matrix):
                colour = "black" if value > 0.6 else "white"
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
        other = name.removeprefix("vs ") if name.startswith("vs ") else report.model
        ax.set_ylabel(f"{report.model}: layer")
        ax.set_xlabel(f"{other}: layer")
        ax.set_title(f"{report.model}" if name == "within" else f"{report.model} vs {other}", fontsize=10)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if image is not None:
        figure.colorbar(image, ax=axes[: len(panels)].tolist(), shrink=0.8 if rows == 1 else 0.5, label="linear CKA")
    figure.suptitle(title or f"Linear CKA between layers on {panels[0][0].source}")
    path = Path(path)
    figure.savefig(path, dpi=100)
    return path


def plot_probe(probe: LayerProbe, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """Plot a fitted probe: accuracy, control accuracy and selectivity per layer, and the scalar mix's weights.

    Args:
        probe: a fitted :class:`~ctxemb.analysis.probing.LayerProbe`.
        path: the PNG to write.
        title: the figure title.

    Returns:
        ``path``.
    """
    Figure = require("matplotlib.figure", "analysis", "plotting").Figure

    has_mix = not np.isnan(probe.mix_weights_).all()
    figure = Figure(figsize=(10.5 if has_mix else 6.0, 4.0), layout="constrained")
    axes = figure.subplots(1, 2 if has_mix else 1, squeeze=False).ravel()
    ax = axes[0]
    layers = np.asarray(probe.layers_)
    ax.plot(layers, probe.accuracy_, "o-", lw=2, label="accuracy (real labels)")
    if not np.isnan(probe.control_accuracy_).all():
        ax.plot(layers, probe.control_accuracy_, "s--", lw=1.6, label="control task accuracy")
        ax.plot(layers, probe.selectivity_, "^-", lw=1.6, label="selectivity = real - control")
    ax.axhline(probe.majority_, ls=":", color="black", label="majority label")
    if has_mix:
        ax.axhline(probe.mix_accuracy_, ls="-.", color="tab:red", label="scalar-mix probe")
    ax.set_xticks(layers)
    ax.set_xlabel("layer (0 = embeddings)")
    ax.set_ylabel("cross-validated accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("linear probe per layer", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    if has_mix:
        ax = axes[1]
        ax.bar(layers, probe.mix_weights_, color="tab:blue", alpha=0.8)
        ax.axvline(
            probe.centre_of_gravity_, color="tab:red", lw=2, label=f"centre of gravity {probe.centre_of_gravity_:.2f}"
        )
        ax.set_xticks(layers)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_ylabel("softmax weight")
        ax.set_title("scalar-mix weights (Tenney et al. 2019)", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    figure.suptitle(title or "Layer probe")
    path = Path(path)
    figure.savefig(path, dpi=100)
    return path
