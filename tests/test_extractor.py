"""The extraction contracts (DESIGN.md §1), run over MiniLM and a tiny BERT built offline."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

TOL = {"rtol": 1e-4, "atol": 1e-5}
SENTENCES = [
    "The bank of the river was muddy after the storm.",
    "She deposited 1,000 dollars at the bank on Friday!",
    "Héllo, wörld: state-of-the-art café prices (3.14€) 😀.",
    "A",
]


def reference(extractor, text):
    """Hugging Face's own hidden states for the text alone: a tuple of ``(tokens, dim)`` arrays."""
    enc = extractor.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        states = extractor.model(**enc, output_hidden_states=True).hidden_states
    return [s[0].numpy() for s in states]


def texts_of_lengths(extractor, lines, lengths):
    """Texts whose piece counts (specials included) are the given lengths, cut from the corpus."""
    pieces = extractor.tokenizer(" ".join(lines), add_special_tokens=False)["input_ids"]
    out = []
    for i, n in enumerate(lengths):
        start = (i * 37) % (len(pieces) - n)
        out.append(extractor.tokenizer.decode(pieces[start : start + max(n - 2, 1)]))
    return out


def test_parity_every_layer(extractor):
    results = extractor.embed(SENTENCES)
    for text, result in zip(SENTENCES, results):
        expected = reference(extractor, text)
        assert result.layers == tuple(range(extractor.num_layers + 1))
        assert result.hidden.dtype == np.float32
        assert result.hidden.shape == (len(expected), expected[0].shape[0], expected[0].shape[1])
        for k, layer in enumerate(expected):
            np.testing.assert_allclose(result.hidden[k], layer, **TOL, err_msg=f"layer {k}")


def test_batch_invariance(extractor, corpus_lines):
    lengths = [1, 3, 300, 7, 120, 2, 45, 250, 16, 80, 5, 200, 31, 9, 160, 64]
    texts = texts_of_lengths(extractor, corpus_lines, lengths)
    alone = [extractor.embed([t])[0].hidden for t in texts]
    for max_tokens, max_batch in [(4096, 32), (512, 3), (100_000, 64)]:
        extractor.max_tokens, extractor.max_batch = max_tokens, max_batch
        try:
            together = extractor.embed(texts)
        finally:
            extractor.max_tokens, extractor.max_batch = 4096, 32
        for i, (a, b) in enumerate(zip(alone, together)):
            assert a.shape == b.hidden.shape
            np.testing.assert_allclose(b.hidden, a, **TOL, err_msg=f"text {i} ({lengths[i]} pieces)")


def test_results_in_input_order(extractor):
    texts = ["one two three four five six", "x", "a b c"]
    results = extractor.embed(texts)
    assert [r.text for r in results] == texts


def test_results_of_one_batch_share_no_rows_and_pickle(extractor):
    # Results are views of their batch's array: writing into one must not touch another, and a result pickles
    # (tokens and words included, made lazily) into an equal, self-contained copy.
    import pickle

    texts = ["The bank of the river.", "She paid the bank on Friday!", "A"]
    first, second, third = extractor.embed(texts)
    before = second.hidden.copy()
    first.hidden[...] = np.nan
    third.hidden[...] = np.inf
    np.testing.assert_array_equal(second.hidden, before)
    back = pickle.loads(pickle.dumps(second))
    assert back.tokens == second.tokens and back.words == second.words == [
        "She",
        "paid",
        "the",
        "bank",
        "on",
        "Friday",
        "!",
    ]
    np.testing.assert_array_equal(back.hidden, before)
    np.testing.assert_array_equal(back.word_vectors("mean"), second.word_vectors("mean"))


def count_blocks(extractor):
    blocks = extractor.model.encoder.layer
    ran = []
    handles = [b.register_forward_hook(lambda *_: ran.append(1)) for b in blocks]
    return ran, handles


@pytest.mark.parametrize(("layers", "blocks_run"), [([1], 1), ([0], 0), ([0, 2], 2), ("all", None)])
def test_layers_above_the_highest_are_not_computed(extractor, layers, blocks_run):
    ran, handles = count_blocks(extractor)
    try:
        result = extractor.embed([SENTENCES[0]], layers=layers)[0]
    finally:
        for h in handles:
            h.remove()
    assert len(ran) == (extractor.num_layers if blocks_run is None else blocks_run)
    full = reference(extractor, SENTENCES[0])
    for i, k in enumerate(result.layers):
        np.testing.assert_allclose(result.hidden[i], full[k], **TOL)


def test_words_never_contain_specials(extractor):
    result = extractor.embed([SENTENCES[2]])[0]
    expected = "Héllo , wörld : state - of - the - art café prices ( 3 . 14 € ) 😀 ."
    assert result.words == expected.split()
    assert not result.special[result.word_tokens].any()
    assert result.word_vectors("mean").shape == (extractor.num_layers + 1, len(result.words), result.hidden.shape[2])
    assert result.word_vectors("first_last").shape[2] == 2 * result.hidden.shape[2]
    for w, (s, e) in enumerate(result.word_spans):
        assert result.text[s:e] == result.words[w]
        for p in result.tokens_of(w):
            ps, pe = result.offsets[p]
            assert ps < e and pe > s  # every piece of a word overlaps it


def test_sentence_pools_exclude_specials_and_read_cls(extractor):
    result = extractor.embed([SENTENCES[0]])[0]
    content = result.hidden[:, ~result.special]
    np.testing.assert_allclose(result.sentence_vector("mean"), content.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.sentence_vector("max"), content.max(axis=1))
    np.testing.assert_array_equal(result.sentence_vector("last"), content[:, -1])
    assert result.tokens[result.cls_index] == extractor.tokenizer.cls_token
    # under right padding in a batch, cls is still the text's own first token
    batch = extractor.embed(["short", SENTENCES[0], "a much longer text " * 5])
    expected = reference(extractor, SENTENCES[0])
    np.testing.assert_allclose(batch[1].sentence_vector("cls"), np.stack([h[0] for h in expected]), **TOL)


def test_pre_split_words(extractor):
    words = ["The", "river", "bank", "flooded", "."]
    result = extractor.embed([words])[0]
    assert result.words == words
    assert result.text == "The river bank flooded ."
    assert [result.text[s:e] for s, e in result.word_spans] == words
    raw = extractor.embed(["The river bank flooded ."])[0]
    np.testing.assert_allclose(result.word_vectors("mean"), raw.word_vectors("mean"), **TOL)


def test_word_without_piece_is_reported(extractor, caplog):
    with caplog.at_level(logging.WARNING, logger="ctxemb"):
        result = extractor.embed([["river", "\u200b", "bank"]])[0]
    assert result.empty_words == (1,)
    vectors = result.word_vectors("mean")
    assert np.isnan(vectors[:, 1]).all() and not np.isnan(vectors[:, [0, 2]]).any()
    assert "texts[0] word 1" in caplog.text


def test_spans_equal_word_vectors(extractor):
    text = SENTENCES[1]
    result = extractor.embed([text])[0]
    w = result.words.index("bank")
    s, e = result.word_spans[w]
    for pool in ("first", "last", "mean", "max", "first_last"):
        got = extractor.embed_spans([(text, (int(s), int(e))), (SENTENCES[0], (4, 8))], pool=pool)
        assert got.shape[:2] == (extractor.num_layers + 1, 2)
        np.testing.assert_allclose(got[:, 0], result.word_vectors(pool)[:, w], **TOL)


def test_span_errors_name_every_bad_target(extractor):
    text = SENTENCES[2]  # "Héllo, wörld: ..."
    cut = (1, 3) if len(extractor.embed([text])[0].tokens_of(0)) == 1 else None
    targets = [(text, (0, 5)), (text, (5, 5)), (text, (6, 7)), (text, (0, 999))]
    with pytest.raises(ValueError) as info:
        extractor.embed_spans(targets)
    assert "targets[1]" in str(info.value) and "(5, 5)" in str(info.value)
    with pytest.raises(ValueError, match=r"targets\[0\].*covers no piece"):
        extractor.embed_spans([(text, (6, 7))])
    if cut:
        with pytest.raises(ValueError, match=r"targets\[0\].*cuts through piece"):
            extractor.embed_spans([(text, cut)])


def test_long_text_is_windowed(minilm, corpus_lines):
    words = " ".join(corpus_lines).split()
    text = " ".join((words * 3)[:2000])
    result = minilm.embed([text], layers=[0, 3, 6])[0]
    full = minilm.tokenizer(text)["input_ids"]
    assert len(result.tokens) == len(full) > 2 * minilm.window
    assert not np.isnan(result.word_vectors("mean")).any()
    truncated = minilm.tokenizer(text, truncation=True, max_length=minilm.window, return_tensors="pt")
    with torch.no_grad():
        states = minilm.model(**truncated, output_hidden_states=True).hidden_states
    half = minilm.window // 2
    for i, k in enumerate(result.layers):
        np.testing.assert_allclose(result.hidden[i, :half], states[k][0, :half].numpy(), **TOL)
    assert result.tokens[0] == "[CLS]" and result.tokens[-1] == "[SEP]"
    assert result.special.sum() == 2


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        (["fine", None], TypeError, r"texts\[1\] is None"),
        (["fine", 3], TypeError, r"texts\[1\] is a int"),
        ([["ok", 5]], TypeError, r"texts\[0\]\[1\]"),
        ("a single string", TypeError, "list of texts"),
    ],
)
def test_bad_texts(minilm, texts, error, message):
    with pytest.raises(error, match=message):
        minilm.embed(texts)


def test_empty_texts_give_documented_empty_results(minilm):
    empty, blank, full = minilm.embed(["", "  \t ", "word"])
    for r in (empty, blank):
        assert r.words == [] and r.word_vectors("first").shape == (7, 0, 384)
        assert r.tokens == ["[CLS]", "[SEP]"]
        assert np.isnan(r.sentence_vector("mean")).all()
        assert not np.isnan(r.sentence_vector("cls")).any()
    assert full.words == ["word"]


def test_bad_layer_and_pool(minilm):
    with pytest.raises(ValueError, match=r"layer 7 is outside \[-7, 6\]"):
        minilm.embed(["text"], layers=[7])
    result = minilm.embed(["text"])[0]
    with pytest.raises(ValueError, match="unknown word pool 'avg'"):
        result.word_vectors("avg")
    with pytest.raises(ValueError, match="unknown sentence pool 'first'"):
        result.sentence_vector("first")
    with pytest.raises(ValueError, match="unknown word pool"):
        minilm.embed_spans([("text", (0, 4))], pool="avg")


def test_minilm_alignment_exact(minilm):
    result = minilm.embed(["Unbelievably, the naïve café-owner paid €3.50 😀 a\u200bb!"])[0]
    pieces = {result.words[w]: [result.tokens[p] for p in result.tokens_of(w)] for w in range(len(result.words))}
    assert result.words == "Unbelievably , the naïve café - owner paid € 3 . 50 😀 a b !".split()
    assert pieces["Unbelievably"] == ["un", "##bel", "##ie", "##va", "##bly"]
    assert pieces["naïve"] == ["naive"] and pieces["café"] == ["cafe"]  # accents stripped, offsets kept
    assert pieces["€"] == ["€"] and pieces["3"] == ["##3"]  # "€3" is one pre-token split in two words
    assert pieces["😀"] == ["[UNK]"]
    # BERT drops the zero-width space and reads "ab" as one piece, shared by the two words around it
    assert pieces["a"] == pieces["b"] == ["ab"]


def test_out_of_memory_halves_the_budget_and_retries(tiny_bert, monkeypatch, caplog):
    from ctxemb import Extractor

    texts = [f"text number {i} " * (1 + i % 5) for i in range(20)]
    expected = tiny_bert.embed(texts)
    real = Extractor._forward
    sizes = []

    def fragile(self, sequences, layers, blocks):
        padded = len(sequences) * max(len(ids) for ids, _ in sequences)
        if padded > 64:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        sizes.append(padded)
        return real(self, sequences, layers, blocks)

    monkeypatch.setattr(Extractor, "_forward", fragile)
    with caplog.at_level(logging.WARNING, logger="ctxemb"):
        got = tiny_bert.embed(texts)
    assert "token budget halved" in caplog.text
    assert max(sizes) <= 64
    for a, b in zip(expected, got):
        np.testing.assert_allclose(b.hidden, a.hidden, **TOL)


def test_half_precision_comes_back_as_float32(tiny_bert_dir):
    from ctxemb import Extractor

    full = Extractor.from_pretrained(tiny_bert_dir, device="cpu").embed([SENTENCES[0]])[0]
    half = Extractor.from_pretrained(tiny_bert_dir, device="cpu", dtype="bf16").embed([SENTENCES[0]])[0]
    assert half.hidden.dtype == np.float32
    np.testing.assert_allclose(half.hidden, full.hidden, atol=0.1)
    assert not np.array_equal(half.hidden, full.hidden)
