"""Evaluation harness (against gensim's own scorers and SciPy) and distillation (against embed by hand)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from gensim.test.utils import datapath
from scipy.stats import spearmanr

from ctxemb.static import distill, evaluate, keyed_vectors, load_task


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


def test_distill_vocabulary_from_min_count_and_errors(tiny):
    out = distill(tiny, ["b a b", "c b a"], layers=1, min_count=2, input_layer=False)
    assert list(out) == ["layer1"] and out["layer1"].index_to_key == ["b", "a"]
    with pytest.raises(ValueError, match="is empty"):
        distill(tiny, ["", " "], words=["a"])
    with pytest.raises(ValueError, match="none of the 1 wanted words occurs"):
        distill(tiny, ["b c"], words=["zebra"])
    with pytest.raises(ValueError, match="unknown word pool 'median'"):
        distill(tiny, ["b c"], pool="median")
