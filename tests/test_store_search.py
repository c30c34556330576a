"""Meaning search over a store: exact search is the brute-force top-k (NumPy over every row) for layers, mixes,
word and token vectors and the filters; indexes record the store's fingerprint; bad input is named; the CLI
prints hits and writes the concordance page."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from ctxemb.cli import main
from ctxemb.store import extract_to, open_store
from ctxemb.store.index import StaleIndexError
from ctxemb.store.search import marked_target

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOP = 8


@pytest.fixture(scope="module")
def sentences():
    """2,000 distinct sentences: gensim's Lee news texts, split, and the package's corpus."""
    from ctxemb.testing import corpus_path

    gensim = pytest.importorskip("gensim.test.utils", reason="gensim (the static extra) ships the Lee corpus")
    datapath = gensim.datapath
    text = open(datapath("lee_background.cor"), encoding="utf-8").read()
    pool = [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+", text) if 3 <= len(s.split()) <= 25]
    pool += [line for line in corpus_path().read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(pool))[:2000]


@pytest.fixture(scope="module")
def store(tiny_bert, sentences, tmp_path_factory):
    """A store of every layer of the tiny BERT, word and token vectors, float32, in shards of 600 texts."""
    directory = tmp_path_factory.mktemp("search") / "store"
    return extract_to(
        tiny_bert, directory, sentences, vectors=("token", "word"), layers="all", shard_size=600, progress=False
    )


@pytest.fixture(scope="module")
def rows_of(store):
    """``rows_of(kind)``: every row of the store, with its form, its text and whether a search may return it."""
    texts = [t for t in store]
    cache = {}

    def facts(kind):
        if kind not in cache:
            arrays = np.concatenate(store.arrays(kind), axis=1).astype(np.float64)  # (layers, rows, dim)
            if kind == "word":
                forms = [w for t in texts for w in t.words]
                counts = [len(t.words) for t in texts]
                usable = np.ones(len(forms), dtype=bool)
            else:
                forms = [t.text[s:e] for t in texts for s, e in t.offsets]
                counts = [len(t.tokens) for t in texts]
                usable = ~np.concatenate([t.special for t in texts]) & (np.array([len(f) for f in forms]) > 0)
            owner = np.repeat(np.arange(len(texts)), counts)
            cache[kind] = arrays, np.array(forms, dtype=object), owner, usable, np.array([t.text for t in texts])
        return cache[kind]

    return facts


def brute_force(rows_of, extractor, targets, kind, layer, top, same_form=False, exclude_query_text=False):
    """The top-k rows and scores by NumPy over every row of the store, written independently of ctxemb's index."""
    arrays, forms, owner, usable, texts = rows_of(kind)
    queries = extractor.embed_spans(targets, "mean", layers="all").astype(np.float64)  # (layers, n, dim)
    if isinstance(layer, int):
        rows, q = arrays[layer % 4], queries[layer % 4]
    elif layer in ("mean", "sum"):
        rows, q = getattr(arrays, layer)(axis=0), getattr(queries, layer)(axis=0)
    elif layer == "concat":
        rows = np.concatenate(list(arrays), axis=-1)
        q = np.concatenate(list(queries), axis=-1)
    else:
        weights = np.asarray(layer[1])
        rows, q = np.einsum("k,krd->rd", weights, arrays), np.einsum("k,knd->nd", weights, queries)
    scores = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (rows / np.linalg.norm(rows, axis=1, keepdims=True)).T
    out = []
    for i, (text, (start, end)) in enumerate(targets):
        s = np.where(usable & np.isfinite(scores[i]), scores[i], -np.inf)
        if same_form:
            s[forms != text[start:end]] = -np.inf
        if exclude_query_text:
            s[texts[owner] == text] = -np.inf
        order = np.argsort(-s, kind="stable")[:top]
        out.append((order[s[order] > -np.inf], s))
    return out


def assert_same_top_k(hits, expected, tolerance=1e-5):
    """The same rows in the same order, scores equal within float32 rounding; two rows whose scores lie within
    ``tolerance`` may swap (the order of their last bits depends on the matrix product's shape)."""
    rows, scores = expected
    got = [h.row for h in hits]
    np.testing.assert_allclose([h.score for h in hits], scores[rows], rtol=0, atol=tolerance)
    for k, (a, b) in enumerate(zip(got, rows)):
        if a != b:
            assert abs(scores[a] - scores[b]) <= tolerance, (k, got, list(rows))
    if len(rows) == TOP:
        assert len(got) == TOP
    assert set(got) - set(rows.tolist()) <= {r for r in got if abs(scores[r] - scores[rows[-1]]) <= tolerance}


def queries(store, sentences):
    """Targets: five stored occurrences (word spans) and two new sentences."""
    picked = [store[i] for i in (3, 250, 601, 1400, 1999)]
    targets = [(t.text, tuple(int(x) for x in t.word_spans[len(t.words) // 2])) for t in picked]
    return [*targets, marked_target("She sat on the [bank] of the river."), marked_target("The [government] fell.")]


@pytest.mark.parametrize(
    ("kind", "layer"),
    [
        ("word", 2),
        ("word", -1),
        ("word", "mean"),
        ("word", "concat"),
        ("word", ("weighted", [0.1, 0.2, 0.3, 0.4])),
        ("token", 1),
        ("token", "sum"),
    ],
)
def test_exact_search_is_the_brute_force_top_k(store, rows_of, tiny_bert, sentences, kind, layer):
    assert len(store) == 2000 and len(store.shard_paths) == 4
    targets = queries(store, sentences)
    found = store.search(targets, layer, kind=kind, top=TOP, extractor=tiny_bert, progress=False)
    expected = brute_force(rows_of, tiny_bert, targets, kind, layer, TOP)
    assert len(found) == len(targets)
    for hits, wanted in zip(found, expected):
        assert_same_top_k(hits, wanted)
        for hit in hits:
            assert hit.text[hit.span[0] : hit.span[1]] == hit.word and store[hit.index].id == hit.id
    if kind == "word":  # a stored occurrence finds itself first
        assert all(hits[0].text == t[0] and hits[0].span == t[1] for hits, t in zip(found[:5], targets))
        assert all(hits[0].score > 0.9999 for hits in found[:5])


@pytest.mark.parametrize("kind", ["word", "token"])
def test_filters_same_form_and_own_text(store, rows_of, tiny_bert, sentences, kind):
    targets = queries(store, sentences)
    for same_form, exclude in ((True, False), (False, True), (True, True)):
        found = store.search(
            targets, 2, kind=kind, top=TOP, same_form=same_form, exclude_query_text=exclude, extractor=tiny_bert
        )
        expected = brute_force(rows_of, tiny_bert, targets, kind, 2, TOP, same_form, exclude)
        for (text, (start, end)), hits, wanted in zip(targets, found, expected):
            assert_same_top_k(hits, wanted)
            assert all(h.word == text[start:end] for h in hits) or not same_form
            assert all(h.text != text for h in hits) or not exclude
    assert store.search([marked_target("a [zzzzqx] word")], 2, kind=kind, same_form=True, extractor=tiny_bert) == [[]]


def test_index_files(store):
    index = store.build_index(2, "token")
    directory = store.directory / "indexes" / "token-layer2"
    assert index.directory == directory and store.build_index(2, "token").info == index.info  # built once
    assert sorted(p.name for p in directory.iterdir()) == [
        "forms.json",
        "forms.npy",
        "index.json",
        "ptr.npy",
        "vectors.npy",
    ]
    vectors = np.load(directory / "vectors.npy", mmap_mode="r")
    forms = np.load(directory / "forms.npy")
    special = np.concatenate([t.special for t in store])
    assert vectors.shape == (store.manifest["tokens"], 32) and vectors.dtype == np.float32
    assert (forms[special] == -1).all() and (forms[~special] >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(vectors[~special], axis=1), 1, atol=1e-5)
    rows = np.concatenate(store.arrays("token"), axis=1)[2]
    np.testing.assert_allclose(vectors[~special], (rows / np.linalg.norm(rows, axis=1, keepdims=True))[~special], 1e-6)
    ptr = np.load(directory / "ptr.npy")
    assert ptr[0] == 0 and ptr[-1] == len(forms) and len(ptr) == len(store) + 1
    start, end = store[7].offsets[1]
    assert json.loads((directory / "forms.json").read_text())[forms[ptr[7] + 1]] == store[7].text[start:end]
    info = json.loads((directory / "index.json").read_text())
    assert info["kind"] == "token" and info["layer"] == 2 and info["rows"] == len(forms)
    fresh = open_store(store.directory)
    half = fresh.build_index(0, "word", dtype="float16", progress=False)
    assert not fresh._arrays  # the build maps each shard's arrays itself and lets them go
    rows = np.concatenate(store.arrays("word"), axis=1)[0]
    assert half.vectors.dtype == np.float16 and half.info["dtype"] == "float16"
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    np.testing.assert_allclose(half.vectors[half.forms >= 0], unit[half.forms >= 0], atol=1e-3)


def test_faiss_flat_returns_the_exact_set(store, tiny_bert, sentences, tmp_path):
    faiss = pytest.importorskip("faiss", reason="faiss-cpu (the search extra) is not installed")
    faiss.omp_set_num_threads(1)  # OpenMP threads spin on a shared machine
    targets = queries(store, sentences)
    store.build_index("mean", "word", index="faiss", faiss_factory="Flat", overwrite=True, progress=False)
    exact_hits = store.search(targets, "mean", top=TOP, extractor=tiny_bert)
    faiss_hits = store.search(targets, "mean", top=TOP, index="faiss", extractor=tiny_bert)
    for a, b in zip(exact_hits, faiss_hits):  # the same set, but for rows tied with the last within rounding
        assert {h.row for h in a} ^ {h.row for h in b} <= {h.row for h in a + b if h.score - a[-1].score < 1e-5}
        np.testing.assert_allclose([h.score for h in a], [h.score for h in b], atol=1e-5)
    excluded = store.search(targets, "mean", top=TOP, index="faiss", exclude_query_text=True, extractor=tiny_bert)
    assert all(h.text != t[0] for hits, t in zip(excluded, targets) for h in hits)
    small = extract_to(tiny_bert, tmp_path / "small", sentences[:400], layers=[1], progress=False)
    small.build_index(index="faiss", progress=False)  # HNSW32, approximate: most of the exact set
    approximate = small.search(targets, top=TOP, index="faiss", extractor=tiny_bert)
    exact = small.search(targets, top=TOP, extractor=tiny_bert)
    overlap = np.mean([len({h.row for h in a} & {h.row for h in b}) / TOP for a, b in zip(approximate, exact)])
    assert overlap >= 0.8


def test_a_store_written_again_makes_its_indexes_stale(tiny_bert, tmp_path):
    texts = ["The bank of the river.", "She paid the bank.", "A bank holiday."]
    store = extract_to(tiny_bert, tmp_path / "s", texts, progress=False)
    hits = store.search([marked_target("the [bank] again")], 3, extractor=tiny_bert)
    assert len(hits[0]) == 10  # of 6 + 5 + 4 words
    store = extract_to(tiny_bert, tmp_path / "s", texts[:2], overwrite=True, progress=False)
    with pytest.raises(StaleIndexError, match=r"built over another state of the store .*overwrite=True"):
        store.search([marked_target("the [bank] again")], 3, extractor=tiny_bert)
    store.build_index(3, overwrite=True)
    assert {h.text for h in store.search([marked_target("the [bank]")], 3, extractor=tiny_bert)[0]} == set(texts[:2])


def test_the_query_model_comes_from_the_manifest_and_must_match(tiny_bert, tiny_dir, tmp_path):
    from ctxemb import Extractor

    store = extract_to(tiny_bert, tmp_path / "s", ["The bank of the river.", "She paid."], progress=False)
    hits = store.search([("The bank of the river.", (4, 8))], -1, top=1)  # the tiny BERT, loaded from its path
    assert hits[0][0].word == "bank" and hits[0][0].score == pytest.approx(1.0, abs=1e-6)
    other = Extractor.from_pretrained(tiny_dir("bert", hidden_size=48), device="cpu")
    with pytest.raises(ValueError, match=r"not (the one|those) that made the store"):
        store.search([("The bank of the river.", (4, 8))], -1, extractor=other)


def test_a_mixed_float16_store(tiny_bert, sentences, tmp_path):
    texts = sentences[:300]
    store = extract_to(tiny_bert, tmp_path / "m", texts, layers=[1, 3], mix="mean", dtype="float16", progress=False)
    with pytest.raises(ValueError, match="keeps one mean mix of layers 1, 3 instead of its layers"):
        store.search([marked_target("the [bank]")], 1, extractor=tiny_bert)
    own = store[5]
    targets = [(own.text, tuple(int(x) for x in own.word_spans[len(own.words) // 2])), marked_target("the [bank] of")]
    found = store.search(targets, top=TOP, extractor=tiny_bert)  # layer=None: the store's mix
    assert found == store.search(targets, "mean", top=TOP, extractor=tiny_bert)
    assert any(h.text == own.text and h.span == targets[0][1] and h.score > 0.999 for h in found[0])
    rows = np.concatenate(store.arrays("word")).astype(np.float64)
    vectors = tiny_bert.embed_spans(targets, layers=[1, 3]).mean(axis=0).astype(np.float16).astype(np.float64)
    scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (
        rows / np.linalg.norm(rows, axis=1, keepdims=True)
    ).T
    for hits, s in zip(found, scores):
        assert_same_top_k(hits, (np.argsort(-s, kind="stable")[:TOP], s), tolerance=2e-3)


def test_bad_input_is_named(store, tiny_bert, tmp_path):
    with pytest.raises(ValueError, match=r"the query 'no target here' marks no target"):
        marked_target("no target here")
    with pytest.raises(ValueError, match=r"marks 2 targets"):
        marked_target("[two] [targets]")
    with pytest.raises(ValueError, match="cuts through piece"):
        store.search([("The bank met.", (4, 6))], 2, extractor=tiny_bert)
    with pytest.raises(ValueError, match=r"layer 7 is not in the store .*: it holds layers 0, 1, 2, 3"):
        store.search([marked_target("the [bank]")], 7, extractor=tiny_bert)
    with pytest.raises(ValueError, match="choose a layer or a mix"):
        store.search([marked_target("the [bank]")], extractor=tiny_bert)
    with pytest.raises(ValueError, match="not 'sentence'"):
        store.search([marked_target("the [bank]")], 2, kind="sentence", extractor=tiny_bert)  # type: ignore[arg-type]
    sentences_only = extract_to(tiny_bert, tmp_path / "s", ["One text.", "Two."], vectors=["sentence"], progress=False)
    with pytest.raises(ValueError, match=r"the store .* holds no word vectors \(only sentence\)"):
        sentences_only.search([marked_target("the [bank]")], 2, extractor=tiny_bert)
    with pytest.raises(TypeError, match="targets must be a list"):
        store.search(("the bank", (4, 8)), 2, extractor=tiny_bert)  # type: ignore[arg-type]


def test_the_cli_prints_hits_and_writes_the_concordance(store, tiny_bert_dir, tmp_path, capsys):
    copy = tmp_path / "store"
    shutil.copytree(store.directory, copy, ignore=shutil.ignore_patterns("indexes"))
    page = tmp_path / "c.html"
    query = "She sat on the [bank] of the <river> & the lake."
    args = ["search", "--store", str(copy), "--layer", "-1", "--top", "5", "--no-progress", query, "The [state] met."]
    assert main([*args, "--html", str(page), "--clusters", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "query 1: She sat on the [bank] of the <river> & the lake."
    hit = out[1].strip().split("\t")
    assert len(hit) == 5 and float(hit[0]) <= 1 and re.fullmatch(r"\d+:\d+", hit[3]) and f"[{hit[2]}]" in hit[4]
    assert sum(line.startswith("query ") for line in out) == 2 and len(out) == 12
    html = page.read_text(encoding="utf-8")
    assert "<mark>bank</mark> of the &lt;river&gt; &amp; the lake." in html and "<script" not in html
    assert html.count('<td class="word">') == 10 and html.count("Cluster 2 (") == 2 and "Cluster 1 (" in html
    assert (copy / "indexes" / "word-layer3" / "index.json").is_file()

    def error(*argv):
        assert main(["search", "--store", str(copy), "--no-progress", *argv]) == 2
        return capsys.readouterr().err

    assert "marks no target" in error("--layer", "1", "no brackets")
    assert "layer 9 is not in the store" in error("--layer", "9", "the [bank]")
    assert "cuts through piece" in error("--layer", "1", "the [ban]k")
    assert "neither a layer number nor one of mean, sum, concat" in error("--layer", "top", "the [bank]")
    assert "holds no ctxemb store" in main_error(tmp_path, capsys)


def main_error(tmp_path, capsys):
    assert main(["search", "--store", str(tmp_path / "nothing"), "--layer", "1", "the [bank]"]) == 2
    return capsys.readouterr().err
