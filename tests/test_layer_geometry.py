"""Layer geometry: each metric against a NumPy reference and its known properties; sampling and its errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.decomposition import PCA

from ctxemb.analysis import LayerGeometry, cross_model_cka, read_corpus
from ctxemb.analysis.geometry.corpus import split_sentences
from ctxemb.analysis.geometry.metrics import (
    cosine_contributions,
    intra_similarity,
    max_explainable_variance,
    mean_pairwise_cosine,
    rogue_dimensions,
    self_similarity,
    standardise,
)
from ctxemb.analysis.geometry.sampling import UnitOptions, is_punctuation, plan_sample


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_pairwise_cosine_and_contributions_match_loops():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 5)) + 0.7
    for layer in range(2):
        pairs = [(i, j) for i, j in itertools.permutations(range(9), 2)]
        expected = np.mean([_cos(x[layer, i], x[layer, j]) for i, j in pairs])
        assert mean_pairwise_cosine(x)[layer] == pytest.approx(expected, rel=1e-12)
        assert self_similarity(x)[layer] == pytest.approx(expected, rel=1e-12)
        u = x[layer] / np.linalg.norm(x[layer], axis=1, keepdims=True)
        per_dim = np.mean([u[i] * u[j] for i, j in pairs], axis=0)
        np.testing.assert_allclose(cosine_contributions(x)[layer], per_dim, rtol=1e-10)


def test_intra_similarity_matches_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 6))
    mean = x.mean(axis=0)
    assert intra_similarity(x) == pytest.approx(np.mean([_cos(row, mean) for row in x]), rel=1e-12)


def test_mev_matches_sklearn_pca_and_rank_one_is_one():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 12, 8))
    for layer in range(3):
        expected = PCA(n_components=1).fit(x[layer]).explained_variance_ratio_[0]
        assert max_explainable_variance(x)[layer] == pytest.approx(expected, rel=1e-9)
    direction = rng.normal(size=16)
    rank_one = np.outer(rng.normal(size=10), direction) + rng.normal(size=16)  # x_i = m + c_i v
    assert max_explainable_variance(rank_one) == pytest.approx(1.0, abs=1e-12)


def test_identical_contexts_have_self_similarity_one():
    v = np.random.default_rng(3).normal(size=32)
    same = np.stack([v, 2.0 * v, v, 0.5 * v])
    assert self_similarity(same) == pytest.approx(1.0, abs=1e-12)
    assert intra_similarity(same) == pytest.approx(1.0, abs=1e-12)


def test_isotropic_gaussian_has_no_anisotropy():
    x = np.random.default_rng(4).normal(size=(1000, 64))
    assert abs(mean_pairwise_cosine(x)) < 0.005
    _, shares = rogue_dimensions(x, top=1)
    assert shares[0] < 0.25  # no single dimension dominates (shares are noisy when the mean cosine is ~0)


def test_standardisation_removes_a_planted_rogue_dimension():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 48))
    x[:, 17] = 30.0 + 5.0 * rng.normal(size=800)  # large mean and variance on one dimension
    dims, shares = rogue_dimensions(x, top=3)
    assert dims[0] == 17 and shares[0] > 0.99
    assert mean_pairwise_cosine(x) > 0.8  # the rogue dimension makes everything look similar
    z = standardise(x, x.mean(axis=0), x.std(axis=0))
    np.testing.assert_allclose(z, (x - x.mean(0)) / x.std(0))
    assert abs(mean_pairwise_cosine(z)) < 0.01
    contributions = cosine_contributions(z)
    assert abs(contributions[17]) < 0.001  # dimension 17 no longer sets the cosine
    assert np.max(np.abs(contributions)) < 0.002


def test_read_corpus_and_sentences(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b'First one. Second one! "Third," he said. 4 more.\n\n  next line  \n')
    assert read_corpus(path) == ['First one. Second one! "Third," he said. 4 more.', "next line"]
    assert read_corpus(path, split="sentence") == [
        "First one.",
        "Second one!",
        '"Third," he said.',
        "4 more.",
        "next line",
    ]
    assert split_sentences("Dr. Smith met Mr. Jones.")[-1].endswith("Jones.")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nok \xff here\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2: not valid UTF-8"):
        read_corpus(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="no text"):
        read_corpus(empty)
    assert is_punctuation("--") and is_punctuation("$") and not is_punctuation("a.") and not is_punctuation("")


def _eligible(counts: list[int], types: list[list[str]] | None = None) -> list[tuple[np.ndarray, list[str]]]:
    types = types or [[f"w{i}" for i in range(n)] for n in counts]
    return [(np.arange(n), t) for n, t in zip(counts, types)]


def test_each_sample_has_its_own_stream():
    """Changing the CKA sample size, or asking for occurrences, moves no other sample."""
    corpus = _eligible([6, 5, 7, 4, 6, 5, 8, 3, 6, 5] * 3)
    options = {"samples": 8, "min_contexts": 3, "max_words": 4, "max_occurrences": 3, "seed": 7}
    base = plan_sample(corpus, cka_samples=10, occurrences=True, **options)
    more_cka = plan_sample(corpus, cka_samples=40, occurrences=True, **options)
    no_words = plan_sample(corpus, cka_samples=10, occurrences=False, **options)
    np.testing.assert_array_equal(base.random, more_cka.random)
    np.testing.assert_array_equal(base.occurrences, more_cka.occurrences)
    assert base.words == more_cka.words and len(more_cka.cka) == 40
    np.testing.assert_array_equal(base.random, no_words.random)
    np.testing.assert_array_equal(base.cka, no_words.cka)
    other_seed = plan_sample(corpus, cka_samples=10, occurrences=True, **{**options, "seed": 8})
    assert not np.array_equal(base.random, other_seed.random)  # the seed still decides


def test_plan_draws_from_different_texts_and_errors_name_the_corpus():
    plan = plan_sample(
        _eligible([3, 0, 4, 2, 5, 1]),
        samples=5,
        cka_samples=8,
        min_contexts=3,
        max_words=10,
        max_occurrences=3,
        occurrences=True,
        seed=0,
    )
    assert len(set(plan.random[:, 0].tolist())) == 5 and 1 not in plan.random[:, 0]
    assert len(plan.cka) == 8 and set(plan.cka[:, 0].tolist()) <= set(plan.texts.tolist())
    assert plan.words == ["w0", "w1", "w2"]  # the only types in >= 3 texts
    for k in range(3):
        texts = plan.occurrences[plan.occurrence_word == k, 0]
        assert len(texts) == 3 and len(set(texts.tolist())) == 3
    again = plan_sample(_eligible([3, 0, 4, 2, 5, 1]), samples=5, cka_samples=8, min_contexts=3, max_words=10,
                        max_occurrences=3, occurrences=True, seed=0)  # fmt: skip
    np.testing.assert_array_equal(plan.cka, again.cka)
    with pytest.raises(ValueError, match=r"lee\.cor has 5 texts with an eligible unit \(of 6 texts\).*6 units"):
        plan_sample(_eligible([3, 0, 4, 2, 5, 1]), samples=6, cka_samples=0, min_contexts=3, max_words=1,
                    max_occurrences=3, occurrences=False, seed=0, source="lee.cor")  # fmt: skip
    with pytest.raises(ValueError, match="no type occurs in 9 different texts"):
        plan_sample(_eligible([3, 4, 2]), samples=2, cka_samples=0, min_contexts=9, max_words=1,
                    max_occurrences=3, occurrences=True, seed=0)  # fmt: skip


def test_unit_options_reject_unknown_values():
    with pytest.raises(ValueError, match="unknown punctuation='drop'"):
        UnitOptions(punctuation="drop").check()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown metric 'isotropy'"):
        LayerGeometry(metrics=["isotropy"]).compute(None)  # type: ignore[list-item,arg-type]


@pytest.fixture(scope="module")
def small_corpus(corpus_lines):
    return corpus_lines[:60]


def test_end_to_end_on_tiny_bert(tiny_bert, small_corpus):
    geometry = LayerGeometry(samples=30, max_words=20, max_occurrences=6, cka_samples=200, min_contexts=3)
    sample = geometry.sample(tiny_bert, small_corpus, source="corpus.txt")
    report = geometry.compute(sample, "tiny-bert")
    assert report.layers == [0, 1, 2, 3]
    for metric in ("anisotropy", "selfsim", "selfsim_adj", "intrasim", "mev", "mev_adj", "norm_mean", "rogue_top1"):
        _, values = report.layer_values(metric)
        assert len(values) == 4 and np.all(np.isfinite(values)), metric
    # the random sample holds one unit from each of 30 different texts, and anisotropy is its mean cosine
    assert len(set(sample.random_ids[:, 0].tolist())) == 30
    np.testing.assert_allclose(report.layer_values("anisotropy")[1], mean_pairwise_cosine(sample.random), rtol=1e-9)
    assert report.value("selfsim_adj", 2) == pytest.approx(report.value("selfsim", 2) - report.value("anisotropy", 2))
    assert report.options["samples"] == 30 and report.options["seed"] == 0 and report.options["pairs"] == 435
    m = report.cka["within"]
    assert m.shape == (4, 4) and np.allclose(np.diag(m), 1.0)
    assert "| layer | anisotropy |" in report.table()


def test_identical_contexts_give_self_similarity_one_end_to_end(tiny_bert):
    texts = ["the river bank was muddy today"] * 6
    geometry = LayerGeometry(metrics=["selfsim", "anisotropy"], samples=6, min_contexts=5, max_occurrences=6)
    report = geometry.run(tiny_bert, texts)
    np.testing.assert_allclose(report.layer_values("selfsim")[1], 1.0, atol=1e-5)


def test_units_and_cross_model_cka(tiny_bert, tiny_dir, small_corpus):
    from ctxemb import Extractor

    geometry = LayerGeometry(metrics=["cka"], samples=20, cka_samples=150)
    a = geometry.sample(tiny_bert, small_corpus)
    other = Extractor.from_pretrained(tiny_dir("roberta"), device="cpu")
    b = geometry.sample(other, small_corpus)
    np.testing.assert_array_equal(a.cka_ids, b.cka_ids)  # the same words, although the pieces differ
    across = cross_model_cka(a, b)
    assert across.shape == (4, 4) and np.all(np.isfinite(across))
    pieces = LayerGeometry(metrics=["cka"], samples=20, cka_samples=150, units="tokens", specials="include")
    c = pieces.sample(tiny_bert, small_corpus)
    with pytest.raises(ValueError, match="different units"):
        cross_model_cka(a, c)
    # specials included: [CLS] and [SEP] are units; excluded (default) they never are
    assert pieces.sample(tiny_bert, ["a b", "c d"] * 10).cka.shape[1] == 80
    first = LayerGeometry(metrics=["cka"], samples=20, cka_samples=150, units="tokens", first="exclude")
    assert first.sample(tiny_bert, ["a b", "c d"] * 10).cka.shape[1] == 20
