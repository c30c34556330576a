"""Evaluation harness (against gensim's own scorers and SciPy) and distillation (against embed by hand)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from gensim.test.utils import datapath
from scipy.stats import spearmanr

from ctxemb.static import distill, evaluate, keyed_vectors, load_task
from ctxemb.static.evaluation import pair_similarities


def _random_vectors(words, seed=0, dim=8):
    return keyed_vectors(words, np.random.default_rng(seed).normal(size=(len(words), dim)))


@pytest.fixture(scope="module")
def wordsim_words():
    task = load_task("wordsim353")
    return sorted({w.lower() for a, b, _ in task.items for w in (a, b)})


def test_similarity_equals_gensim_evaluate_word_pairs(wordsim_words):
    kv = _random_vectors(wordsim_words[::2])  # about half the words: about a quarter of the pairs
    _, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    row = evaluate({"m": kv}, ["wordsim353"]).row("m", "wordsim353")
    assert row.total == 353 and row.metric == "spearman"
    assert row.score == pytest.approx(spearman.statistic, abs=1e-6)
    assert 100 * (1 - row.coverage) == pytest.approx(oov)


def test_analogy_equals_gensim_evaluate_word_analogies(tmp_path):
    rng = np.random.default_rng(3)
    countries, capitals = ["france", "italy", "spain", "japan", "peru"], ["paris", "rome", "madrid", "tokyo", "lima"]
    base = rng.normal(size=(5, 6))
    offset = rng.normal(size=6)
    words = [*countries, *capitals, "noise1", "noise2"]
    matrix = np.vstack([base, base + offset + rng.normal(scale=0.8, size=(5, 6)), rng.normal(size=(2, 6))])
    kv = keyed_vectors(words, matrix)
    lines = [": capitals"] + [
        f"{a} {b} {c} {d}" for a, b in zip(capitals, countries) for c, d in zip(capitals, countries) if a != c
    ]
    lines += [": unknown", "paris france oslo norway"]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    score, _ = kv.evaluate_word_analogies(str(path))
    row = evaluate({"m": kv}, [path]).row("m", "questions")
    assert row.metric == "accuracy" and row.total == 21 and row.covered == 20
    assert row.score == pytest.approx(score)
    assert 0 < score < 1  # the noise makes some answers wrong: a real comparison


def test_coverage_matched_scores_use_the_items_every_model_covers(wordsim_words):
    big, small = _random_vectors(wordsim_words, 1), _random_vectors(wordsim_words[: len(wordsim_words) // 2], 2)
    result = evaluate({"big": big, "layers": {"layer0": small}}, ["wordsim353"])
    assert result.models == ["big", "layers/layer0"]
    task = load_task("wordsim353")
    both = [(a.lower(), b.lower(), r) for a, b, r in task.items if a.lower() in small and b.lower() in small]
    gold = [r for _, _, r in both]
    for name, kv in (("big", big), ("layers/layer0", small)):
        row = result.row(name, "wordsim353")
        assert row.matched == len(both)
        expected = spearmanr(gold, [kv.similarity(a, b) for a, b, _ in both]).statistic
        assert row.matched_score == pytest.approx(expected)
    assert result.row("big", "wordsim353").covered == 353
    assert result.row("layers/layer0", "wordsim353").score == result.row("layers/layer0", "wordsim353").matched_score


def test_one_hot_floor_scores_zero_and_porter_keys(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# comment\nCapital\tcities\t7\ncity\tcapital\t8\ncar\tcities\t1\n", encoding="utf-8")
    onehot = keyed_vectors(["capit", "citi", "car"], np.eye(3))
    row = evaluate({"onehot": onehot}, [pairs], keys="porter").row("onehot", "pairs")
    assert row.covered == 3 and row.score == 0.0  # every cosine is 0: no ranking at all
    with pytest.raises(ValueError, match=r"pairs\.tsv:2: model 'onehot' covers none of the 3 items of pairs"):
        evaluate({"onehot": onehot}, [pairs])  # lowercase keys: "capital" is not "capit"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a\tb\t1\nc\td\n", r"bad\.tsv:2: expected 'word1 word2 rating', found 2 field"),
        ("a\tb\tlots\n", r"bad\.tsv:1: the rating 'lots' is not a number"),
        ("# only a comment\n", r"bad\.tsv: no word pair in the file"),
        (": section\na b c\n", r"bad\.tsv:2: expected an analogy 'a b c d', found 3 word"),
    ],
)
def test_bad_task_files_name_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_task(path)


def test_table_csv_and_json(tmp_path, wordsim_words):
    result = evaluate(
        {"a": _random_vectors(wordsim_words), "b": _random_vectors(wordsim_words[:50], 4)}, ["wordsim353"]
    )
    table = result.table()
    assert str(result) == table and result._repr_html_().startswith("<pre>")
    assert table.splitlines()[2].startswith("a ") and "100%" in table.splitlines()[2]
    assert f"wordsim353: {result.row('a', 'wordsim353').matched} of 353" in table
    assert result.to_csv(tmp_path / "t.csv") == tmp_path / "t.csv"  # every report's to_csv returns the path
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].startswith("model,task,metric,score") and len(lines) == 3
    assert result.to_json(tmp_path / "t.json") == tmp_path / "t.json"
    records = json.loads((tmp_path / "t.json").read_text())
    assert json.loads(result.to_json()) == records  # without a path: the JSON text
    assert records[1]["model"] == "b" and records[1]["covered"] == result.row("b", "wordsim353").covered
    assert not any(isinstance(v, float) and math.isnan(v) for r in records for v in r.values())


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    from ctxemb import Extractor

    return Extractor.from_pretrained(tiny_dir("bert"), device="cpu")


def test_distill_is_the_mean_of_contextual_vectors_per_layer(tiny):
    texts = ["The cat sat on the mat.", "A dog and a cat.", "", "The dog ran; the cat sat."]
    out = distill(tiny, texts, layers=[0, -1], max_occurrences=2, words=["cat", "the", "dog", "zebra"], max_words=5)
    assert list(out) == ["input", "layer0", "layer3"]
    kv = out["layer3"]
    assert kv.index_to_key == ["the", "cat", "dog"]  # by occurrences used (2, 2, 2), then first occurrence
    assert [kv.get_vecattr(w, "count") for w in kv.index_to_key] == [2, 2, 2]
    # by hand: the pieces of at most 5 words each text is cut into, embedded alone
    pieces = [["The", "cat", "sat", "on", "the"], ["mat", "."], ["A", "dog", "and", "a", "cat"]]
    vectors = [e.word_vectors("mean") for e in tiny.embed(pieces, layers=[0, 3])]
    cat = (vectors[0][:, 1] + vectors[2][:, 4]) / 2
    the = (vectors[0][:, 0] + vectors[0][:, 4]) / 2
    np.testing.assert_allclose(out["layer0"]["cat"], cat[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(kv["cat"], cat[1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(kv["the"], the[1], rtol=1e-4, atol=1e-5)
    # the input baseline: mean of the word's input-embedding rows
    table = tiny.model.get_input_embeddings().weight.detach().numpy()
    ids = tiny.tokenizer("dog", add_special_tokens=False)["input_ids"]
    np.testing.assert_allclose(out["input"]["dog"], table[ids].mean(0), rtol=1e-5)


def test_distill_with_no_context_embeds_each_word_alone(tiny):
    out = distill(tiny, None, layers=[0, -1], words=["Cat", "dog", "cat", "the"], contexts=None)
    assert list(out) == ["input", "layer0", "layer3"]
    assert out["layer3"].index_to_key == ["cat", "dog", "the"]  # the words as given, lowercased, once each
    assert [out["layer3"].get_vecattr(w, "count") for w in ("cat", "the")] == [1, 1]
    alone = tiny.embed([["dog"]], layers=[0, 3])[0].word_vectors("mean")  # (layers, 1 word, dim)
    np.testing.assert_allclose(out["layer0"]["dog"], alone[0, 0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["layer3"]["dog"], alone[1, 0], rtol=1e-4, atol=1e-5)
    in_context = distill(tiny, ["the dog ran"], layers=[3], words=["dog"], input_layer=True)
    np.testing.assert_array_equal(out["input"]["dog"], in_context["input"]["dog"])  # the same input baseline
    assert not np.allclose(out["layer3"]["dog"], in_context["layer3"]["dog"])  # context changes the last layer
    # the vocabulary from a corpus, most frequent first; nothing but the vocabulary is read from it
    assert distill(tiny, ["b a b", "c b a"], 1, contexts=None, min_count=2)["layer1"].index_to_key == ["b", "a"]


@pytest.mark.parametrize(
    ("corpus", "options", "message"),
    [
        (None, {"words": ["a"]}, r"contexts='corpus' needs a corpus; contexts=None embeds each word alone"),
        (None, {"contexts": None}, r"corpus=None needs a words list"),
        (["a b"], {"contexts": "alone"}, r"unknown contexts 'alone'; choose 'corpus' or None"),
        (["a b"], {"contexts": None, "words": []}, r"no word to distil: the words list is empty"),
    ],
)
def test_distill_contexts_errors(tiny, corpus, options, message):
    with pytest.raises(ValueError, match=message):
        distill(tiny, corpus, **options)


def test_distill_vocabulary_from_min_count_and_errors(tiny):
    out = distill(tiny, ["b a b", "c b a"], layers=1, min_count=2, input_layer=False)
    assert list(out) == ["layer1"] and out["layer1"].index_to_key == ["b", "a"]
    with pytest.raises(ValueError, match="is empty"):
        distill(tiny, ["", " "], words=["a"])
    with pytest.raises(ValueError, match="none of the 1 wanted words occurs"):
        distill(tiny, ["b c"], words=["zebra"])
    with pytest.raises(ValueError, match="unknown word pool 'median'"):
        distill(tiny, ["b c"], pool="median")


def _mixed_case(words):
    """Every second key Title-cased, then later (less frequent) case variants of 30 keys with vectors of their own:
    ``lower`` must take the first variant of each word, ``exact`` finds the later lowercase ones."""
    keys = [w.title() if i % 2 else w for i, w in enumerate(words)]
    return keys + [k.upper() for k in keys[:20]] + [k.lower() for k in keys[1:21:2]]


def test_lower_keys_fold_the_models_keys_too_as_gensim_does(wordsim_words):
    keys = _mixed_case(wordsim_words[::5] + wordsim_words[1::5] + wordsim_words[2::5])  # 3/5 of the words
    kv = _random_vectors(keys, seed=5)
    for keys_option, case_insensitive in (("lower", True), ("exact", False)):
        _, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"), case_insensitive=case_insensitive)
        row = evaluate({"m": kv}, ["wordsim353"], keys=keys_option).row("m", "wordsim353")
        assert row.covered == round(353 * (1 - oov / 100)), keys_option
        assert row.score == pytest.approx(spearman.statistic, abs=1e-6), keys_option
    lower = evaluate({"m": kv}, ["wordsim353"]).row("m", "wordsim353")
    assert (
        100 < lower.covered < 353 and lower.covered > evaluate({"m": kv}, ["wordsim353"], keys="exact").rows[0].covered
    )
    # every key Title-cased: gensim still covers the pairs; so does "lower"
    title = _random_vectors([w.title() for w in wordsim_words], seed=6)
    _, spearman, oov = title.evaluate_word_pairs(datapath("wordsim353.tsv"))
    row = evaluate({"m": title}, ["wordsim353"]).row("m", "wordsim353")
    assert oov == 0 and row.covered == 353 and row.score == pytest.approx(spearman.statistic, abs=1e-6)


def test_the_first_case_variant_stands_for_the_word(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("paris\tfrance\t9\nParis\trome\t3\nrome\tfrance\t2\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    first, later = rng.normal(size=4), rng.normal(size=4)
    kv = keyed_vectors(["Paris", "france", "rome", "paris"], np.vstack([first, rng.normal(size=(2, 4)), later]))
    sims = pair_similarities(kv, load_task(pairs))
    assert sims[0] == pytest.approx(kv.similarity("Paris", "france"))  # "paris" finds "Paris", the first variant
    assert sims[1] == pytest.approx(kv.similarity("Paris", "rome"))
    assert pair_similarities(kv, load_task(pairs), keys="exact")[0] == pytest.approx(kv.similarity("paris", "france"))


def test_mixed_case_analogies_equal_gensim_evaluate_word_analogies(tmp_path):
    rng = np.random.default_rng(3)
    countries, capitals = ["france", "italy", "spain", "japan", "peru"], ["paris", "rome", "madrid", "tokyo", "lima"]
    base, offset = rng.normal(size=(5, 6)), rng.normal(size=6)
    keys = [c.title() for c in countries] + [c if i % 2 else c.upper() for i, c in enumerate(capitals)]
    keys += ["noise1", "Noise2", "paris", "Rome", "FRANCE"]  # later variants: distractors near the answers
    answers = base + offset + rng.normal(scale=0.8, size=(5, 6))
    matrix = np.vstack([base, answers, rng.normal(size=(2, 6)), base[0] + offset, base[1] + offset, base[0]])
    kv = keyed_vectors(keys, matrix)
    lines = [": capitals"] + [
        f"{a} {b} {c} {d}" for a, b in zip(capitals, countries) for c, d in zip(capitals, countries) if a != c
    ]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    score, sections = kv.evaluate_word_analogies(str(path))  # case_insensitive=True
    row = evaluate({"m": kv}, [path]).row("m", "questions")
    assert row.covered == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) == 20
    assert row.score == pytest.approx(score) and 0 < score < 1  # the noise makes some answers wrong
    _, sections = kv.evaluate_word_analogies(str(path), case_insensitive=False)
    assert sections[-1]["correct"] == sections[-1]["incorrect"] == []  # no lowercase country: nothing covered
    with pytest.raises(ValueError, match="covers none of the 20 items"):
        evaluate({"m": kv}, [path], keys="exact")


@pytest.fixture(scope="module")
def fasttext_vectors():
    from ctxemb.static import FastText

    lines = Path(datapath("lee_background.cor")).read_text(encoding="utf-8").splitlines()
    return FastText(dim=16, epochs=1, bucket=20_000, progress=False).fit(lines).vectors_


def test_fasttext_counts_vocabulary_words_only_by_default_as_gensim_does(fasttext_vectors):
    kv = fasttext_vectors
    _, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    row = evaluate({"ft": kv}, ["wordsim353"]).row("ft", "wordsim353")
    assert row.covered == round(353 * (1 - oov / 100)) < 353  # words with only n-gram vectors are not covered
    assert row.score == pytest.approx(spearman.statistic, abs=1e-6)
    # oov="ngrams": every pair, the unknown words' vectors from their n-grams, as kv[word] gives them
    ngrams = evaluate({"ft": kv}, ["wordsim353"], oov="ngrams").row("ft", "wordsim353")
    task = load_task("wordsim353")
    by_hand = [kv.similarity(a.lower(), b.lower()) for a, b, _ in task.items]
    assert ngrams.covered == 353
    assert ngrams.score == pytest.approx(spearmanr([r for _, _, r in task.items], by_hand).statistic, abs=1e-6)
    # a plain KeyedVectors has no n-grams: "ngrams" changes nothing
    plain = keyed_vectors(kv.index_to_key, kv.vectors)
    assert (
        evaluate({"kv": plain}, ["wordsim353"], oov="ngrams").rows[0] == evaluate({"kv": plain}, ["wordsim353"]).rows[0]
    )
    with pytest.raises(ValueError, match="unknown oov 'guess'; choose one of skip, ngrams"):
        evaluate({"ft": kv}, ["wordsim353"], oov="guess")
