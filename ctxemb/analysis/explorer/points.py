"""What the occurrence view draws: for each probed word, its occurrences in 2-D at every layer and mix.

From a polysemy report's :class:`~ctxemb.analysis.polysemy.report.ProbeVectors`: each layer (then each mix) is
post-processed as the probe did before cosine (fitted on all occurrences), each word's occurrences are projected
(:mod:`~ctxemb.analysis.explorer.projection`), and each point gets a label and a colour: its sense where every
occurrence of the word has one, else its cluster at that layer (the probe's clustering, with the number of clusters,
2 to 5, that gives the best silhouette on cosine distance).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...extras import require
from ...mixing import Mix
from ..polysemy.data import Occurrence
from ..polysemy.postprocess import PostProcessor
from ..polysemy.probes import cluster_labels, cosine_matrix
from ..polysemy.report import ProbeVectors
from .projection import Projection, check_projection, project_series

#: Category10, then the rest of Category20: the colours of a word's senses or clusters, in order.
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
CONTEXT = 160  # characters kept on each side of the target in the hover text


@dataclass(frozen=True)
class WordPoints:
    """One word's occurrences, ready to draw. ``n`` is its number of occurrences, ``r`` of representations.

    Attributes:
        word: the word.
        html: ``(n,)`` each sentence as HTML, the target in ``<mark>`` (long texts cut to :data:`CONTEXT`
            characters on each side).
        split: ``(n,)`` each occurrence's split (``""`` where it has none).
        coords: ``(r, n, 2)`` the points, in ``[-1, 1]``.
        labels: ``(r, n)`` the legend label of each point (its sense, or ``cluster k``).
        colours: ``(r, n)`` each point's colour.
        notes: ``(r,)`` what the axes are (PCA: the variance explained).
        by: ``sense`` or ``cluster``.
    """

    word: str
    html: list[str]
    split: list[str]
    coords: np.ndarray
    labels: list[list[str]]
    colours: list[list[str]]
    notes: list[str]
    by: str


@dataclass(frozen=True)
class OccurrencePoints:
    """Every probed word's points, and the names of the representations (``layer 0`` ... then ``mix mean`` ...)."""

    representations: list[str]
    words: list[WordPoints]
    projection: str


def highlight(occurrence: Occurrence, context: int = CONTEXT) -> str:
    """The occurrence's text as HTML (escaped), its target in ``<mark>``; long texts cut around the target."""
    start, end = occurrence.span
    before, target, after = occurrence.text[:start], occurrence.text[start:end], occurrence.text[end:]
    if len(before) > context:
        before = "…" + before[-context:]
    if len(after) > context:
        after = after[:context] + "…"
    return f"{html.escape(before)}<mark>{html.escape(target)}</mark>{html.escape(after)}"


def representations(kept: ProbeVectors) -> tuple[list[str], list[np.ndarray]]:
    """The names and ``(n, dim)`` vectors of every layer then every mix, post-processed as the probe did."""
    names = [f"layer {k}" for k in kept.layers] + [f"mix {Mix.of(spec).name}" for spec in kept.mixes]
    arrays = [kept.vectors[k] for k in range(len(kept.layers))] + [Mix.of(s)(kept.vectors, axis=0) for s in kept.mixes]
    processor = PostProcessor(kept.postprocess, kept.n_components)  # type: ignore[arg-type]
    return names, [processor.fit_transform(a) for a in arrays]


def best_clusters(vectors: np.ndarray, method: str = "agglomerative", seed: int = 0, most: int = 5) -> np.ndarray:
    """Cluster ``(n, dim)`` vectors into 2 to ``most`` groups, keeping the count with the best silhouette (cosine
    distance); ``(n,)`` cluster ids, all 0 for fewer than 4 points."""
    n = len(vectors)
    if n < 4:
        return np.zeros(n, dtype=np.int64)
    metrics = require("sklearn.metrics", "analysis", "clusters in the explorer")
    distance = np.clip(1.0 - cosine_matrix(vectors), 0.0, None)
    np.fill_diagonal(distance, 0.0)
    best, best_score = np.zeros(n, dtype=np.int64), -np.inf
    for k in range(2, min(most, n - 1) + 1):
        labels = cluster_labels(vectors, k, method, seed)  # type: ignore[arg-type]
        if len(set(labels.tolist())) < 2:
            continue
        score = float(metrics.silhouette_score(distance, labels, metric="precomputed"))
        if score > best_score:
            best, best_score = np.asarray(labels, dtype=np.int64), score
    return best


def _sense_label(word: str, sense: str) -> str:
    return sense[len(word) + 1 :] if sense.startswith(f"{word}.") and len(sense) > len(word) + 1 else sense


def occurrence_points(
    kept: ProbeVectors, projection: Projection = "pca", words: Sequence[str] | None = None
) -> OccurrencePoints:
    """Project each word's occurrences at every layer and mix, and label each point (sense, else cluster).

    Args:
        kept: the report's vectors.
        projection: ``pca``, ``umap`` or ``tsne``.
        words: only these words, in this order (default: every word, in the data's order).

    Raises:
        ValueError: an unknown projection, vectors that do not match the occurrences, or a word the data lacks.
        MissingExtraError: the projection's library is not installed.
    """
    check_projection(projection)
    if kept.vectors.ndim != 3 or kept.vectors.shape[:2] != (len(kept.layers), len(kept.occurrences)):
        raise ValueError(
            f"vectors of shape {kept.vectors.shape} do not match {len(kept.layers)} layers and "
            f"{len(kept.occurrences)} occurrences"
        )
    names, arrays = representations(kept)
    groups: dict[str, list[int]] = {}
    for i, o in enumerate(kept.occurrences):
        groups.setdefault(o.word, []).append(i)
    if words is not None:
        missing = [w for w in words if w not in groups]
        if missing:
            known = ", ".join(list(groups)[:20]) + (" ..." if len(groups) > 20 else "")
            raise ValueError(f"no occurrence of {', '.join(map(repr, missing))} in the data; its words: {known}")
        groups = {w: groups[w] for w in dict.fromkeys(words)}
    if not groups:
        raise ValueError("no word to show")
    shown = []
    for word, idx in groups.items():
        occurrences = [kept.occurrences[i] for i in idx]
        series = [a[idx] for a in arrays]
        coords, notes = project_series(series, projection, kept.seed)
        senses = [o.sense for o in occurrences]
        if all(s is not None for s in senses):
            order = list(dict.fromkeys(senses))
            label = [_sense_label(word, str(s)) for s in senses]
            colour = [PALETTE[order.index(s) % len(PALETTE)] for s in senses]
            labels, colours, by = [label] * len(series), [colour] * len(series), "sense"
        else:
            labels, colours, by = [], [], "cluster"
            for vectors in series:
                ids = best_clusters(vectors, kept.cluster, kept.seed).tolist()
                labels.append([f"cluster {c + 1}" for c in ids])
                colours.append([PALETTE[c % len(PALETTE)] for c in ids])
        shown.append(
            WordPoints(
                word,
                [highlight(o) for o in occurrences],
                [o.split or "" for o in occurrences],
                np.stack(coords),
                labels,
                colours,
                notes,
                by,
            )
        )
    return OccurrencePoints(names, shown, projection)


def payload(points: OccurrencePoints, digits: int = 3) -> dict[str, object]:
    """The points as the page's script reads them (JSON values; labels and colours once when they do not change
    with the layer)."""
    words: dict[str, object] = {}
    for w in points.words:
        constant = all(lab == w.labels[0] for lab in w.labels)
        words[w.word] = {
            "html": w.html,
            "split": w.split,
            "x": np.round(w.coords[:, :, 0], digits).tolist(),
            "y": np.round(w.coords[:, :, 1], digits).tolist(),
            "per_layer": not constant,
            "label": w.labels[0] if constant else w.labels,
            "color": w.colours[0] if constant else w.colours,
            "notes": w.notes,
            "by": w.by,
        }
    return {"representations": points.representations, "words": words}


def word_choices(points: OccurrencePoints) -> list[tuple[str, str]]:
    """The word picker's options: ``(word, "word (n occurrences, k senses)")``."""
    out = []
    for w in points.words:
        kinds = len(set(w.labels[0]))
        what = f"{kinds} sense{'s' * (kinds != 1)}" if w.by == "sense" else "no senses"
        out.append((w.word, f"{w.word} ({len(w.html)}, {what})"))
    return out


def starting_representation(names: Sequence[str], layers: Sequence[int], values: Sequence[float]) -> int:
    """Where the slider starts: the layer with the best value (1-NN sense accuracy), else the last layer."""
    finite = [(v, k) for k, v in zip(layers, values) if np.isfinite(v)]
    target = f"layer {max(finite)[1]}" if finite else ""
    if target in names:
        return list(names).index(target)
    layer_names = [i for i, n in enumerate(names) if n.startswith("layer ")]
    return layer_names[-1] if layer_names else 0
