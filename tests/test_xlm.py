"""XLM: its Python-only tokenizer runs on the whole text; piece spans are recovered by alignment; languages."""

from __future__ import annotations

import logging
from itertools import pairwise

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_families import TRICKY
from transformers.models.xlm.tokenization_xlm import lowercase_and_remove_accent

from ctxemb import Extractor
from ctxemb.alignment import place
from ctxemb.encoding import encode

TOL = {"rtol": 1e-4, "atol": 1e-5}
LANGS = {"n_langs": 2, "use_lang_emb": True, "lang2id": {"en": 0, "fr": 1}, "id2lang": {"0": "en", "1": "fr"}}
TEXTS = [
    "the bank of the river was muddy after the storm .",
    "she paid the bank , and the river rose again !",
    "a b c",
]


@pytest.fixture(scope="module")
def xlm(tiny_dir):
    return Extractor.from_pretrained(tiny_dir("xlm"), device="cpu")


def assert_tiled(offsets, text):
    """Piece spans lie inside the text and never overlap, except pieces that share one guessed gap."""
    spans = sorted(set(map(tuple, offsets.tolist())))
    assert all(0 <= s <= e <= len(text) for s, e in spans)
    assert all(b[0] >= a[1] for a, b in pairwise(spans) if a[1] > a[0]), spans


def normalised(tokenizer, text):
    """What XLM's tokenizer makes of a stretch of text before BPE: Moses' pipeline, lowercased, accents removed."""
    cleaned = tokenizer.moses_pipeline(text, lang="en")
    return "".join(lowercase_and_remove_accent([cleaned])).replace(" ", "")


def test_the_whole_text_is_tokenized_once(xlm):
    text = "Don't worry, it's state-of-the-art: 1,000,000 in the U.S.A."
    result = xlm.embed([text])[0]
    assert not xlm.tokenizer.is_fast
    assert result.ids.tolist() == xlm.tokenizer(text)["input_ids"]
    assert result.tokens == xlm.tokenizer.convert_ids_to_tokens(xlm.tokenizer(text)["input_ids"])
    assert result.tokens[0] == "<s>" and result.tokens[-1] == "</s>"
    assert result.special.tolist() == [True] + [False] * (len(result.ids) - 2) + [True]
    # Moses keeps "'t" and "'s" whole, where a word-by-word tokenization gave "'" and "t" apart
    assert "'t</w>" in result.tokens and "'s</w>" in result.tokens
    assert result.words[:5] == ["Don", "'", "t", "worry", ","]
    quote_t = result.tokens.index("'t</w>")
    assert [w for w in range(len(result.words)) if quote_t in result.tokens_of(w)] == [1, 2]


def test_every_word_gets_the_pieces_that_overlap_it_and_spans_spell_the_pieces(xlm):
    tokenizer = xlm.tokenizer
    for text, result in zip(TRICKY, xlm.embed(TRICKY)):
        offsets = result.offsets
        content = np.flatnonzero(~result.special)
        for w, (s, e) in enumerate(result.word_spans.tolist()):
            expected = [p for p in content if offsets[p, 0] < e and offsets[p, 1] > s]
            assert result.tokens_of(w).tolist() == expected, (text, result.words[w])
        # Spans tile the text and spell the piece modulo the tokenizer's normalisation.
        assert_tiled(offsets[content], text)
        for p in content.tolist():
            if result.ids[p] == tokenizer.unk_token_id:
                continue
            s, e = offsets[p]
            surface = tokenizer.convert_tokens_to_string([result.tokens[p]])
            assert normalised(tokenizer, text[s:e]) == surface, (text, result.tokens[p], text[s:e])


def spelled(result):
    """``(piece, text under its span)`` for every non-special piece."""
    pairs = zip(result.tokens, result.offsets.tolist(), result.special)
    return [(t, result.text[s:e]) for t, (s, e), special in pairs if not special]


def test_fixed_alignments(xlm):
    # checked by hand: Moses straightens quotes, lowercases, removes accents, deletes the tab and zero-width space
    result = xlm.embed(["“Curly” quotes, naïve café\tand\u200b zero-width."])[0]
    assert spelled(result) == [
        ('"</w>', "“"), ("cur", "Cur"), ("ly</w>", "ly"), ('"</w>', "”"), ("qu", "qu"), ("o", "o"), ("t", "t"),
        ("es</w>", "es"), (",</w>", ","), ("nai", "naï"), ("ve</w>", "ve"), ("ca", "ca"), ("fe", "fé"),
        ("and</w>", "and"), ("z", "z"), ("er", "er"), ("o", "o"), ("-", "-"), ("wi", "wi"), ("d", "d"),
        ("th</w>", "th"), (".</w>", "."),
    ]  # fmt: skip
    # and moves a full stop after a closing quote before it: '“no”.' is read as 'no . "'
    result = xlm.embed(["He said “no”. Then left, didn't he?"])[0]
    assert spelled(result)[2:6] == [('"</w>', "“"), ("no</w>", "no"), (".</w>", "."), ('"</w>', "”")]
    assert [len(result.tokens_of(w)) for w in range(len(result.words))] == [1] * 6 + [2, 1, 1, 2, 1, 1, 1, 1]


def test_moved_punctuation_is_found_next_to_where_it_was():
    # Moses reads '"ones".' as 'ones . "': the full stop is matched again among the characters nobody covers.
    text = 'he said "ones". then'
    spans, guessed = place(["he", "said", '"', "ones", ".", '"', "then"], text)
    assert [text[s:e] for s, e in spans.tolist()] == ["he", "said", '"', "ones", ".", '"', "then"]
    assert guessed.size == 0


def test_unplaceable_pieces_take_the_gap():
    spans, guessed = place(["a", "", "", "b", "", "c"], "a xy b ? c")
    assert spans.tolist() == [[0, 1], [2, 4], [2, 4], [5, 6], [7, 8], [9, 10]]
    assert guessed.tolist() == [1, 2]  # two pieces share one gap; the lone "?" is placed by elimination
    spans, guessed = place(["a", "", "b"], "a b")
    assert spans.tolist() == [[0, 1], [2, 2], [2, 3]] and guessed.tolist() == [1]
    assert place([], "text")[0].shape == (0, 2)


def test_unknown_pieces_keep_their_characters_and_guesses_are_logged(xlm, caplog):
    # A piece mapped to <unk> is aligned by the string the tokenizer made of it: full-width letters, the "-" that is
    # no word-final piece in this vocabulary, each land on their own characters.
    result = xlm.embed(["Ｆｕｌｌｗｉｄｔｈ letters", "A -- B --- C"])
    unknown = np.flatnonzero(result[0].ids == xlm.tokenizer.unk_token_id)
    assert len(unknown) == 9 and [result[0].offsets[p].tolist() for p in unknown] == [[i, i + 1] for i in range(9)]
    assert [len(result[1].tokens_of(w)) for w in range(len(result[1].words))] == [1] * 8
    assert not result[1].empty_words
    # Moses rewrites "«—" into two pieces that match nothing: they share the two characters, and that is reported.
    with caplog.at_level(logging.WARNING, logger="ctxemb.encoding"):
        shared = xlm.embed(["a «— b"])[0]
    assert "2 piece(s) of XLMTokenizer could not be placed" in caplog.text and "texts[0]" in caplog.text
    assert [shared.offsets[p].tolist() for p in (2, 3)] == [[2, 4], [2, 4]]
    assert [len(shared.tokens_of(w)) for w in range(4)] == [1, 2, 2, 1]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ctxemb.encoding"):
        xlm.embed(["a «— b"], names=["text id '12'"])  # as a store names its texts
    assert "text id '12' piece" in caplog.text and "texts[0]" not in caplog.text


def test_a_span_inside_a_piece_is_the_cut_error(xlm):
    text = "they paid 1,000,000 dollars ."
    result = xlm.embed([text])[0]
    content = [p for p in np.flatnonzero(~result.special) if result.offsets[p, 1] - result.offsets[p, 0] > 1]
    s, e = (int(x) for x in result.offsets[content[-1]])
    with pytest.raises(ValueError, match="cuts through piece"):
        xlm.embed_spans([(text, (s, e - 1))])
    w = result.words.index("dollars")
    s, e = (int(x) for x in result.word_spans[w])
    np.testing.assert_allclose(xlm.embed_spans([(text, (s, e))])[:, 0], result.word_vectors("mean")[:, w], **TOL)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_arbitrary_unicode_ids_and_spans(xlm, text):
    enc = encode(xlm.tokenizer, [text])[0]
    assert enc.ids.tolist() == xlm.tokenizer(text)["input_ids"]
    assert_tiled(enc.offsets[~enc.special], text)
    for w, (s, e) in enumerate(enc.word_spans.tolist()):
        assert enc.words[w] == text[s:e]


def test_language_embeddings_need_a_known_language(tiny_dir):
    directory = tiny_dir("xlm", **LANGS)
    with pytest.raises(ValueError, match="language embeddings for en, fr; no lang was given"):
        Extractor.from_pretrained(directory, device="cpu")
    with pytest.raises(ValueError, match="lang='de' is not one of them"):
        Extractor.from_pretrained(directory, device="cpu", lang="de")
    en = Extractor.from_pretrained(directory, device="cpu", lang="en")
    fr = Extractor.from_pretrained(directory, device="cpu", lang="fr")
    got_en, got_fr = en.embed([TEXTS[0]])[0], fr.embed([TEXTS[0]])[0]
    assert not np.allclose(got_en.hidden[0], got_fr.hidden[0])  # the language embedding is added
    ids = torch.tensor([fr.tokenizer(TEXTS[0], lang="fr")["input_ids"]])
    assert got_fr.ids.tolist() == ids[0].tolist()
    with torch.no_grad():
        expected = en.model(input_ids=ids, langs=torch.ones_like(ids), output_hidden_states=True).hidden_states
    for k, layer in enumerate(expected):
        np.testing.assert_allclose(got_fr.hidden[k], layer[0].numpy(), **TOL, err_msg=f"layer {k}")


def test_checkpoint_without_language_embeddings_needs_no_lang(xlm):
    assert xlm.model.config.n_langs == 1
    assert xlm._lang_id() is None  # parity without langs is in test_families.py
