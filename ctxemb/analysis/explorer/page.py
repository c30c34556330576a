"""The explorer page: one self-contained HTML file with a provenance header and one section per report.

Why Bokeh: the page needs a scatter plot driven by a picker and a slider, hover text with markup, line charts whose
series toggle from the legend, and heat maps; Bokeh, Plotly and Vega-Lite (Altair) all do that, and all three can
inline their JavaScript. Bokeh's inlined library is the smallest for it (BokehJS with its widgets, about 1.7 MB;
Plotly's bundle is about 4.8 MB; Altair inlines Vega only through the extra ``vl-convert-python`` package), and it
writes only the parts a page uses. The page fetches nothing: no network, no server.
"""

from __future__ import annotations

import datetime
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import __version__
from ...extras import require

if TYPE_CHECKING:
    from ..geometry.report import LayerReport
    from ..polysemy.report import PolysemyReport
    from ..probing import LayerProbe

STYLE = """
<style>
  html, body { height: auto; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1240px;
         padding: 16px 24px 48px; color: #222; }
  h1 { font-size: 1.5em; margin: 0.2em 0; }
  h2 { font-size: 1.2em; margin: 1.6em 0 0.3em; border-bottom: 1px solid #ddd; }
  p.note { color: #444; max-width: 1000px; margin: 0.3em 0 0.8em; }
  table.provenance { border-collapse: collapse; font-size: 13px; }
  table.provenance th { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; color: #555;
                        font-weight: 600; white-space: nowrap; }
  table.provenance td { padding: 2px 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
  mark { background: #ffe066; padding: 0 1px; }
</style>
"""

TEMPLATE = """{% extends base %}
{% block postamble %}{{ style }}{% endblock %}
{% block contents %}
{{ header }}
{% for section in sections %}
<h2 id="{{ section.id }}">{{ section.title }}</h2>
<p class="note">{{ section.note }}</p>
{{ embed(roots[section.root]) }}
{% endfor %}
{% endblock %}
"""


def provenance_rows(entries: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Header rows, one per entry; a nested mapping (``{"model": {"name": ..., "weights_sha256": ...}}``) is one row
    of ``key: value`` pairs, empty values left out."""
    rows: list[tuple[str, str]] = []
    for key, value in entries.items():
        if isinstance(value, Mapping):
            pairs = [(str(k), _text(v)) for k, v in value.items()]
            rows.append((str(key), " · ".join(f"{k}: {v}" for k, v in pairs if v)))
        else:
            rows.append((str(key), _text(value)))
    return rows


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def header(title: str, entries: Mapping[str, Any]) -> str:
    """The page's title and its provenance table, as HTML."""
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in provenance_rows(entries))
    return f'<header><h1>{html.escape(title)}</h1><table class="provenance">{cells}</table></header>'


def write_page(
    path: str | os.PathLike[str],
    *,
    polysemy: PolysemyReport | None = None,
    geometry: LayerReport | Sequence[LayerReport] = (),
    probes: LayerProbe | Mapping[str, LayerProbe] | None = None,
    projection: str = "pca",
    words: Sequence[str] | None = None,
    title: str | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write one self-contained HTML page (all JavaScript inlined, nothing fetched) of the reports given.

    Sections, in order, for what is given:

    - *occurrences* (a polysemy report that kept its vectors): each word's occurrences in 2-D at each layer and mix,
      a word picker, a layer slider, points coloured by sense (else by cluster), the sentence on hover;
    - *polysemy metrics*: each metric per layer, mixes at the right, static and label baselines as lines;
    - *layer geometry*: each metric per layer, one line per model; the CKA heat maps;
    - *linear probes*: accuracy, control-task accuracy and selectivity per layer, the scalar mix and its weights.

    Every chart shows values on hover, and a click on a legend entry hides or shows its series.

    Args:
        path: the HTML file to write.
        polysemy: a :class:`~ctxemb.analysis.polysemy.PolysemyReport`.
        geometry: one :class:`~ctxemb.analysis.geometry.LayerReport` or several (one per model).
        probes: a fitted :class:`~ctxemb.analysis.probing.LayerProbe`, or ``{name: probe}``.
        projection: ``pca`` (default), ``umap`` (needs ``umap-learn``) or ``tsne``, fitted per word and layer.
        words: the words of the occurrence view, in the picker's order (default: every word of the data; a large
            data set makes a large page: about 250 bytes per occurrence for 7 layers and a mix).
        title: the page title (default: names the model and the data).
        provenance: more header entries (``{name: value}``; nested mappings become ``name key`` rows).

    Returns:
        ``path``.

    Raises:
        ValueError: nothing to show, or an unknown projection.
        MissingExtraError: Bokeh (the ``analysis`` extra) or the projection's library is not installed.
    """
    from .charts import cka_maps, geometry_curves, polysemy_curves, probe_charts
    from .points import occurrence_points, starting_representation
    from .projection import check_projection
    from .scatter import occurrence_view

    check_projection(projection)
    embed = require("bokeh.embed", "analysis", "the explorer page")
    resources = require("bokeh.resources", "analysis", "the explorer page")
    jinja = require("jinja2", "analysis", "the explorer page")  # comes with Bokeh
    templates = require("bokeh.core.templates", "analysis", "the explorer page")
    reports = list(geometry) if isinstance(geometry, Sequence) else [geometry]
    probe_map = (
        {"linear probe": probes} if probes is not None and not isinstance(probes, Mapping) else dict(probes or {})
    )
    if polysemy is None and not reports and not probe_map:
        raise ValueError("nothing to show: give a polysemy report, layer reports or probes")

    roots: list[Any] = []
    sections: list[dict[str, str]] = []

    def add(root: Any, section_id: str, section_title: str, note: str) -> None:
        root.name = section_id
        roots.append(root)
        sections.append({"id": section_id, "title": section_title, "note": note, "root": section_id})

    entries: dict[str, Any] = {}
    model = ""
    if polysemy is not None:
        entries.update(sorted(polysemy.provenance.items(), key=lambda kv: kv[0] != "model"))  # the model first
        model = str(polysemy.provenance.get("model", {}).get("name", "")) or next(
            (m for m, r in polysemy.representations() if r.startswith(("layer", "mix"))), ""
        )
        if polysemy.vectors is not None:
            points = occurrence_points(polysemy.vectors, projection, words)  # type: ignore[arg-type]
            layers, knn = polysemy.layer_values("knn_accuracy")
            start = starting_representation(points.representations, layers, knn)
            entries["projection"] = f"{projection}, fitted per word and layer (mixes after the layers)"
            add(
                occurrence_view(points, start),
                "occurrences",
                "Occurrences, layer by layer",
                "Each point is one occurrence of the chosen word, projected to 2-D at the chosen layer (or mix); "
                "points of the same colour share a sense (or, where the data has no senses, a cluster). Hover a point "
                "for its sentence; click a legend entry to hide its points. The slider starts at the layer with the "
                "best 1-NN sense accuracy.",
            )
        add(
            polysemy_curves(polysemy),
            "polysemy-metrics",
            "Polysemy metrics per layer",
            f"{polysemy.description} Post-processing: {polysemy.postprocess}. Mixes are the points right of the last "
            "layer; static and label baselines are lines. Hover for values; click a legend entry to hide a series.",
        )
    for report in reports:
        entries[f"geometry {report.model}"] = {"corpus": report.source, **report.options, **report.provenance}
        model = model or report.model
    if reports:
        add(
            geometry_curves(reports),
            "geometry-metrics",
            "Layer geometry",
            f"Sample: {reports[0].describe()}. One line per model; hover for values, click a legend entry to hide it.",
        )
        if any(r.cka for r in reports):
            add(
                cka_maps(reports),
                "cka",
                "CKA between layers",
                "Linear CKA between the layers' representations of the same units (1: the same up to rotation and "
                "scale). Hover a cell for its value.",
            )
    for name, probe in probe_map.items():
        if not hasattr(probe, "accuracy_"):
            raise ValueError(f"probe {name!r} is not fitted: call fit() first")
        entries[name] = probe.get_params()
    if probe_map:
        add(
            probe_charts(probe_map),
            "probes",
            "Linear probes per layer",
            "Cross-validated accuracy of a linear probe on each layer, the same probe on the control task (one random "
            "label per word type) and their difference, the selectivity; the scalar-mix probe's accuracy at the "
            "right and its layer weights below. Hover for values; click a legend entry to hide a series.",
        )
    entries.update(provenance or {})
    entries["ctxemb"] = entries.pop("ctxemb", __version__)  # last but one, with the date
    entries["written"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page_title = title or f"ctxemb explorer: {model or 'reports'}" + (
        f" on {polysemy.data_name}" if polysemy is not None else ""
    )
    template = jinja.Environment().from_string(TEMPLATE)
    text = embed.file_html(
        roots,
        resources=resources.INLINE,
        title=page_title,
        template=template,
        template_variables={
            "base": templates.FILE,
            "style": STYLE,
            "header": header(page_title, entries),
            "sections": sections,
        },
    )
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
