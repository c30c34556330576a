"""Plots of layer analyses: the PNGs are written, and bad requests say what is missing."""

from __future__ import annotations

import numpy as np
import pytest

from ctxemb.analysis import LayerProbe, LayerReport
from ctxemb.analysis.geometry.plots import plot_cka, plot_layer_curves, plot_probe


def _report(model: str, layers: int) -> LayerReport:
    rows = [(m, k, 0.1 * k + i) for i, m in enumerate(("anisotropy", "selfsim", "norm_mean")) for k in range(layers)]
    report = LayerReport(model, "toy.txt", rows)
    report.cka["within"] = np.eye(layers)
    report.cka_layers["within"] = (list(range(layers)), list(range(layers)))
    return report


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_heatmaps_and_probe_plots(tmp_path):
    a, b = _report("a", 4), _report("b", 7)
    b.cka["vs a"] = np.full((7, 4), 0.5)
    b.cka_layers["vs a"] = (list(range(7)), list(range(4)))
    assert _is_png(plot_layer_curves([a, b], tmp_path / "curves.png"))
    assert _is_png(plot_layer_curves([a, b], tmp_path / "depth.png", ["selfsim"], x="depth"))
    assert _is_png(plot_cka([a, b], tmp_path / "cka.png"))
    rng = np.random.default_rng(0)
    labels = rng.choice(["X", "Y"], size=40)
    x = rng.normal(size=(2, 40, 3)).astype(np.float32)
    probe = LayerProbe(folds=2, mix_iter=10).fit(x, labels, types=list(labels), groups=np.arange(40) // 2)
    assert _is_png(plot_probe(probe, tmp_path / "probe.png"))
    assert _is_png(probe.plot(tmp_path / "probe2.png")) and _is_png(a.plot(tmp_path / "curves2.png"))


def test_plot_errors(tmp_path):
    with pytest.raises(ValueError, match="no report to plot"):
        plot_layer_curves([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="none of the metrics to plot; they have anisotropy"):
        plot_layer_curves([_report("a", 2)], tmp_path / "x.png", ["mev"])
    with pytest.raises(ValueError, match="unknown x='width'"):
        plot_layer_curves([_report("a", 2)], tmp_path / "x.png", x="width")  # type: ignore[arg-type]
    bare = LayerReport("a", "toy.txt", [("anisotropy", 0, 0.1)])
    with pytest.raises(ValueError, match="no CKA matrix to plot"):
        plot_cka([bare], tmp_path / "x.png")


def test_reports_plot_themselves(tmp_path):
    from ctxemb.analysis.geometry.report import LayerReport

    report = LayerReport(model="m", source="s", rows=[("anisotropy", k, 0.1 * k) for k in range(3)])
    assert report.plot(tmp_path / "curves.png") == tmp_path / "curves.png" and _is_png(tmp_path / "curves.png")
