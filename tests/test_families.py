"""The extraction contracts for every family's tiny checkpoint (DESIGN.md §1, issue 4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctxemb import Extractor
from ctxemb.families import FAMILIES, GENERIC, family_for
from ctxemb.testing import SUPPORTED_FAMILIES

TOL = {"rtol": 1e-4, "atol": 1e-5}
SENTENCES = [
    "The bank of the river was muddy after the storm.",
    "She deposited 1,000 dollars at the bank on Friday!",
    "Héllo, wörld: state-of-the-art café prices (3.14€) 😀.",
    "A",
]
#: Texts that tokenizers rewrite: contractions, hyphenated compounds, numbers with separators, abbreviations with
#: dots, curly and straight quotes, URLs, accents, tabs and newlines, emoji, zero-width characters.
TRICKY = [
    "Don't worry, it's fine; isn't it? They'll say \"yes\" and we'd agree.",
    "A state-of-the-art, well-known co-operative in the U.S.A. and the U.K., e.g. Dr. Smith's.",
    "Prices rose 1,000,000 to 3.14 (or 12.5%) on 2024-01-02 at 10:30; -5°C, €5, ©2024.",
    "“Curly” quotes, ‘single’ ones — and «guillemets» with ' straight ' \"ones\".",
    "See https://example.com/a?b=c&d=e#f or mail x.y@example.org now.",
    "Crème brûlée, naïve señor, Ünïcödé café, İstanbul, Straße.",
    "tabs\tand\nnewlines\r\nand  double  spaces\u00a0nbsp",
    "Emoji 😀 👩🏽\u200d🔬 🇫🇷 ❤️ done.",
    "zero\u200bwidth\u200c non\u200djoiner \ufeffbom and soft\u00adhyphen",
]


@pytest.fixture(scope="module", params=SUPPORTED_FAMILIES)
def fam(request, tiny_dir):
    """An extractor over the tiny checkpoint of each family."""
    return Extractor.from_pretrained(tiny_dir(request.param), device="cpu")


def reference(ext, text, **extra):
    """Hugging Face's own hidden states for ``tokenizer(text)`` (no ctxemb code involved): ``(tokens, dim)`` each."""
    lang = {"lang": ext.lang} if ext.lang is not None else {}
    encoding = ext.tokenizer(text, return_tensors="pt", **lang)
    inputs = {"input_ids": encoding["input_ids"]}
    if "token_type_ids" in ext.tokenizer.model_input_names:
        inputs["token_type_ids"] = encoding["token_type_ids"]
    inputs.update(dict(ext.family.model_kwargs), **extra)
    if ext._lang_id() is not None:
        inputs["langs"] = torch.full_like(inputs["input_ids"], ext._lang_id())
    with torch.no_grad():
        states = ext.model(**inputs, output_hidden_states=True).hidden_states
    return [s[0].numpy() for s in states]


def texts_of_lengths(ext, lengths):
    """Texts of about the given piece counts: runs of corpus words."""
    from ctxemb.testing import corpus_path

    words = corpus_path().read_text(encoding="utf-8").split()
    out = []
    for i, n in enumerate(lengths):
        start = (i * 37) % (len(words) - n)
        out.append(" ".join(words[start : start + max(1, (n * 2) // 3)]))
    return out


def test_ids_are_the_tokenizers_own(fam):
    texts = SENTENCES + TRICKY
    for text, result in zip(texts, fam.embed(texts)):
        assert result.ids.tolist() == fam.tokenizer(text)["input_ids"], text
        assert len(result.tokens) == len(result.ids) == result.hidden.shape[1]


def test_parity_every_layer(fam):
    for text in SENTENCES + TRICKY:
        result = fam.embed([text])[0]
        expected = reference(fam, text)
        assert result.hidden.shape[0] == len(expected) == fam.num_layers + 1
        for k, layer in enumerate(expected):
            np.testing.assert_allclose(result.hidden[k], layer, **TOL, err_msg=f"{fam.family.name} layer {k}")


@pytest.mark.parametrize("side", ["left", "right"])
def test_batch_invariance_both_padding_sides(fam, side, monkeypatch):
    family = dataclasses.replace(fam.family, padding_side=side)
    monkeypatch.setattr(Extractor, "family", property(lambda self: family))
    texts = texts_of_lengths(fam, [1, 3, 300, 7, 120, 2, 45, 250, 16, 80])
    alone = [fam.embed([t])[0] for t in texts]
    fam.max_tokens, fam.max_batch = 100_000, 64
    try:
        together = fam.embed(texts)
    finally:
        fam.max_tokens, fam.max_batch = 4096, 32
    for i, (a, b) in enumerate(zip(alone, together)):
        np.testing.assert_allclose(b.hidden, a.hidden, **TOL, err_msg=f"text {i}, padding {side}")
        if fam.has_summary_token:
            np.testing.assert_array_equal(b.sentence_vector("cls"), b.hidden[:, b.cls_index])
            np.testing.assert_allclose(b.sentence_vector("cls"), a.sentence_vector("cls"), **TOL)
        np.testing.assert_allclose(b.sentence_vector("last"), a.sentence_vector("last"), **TOL)


def test_words_specials_and_pools(fam):
    text = SENTENCES[1]
    result = fam.embed([text])[0]
    assert result.words == "She deposited 1 , 000 dollars at the bank on Friday !".split()
    assert result.word_vectors("mean").shape[1] == len(result.words)
    assert not result.special[result.word_tokens].any()
    assert not np.isnan(result.word_vectors("mean")).any()
    content = result.hidden[:, ~result.special]
    np.testing.assert_allclose(result.sentence_vector("mean"), content.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.sentence_vector("max"), content.max(axis=1))
    np.testing.assert_array_equal(result.sentence_vector("last"), content[:, -1])
    assert result.special.sum() == len(fam.tokenizer("")["input_ids"])
    if not fam.has_summary_token:  # GPT-style; the decoder LLMs unless their tokenizer appends an EOS
        assert fam.family.cls_position in (None, "trailing")
        with pytest.raises(ValueError, match=r"no CLS-like summary token.*use 'last'"):
            result.sentence_vector("cls")
    else:
        expected = {"first": 0, "last": len(result.tokens) - 1}[fam.family.cls_position]
        assert result.cls_index == expected and result.special[expected]
    # character spans address the same occurrence as the word
    w = result.words.index("bank")
    s, e = result.word_spans[w]
    np.testing.assert_allclose(
        fam.embed_spans([(text, (int(s), int(e)))], pool="mean")[:, 0], result.word_vectors("mean")[:, w], **TOL
    )


def test_pre_split_words(fam):
    words = ["The", "river", "bank", "flooded", "."]
    result = fam.embed([words])[0]
    assert result.words == words and result.word_vectors("first").shape[1] == 5
    assert not np.isnan(result.word_vectors("first")).any()
    raw = fam.embed([" ".join(words)])[0]
    if raw.tokens == result.tokens:  # byte-level BPE reads the first word with a prefix space when pre-split
        np.testing.assert_allclose(result.word_vectors("mean"), raw.word_vectors("mean"), **TOL)


@pytest.mark.parametrize(("layers", "blocks_run"), [([1], 1), ([0], 0), ([0, 2], 2), ("all", None)])
def test_layers_above_the_highest_are_not_computed(fam, layers, blocks_run):
    blocks = fam.family.blocks(fam.model)
    ran = []
    handles = [m.register_forward_hook(lambda *_: ran.append(1)) for m in blocks.exits]
    try:
        result = fam.embed([SENTENCES[0]], layers=layers)[0]
    finally:
        for h in handles:
            h.remove()
    assert len(ran) == (fam.num_layers if blocks_run is None else blocks_run)
    full = reference(fam, SENTENCES[0])
    for i, k in enumerate(result.layers):
        np.testing.assert_allclose(result.hidden[i], full[k], **TOL)


def test_long_texts(fam):
    text = " ".join(texts_of_lengths(fam, [400]))
    result = fam.embed([text], layers=[0, 3])[0]
    assert not np.isnan(result.word_vectors("mean")).any()
    if fam.window is None:  # relative positions only: one pass over the whole text
        assert fam.family.max_positions(fam.model.config) is None
        np.testing.assert_allclose(result.hidden[1], reference(fam, text)[3], **TOL)
        return
    assert len(result.tokens) > 2 * fam.window
    # the first half of the first window equals one truncated pass
    from ctxemb.encoding import encode

    enc = encode(fam.tokenizer, [text])[0]
    lead, trail = enc.content_range()[0], len(enc.ids) - enc.content_range()[1]
    size = fam.window - lead - trail
    ids = np.concatenate([enc.ids[:lead], enc.ids[lead : lead + size], enc.ids[len(enc.ids) - trail :]])
    inputs = {"input_ids": torch.from_numpy(ids)[None], **dict(fam.family.model_kwargs)}
    with torch.no_grad():
        states = fam.model(**inputs, output_hidden_states=True).hidden_states
    half = fam.window // 2
    np.testing.assert_allclose(result.hidden[1, :half], states[3][0, :half].numpy(), **TOL)
    assert result.special.sum() == enc.special.sum()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30))
def test_arbitrary_unicode(fam, text):
    result = fam.embed([text], layers=[0])[0]
    assert result.hidden.shape[1] == len(result.tokens)
    for w, (s, e) in enumerate(result.word_spans):
        assert result.text[s:e] == result.words[w]
    assert ((result.offsets >= 0) & (result.offsets <= len(text))).all()


def test_a_word_before_punctuation_is_a_span_of_its_own(fam):
    # the released tokenizers never merge a word with the punctuation after it (SentencePiece splits where the script
    # changes, byte-level BPE and BERT split punctuation off): the tiny checkpoints must not either
    texts = ["We watched the crane.", "It was spring, again!", "A (really) big bank?"]
    targets = [(t, (t.index(w), t.index(w) + len(w))) for t, w in zip(texts, ["crane", "spring", "bank"])]
    vectors = fam.embed_spans(targets, layers=[0])
    assert vectors.shape[:2] == (1, 3) and np.isfinite(vectors).all()


def test_every_model_type_has_one_family():
    seen = [t for f in FAMILIES for t in f.model_types]
    assert len(seen) == len(set(seen))
    assert family_for(type("C", (), {"model_type": "nothing-known"})()) is GENERIC


#: Texts whose words are separated by single spaces, with punctuation and symbols attached to words.
ATTACHED = [
    "Hello, world! It is -5°C in the U.S.A. today (really).",
    "A state-of-the-art café charges €5, ©2024 prices: 1,000,000 in all.",
]
PLAIN = ["the bank of the river was muddy after the storm", "she paid 1000 dollars at the bank on friday"]
#: Byte-level BPE keeps the space before a word inside its piece (Ġword): a word's pieces depend on whether a space
#: precedes it, so only texts whose words are already separated by single spaces can be rebuilt from their words.
SPACE_IN_PIECE = {f.name for f in FAMILIES if f.subwords == "byte_bpe"}
#: SentencePiece-style byte-fallback BPE reads a whole text as one string: its tokenizer has no words of its own.
NO_WORDS = {f.name for f in FAMILIES if f.subwords == "byte_fallback_bpe"}


@pytest.mark.parametrize("name", sorted(set(SUPPORTED_FAMILIES) - NO_WORDS))
def test_tokenizer_split_words_fed_back_give_the_same_pieces(name, tiny_dir):
    ext = Extractor.from_pretrained(tiny_dir(name), device="cpu", split="tokenizer")
    texts = PLAIN + ([] if name in SPACE_IN_PIECE else ATTACHED)
    if name in SPACE_IN_PIECE and len(set(ext.tokenizer("1000", add_special_tokens=False).word_ids())) > 1:
        texts = [t.replace("1000", "many") for t in texts]  # Qwen's pre-tokenizer makes every digit a word
    for text, result in zip(texts, ext.embed(texts)):
        if name in SPACE_IN_PIECE:
            assert " ".join(result.words) == text
        back = ext.embed([result.words])[0]
        assert back.tokens == result.tokens and back.words == result.words, text
        assert not result.empty_words
        np.testing.assert_allclose(back.word_vectors("mean"), result.word_vectors("mean"), **TOL)


@pytest.mark.parametrize("name", sorted(NO_WORDS))
def test_tokenizer_split_refused_where_the_tokenizer_has_no_words(name, tiny_dir):
    with pytest.raises(ValueError, match=r"split='tokenizer': \w+ does not split text into words"):
        Extractor.from_pretrained(tiny_dir(name), device="cpu", split="tokenizer")
    words = Extractor.from_pretrained(tiny_dir(name), device="cpu").embed(["the bank, of it"])[0].words
    assert words == ["the", "bank", ",", "of", "it"]


def test_tokenizer_split_keeps_what_bert_keeps_together(minilm):
    text = "It was -5°C, €5 and ©2024."
    tokenizer_split = Extractor(minilm.model, minilm.tokenizer, split="tokenizer")
    result = tokenizer_split.embed([text])[0]
    assert result.words == ["It", "was", "-", "5°C", ",", "€5", "and", "©2024", "."]
    assert [result.tokens[p] for p in result.tokens_of(3)] == ["5", "##°", "##c"]
    back = tokenizer_split.embed([result.words])[0]
    assert back.tokens == result.tokens
    # the default split makes symbols words of their own, which BERT does not: fed back, they become other pieces
    punct = minilm.embed([text])[0]
    assert punct.words[3:6] == ["5", "°", "C"] and punct.tokens == result.tokens
    assert minilm.embed([punct.words])[0].tokens != result.tokens
