"""Tokenizer training for every kind x family, the statistics against hand counts, and bad input."""

from __future__ import annotations

import unicodedata
from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from ctxemb import split_words
from ctxemb.cli import main
from ctxemb.encoding import encode
from ctxemb.families import FAMILIES
from ctxemb.loading import resolve_name
from ctxemb.testing import corpus_path
from ctxemb.tokenization import (
    KINDS,
    TextFile,
    family_named,
    save_tokenizer,
    stats,
    train_tokenizer,
    vocabulary_overlap,
)

#: Every kind without a family, and every family with the kind its tokenizer class holds.
COMBOS = [(kind, None) for kind in KINDS] + [(f.subwords, f.name) for f in FAMILIES if f.subwords is not None]
IDS = [f"{kind}-{family or 'generic'}" for kind, family in COMBOS]
#: Characters from the training corpus only (so decoding can round-trip), with accents, digits, double spaces.
TEXTS = [
    "The Bank raised its  interest rates, again!",
    "Naïve señor: 1,000 dollars? Crème brûlée.",
    "x",
]
#: Where ``train_tokenizer`` without a family puts its specials (its docstring).
GENERIC_SPECIALS = "[CLS] text [SEP]"


@pytest.fixture(scope="module")
def lines():
    return [line for line in corpus_path().read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trained(lines, tmp_path_factory):
    """``trained(kind, family) -> (tokenizer, reloaded)``: trained on the in-repo corpus, saved, loaded back."""
    cache = {}

    def get(kind, family):
        if (kind, family) not in cache:
            tokenizer = train_tokenizer(lines, kind, 400, family=family)
            directory = tmp_path_factory.mktemp(f"{kind}-{family}")
            tokenizer.save_pretrained(directory)
            cache[kind, family] = tokenizer, AutoTokenizer.from_pretrained(directory)
        return cache[kind, family]

    return get


def _normalized(tokenizer, family, text):
    """The text as the tokenizer's normaliser leaves it (XLM: Moses words, lowercased, accents removed)."""
    if family == "xlm":
        from transformers.models.xlm.tokenization_xlm import lowercase_and_remove_accent

        return " ".join(lowercase_and_remove_accent(text.split()))
    normalizer = tokenizer.backend_tokenizer.normalizer
    return normalizer.normalize_str(text) if normalizer is not None else text


@pytest.mark.parametrize(("kind", "family"), COMBOS, ids=IDS)
def test_reload_gives_identical_ids_offsets_and_word_ids(trained, kind, family):
    tokenizer, reloaded = trained(kind, family)
    assert type(reloaded) is type(tokenizer)
    assert reloaded.get_vocab() == tokenizer.get_vocab()
    for text in [*TEXTS, "Zürich's ça-va ☃ qué?"]:
        if tokenizer.is_fast:
            before = tokenizer(text, return_offsets_mapping=True)
            after = reloaded(text, return_offsets_mapping=True)
            assert after["input_ids"] == before["input_ids"]
            assert after["offset_mapping"] == before["offset_mapping"]
            assert after.word_ids() == before.word_ids()
        else:  # XLM's Python-only tokenizer: ids, and ctxemb's word-by-word alignment
            assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"]
            (a,), (b,) = encode(tokenizer, [text]), encode(reloaded, [text])
            assert (a.ids == b.ids).all() and (a.offsets == b.offsets).all()
            assert (a.word_ptr == b.word_ptr).all() and (a.word_tokens == b.word_tokens).all()


@pytest.mark.parametrize(("kind", "family"), COMBOS, ids=IDS)
def test_decoding_round_trips_up_to_the_normaliser(trained, kind, family):
    tokenizer, reloaded = trained(kind, family)
    for text in TEXTS:
        ids = reloaded(text)["input_ids"]
        assert reloaded.unk_token_id not in ids or kind == "byte_bpe"  # every character was in the corpus
        decoded = reloaded.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if kind == "byte_fallback_bpe":  # every character is in the vocabulary or spelled in bytes: exact
            assert decoded == text
            continue
        assert "".join(decoded.split()) == "".join(_normalized(tokenizer, family, text).split())
        if kind == "byte_bpe":  # bytes: exact, but for the prefix space where the tokenizer adds one
            prefixed = reloaded.tokenize("x")[0].startswith("\u0120")
            assert decoded == (" " if prefixed else "") + text


@pytest.mark.parametrize(("kind", "family"), COMBOS, ids=IDS)
def test_specials_sit_where_the_family_table_says(trained, kind, family):
    _, reloaded = trained(kind, family)
    documented = family_named(family).specials if family else GENERIC_SPECIALS
    before, _, after = documented.partition("text") if documented != "none" else ("", "", "")
    encoding = reloaded(TEXTS[0], return_special_tokens_mask=True)
    tokens = reloaded.convert_ids_to_tokens(encoding["input_ids"])
    mask = encoding["special_tokens_mask"]
    head, tail = before.split(), after.split()
    assert tokens[: len(head)] == head
    assert tokens[len(tokens) - len(tail) :] == tail
    assert sum(mask) == len(head) + len(tail)
    assert not any(mask[len(head) : len(tokens) - len(tail)])
    assert reloaded.padding_side == (family_named(family).padding_side if family else "right")


def test_original_special_ids_roberta_pad_one_gpt2_eot_last(trained):
    roberta, _ = trained("byte_bpe", "roberta")
    assert (roberta.bos_token_id, roberta.pad_token_id, roberta.eos_token_id, roberta.unk_token_id) == (0, 1, 2, 3)
    gpt2, _ = trained("byte_bpe", "gpt2")
    assert gpt2.eos_token_id == len(gpt2) - 1 and gpt2.pad_token_id is None


def test_generator_and_list_give_the_same_vocabulary(lines, trained):
    tokenizer, _ = trained("wordpiece", "bert")
    streamed = train_tokenizer((line for line in lines), "wordpiece", 400, family="bert")
    assert streamed.get_vocab() == tokenizer.get_vocab()


def test_datasets_column_and_iterable_dataset_give_the_same_vocabulary(lines, trained):
    import datasets

    tokenizer, _ = trained("wordpiece", "bert")
    table = datasets.Dataset.from_dict({"text": lines})
    column = train_tokenizer(table["text"], "wordpiece", 400, family="bert")
    streamed = table.to_iterable_dataset().map(lambda row: row)
    from_stream = train_tokenizer((row["text"] for row in streamed), "wordpiece", 400, family="bert")
    assert column.get_vocab() == tokenizer.get_vocab()
    assert from_stream.get_vocab() == tokenizer.get_vocab()


def test_limit_alphabet_keeps_the_most_frequent_characters(lines):
    tokenizer = train_tokenizer(lines, "wordpiece", 400, limit_alphabet=30)
    counts = Counter("".join("".join(line.split()) for line in lines))  # BERT's words: every non-space character
    expected = sorted(counts, key=lambda c: (-counts[c], c))[:30]
    assert sorted(t for t in tokenizer.get_vocab() if len(t) == 1) == sorted(expected)
    assert train_tokenizer(iter(lines), "wordpiece", 400, limit_alphabet=30).get_vocab() == tokenizer.get_vocab()


@pytest.mark.parametrize("family", [None, "roberta", "gpt2"])
@settings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=40))
def test_byte_level_bpe_never_yields_unknown(trained, family, text):
    _, tokenizer = trained("byte_bpe", family)
    # A special token's own string in the text ("<pad>") is read as that special token, as transformers does by
    # default (split_special_tokens=False); it is not a byte-level piece, so it is outside this property.
    assume(not any(special in text for special in tokenizer.all_special_tokens))
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    expected = unicodedata.normalize("NFC", text) if family is None else text
    decoded = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
    assert decoded == (expected if expected.startswith(" ") else " " + expected)


# ---- statistics against hand counts


def test_stats_on_minilm_match_a_hand_count():
    tokenizer = AutoTokenizer.from_pretrained(resolve_name("minilm"))
    text = "Tokenizers split unbelievable words ☃ like snowmen."
    # bert-base-uncased's vocabulary: token ##izer ##s | split | unbelievable | words | [UNK] | like | snow ##men | .
    pieces = {"Tokenizers": 3, "split": 1, "unbelievable": 1, "words": 1, "☃": 1, "like": 1, "snowmen": 2, ".": 1}
    result = stats(tokenizer, [text])
    assert (result.texts, result.words, result.tokens) == (1, 8, 11)
    assert result.fertility == pytest.approx(11 / 8)
    assert result.tokens_per_word == {1: 6, 2: 1, 3: 1}
    assert result.split_rate == pytest.approx(2 / 8)
    assert (result.unknown, result.words_unknown) == (1, 1)
    assert result.unknown_rate == pytest.approx(1 / 11)
    assert result.vocab_size == 30522 and result.vocab_used == 11  # every piece differs
    assert sum(len(tokenizer.tokenize(word)) for word in pieces) == sum(pieces.values())  # the count itself
    assert "fertility    1.375 tokens per word" in result.table()


def test_stats_on_a_custom_wordpiece_match_a_hand_count(tmp_path):
    # vocab_size = 5 specials + a b c + ##a ##b ##c: no merge fits, so every known word splits into its letters.
    tokenizer = train_tokenizer(["abc cab bca"], "wordpiece", 11)
    assert len(tokenizer) == 11
    path = tmp_path / "small.txt"
    path.write_text("abc, ba x.\n\ncab\n", encoding="utf-8")
    result = stats(tokenizer, TextFile(path), batch_size=2)
    # words: abc (3 pieces), "," ([UNK]), ba (2), x ([UNK]), "." ([UNK]), cab (3)
    assert (result.texts, result.words, result.tokens) == (3, 6, 11)
    assert result.tokens_per_word == {1: 3, 2: 1, 3: 2}
    assert result.fertility == pytest.approx(11 / 6)
    assert result.split_rate == pytest.approx(3 / 6)
    assert (result.unknown, result.words_unknown) == (3, 3)
    assert result.unknown_rate == pytest.approx(3 / 11)
    assert result.vocab_used == 7  # a ##b ##c [UNK] b ##a c
    assert (result.percentile(50), result.percentile(60), result.percentile(100)) == (1, 2, 3)
    assert result.to_dict()["tokens_per_word"] == {"1": 3, "2": 1, "3": 2}


def test_stats_on_a_python_only_tokenizer_count_its_own_pieces(trained):
    tokenizer, _ = trained("bpe", "xlm")  # no offsets: the whole text is tokenized, pieces placed by alignment
    words = [text[s:e] for text in TEXTS for s, e in split_words(text)]
    pieces = [len(tokenizer.tokenize(text)) for text in TEXTS]
    encoded = encode(tokenizer, TEXTS)
    per_word = [int(n) for e in encoded for n in np.diff(e.word_ptr)]
    result = stats(tokenizer, TEXTS)
    assert (result.words, result.tokens) == (len(words), sum(pieces))
    assert result.word_tokens == sum(per_word) >= sum(pieces)  # a piece over several words counts for each
    assert result.tokens_per_word == dict(sorted(Counter(per_word).items()))
    assert result.unknown == 0


def test_vocabulary_overlap_matches_a_hand_count():
    a = train_tokenizer(["abc cab bca"], "wordpiece", 11)  # a b c ##a ##b ##c
    b = train_tokenizer(["abd abd"], "wordpiece", 10)  # a b d ##b ##d
    overlap = vocabulary_overlap(a, b)
    assert (overlap.size_a, overlap.size_b, overlap.shared) == (6, 5, 3)
    assert overlap.jaccard == pytest.approx(3 / 8)


# ---- bad input


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("texts", [[], ["", "  \n"], iter([])], ids=["empty", "blank", "empty-iterator"])
def test_empty_corpus(kind, texts):
    with pytest.raises(ValueError, match=r"corpus (is empty|has no words)"):
        train_tokenizer(texts, kind, 500)


@pytest.mark.parametrize(("kind", "family"), [("wordpiece", None), ("byte_bpe", None), ("unigram", "xlnet")])
def test_vocab_size_smaller_than_specials_and_alphabet(lines, kind, family):
    with pytest.raises(ValueError, match=r"vocab_size 20 is smaller than the \d+ special tokens plus"):
        train_tokenizer(lines[:20], kind, 20, family=family)


def test_unknown_kind_or_family_or_a_kind_the_family_cannot_hold(lines):
    with pytest.raises(ValueError, match="unknown tokenizer kind 'sentencepiece'; choose one of wordpiece"):
        train_tokenizer(lines, "sentencepiece", 500)
    with pytest.raises(ValueError, match="unknown family 't5'; choose one of bert"):
        train_tokenizer(lines, "bpe", 500, family="t5")
    with pytest.raises(ValueError, match=r"BertTokenizer \(bert\) holds a wordpiece vocabulary, not bpe"):
        train_tokenizer(lines, "bpe", 500, family="bert")
    with pytest.raises(TypeError, match="not one string"):
        train_tokenizer("one text", "bpe", 500)


def test_non_utf8_corpus_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("first line\nsecond line\ncaf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.txt:3: not valid UTF-8 \(invalid continuation byte at byte"):
        train_tokenizer(TextFile(path), "wordpiece", 500)


def test_cli_train_then_stats(tmp_path, capsys):
    out = tmp_path / "tok"
    train = ["tokenizer", "train", "--kind", "wordpiece", "--vocab-size", "500", "--family", "bert"]
    code = main([*train, str(corpus_path()), "--output", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "trained a wordpiece vocabulary of 500 pieces for bert (BertTokenizer)" in printed
    loaded = AutoTokenizer.from_pretrained(out)
    assert len(loaded) == 500 and [p.name for p in tmp_path.iterdir()] == ["tok"]
    assert main(["tokenizer", "stats", str(out), str(corpus_path()), "--compare", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    expected = stats(loaded, TextFile(corpus_path()))
    assert f"fertility    {expected.fertility:.3f} tokens per word" in printed
    assert f"shared      {len(loaded) - len(loaded.all_special_tokens)} pieces (Jaccard 1.000)" in printed


def test_cli_bad_corpus_leaves_no_output_directory(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good text here\n" * 50 + b"\xff\xfe broken\n")
    out = tmp_path / "tok"
    assert main(["tokenizer", "train", "--kind", "bpe", "--vocab-size", "300", str(path), "--output", str(out)]) == 2
    assert "bad.txt:51: not valid UTF-8" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.txt"]
    with pytest.raises(SystemExit):
        main(["tokenizer", "train", "--kind", "sentencepiece", str(path), "--output", str(out)])
    assert "invalid choice: 'sentencepiece'" in capsys.readouterr().err


def test_save_is_all_or_nothing(trained, tmp_path):
    tokenizer, _ = trained("bpe", None)
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="exists and is not empty"):
        save_tokenizer(tokenizer, target)

    class Failing:
        def save_pretrained(self, directory):
            (directory / "tokenizer.json").write_text("{")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_tokenizer(Failing(), tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    save_tokenizer(tokenizer, target, overwrite=True)
    assert AutoTokenizer.from_pretrained(target).get_vocab() == tokenizer.get_vocab()
