"""Pooling and mixing against NumPy references written here with plain loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ctxemb import ScalarMix, mix
from ctxemb.pooling import pool_sentence, pool_words

rng = np.random.default_rng(0)
HIDDEN = rng.normal(size=(3, 7, 4)).astype(np.float32)  # (layers, tokens, dim)
# words: w0 = pieces 1,2; w1 = piece 3; w2 = no piece; w3 = pieces 4,5
PTR = np.array([0, 2, 3, 3, 5])
PIECES = np.array([1, 2, 3, 4, 5])
WORD_PIECES = [[1, 2], [3], [], [4, 5]]
SPECIAL = np.array([True, False, False, False, False, False, True])


def reference_word(pool):
    out = []
    for layer in HIDDEN:
        rows = []
        for pieces in WORD_PIECES:
            if not pieces:
                rows.append(np.full(8 if pool == "first_last" else 4, np.nan))
                continue
            vectors = [layer[p] for p in pieces]
            if pool == "first":
                rows.append(vectors[0])
            elif pool == "last":
                rows.append(vectors[-1])
            elif pool == "mean":
                rows.append(sum(vectors) / len(vectors))
            elif pool == "max":
                rows.append(np.array([max(v[d] for v in vectors) for d in range(4)]))
            else:
                rows.append(np.concatenate([vectors[0], vectors[-1]]))
        out.append(rows)
    return np.array(out)


@pytest.mark.parametrize("pool", ["first", "last", "mean", "max", "first_last"])
def test_word_pools(pool):
    got = pool_words(HIDDEN, PTR, PIECES, pool)
    np.testing.assert_allclose(got, reference_word(pool), rtol=1e-6, equal_nan=True)
    assert got.dtype == np.float32


@pytest.mark.parametrize("cells", [0, 1 << 30])
@pytest.mark.parametrize("pool", ["first", "last", "mean", "max", "first_last"])
def test_word_pools_with_long_words_on_both_mean_paths(monkeypatch, pool, cells):
    # Words of 0 to 7 pieces, pooled through the averaging matrix (huge budget) and rank by rank (no budget):
    # both equal plain loops over each word's pieces.
    import ctxemb.pooling

    monkeypatch.setattr(ctxemb.pooling, "_DENSE_MEAN_MACS", cells)
    local = np.random.default_rng(1)
    counts = local.integers(0, 8, size=40)
    hidden = local.normal(size=(2, 1 + counts.sum() + 1, 5)).astype(np.float32)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    pieces = np.arange(1, 1 + counts.sum())
    got = pool_words(hidden, ptr, pieces, pool)
    reduce = {"first": lambda v: v[0], "last": lambda v: v[-1], "mean": lambda v: v.mean(0), "max": lambda v: v.max(0)}
    for w, n in enumerate(counts):
        rows = hidden[:, pieces[ptr[w] : ptr[w + 1]]]  # (layers, n, dim)
        for k in range(2):
            if n == 0:
                assert np.isnan(got[k, w]).all()
            elif pool == "first_last":
                np.testing.assert_allclose(got[k, w], np.concatenate([rows[k][0], rows[k][-1]]), rtol=1e-6)
            else:
                np.testing.assert_allclose(got[k, w], reduce[pool](rows[k]), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32


def test_unknown_word_pool():
    with pytest.raises(ValueError, match="first, last, mean, max, first_last"):
        pool_words(HIDDEN, PTR, PIECES, "median")  # type: ignore[arg-type]


def test_sentence_pools():
    content = [1, 2, 3, 4, 5]
    mean = np.array([[sum(layer[p][d] for p in content) / 5 for d in range(4)] for layer in HIDDEN])
    biggest = np.array([[max(layer[p][d] for p in content) for d in range(4)] for layer in HIDDEN])
    np.testing.assert_allclose(pool_sentence(HIDDEN, SPECIAL, "mean", 0), mean, rtol=1e-5)
    np.testing.assert_allclose(pool_sentence(HIDDEN, SPECIAL, "max", 0), biggest)
    np.testing.assert_array_equal(pool_sentence(HIDDEN, SPECIAL, "cls", 0), HIDDEN[:, 0])
    np.testing.assert_array_equal(pool_sentence(HIDDEN, SPECIAL, "cls", 6), HIDDEN[:, 6])
    np.testing.assert_array_equal(pool_sentence(HIDDEN, SPECIAL, "last", 0), HIDDEN[:, 5])


def test_cls_without_summary_token_suggests_last():
    with pytest.raises(ValueError, match=r"no CLS-like summary token.*use 'last'"):
        pool_sentence(HIDDEN, SPECIAL, "cls", None)


def test_sentence_of_specials_only_is_nan():
    assert np.isnan(pool_sentence(HIDDEN[:, :2], np.array([True, True]), "mean", 0)).all()


ARRAY = rng.normal(size=(4, 5, 3)).astype(np.float64)  # (layers, words, dim)


def test_mix_modes():
    layers = [ARRAY[k] for k in range(4)]
    np.testing.assert_allclose(mix(ARRAY, "mean"), sum(layers) / 4)
    np.testing.assert_allclose(mix(ARRAY, "sum"), sum(layers))
    w = [0.1, 0.2, 0.3, 0.4]
    np.testing.assert_allclose(mix(ARRAY, "weighted", weights=w), sum(wk * h for wk, h in zip(w, layers)))
    concat = mix(ARRAY, "concat")
    assert concat.shape == (5, 12)
    for i in range(5):
        np.testing.assert_array_equal(concat[i], np.concatenate([h[i] for h in layers]))


def test_mix_other_axis():
    batched = np.moveaxis(ARRAY, 0, 1)  # (words, layers, dim)
    np.testing.assert_allclose(mix(batched, "mean", axis=1), mix(ARRAY, "mean"))
    np.testing.assert_allclose(mix(batched, "concat", axis=1), mix(ARRAY, "concat"))


def test_mix_errors():
    with pytest.raises(ValueError, match="unknown mix mode"):
        mix(ARRAY, "median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weights"):
        mix(ARRAY, "weighted")
    with pytest.raises(ValueError, match="3 weights for 4 layers"):
        mix(ARRAY, "weighted", weights=[1, 2, 3])


def test_scalar_mix_formula():
    scalars = [0.5, -1.0, 2.0, 0.0]
    module = ScalarMix(4, initial_weights=scalars)
    with torch.no_grad():
        module.gamma.fill_(1.5)
    got = module(torch.from_numpy(ARRAY).float()).detach().numpy()
    soft = np.exp(scalars) / np.exp(scalars).sum()
    expected = 1.5 * sum(soft[k] * ARRAY[k] for k in range(4))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(module.weights(), soft, rtol=1e-6)


def test_scalar_mix_layer_norm_is_per_token():
    module = ScalarMix(4, layer_norm=True)
    x = torch.from_numpy(ARRAY).float()
    full = module(x).detach().numpy()
    alone = module(x[:, :1]).detach().numpy()  # one token: same result as inside the batch
    np.testing.assert_allclose(full[:1], alone, rtol=1e-5, atol=1e-6)
    normed = (ARRAY - ARRAY.mean(-1, keepdims=True)) / np.sqrt(ARRAY.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(full, normed.mean(0), rtol=1e-4, atol=1e-5)


def test_scalar_mix_trains():
    torch.manual_seed(0)
    layers = torch.randn(3, 16, 8)
    target = layers[2]
    module = ScalarMix(3)
    optimiser = torch.optim.Adam(module.parameters(), lr=0.1)
    for _ in range(100):
        optimiser.zero_grad()
        loss = ((module(layers) - target) ** 2).mean()
        loss.backward()
        optimiser.step()
    assert module.weights().argmax() == 2
    assert module.weights()[2] > 0.9


def test_one_mix_value_reads_every_spelling():
    from ctxemb import Mix, ScalarMix

    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)  # (layers, words, dim)
    assert Mix.of("mean") == Mix("mean") and Mix.of(Mix("sum")) == Mix("sum")
    np.testing.assert_allclose(Mix.of("mean")(x), x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(Mix.of(("weighted", [1, 0, 1]))(x), x[0] + x[2], rtol=1e-6)
    assert Mix.of(("weighted", [1, 0, 1])).weights == (1.0, 0.0, 1.0)
    scalar = ScalarMix(3)
    assert Mix.of(scalar).name == "scalar_mix" and Mix.of("concat").name == "concat"
    np.testing.assert_allclose(Mix.of(scalar)(x), x.mean(axis=0), rtol=1e-5)  # uniform initial weights
    for bad in ("median", ("mean", [1, 1, 1])):
        with pytest.raises(ValueError):
            Mix.of(bad)
    with pytest.raises(ValueError, match="required for mode='weighted'"):
        Mix("weighted")


def test_embedding_vectors_is_the_one_pool_then_mix(tiny_bert):
    from ctxemb import Mix

    r = tiny_bert.embed(["The river bank flooded."])[0]
    np.testing.assert_array_equal(r.vectors("token"), r.hidden)
    np.testing.assert_array_equal(r.vectors("word", "max"), r.word_vectors("max"))
    np.testing.assert_array_equal(r.vectors("sentence", "cls"), r.sentence_vector("cls")[:, None])
    np.testing.assert_allclose(r.vectors("word", "mean", "mean"), r.word_vectors("mean").mean(axis=0), rtol=1e-6)
    assert r.vectors("word", "mean", Mix("concat")).shape == (len(r.words), 4 * 32)
    with pytest.raises(ValueError, match="unknown word pool 'cls'"):
        r.vectors("word", "cls")
    with pytest.raises(ValueError, match="unknown vector kind 'piece'"):
        r.vectors("piece")
