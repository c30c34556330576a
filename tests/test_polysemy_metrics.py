"""Polysemy probe metrics against NumPy / SciPy references on small hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from ctxemb import ScalarMix, mix
from ctxemb.analysis.polysemy import Occurrence, PolysemyProbe, PostProcessor, ProbeData, apply_mix, prepare
from ctxemb.analysis.polysemy.data import Pair
from ctxemb.analysis.polysemy.probes import (
    anisotropy,
    baselines,
    centroid_correct,
    cluster_scores,
    evaluate,
    knn_correct,
    mfs_correct,
    self_similarity,
    sense_similarity,
    tune_threshold,
)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_knn_hand_case():
    # cosines from x0: x1 0.8, x2 0, x3 0.6 -> x1 (sense b) although x0 is sense a
    x = np.array([[1, 0], [0.8, 0.6], [0, 1], [0.6, 0.8]])
    assert knn_correct(x, ["a", "b", "b", "a"]).tolist() == [0, 0, 0, 0]
    assert knn_correct(x, ["a", "a", "b", "b"]).tolist() == [1, 0, 1, 0]  # x1 -> x3, x3 -> x1


def test_knn_matches_loop_reference():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(15, 6))
    senses = rng.choice(["a", "b", "c"], size=15).tolist()
    expected = []
    for i in range(15):
        best = max((j for j in range(15) if j != i), key=lambda j: cos(x[i], x[j]))
        expected.append(float(senses[best] == senses[i]))
    np.testing.assert_array_equal(knn_correct(x, senses), expected)


def test_knn_ties_score_by_expectation():
    x = np.ones((5, 3))  # a static target vector: every neighbour ties
    senses = ["a", "a", "a", "b", "b"]
    np.testing.assert_allclose(knn_correct(x, senses), [2 / 4, 2 / 4, 2 / 4, 1 / 4, 1 / 4])


def test_mfs():
    np.testing.assert_allclose(mfs_correct(["a", "a", "b"], ["a", "b", "a"]), [1, 0, 1])
    np.testing.assert_allclose(mfs_correct(["a", "b"], ["a", "b", "c"]), [0.5, 0.5, 0])


def test_centroid_matches_loop_reference():
    rng = np.random.default_rng(2)
    train, test = rng.normal(size=(12, 5)), rng.normal(size=(7, 5))
    train_senses = ["a", "b", "c"] * 4
    test_senses = ["a", "b", "c", "a", "b", "c", "d"]  # d: never seen in training
    centroids = {s: train[[i for i, t in enumerate(train_senses) if t == s]].mean(axis=0) for s in "abc"}
    expected = [float(max(centroids, key=lambda s: cos(v, centroids[s])) == g) for v, g in zip(test, test_senses)]
    np.testing.assert_array_equal(centroid_correct(train, train_senses, test, test_senses), expected)
    assert expected[-1] == 0


def test_centroid_hand_case():
    train = np.array([[1.0, 0.0], [1.0, 0.2], [0.0, 1.0]])
    test = np.array([[0.9, 0.1], [0.2, 1.0], [0.5, 1.0]])
    # centroids a = (1, 0.1), b = (0, 1): the last point (gold a) has cos 0.53 with a and 0.89 with b
    result = centroid_correct(train, ["a", "a", "b"], test, ["a", "b", "a"])
    ca, cb = np.array([1.0, 0.1]), np.array([0.0, 1.0])
    assert cos(test[2], cb) > cos(test[2], ca)
    assert result.tolist() == [1, 1, 0]


def test_similarities_match_loops():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4))
    senses = ["a", "a", "b", "b", "b", "a"]
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    assert self_similarity(x) == pytest.approx(np.mean([cos(x[i], x[j]) for i, j in pairs]))
    within, across = sense_similarity(x, senses)
    assert within == pytest.approx(np.mean([cos(x[i], x[j]) for i, j in pairs if senses[i] == senses[j]]))
    assert across == pytest.approx(np.mean([cos(x[i], x[j]) for i, j in pairs if senses[i] != senses[j]]))


def test_anisotropy_matches_all_pairs():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(9, 4))
    words = list("aaabbcccd")
    values = [cos(x[i], x[j]) for i in range(9) for j in range(i + 1, 9) if words[i] != words[j]]
    value, n = anisotropy(x, words)
    assert value == pytest.approx(np.mean(values))
    assert n == len(values)


def test_clustering_scores_match_scipy_and_sklearn():
    rng = np.random.default_rng(5)
    centres = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5]], dtype=float)
    gold = [0] * 5 + [1] * 5 + [2] * 5
    x = centres[gold] + rng.normal(scale=2.0, size=(15, 3))
    reference = fcluster(linkage(pdist(x, "cosine"), "average"), t=3, criterion="maxclust")
    ari, nmi = cluster_scores(x, [str(g) for g in gold], "agglomerative")
    assert ari == pytest.approx(adjusted_rand_score(gold, reference))
    assert nmi == pytest.approx(normalized_mutual_info_score(gold, reference))
    separated = centres[gold] + rng.normal(scale=0.1, size=(15, 3))
    for method in ("agglomerative", "kmeans"):
        assert cluster_scores(separated, [str(g) for g in gold], method) == pytest.approx((1.0, 1.0))


def test_threshold_known_best():
    cosines = np.array([0.1, 0.2, 0.4, 0.6])
    assert tune_threshold(cosines, np.array([False, False, True, True])) == pytest.approx((0.3, 1.0))
    # one error either way: the lowest best cut (0.275) wins, 5 of 6 right
    cosines = np.array([0.8, 0.1, 0.35, 0.5, 0.65, 0.2])
    same = np.array([True, False, True, False, True, False])
    assert tune_threshold(cosines, same) == pytest.approx((0.275, 5 / 6))
    # all pairs alike: the extremes predict one label for every pair, the majority
    t, accuracy = tune_threshold(np.full(5, 0.7), np.array([True, False, False, True, False]))
    assert t > 0.7 and accuracy == pytest.approx(0.6)


def test_threshold_matches_brute_force():
    rng = np.random.default_rng(6)
    cosines = np.round(rng.uniform(size=40), 2)  # with ties
    same = rng.uniform(size=40) < cosines
    values = np.unique(cosines)
    candidates = np.concatenate([[values[0] - 1], (values[1:] + values[:-1]) / 2, [values[-1] + 1]])
    accuracies = [((cosines >= t) == same).mean() for t in candidates]
    t, accuracy = tune_threshold(cosines, same)
    assert accuracy == pytest.approx(max(accuracies))
    assert t == pytest.approx(candidates[int(np.argmax(accuracies))])


def toy_data() -> ProbeData:
    """Two ambiguous words with clear senses and one word with a single sense."""
    rows = []
    for word, senses in (("bank", ("river", "money")), ("bat", ("animal", "club")), ("tree", ("plant",))):
        for sense in senses:
            for k in range(4):
                text = f"{word} {sense} {k}"
                rows.append(Occurrence(text, (0, len(word)), word, sense, split="test" if k == 3 else "train"))
    pairs = [Pair(0, 1, True, "train"), Pair(0, 4, False, "train"), Pair(3, 7, False, "test"), Pair(2, 3, True, "test")]
    return ProbeData(tuple(rows), tuple(pairs), name="toy")


def toy_vectors(data: ProbeData, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    axis = {s: i for i, s in enumerate(sorted({o.sense for o in data.occurrences}))}
    x = np.zeros((len(data), len(axis)))
    for i, o in enumerate(data.occurrences):
        x[i, axis[o.sense]] = 1.0
    return x + rng.normal(scale=noise, size=x.shape)


def test_evaluate_on_toy_data():
    data = toy_data()
    result = evaluate(toy_vectors(data, 0.01), data)
    for metric in ("knn_accuracy", "centroid_accuracy", "ari", "nmi", "wic_accuracy"):
        assert result[metric][0] == pytest.approx(1.0), metric
    assert result["knn_accuracy"][1] == 16  # the single-sense word is left out of sense metrics
    assert result["centroid_accuracy"][1] == 4
    assert result["ari"][1] == 2
    assert result["wic_accuracy"][1] == 2
    assert result["sense_gap"][0] > 0.9
    base = baselines(data)
    assert base["knn_accuracy"][0] == pytest.approx(0.5)  # two senses, equally frequent
    assert base["wic_accuracy"][0] == pytest.approx(0.5)  # train labels tie: either label, half right


def test_probe_reports_single_sense_words_and_static_floor():
    from gensim.models import KeyedVectors

    data = toy_data()
    vectors = np.stack([toy_vectors(data, 0.3, seed) for seed in range(3)])  # (layers, n, dim)
    keyed = KeyedVectors(4)
    keyed.add_vectors(["bank", "bat", "tree", "river"], np.eye(4, dtype=np.float32))
    report = PolysemyProbe(mixes=("mean", "concat")).score(data, vectors, (0, 1, 2), static={"kv": keyed})
    assert report.skipped_words == ("tree",)
    assert report.value("knn_accuracy", "layer1") > 0.5
    # a static target vector is the same for every occurrence: 1-NN at chance with ties split evenly
    assert report.value("knn_accuracy", "static target") == pytest.approx(3 / 7)
    assert report.value("sense_gap", "static target") == pytest.approx(0.0)
    assert report.value("centroid_accuracy", "static target") == pytest.approx(0.5)
    assert {r for _, r in report.representations()} >= {"mix mean", "mix concat", "most frequent sense"}
    expected = evaluate(vectors.mean(axis=0), prepare(data))["knn_accuracy"][0]
    assert report.value("knn_accuracy", "mix mean") == pytest.approx(expected)


def test_postprocessing_formulas():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 8)) + 3.0
    x[:, 5] = 2.0  # a constant dimension
    centred = x - x.mean(axis=0)
    np.testing.assert_allclose(PostProcessor("none").fit_transform(x), x, rtol=1e-6)
    np.testing.assert_allclose(PostProcessor("center").fit_transform(x), centred, atol=1e-5)
    std = x.std(axis=0)
    expected = centred / np.where(std > 0, std, 1)
    np.testing.assert_allclose(PostProcessor("standardize").fit_transform(x), expected, atol=1e-5)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    top = vt[:2]
    expected = centred - centred @ top.T @ top
    np.testing.assert_allclose(PostProcessor("abtt", n_components=2).fit_transform(x), expected, atol=1e-5)
    with pytest.raises(ValueError, match="unknown post-processing 'pca'"):
        PostProcessor("pca").fit(x)  # type: ignore[arg-type]


def test_apply_mix_matches_ctxemb_mix_and_scalar_mix():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)  # (layers, n, dim)
    np.testing.assert_allclose(apply_mix(x, "mean"), x.mean(axis=0))
    np.testing.assert_allclose(apply_mix(x, "concat"), mix(x, "concat", axis=0))
    np.testing.assert_allclose(apply_mix(x, ("weighted", [0.5, 0, 0.5])), (x[0] + x[2]) / 2, rtol=1e-6)
    scalar = ScalarMix(3, initial_weights=[1.0, 0.0, -1.0])
    w = torch.softmax(torch.tensor([1.0, 0.0, -1.0]), 0).numpy()
    np.testing.assert_allclose(apply_mix(x, scalar), np.einsum("k,knd->nd", w, x), rtol=1e-5)
    with pytest.raises(ValueError, match="unknown mix 'median'"):
        apply_mix(x, "median")


def test_evaluate_pairs_only_data():
    """WiC-like data: no sense labels, only pairs; sense metrics are left out, pair metrics computed."""
    rows, pairs = [], []
    for k in range(6):
        rows += [Occurrence(f"w{k} a", (0, 2), f"w{k}"), Occurrence(f"w{k} b", (0, 2), f"w{k}")]
        pairs.append(Pair(2 * k, 2 * k + 1, k % 2 == 0, "train" if k < 4 else "test"))
    x = np.zeros((12, 2))
    for k in range(6):
        x[2 * k] = [1, 0]
        x[2 * k + 1] = [1, 0] if k % 2 == 0 else [0, 1]
    result = evaluate(x, ProbeData(tuple(rows), tuple(pairs)))
    assert "knn_accuracy" not in result and "ari" not in result
    assert result["wic_accuracy"] == (1.0, 2)
    assert result["wic_threshold"][0] == pytest.approx(0.5)
    assert result["self_similarity"] == (pytest.approx(0.5), 6)


def test_run_checks_the_data_before_the_model_and_names_the_old_order():
    class Untouchable:
        name = "never"
        num_layers = 3

        def embed_spans(self, *args, **kwargs):
            raise AssertionError("the model ran before the data was checked")

    bad = ProbeData((Occurrence("the bank", (4, 30), "bank", "a"),))
    with pytest.raises(ValueError, match="outside its text"):
        PolysemyProbe().run(Untouchable(), bad)
    with pytest.raises(TypeError, match=r"run\(extractor, data\)"):
        PolysemyProbe().run(bad, Untouchable())  # type: ignore[arg-type]
