"""The polysemy probes: similarity, nearest-neighbour and centroid sense classification, clustering, WiC pairs.

Every probe takes one vector per occurrence, ``(n, dim)`` (one layer, one mix, or a static baseline), and the
labels. Ties (identical cosines, as static target vectors give) are resolved by expectation: a prediction that
ties between ``m`` candidates counts ``1/m`` for each, the accuracy of breaking the tie uniformly at random.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Literal, TypeVar

import numpy as np

from ...extras import require
from .data import Occurrence, Pair, ProbeData, sense_words

ClusterMethod = Literal["agglomerative", "kmeans"]
CLUSTER_METHODS: tuple[str, ...] = ("agglomerative", "kmeans")
TIE = 1e-6  # cosines closer than this count as tied
Metric = tuple[float, int]  # (value, number of items averaged over)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, in float64; an all-zero row stays zero (its cosine with anything is 0)."""
    x = np.asarray(vectors, dtype=np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosines ``cos(x_i, x_j) = x_i . x_j / (|x_i| |x_j|)``: ``(n, dim)`` -> ``(n, n)``."""
    u = unit(vectors)
    return u @ u.T


def self_similarity(vectors: np.ndarray) -> float:
    """Mean cosine over pairs of occurrences of one word: ``2/(n(n-1)) sum_{i<j} cos(x_i, x_j)`` (Ethayarajh 2019)."""
    n = len(vectors)
    if n < 2:
        return float("nan")
    i, j = np.triu_indices(n, k=1)
    return float(cosine_matrix(vectors)[i, j].mean())


def sense_similarity(vectors: np.ndarray, senses: Sequence[str]) -> tuple[float, float]:
    """Mean cosine over same-sense pairs and over different-sense pairs of one word's occurrences.

    Returns:
        ``(within, across)``; NaN where there is no such pair.
    """
    labels = np.asarray(senses)
    i, j = np.triu_indices(len(labels), k=1)
    cos = cosine_matrix(vectors)[i, j]
    same = labels[i] == labels[j]
    within = float(cos[same].mean()) if same.any() else float("nan")
    across = float(cos[~same].mean()) if (~same).any() else float("nan")
    return within, across


def knn_correct(vectors: np.ndarray, senses: Sequence[str]) -> np.ndarray:
    """Leave-one-out 1-NN sense prediction among one word's occurrences: the (expected) correctness of each.

    Occurrence ``i`` takes the sense of ``argmax_{j != i} cos(x_i, x_j)``; with ``m`` tied neighbours it scores
    the fraction of them that share its sense.

    Returns:
        ``(n,)`` floats in ``[0, 1]``.
    """
    labels = np.asarray(senses)
    cos = cosine_matrix(vectors)
    np.fill_diagonal(cos, -np.inf)
    tied = cos >= cos.max(axis=1, keepdims=True) - TIE
    same = labels[:, None] == labels[None, :]
    return (tied & same).sum(axis=1) / tied.sum(axis=1)


_Label = TypeVar("_Label", bound=Hashable)


def mfs_correct(reference: Sequence[_Label], evaluated: Sequence[_Label]) -> np.ndarray:
    """Correctness of the most-frequent-sense baseline: predict the commonest sense of ``reference``.

    Ties between equally frequent senses are split: each tied sense is predicted with probability ``1/m``.

    Returns:
        ``(len(evaluated),)`` floats in ``[0, 1]``.
    """
    counts = Counter(reference)
    if not counts:
        return np.zeros(len(evaluated))
    top = max(counts.values())
    best = {s for s, c in counts.items() if c == top}
    return np.array([(s in best) / len(best) for s in evaluated], dtype=np.float64)


def centroid_correct(
    train: np.ndarray, train_senses: Sequence[str], test: np.ndarray, test_senses: Sequence[str]
) -> np.ndarray:
    """Sense-centroid classification (LMMS-style, Loureiro & Jorge 2019) of one word's test occurrences.

    The centroid of sense ``s`` is ``c_s = mean{x_i : i in train, sense_i = s}``; a test occurrence takes the
    sense ``argmax_s cos(x, c_s)``. A test sense never seen in training cannot be predicted (scores 0).

    Returns:
        ``(len(test),)`` floats in ``[0, 1]``.
    """
    if len(test) == 0:
        return np.zeros(0)
    labels = np.asarray(train_senses)
    names = sorted(set(train_senses))
    if not names:
        return np.zeros(len(test))
    centroids = np.stack([np.asarray(train, dtype=np.float64)[labels == s].mean(axis=0) for s in names])
    cos = unit(test) @ unit(centroids).T
    tied = cos >= cos.max(axis=1, keepdims=True) - TIE
    gold = np.asarray(test_senses)[:, None] == np.asarray(names)[None, :]
    return (tied & gold).sum(axis=1) / tied.sum(axis=1)


def cluster_labels(vectors: np.ndarray, k: int, method: ClusterMethod = "agglomerative", seed: int = 0) -> np.ndarray:
    """Cluster one word's occurrences into ``k`` groups.

    ``agglomerative``: average linkage on cosine distance ``1 - cos`` (deterministic). ``kmeans``: k-means on the
    unit-normalised vectors (``n_init=10``, seeded).

    Returns:
        ``(n,)`` integer cluster ids.
    """
    if method not in CLUSTER_METHODS:
        raise ValueError(f"unknown clustering {method!r}; choose one of {', '.join(CLUSTER_METHODS)}")
    n = len(vectors)
    if k >= n:
        return np.arange(n)
    cluster = require("sklearn.cluster", "analysis", "clustering")
    if method == "kmeans":
        with warnings.catch_warnings():
            # identical points: fewer distinct clusters
            warnings.simplefilter("ignore", require("sklearn.exceptions", "analysis", "clustering").ConvergenceWarning)
            return cluster.KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(unit(vectors))
    distance = np.clip(1.0 - cosine_matrix(vectors), 0.0, None)
    np.fill_diagonal(distance, 0.0)
    model = cluster.AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average")
    return model.fit_predict(distance)


def cluster_scores(
    vectors: np.ndarray, senses: Sequence[str], method: ClusterMethod = "agglomerative", seed: int = 0
) -> tuple[float, float]:
    """Cluster with ``k`` = the number of gold senses; ``(ARI, NMI)`` against the gold senses (scikit-learn)."""
    k = len(set(senses))
    predicted = cluster_labels(vectors, k, method, seed)
    metrics = require("sklearn.metrics", "analysis", "cluster scores")
    return float(metrics.adjusted_rand_score(senses, predicted)), float(
        metrics.normalized_mutual_info_score(senses, predicted)
    )


def tune_threshold(cosines: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The cosine threshold ``t`` that best separates same-sense pairs (``cos >= t``) on training pairs.

    Candidates lie halfway between consecutive distinct cosines, plus one below all and one above all (which
    predict every pair the same, or every pair different). The first best candidate (lowest ``t``) wins.

    Returns:
        ``(t, training accuracy)``.
    """
    cos = np.asarray(cosines, dtype=np.float64)
    y = np.asarray(same, dtype=bool)
    n = len(cos)
    if n == 0:
        raise ValueError("threshold tuning needs at least one training pair")
    order = np.argsort(cos, kind="stable")
    c, y = cos[order], y[order]
    # cut at position i: pairs order[i:] are predicted "same"
    negatives_below = np.concatenate([[0], np.cumsum(~y)])
    positives_above = y.sum() - np.concatenate([[0], np.cumsum(y)])
    accuracy = (negatives_below + positives_above) / n
    valid = np.ones(n + 1, dtype=bool)
    valid[1:n] = c[1:] > c[:-1]
    best = int(np.argmax(np.where(valid, accuracy, -1.0)))
    if best == 0:
        t = c[0] - 1.0
    elif best == n:
        t = c[-1] + 1.0
    else:
        t = (c[best - 1] + c[best]) / 2
    return float(t), float(accuracy[best])


def pair_cosines(vectors: np.ndarray, pairs: Sequence[Pair]) -> np.ndarray:
    """Cosine of each pair's two occurrences: ``(len(pairs),)``."""
    u = unit(vectors)
    a = np.array([p.first for p in pairs], dtype=np.int64)
    b = np.array([p.second for p in pairs], dtype=np.int64)
    return np.einsum("nd,nd->n", u[a], u[b])


def anisotropy(vectors: np.ndarray, words: Sequence[str]) -> Metric:
    """Mean cosine between occurrences of different words, the baseline any self-similarity is read against.

    Exact, in ``O(n dim)``: with unit vectors ``u_i``, the sum over ordered pairs of different words is
    ``|sum_i u_i|^2 - sum_w |sum_{i in w} u_i|^2``, divided by their number ``n^2 - sum_w n_w^2``.

    Returns:
        ``(mean cosine, number of unordered pairs)``.
    """
    u = unit(vectors)
    groups: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        groups.setdefault(w, []).append(i)
    same = sum(float(np.sum(u[idx].sum(axis=0) ** 2)) for idx in groups.values())
    count = len(u) ** 2 - sum(len(idx) ** 2 for idx in groups.values())
    if count == 0:
        return float("nan"), 0
    return (float(np.sum(u.sum(axis=0) ** 2)) - same) / count, count // 2


def pair_splits(pairs: Sequence[Pair]) -> tuple[list[Pair], list[Pair], str]:
    """The training pairs and the evaluation pairs (``test``, or ``dev`` where there is no test pair)."""
    train = [p for p in pairs if p.split == "train"]
    for name in ("test", "dev"):
        evaluated = [p for p in pairs if p.split == name]
        if evaluated:
            return train, evaluated, name
    return train, [], "test"


def _mean(values: list[float]) -> Metric:
    finite = [v for v in values if np.isfinite(v)]
    return (float(np.mean(finite)) if finite else float("nan")), len(finite)


def _senses(occurrences: Sequence[Occurrence], idx: Sequence[int]) -> list[str]:
    """The sense labels of ``occurrences[idx]``, which all have one (the groups of :func:`sense_words`)."""
    senses = [occurrences[i].sense for i in idx]
    return [s for s in senses if s is not None]


def evaluate(
    vectors: np.ndarray, data: ProbeData, cluster: ClusterMethod = "agglomerative", seed: int = 0
) -> dict[str, Metric]:
    """Every probe on one representation: ``vectors`` is ``(n, dim)``, one row per occurrence of ``data``.

    Word-level scores (similarities, ARI, NMI) are macro-averaged over words; accuracies are micro-averaged over
    occurrences (1-NN over all of them, centroids over the test split) or pairs. Sense metrics use only words
    with two or more senses. A metric with nothing to average over is left out.

    Returns:
        ``{metric: (value, n)}`` with ``n`` the number of words, occurrences or pairs behind the value.
    """
    occurrences = data.occurrences
    if len(vectors) != len(occurrences):
        raise ValueError(f"got {len(vectors)} vectors for {len(occurrences)} occurrences")
    out: dict[str, Metric] = {}
    by_word: dict[str, list[int]] = {}
    for i, o in enumerate(occurrences):
        by_word.setdefault(o.word, []).append(i)
    out["self_similarity"] = _mean([self_similarity(vectors[idx]) for idx in by_word.values() if len(idx) >= 2])
    out["anisotropy"] = anisotropy(vectors, [o.word for o in occurrences])
    groups, _ = sense_words(occurrences)
    if groups:
        within, across, gaps, knn, central, ari, nmi = [], [], [], [], [], [], []
        for idx in groups.values():
            senses = _senses(occurrences, idx)
            w, a = sense_similarity(vectors[idx], senses)
            within.append(w)
            across.append(a)
            gaps.append(w - a)
            knn.append(knn_correct(vectors[idx], senses))
            train = [i for i in idx if occurrences[i].split == "train"]
            test = [i for i in idx if occurrences[i].split == "test"]
            if train and test:
                train_senses = _senses(occurrences, train)
                test_senses = _senses(occurrences, test)
                central.append(centroid_correct(vectors[train], train_senses, vectors[test], test_senses))
            r, m = cluster_scores(vectors[idx], senses, cluster, seed)
            ari.append(r)
            nmi.append(m)
        out["within_sense"] = _mean(within)
        out["across_sense"] = _mean(across)
        out["sense_gap"] = _mean(gaps)
        correct = np.concatenate(knn)
        out["knn_accuracy"] = float(correct.mean()), len(correct)
        if central:
            correct = np.concatenate(central)
            out["centroid_accuracy"] = float(correct.mean()), len(correct)
        out["ari"] = _mean(ari)
        out["nmi"] = _mean(nmi)
    train_pairs, eval_pairs, _ = pair_splits(data.pairs)
    if train_pairs and eval_pairs:
        labels = np.array([p.same for p in train_pairs])
        threshold, _ = tune_threshold(pair_cosines(vectors, train_pairs), labels)
        predicted = pair_cosines(vectors, eval_pairs) >= threshold
        gold = np.array([p.same for p in eval_pairs])
        out["wic_accuracy"] = float((predicted == gold).mean()), len(gold)
        out["wic_threshold"] = threshold, len(train_pairs)
    return out


def baselines(data: ProbeData) -> dict[str, Metric]:
    """The label-only baselines, in the same metric names as :func:`evaluate`.

    ``knn_accuracy``: predict each word's most frequent sense over all its occurrences (the level 1-NN must beat).
    ``centroid_accuracy``: the most frequent sense of the training split, scored on the test split.
    ``wic_accuracy``: the majority label of the training pairs, scored on the evaluation pairs.
    """
    occurrences = data.occurrences
    out: dict[str, Metric] = {}
    groups, _ = sense_words(occurrences)
    if groups:
        every, central = [], []
        for idx in groups.values():
            senses = [occurrences[i].sense for i in idx]
            every.append(mfs_correct(senses, senses))
            train = [occurrences[i].sense for i in idx if occurrences[i].split == "train"]
            test = [occurrences[i].sense for i in idx if occurrences[i].split == "test"]
            if train and test:
                central.append(mfs_correct(train, test))
        correct = np.concatenate(every)
        out["knn_accuracy"] = float(correct.mean()), len(correct)
        if central:
            correct = np.concatenate(central)
            out["centroid_accuracy"] = float(correct.mean()), len(correct)
    train_pairs, eval_pairs, _ = pair_splits(data.pairs)
    if train_pairs and eval_pairs:
        majority = mfs_correct([p.same for p in train_pairs], [p.same for p in eval_pairs])
        out["wic_accuracy"] = float(majority.mean()), len(majority)
    return out
