"""The explorer page: one self-contained HTML file (all JavaScript inlined, nothing fetched) to look at the layers.

``write_page(path, polysemy=report, geometry=reports, probes=probe)`` (and ``report.to_html(path)`` on a
:class:`~ctxemb.analysis.polysemy.PolysemyReport`, a :class:`~ctxemb.analysis.geometry.LayerReport` or a fitted
:class:`~ctxemb.analysis.probing.LayerProbe`; ``ctxemb explore`` on the command line) shows each probed word's
occurrences in 2-D, layer by layer, with a word picker and a layer slider; the per-layer metric curves with their
baselines; CKA heat maps; probe accuracies with selectivity; and a header with the provenance.

Modules: ``projection`` (PCA, UMAP or t-SNE per word and layer, aligned from layer to layer), ``points`` (what the
occurrence view draws), ``scatter`` (the occurrence view), ``charts`` (curves, heat maps, probes), ``page`` (the
HTML file). It needs the ``analysis`` extra (Bokeh).
"""

from __future__ import annotations

from .page import write_page
from .points import OccurrencePoints, WordPoints, occurrence_points
from .projection import PROJECTIONS, Projection, project

__all__ = ["PROJECTIONS", "OccurrencePoints", "Projection", "WordPoints", "occurrence_points", "project", "write_page"]
