"""The occurrence view: one word's occurrences in 2-D, a word picker and a layer slider (layers, then mixes).

Built with Bokeh: the points of every word and layer travel with the page as one JSON value, and a few lines of
JavaScript (:data:`UPDATE`) copy the chosen word's points at the chosen layer into the plotted source. Hovering a
point shows its sentence with the target marked.
"""

from __future__ import annotations

from typing import Any

from ...extras import require
from .points import OccurrencePoints, payload, word_choices

#: Copies the chosen word's points at the chosen layer (or mix) into the plotted source.
UPDATE = """
const w = data.words[picker.value];
const r = slider.value;
source.data = {
  x: w.x[r], y: w.y[r], html: w.html, split: w.split,
  label: w.per_layer ? w.label[r] : w.label, color: w.per_layer ? w.color[r] : w.color,
};
const note = w.notes[r] ? ` (${w.notes[r]})` : "";
plot.title.text = `${picker.value}: ${data.representations[r]}${note}; coloured by ${w.by}`;
"""

TOOLTIP = """
<div style="max-width: 420px; white-space: normal; font-size: 13px">@html{safe}</div>
<div style="font-size: 12px; color: #555">@label &middot; @split</div>
"""


def occurrence_view(points: OccurrencePoints, start: int = 0, *, width: int = 760, height: int = 560) -> Any:
    """The word picker, the layer slider and the scatter plot, as one Bokeh layout.

    Args:
        points: from :func:`~ctxemb.analysis.explorer.points.occurrence_points`.
        start: the representation the slider starts at (an index into ``points.representations``).
        width: the plot's width in pixels.
        height: the plot's height in pixels.

    Returns:
        A Bokeh ``column`` (named ``occurrences``; the plot is ``occurrence-plot``, its source ``occurrence-points``,
        the picker ``word-picker``, the slider ``layer-slider``).
    """
    models = require("bokeh.models", "analysis", "the explorer page")
    plotting = require("bokeh.plotting", "analysis", "the explorer page")
    layouts = require("bokeh.layouts", "analysis", "the explorer page")
    if not points.words:
        raise ValueError("no occurrence to show")
    data = payload(points)
    names = points.representations
    first = points.words[0].word
    source = models.ColumnDataSource(
        {"x": [], "y": [], "html": [], "split": [], "label": [], "color": []}, name="occurrence-points"
    )
    plot = plotting.figure(
        name="occurrence-plot",
        width=width,
        height=height,
        x_range=models.Range1d(-1.12, 1.12),
        y_range=models.Range1d(-1.12, 1.12),
        tools="pan,wheel_zoom,box_zoom,reset,save",
        toolbar_location="above",
        match_aspect=True,
    )
    renderer = plot.scatter(
        "x", "y", source=source, size=11, color="color", line_color="white", alpha=0.85, legend_field="label"
    )
    plot.add_tools(models.HoverTool(renderers=[renderer], tooltips=TOOLTIP))
    plot.legend.location = "top_left"
    plot.legend.click_policy = "hide"
    plot.legend.background_fill_alpha = 0.7
    plot.axis.visible = False
    plot.grid.grid_line_alpha = 0.3
    picker = models.Select(title="word", options=word_choices(points), value=first, name="word-picker", width=260)
    slider = models.Slider(
        start=0,
        end=max(1, len(names) - 1),
        step=1,
        value=start,
        title="layer or mix",
        name="layer-slider",
        width=max(260, width - 300),
        format=models.CustomJSTickFormatter(args={"names": names}, code="return names[tick] ?? String(tick);"),
        disabled=len(names) < 2,
    )
    update = models.CustomJS(
        args={"data": data, "source": source, "picker": picker, "slider": slider, "plot": plot}, code=UPDATE
    )
    picker.js_on_change("value", update)
    slider.js_on_change("value", update)
    # the first picture: Python fills the source as the script would, so the page shows it before any event
    w = data["words"][first]  # type: ignore[index]
    source.data = {
        "x": w["x"][start],
        "y": w["y"][start],
        "html": w["html"],
        "split": w["split"],
        "label": w["label"][start] if w["per_layer"] else w["label"],
        "color": w["color"][start] if w["per_layer"] else w["color"],
    }
    note = w["notes"][start]
    plot.title.text = f"{first}: {names[start]}{f' ({note})' if note else ''}; coloured by {w['by']}"
    return layouts.column(layouts.row(picker, slider), plot, name="occurrences")
