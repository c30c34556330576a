"""Polysemy data: the bundled set, the WiC / WSD / JSONL readers on hand-written official-format files, bad input."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import numpy as np
import pytest

from ctxemb.analysis.polysemy import (
    Occurrence,
    ProbeData,
    assign_splits,
    check_occurrences,
    load_bundled,
    load_data,
    load_jsonl,
    load_wic,
    load_wsd,
    prepare,
    sense_pairs,
)
from ctxemb.analysis.polysemy.loaders import bundled_path
from ctxemb.analysis.polysemy.static import context_words, lookup_key, target_vectors
from ctxemb.static.io import load_vectors


@pytest.fixture(scope="module")
def bundled() -> ProbeData:
    return load_bundled()


def test_bundled_spans_are_exact(bundled):
    for i, o in enumerate(bundled.occurrences):
        start, end = o.span
        assert o.text[start:end].lower() == o.word, (i, o.text)
        assert start == 0 or not o.text[start - 1].isalnum(), (i, o.text)  # whole words only
        assert end == len(o.text) or not o.text[end].isalnum(), (i, o.text)
        assert o.sense is not None and o.sense.startswith(o.word + ".")
        assert o.split in ("train", "test")


def test_bundled_set_size_and_balance(bundled):
    senses: dict[str, Counter] = defaultdict(Counter)
    for o in bundled.occurrences:
        senses[o.word][o.sense] += 1
    assert len(senses) >= 40
    assert all(len(counts) >= 2 for counts in senses.values())
    assert min(n for counts in senses.values() for n in counts.values()) >= 6
    assert {o.pos for o in bundled.occurrences} == {"NOUN", "VERB"}
    texts = [o.text for o in bundled.occurrences]
    assert len(set(texts)) == len(texts), "duplicate sentences"
    splits = Counter((o.sense, o.split) for o in bundled.occurrences)
    assert all(splits[(s, "test")] >= 2 and splits[(s, "train")] >= 4 for s, _ in splits)


def test_bundled_licence_ships_beside_the_data():
    readme = (bundled_path().parent / "README.md").read_text(encoding="utf-8")
    assert "CC0 1.0" in readme


def test_wic_reader_official_format(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "dev").mkdir()
    (tmp_path / "train" / "train.data.txt").write_text(
        "carry\tV\t2-1\tYou must carry your camping gear .\tSound carries well over water .\n"
        "bank\tN\t4-1\tThey sat on the bank of the river .\tThe bank raised rates .\n",
        encoding="utf-8",
    )
    (tmp_path / "train" / "train.gold.txt").write_text("F\nF\n", encoding="utf-8")
    (tmp_path / "dev" / "dev.data.txt").write_text("bank\tN\t1-3\tThe bank closed .\tI robbed a bank !\n")
    (tmp_path / "dev" / "dev.gold.txt").write_text("T\n")
    data = load_wic(tmp_path)
    surfaces = [o.surface for o in data.occurrences]
    assert surfaces == ["carry", "carries", "bank", "bank", "bank", "bank"]
    assert data.occurrences[1].span == (6, 13)
    assert data.occurrences[2].span == (16, 20)
    assert [o.pos for o in data.occurrences[:3]] == ["VERB", "VERB", "NOUN"]
    assert [(p.first, p.second, p.same, p.split) for p in data.pairs] == [
        (0, 1, False, "train"),
        (2, 3, False, "train"),
        (4, 5, True, "dev"),
    ]
    assert all(o.sense is None for o in data.occurrences)
    assert load_data(f"wic:{tmp_path}").pairs == data.pairs


def test_wic_index_beyond_sentence(tmp_path):
    (tmp_path / "train.data.txt").write_text("bank\tN\t0-7\tThe bank .\tA bank .\n")
    (tmp_path / "train.gold.txt").write_text("T\n")
    with pytest.raises(ValueError, match=r"train\.data\.txt:1: index 7 is beyond sentence 2 \(3 whitespace tokens\)"):
        load_wic(tmp_path)


def test_wic_bad_files(tmp_path):
    (tmp_path / "train.data.txt").write_text("bank\tN\t0-1\tThe bank .\tA bank .\n")
    (tmp_path / "train.gold.txt").write_text("T\nF\n")
    with pytest.raises(ValueError, match=r"has 1 lines but .* has 2 labels"):
        load_wic(tmp_path)
    (tmp_path / "train.gold.txt").write_text("yes\n")
    with pytest.raises(ValueError, match=r"train\.gold\.txt:1: gold label 'yes' is not T or F"):
        load_wic(tmp_path)
    with pytest.raises(ValueError, match="no WiC files"):
        load_wic(tmp_path / "train")


WSD_XML = """<?xml version="1.0" encoding="UTF-8" ?>
<corpus lang="en" source="toy">
<text id="d000">
<sentence id="d000.s000">
<wf lemma="the" pos="DET">The</wf>
<instance id="d000.s000.t000" lemma="bank" pos="NOUN">bank</instance>
<wf lemma="raise" pos="VERB">raised</wf>
<instance id="d000.s000.t001" lemma="interest" pos="NOUN">interest</instance>
<wf lemma="rate" pos="NOUN">rates</wf>
<wf lemma="." pos=".">.</wf>
</sentence>
<sentence id="d000.s001">
<wf lemma="we" pos="PRON">We</wf>
<instance id="d000.s001.t000" lemma="fish" pos="VERB">fished</instance>
<wf lemma="from" pos="ADP">from</wf>
<wf lemma="the" pos="DET">the</wf>
<instance id="d000.s001.t001" lemma="bank" pos="NOUN">bank</instance>
</sentence>
</text>
</corpus>
"""
WSD_KEY = """d000.s000.t000 bank%1:14:00::
d000.s000.t001 interest%1:21:00:: interest%1:21:01::
d000.s001.t000 fish%2:33:00::
d000.s001.t001 bank%1:17:01::
"""


def test_wsd_reader_official_format(tmp_path):
    (tmp_path / "toy.data.xml").write_text(WSD_XML, encoding="utf-8")
    (tmp_path / "toy.gold.key.txt").write_text(WSD_KEY, encoding="utf-8")
    data = load_wsd(tmp_path / "toy.data.xml", tmp_path / "toy.gold.key.txt")
    assert [o.text for o in data.occurrences[:1]] == ["The bank raised interest rates ."]
    assert [(o.surface, o.span, o.word, o.sense, o.pos) for o in data.occurrences] == [
        ("bank", (4, 8), "bank", "bank%1:14:00::", "NOUN"),
        ("interest", (16, 24), "interest", "interest%1:21:00::", "NOUN"),
        ("fished", (3, 9), "fish", "fish%2:33:00::", "VERB"),
        ("bank", (19, 23), "bank", "bank%1:17:01::", "NOUN"),
    ]
    spec = f"wsd:{tmp_path / 'toy.data.xml'},{tmp_path / 'toy.gold.key.txt'}"
    assert load_data(spec).occurrences == data.occurrences


def test_wsd_missing_key_names_the_instance(tmp_path):
    (tmp_path / "toy.data.xml").write_text(WSD_XML, encoding="utf-8")
    (tmp_path / "toy.gold.key.txt").write_text(WSD_KEY.replace("d000.s001.t000 fish%2:33:00::\n", ""))
    with pytest.raises(ValueError, match=r"instance 'd000\.s001\.t000' has no gold key"):
        load_wsd(tmp_path / "toy.data.xml", tmp_path / "toy.gold.key.txt")


def test_jsonl_reader_and_errors(tmp_path):
    path = tmp_path / "occ.jsonl"
    records = [
        {"text": "A bat flew.", "start": 2, "end": 5, "word": "bat", "sense": "animal"},
        {"text": "Swing the bat.", "span": [10, 13], "word": "bat", "sense": "club", "split": "test", "pos": "NOUN"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    data = load_jsonl(path)
    assert [o.surface for o in data.occurrences] == ["bat", "bat"]
    assert data.occurrences[1].split == "test" and data.occurrences[0].split is None
    path.write_text(json.dumps(records[0]) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"occ\.jsonl:2: not valid JSON"):
        load_jsonl(path)
    path.write_text(json.dumps({**records[0], "end": 40}) + "\n")
    with pytest.raises(ValueError, match=r"item 0 \(.*occ\.jsonl:1\): span \(2, 40\) of word 'bat' is outside"):
        load_jsonl(path)
    path.write_text(json.dumps({"text": "A bat flew.", "word": "bat"}) + "\n")
    with pytest.raises(ValueError, match=r"occ\.jsonl:1: missing or wrong field\(s\): start/end"):
        load_jsonl(path)


def test_unknown_data_spec():
    with pytest.raises(ValueError, match=r"unknown data spec 'semcor'; use bundled, wic:DIR, wsd:XML,KEY"):
        load_data("semcor")
    with pytest.raises(ValueError, match="expected wsd:XML,KEY"):
        load_data("wsd:only.xml")


def test_check_occurrences_names_every_bad_item():
    bad = [
        Occurrence("short", (0, 9), "bank", "x"),
        Occurrence("fine text", (0, 4), "fine", "y"),
        Occurrence("a b", (1, 2), "b", "z"),
        Occurrence("split", (0, 5), "split", "w", split="holdout"),
    ]
    with pytest.raises(ValueError, match="3 bad occurrence") as info:
        check_occurrences(bad)
    message = str(info.value)
    assert "item 0: span (0, 9) of word 'bank' is outside its text of 5 characters" in message
    assert "item 2: span (1, 2) of word 'b' covers only whitespace" in message
    assert "item 3: unknown split 'holdout'" in message


def test_single_sense_word_is_reported_not_fatal(caplog):
    rows = [Occurrence(f"tree {k}", (0, 4), "tree", "plant") for k in range(3)]
    rows += [Occurrence(f"bank {s} {k}", (0, 4), "bank", s) for s in ("river", "money") for k in range(3)]
    with caplog.at_level("WARNING", logger="ctxemb"):
        data = prepare(ProbeData(tuple(rows)))
    assert "1 word(s) with a single sense are skipped by the sense metrics: tree" in caplog.text
    assert all(o.split in ("train", "test") for o in data.occurrences)
    assert {data.occurrences[p.first].word for p in data.pairs} == {"bank", "tree"}


def test_assign_splits_is_stratified_and_keeps_given_splits():
    rows = [Occurrence(f"w {k}", (0, 1), "w", "a" if k < 6 else "b") for k in range(9)]
    rows.append(Occurrence("w given", (0, 1), "w", "a", split="dev"))
    out = assign_splits(rows, test_fraction=1 / 3, seed=0)
    counts = Counter((o.sense, o.split) for o in out)
    assert counts == {("a", "train"): 4, ("a", "test"): 2, ("b", "train"): 2, ("b", "test"): 1, ("a", "dev"): 1}
    assert assign_splits(rows, seed=0) == out  # seeded


def test_sense_pairs_within_word_and_split():
    rows = [Occurrence(f"w {k}", (0, 1), "w", "ab"[k % 2], split="train") for k in range(4)]
    rows.append(Occurrence("v", (0, 1), "v", "a", split="train"))
    pairs = sense_pairs(rows)
    assert len(pairs) == 6 and sum(p.same for p in pairs) == 2
    assert len(sense_pairs(rows, max_per_word=3)) == 3


def test_static_context_and_target():
    from gensim.models import KeyedVectors

    o = Occurrence("The old oak had rough bark and deep cracks in it.", (22, 26), "bark", "tree")
    assert context_words(o, window=3) == ["oak", "rough", "deep", "cracks"]  # had, and: stop words
    keyed = KeyedVectors(2)
    keyed.add_vectors(["bark", "capit"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    assert lookup_key(keyed, "Capital") == "capit"  # Porter stem, for stemmed training text
    other = Occurrence("Dogs bark.", (5, 9), "bark", "dog")
    np.testing.assert_array_equal(target_vectors(keyed, [o, other]), [[1, 0], [1, 0]])


def test_default_static_vectors_trains_ctxemb_word2vec_and_caches(monkeypatch, tmp_path):
    from gensim.models import KeyedVectors

    import ctxemb.static
    from ctxemb.analysis.polysemy import default_static_vectors

    seen = {}

    class FakeWord2Vec:
        def __init__(self, dim: int = 10, window: int = 5, seed: int = 0, **options: object) -> None:
            seen.update(dim=dim, window=window, seed=seed, **options)

        def fit(self, corpus: str) -> FakeWord2Vec:
            seen["corpus"] = corpus
            self.vectors_ = KeyedVectors(2)
            self.vectors_.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
            return self

    monkeypatch.setattr(ctxemb.static, "Word2Vec", FakeWord2Vec)
    vectors = default_static_vectors(tmp_path, dim=7)
    assert seen["dim"] == 7 and seen["window"] == 5 and seen["corpus"].endswith("head500.noblanks.cor")
    assert vectors.index_to_key == ["a", "b"]
    assert load_vectors(next(tmp_path.glob("*.bin"))).index_to_key == ["a", "b"]  # cached, as word2vec binary
