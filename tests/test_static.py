"""Static baselines: co-occurrence, PPMI, SVD weighting, GloVe, gensim trainers vs references and hand counts."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from ctxemb.static import (
    LSA,
    PPMISVD,
    FastText,
    GloVe,
    OneHot,
    Word2Vec,
    cooccurrence,
    distance_weights,
    ppmi,
    tokenize,
    truncated_svd,
    weighted_svd_vectors,
)
from ctxemb.static.corpus import Corpus, Vocabulary
from ctxemb.static.glove import adagrad_step, batch_gradients, glove_weight

CLUSTERS = {
    "animal": (["cat", "dog", "cow", "horse"], ["eats", "runs", "sleeps", "barks"]),
    "fruit": (["apple", "pear", "plum", "mango"], ["ripe", "sweet", "juicy", "peeled"]),
    "vehicle": (["car", "bus", "truck", "van"], ["drives", "parks", "honks", "stops"]),
}


def cluster_corpus(texts: int = 1000, seed: int = 0) -> list[str]:
    """Texts where each cluster's nouns mostly share their verbs (one verb in five from any cluster)."""
    rng = random.Random(seed)
    every_verb = sorted(v for _, verbs in CLUSTERS.values() for v in verbs)
    out = []
    for _ in range(texts):
        nouns, verbs = CLUSTERS[rng.choice(sorted(CLUSTERS))]
        clauses = [
            f"the {rng.choice(nouns)} {rng.choice(verbs if rng.random() < 0.8 else every_verb)}" for _ in range(3)
        ]
        out.append(" ".join(clauses) + ".")
    return out


def cluster_margin(vectors) -> float:
    """Mean cosine of nouns in the same cluster minus mean cosine of nouns in different clusters."""
    same, other = [], []
    for (c1, (n1, _)), (c2, (n2, _)) in itertools.product(CLUSTERS.items(), repeat=2):
        for a, b in itertools.product(n1, n2):
            if a != b:
                (same if c1 == c2 else other).append(vectors.similarity(a, b))
    return float(np.mean(same) - np.mean(other))


def cluster_precision(vectors) -> float:
    """For each noun, the share of its 3 most similar other nouns that are in its cluster, averaged."""
    nouns = {n: c for c, (ns, _) in CLUSTERS.items() for n in ns}
    hits = []
    for noun, cluster in nouns.items():
        ranked = sorted((n for n in nouns if n != noun), key=lambda n: -vectors.similarity(noun, n))
        hits += [nouns[n] == cluster for n in ranked[:3]]
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def corpus():
    return cluster_corpus()


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("The cat's toy, e.g. A-1!") == [
        "the",
        "cat",
        "'",
        "s",
        "toy",
        ",",
        "e",
        ".",
        "g",
        ".",
        "a",
        "-",
        "1",
        "!",
    ]


def test_cooccurrence_matches_brute_force_counts():
    rng = np.random.default_rng(0)
    texts = [rng.integers(0, 5, size=n) for n in (7, 1, 0, 12)]
    for window, weighting, context in itertools.product(
        (1, 3), ("uniform", "harmonic", "linear"), ("symmetric", "left", "right")
    ):
        weights = distance_weights(window, weighting)
        expected = np.zeros((5, 5))
        for ids in texts:
            for i, j in itertools.product(range(len(ids)), repeat=2):
                d = j - i
                if 0 < abs(d) <= window and (context == "symmetric" or (d < 0) == (context == "left")):
                    expected[ids[i], ids[j]] += weights[abs(d) - 1]
        got = cooccurrence(iter(texts), 5, window, weighting, context, chunk=3).toarray()
        np.testing.assert_allclose(got, expected, err_msg=f"{window} {weighting} {context}")
    assert distance_weights(4, "linear").tolist() == [1.0, 0.75, 0.5, 0.25]


def test_ppmi_on_a_hand_computed_three_word_matrix():
    x = np.array([[0, 2, 1], [2, 0, 3], [1, 3, 0]], dtype=float)
    # total 12, marginals (3, 5, 4): PMI(0,1) = log(2*12/15), PMI(0,2) = log(1*12/12) = 0, PMI(1,2) = log(3*12/20)
    a, b = np.log(1.6), np.log(1.8)
    np.testing.assert_allclose(ppmi(sp.csr_matrix(x), cds=1.0).toarray(), [[0, a, 0], [a, 0, b], [0, b, 0]])
    assert ppmi(sp.csr_matrix(x), cds=1.0, shift=2.0).nnz == 0  # log 1.6 and log 1.8 are both below log 2
    # context-distribution smoothing against the formula written densely
    pc = x.sum(0) ** 0.75 / (x.sum(0) ** 0.75).sum()
    with np.errstate(divide="ignore"):
        dense = np.log(x / 12) - np.log(x.sum(1) / 12)[:, None] - np.log(pc)[None, :] - np.log(1.5)
    np.testing.assert_allclose(ppmi(sp.csr_matrix(x), cds=0.75, shift=1.5).toarray(), np.maximum(dense, 0))


def test_truncated_svd_and_eigenvalue_weighting_match_numpy():
    m = np.random.default_rng(1).random((25, 25))
    u, s, vt = truncated_svd(sp.csr_matrix(m), 5)
    uu, ss, _ = np.linalg.svd(m, full_matrices=False)
    np.testing.assert_allclose(s, ss[:5], rtol=1e-8)
    np.testing.assert_allclose(np.abs(u.T @ uu[:, :5]), np.eye(5), atol=1e-6)  # same vectors up to sign
    for eig in (0.0, 0.5, 1.0):
        ref = uu[:, :5] * ss[:5] ** eig
        w = weighted_svd_vectors(u, s, vt, eig, "w")
        np.testing.assert_allclose(w @ w.T, ref @ ref.T, atol=1e-8)  # sign-free comparison
        both = weighted_svd_vectors(u, s, vt, eig, "w+c")
        np.testing.assert_allclose(both - w, vt.T * s**eig)


def test_ppmisvd_equals_the_dense_numpy_pipeline(corpus):
    model = PPMISVD(dim=4, window=2, weighting="uniform", eig=0.5, min_count=1).fit(corpus)
    vocab = Vocabulary.build(Corpus(corpus), 1)
    assert model.vectors_.index_to_key == vocab.words
    counts = np.zeros((len(vocab), len(vocab)))
    for words in Corpus(corpus):
        ids = [vocab.index[w] for w in words]
        for i, j in itertools.product(range(len(ids)), repeat=2):
            if 0 < abs(i - j) <= 2:
                counts[ids[i], ids[j]] += 1
    pc = counts.sum(0) ** 0.75 / (counts.sum(0) ** 0.75).sum()
    with np.errstate(divide="ignore"):
        pmi = np.log(counts / counts.sum()) - np.log(counts.sum(1) / counts.sum())[:, None] - np.log(pc)[None, :]
    u, s, _ = np.linalg.svd(np.maximum(pmi, 0))
    ref = u[:, :4] * np.sqrt(s[:4])
    w = model.vectors_.vectors.astype(np.float64)
    np.testing.assert_allclose(w @ w.T, ref @ ref.T, atol=1e-4)


def _numpy_glove(w, c, bw, bc, rows, cols, x, x_max=100.0, alpha=0.75):
    f = np.minimum(1.0, (x / x_max) ** alpha)
    loss, gw, gc, gbw, gbc = 0.0, np.zeros_like(w), np.zeros_like(c), np.zeros_like(bw), np.zeros_like(bc)
    for i, j, f_ij, x_ij in zip(rows, cols, f, x):
        diff = w[i] @ c[j] + bw[i] + bc[j] - np.log(x_ij)
        loss += 0.5 * f_ij * diff**2
        gw[i] += f_ij * diff * c[j]
        gc[j] += f_ij * diff * w[i]
        gbw[i] += f_ij * diff
        gbc[j] += f_ij * diff
    return loss, gw, gc, gbw, gbc


def test_glove_loss_and_gradients_match_numpy():
    rng = np.random.default_rng(2)
    w, c = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    bw, bc = rng.normal(size=6), rng.normal(size=6)
    rows, cols = np.array([0, 1, 1, 5, 0, 3]), np.array([1, 0, 2, 5, 4, 1])  # row 0 and 1 repeat
    x = np.array([3.0, 150.0, 0.5, 20.0, 7.0, 1.0])  # one cell above x_max
    t = {k: torch.from_numpy(v) for k, v in dict(w=w, c=c, bw=bw, bc=bc).items()}
    xt = torch.from_numpy(x)
    loss, g = batch_gradients(
        t["w"], t["c"], t["bw"], t["bc"], torch.from_numpy(rows), torch.from_numpy(cols), xt.log(), glove_weight(xt)
    )
    ref = _numpy_glove(w, c, bw, bc, rows, cols, x)
    assert loss == pytest.approx(ref[0], rel=1e-12)
    assert g.rows.tolist() == [0, 1, 3, 5] and g.cols.tolist() == [0, 1, 2, 4, 5]
    np.testing.assert_allclose(g.w.numpy(), ref[1][g.rows])
    np.testing.assert_allclose(g.c.numpy(), ref[2][g.cols])
    np.testing.assert_allclose(g.bw.numpy(), ref[3][g.rows])
    np.testing.assert_allclose(g.bc.numpy(), ref[4][g.cols])
    untouched = np.setdiff1d(np.arange(6), g.rows)
    assert not ref[1][untouched].any()  # rows outside the batch really have zero gradient
    # AdaGrad: G += g^2, p -= lr g / sqrt(G), on the touched rows only
    p, squares = t["w"].clone(), torch.ones_like(t["w"])
    adagrad_step(p, squares, g.rows, g.w, 0.1)
    expected = w.copy()
    expected[g.rows] -= 0.1 * ref[1][g.rows] / np.sqrt(1 + ref[1][g.rows] ** 2)
    np.testing.assert_allclose(p.numpy(), expected)


def test_glove_loss_decreases_and_training_is_seeded(corpus):
    model = GloVe(dim=8, window=3, epochs=12, batch_size=64, min_count=1, lr=0.05).fit(corpus)
    loss = np.array(model.loss_history_)
    smoothed = np.convolve(loss, np.ones(3) / 3, mode="valid")
    assert (np.diff(smoothed) < 0).all(), loss
    assert loss[-1] < 0.5 * loss[0]
    assert len(model.epoch_seconds_) == 12 and model.cooccurrence_seconds_ > 0
    again = GloVe(dim=8, window=3, epochs=12, batch_size=64, min_count=1, lr=0.05).fit(corpus)
    np.testing.assert_array_equal(model.vectors_.vectors, again.vectors_.vectors)
    threads = torch.get_num_threads()
    one = GloVe(dim=8, window=3, epochs=12, batch_size=64, min_count=1, lr=0.05, threads=1).fit(corpus)
    assert torch.get_num_threads() == threads  # restored
    np.testing.assert_allclose(one.vectors_.vectors, model.vectors_.vectors, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "estimator",
    [
        PPMISVD(dim=6, min_count=1),
        LSA(dim=6, min_count=1, document_words=6),
        GloVe(dim=10, window=3, epochs=25, batch_size=64, min_count=1),
        Word2Vec(dim=16, window=3, epochs=10, min_count=1),
        FastText(dim=16, window=3, epochs=10, min_count=1, bucket=2000),
    ],
    ids=lambda e: type(e).__name__,
)
def test_trained_methods_put_cluster_mates_closer_than_one_hot(estimator, corpus):
    assert cluster_margin(OneHot(min_count=1).fit(corpus).vectors_) == 0.0  # the floor: no similarity at all
    vectors = estimator.fit(corpus).vectors_
    assert cluster_margin(vectors) > 0
    assert cluster_precision(vectors) >= 0.9
    assert vectors.index_to_key[0] == "the"  # most frequent first
    assert vectors.get_vecattr("the", "count") == sum(t.split().count("the") for t in corpus)


def test_fasttext_gives_vectors_for_unseen_words_and_word2vec_is_deterministic(corpus):
    ft = FastText(dim=8, epochs=2, min_count=1, bucket=500).fit(corpus)
    assert "cats" not in ft.vectors_.key_to_index and ft.vectors_["cats"].shape == (8,)
    a = Word2Vec(dim=8, epochs=2, min_count=1, architecture="cbow").fit(iter(corpus))  # a one-shot iterator
    b = Word2Vec(dim=8, epochs=2, min_count=1, architecture="cbow").fit(corpus)
    np.testing.assert_array_equal(a.vectors_.vectors, b.vectors_.vectors)


def test_onehot_transform_is_bag_of_words_counts():
    model = OneHot(min_count=1).fit(["b a b", "c"])
    assert model.vectors_.index_to_key == ["b", "a", "c"]
    np.testing.assert_array_equal(model.transform(["a b b b", "d c"]).toarray(), [[3, 1, 0], [0, 0, 1]])


def test_constructors_only_store_and_repr():
    model = GloVe(dim=3, epochs=1)
    assert not hasattr(model, "vectors_") and model.get_params()["dim"] == 3
    assert repr(Word2Vec(dim=7)).startswith("Word2Vec(dim=7, architecture='skipgram'")


@pytest.mark.parametrize("cls", [OneHot, LSA, PPMISVD, Word2Vec, FastText, GloVe])
def test_empty_corpus_is_an_error_naming_it(cls, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n", encoding="utf-8")
    options = {"bucket": 100} if cls is FastText else {}
    with pytest.raises(ValueError, match=r"empty\.txt is empty"):
        cls(min_count=1, **options).fit(path)
    with pytest.raises(ValueError, match="empty"):
        cls(min_count=1, **options).fit([])


@pytest.mark.parametrize("cls", [LSA, PPMISVD, GloVe])
def test_dim_larger_than_the_vocabulary_is_an_error(cls):
    with pytest.raises(ValueError, match=r"dim=50 is .* the vocabulary size of corpus <list of texts> \(4\)"):
        cls(dim=50, min_count=1).fit(["a b c d a b"])


def test_min_count_above_every_word_and_bad_options():
    with pytest.raises(ValueError, match="no word occurs min_count=5 times"):
        PPMISVD(dim=2).fit(["a b c"])
    with pytest.raises(ValueError, match="no word occurs min_count=5 times"):
        Word2Vec().fit(["a b c"])
    with pytest.raises(ValueError, match="unknown architecture 'sg'"):
        Word2Vec(architecture="sg").fit(["a b c"])
    with pytest.raises(ValueError, match="unknown weighting 'cosine'"):
        PPMISVD(dim=1, weighting="cosine", min_count=1).fit(["a b c a"])
