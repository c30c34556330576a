"""The concordance view of a search: one self-contained HTML page, a keyword-in-context table per query (left
context, the occurrence, right context, score), optionally grouped by cluster."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..encoding import Target
from .search import Hit

if TYPE_CHECKING:
    from ..mixing import MixLike
    from .reader import Store

WIDTH = 70  # characters of context shown on each side (the whole text is in the row's tooltip)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; }
p.about { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin-bottom: 1em; }
td, th { padding: 0.15em 0.5em; vertical-align: top; }
th { text-align: left; border-bottom: 1px solid #999; font-weight: 600; } th.left { text-align: right; }
tr.cluster td { font-weight: 600; color: #555; padding-top: 0.8em; border-bottom: 1px solid #ddd; }
td.left { text-align: right; white-space: nowrap; color: #444; }
td.word { text-align: center; font-weight: 700; white-space: nowrap; color: #8b0000; }
td.right { text-align: left; white-space: nowrap; color: #444; }
td.score, td.id { font-variant-numeric: tabular-nums; color: #555; white-space: nowrap; }
tr:hover td { background: #f3f3e8; }
mark { background: #ffe9a8; font-weight: 700; }
"""


def cluster_hits(
    store: Store, hits: Sequence[Hit], layer: int | MixLike | None, kind: str, clusters: int
) -> np.ndarray:
    """Group one query's hits into ``clusters`` groups by their vectors at ``layer`` (average linkage on
    ``1 - cos``, as the polysemy probes cluster occurrences; needs the ``analysis`` extra).

    Returns:
        ``(hits,)`` integer cluster ids, numbered by each cluster's best hit (cluster 0 holds the best hit).
    """
    from ..analysis.polysemy.probes import cluster_labels
    from .index import open_index
    from .selection import select

    if not hits:
        return np.zeros(0, dtype=np.int64)
    index = open_index(store, select(store, layer, kind))
    if index is None:
        raise ValueError(f"the store {store.directory} has no index of {select(store, layer, kind).name}")
    vectors = np.asarray(index.vectors[np.array([h.row for h in hits])], dtype=np.float32)
    labels = np.asarray(cluster_labels(vectors, clusters), dtype=np.int64)
    order = {label: i for i, label in enumerate(dict.fromkeys(labels.tolist()))}  # first seen = best hit
    return np.array([order[label] for label in labels.tolist()], dtype=np.int64)


def write_concordance(
    path: str | os.PathLike[str],
    targets: Sequence[Target],
    results: Sequence[Sequence[Hit]],
    clusters: Sequence[np.ndarray] | None = None,
    about: str = "",
) -> Path:
    """Write the hits of each target as a keyword-in-context table to one HTML file (no script, no network).

    Args:
        path: the ``.html`` file to write.
        targets: the queries, ``(text, (start, end))``.
        results: per target, its hits (as :meth:`ctxemb.store.Store.search` returns them).
        clusters: per target, a cluster id per hit (see :func:`cluster_hits`): the hits are grouped by cluster.
        about: a line under the title (the store, the layer, the filters).

    Returns:
        The path written.
    """
    if len(results) != len(targets) or (clusters is not None and len(clusters) != len(targets)):
        raise ValueError("targets, results (and clusters) must have one entry per query")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>ctxemb search</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>ctxemb search: concordance</h1>",
    ]
    if about:
        parts.append(f'<p class="about">{html.escape(about)}</p>')
    for i, ((text, (start, end)), hits) in enumerate(zip(targets, results)):
        query = f"{html.escape(text[:start])}<mark>{html.escape(text[start:end])}</mark>{html.escape(text[end:])}"
        parts.append(f"<h2>Query {i + 1}: {query}</h2>")
        if not hits:
            parts.append("<p>No occurrence qualifies.</p>")
            continue
        labels = np.zeros(len(hits), dtype=np.int64) if clusters is None else np.asarray(clusters[i])
        if len(labels) != len(hits):
            raise ValueError(f"query {i + 1}: {len(labels)} cluster ids for {len(hits)} hits")
        parts.append(_table(hits, labels, grouped=clusters is not None))
    parts.append("</body></html>")
    out = Path(path)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def _table(hits: Sequence[Hit], labels: np.ndarray, grouped: bool) -> str:
    """One query's hits as one table (so that the columns line up), a heading row before each cluster."""
    rows = [
        "<table>",
        "<tr><th>text id</th><th class='left'>left context</th><th>occurrence</th>"
        "<th>right context</th><th>score</th></tr>",
    ]
    for label in sorted(set(labels.tolist())):
        group = [hit for hit, c in zip(hits, labels.tolist()) if c == label]
        if grouped:
            count = f"{len(group)} hit" + ("s" if len(group) > 1 else "")
            rows.append(f'<tr class="cluster"><td colspan="5">Cluster {label + 1} ({count})</td></tr>')
        for hit in group:
            left, right = " ".join(hit.left.split()), " ".join(hit.right.split())
            left = left if len(left) <= WIDTH else "…" + left[-(WIDTH - 1) :]
            right = right if len(right) <= WIDTH else right[: WIDTH - 1] + "…"
            rows.append(
                f'<tr title="{html.escape(hit.text)}"><td class="id">{html.escape(hit.id)}</td>'
                f'<td class="left">{html.escape(left)}</td><td class="word">{html.escape(hit.word)}</td>'
                f'<td class="right">{html.escape(right)}</td><td class="score">{hit.score:.3f}</td></tr>'
            )
    rows.append("</table>")
    return "\n".join(rows)
