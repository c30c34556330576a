"""Decoder LLMs (issue 19): the first token, and the sentence pools of decoder embedders.

The first token: a BOS with a massive activation never enters words, pools or analyses.

Real decoder LLMs put an activation orders of magnitude larger than any other at the first position, the "attention
sink" (Xiao et al. 2023; Sun et al. 2024). A tiny random Llama does not, so one is planted here: the BOS embedding row
is scaled by 1e4 (a stress test: in the real models the activation appears after an early block, not in the embedding),
and RMS-normalised blocks carry the huge residual through every block (the last layer comes after the final norm, which
scales every position alike). Every vector ctxemb hands to an analysis must then stay far below the BOS's norm at the
layers before the final norm.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from ctxemb import Extractor
from ctxemb.analysis import LayerGeometry

TEXTS = [
    "The bank of the river was muddy after the storm.",
    "She deposited the money at the bank on Friday.",
    "A heron stood still in the shallow water.",
    "They walked along the river bank at dusk.",
] * 6


@pytest.fixture(scope="module")
def sink(tiny_dir):
    """A tiny Llama whose BOS (position 0 of every text) carries a massive activation at every layer."""
    ext = Extractor.from_pretrained(tiny_dir("llama"), device="cpu")
    with torch.no_grad():
        ext.model.get_input_embeddings().weight[ext.tokenizer.bos_token_id] *= 1e4
    return ext


#: The layers before the final norm (the tiny models have 3 blocks): 0..L-1.
LAYERS = [0, 1, 2]


def _bos_norm(ext) -> np.ndarray:
    """``(layers,)`` the smallest BOS norm over the texts, at each of ``LAYERS``."""
    results = ext.embed(TEXTS[:4], layers=LAYERS)
    assert all(r.tokens[0] == ext.tokenizer.bos_token and r.special[0] for r in results)
    return np.min([np.linalg.norm(r.hidden[:, 0], axis=-1) for r in results], axis=0)


def test_the_planted_sink_is_massive_at_every_layer(sink):
    results = sink.embed(TEXTS[:4], layers=LAYERS)
    for r in results:
        norms = np.linalg.norm(r.hidden, axis=-1)  # (layers, tokens)
        assert (norms[:, 0] > 100 * norms[:, 1:].max(axis=1)).all()


def test_words_and_pools_never_hold_the_bos(sink):
    bos = _bos_norm(sink)
    for r in sink.embed(TEXTS[:4], layers=LAYERS):
        assert 0 not in set(r.word_tokens.tolist())
        for pool in ("mean", "max", "first", "last"):
            assert (np.linalg.norm(r.word_vectors(pool), axis=-1) < bos[:, None] / 100).all(), pool
        for pool in ("mean", "max", "last"):
            assert (np.linalg.norm(r.sentence_vector(pool), axis=-1) < bos / 100).all(), pool
        with pytest.raises(ValueError, match="last"):
            r.sentence_vector("cls")


@pytest.mark.parametrize("units", ["words", "tokens"])
def test_layer_analyses_leave_the_bos_out_by_default(sink, units):
    bos = _bos_norm(sink)
    geometry = LayerGeometry(units=units, layers=LAYERS, samples=12, cka_samples=60, min_contexts=3, max_occurrences=6)
    sample = geometry.sample(sink, TEXTS)
    # anisotropy and rogue dimensions (random sample, means, deviations), CKA and self-similarity units
    for name in ("random", "cka", "occurrences"):
        vectors = getattr(sample, name)
        assert vectors.size and (np.linalg.norm(vectors, axis=-1) < bos[:, None] / 100).all(), name
    assert (sample.norms < bos[:, None] / 100).all()
    assert (np.abs(sample.mean) < bos[:, None] / 100).all()
    if units == "tokens":  # asked for, the specials come in, and the sink dominates every statistic
        with_specials = LayerGeometry(
            units=units, layers=LAYERS, specials="include", samples=12, cka_samples=60, min_contexts=3
        )
        assert (with_specials.sample(sink, TEXTS).norms.max(axis=1) > bos / 2).all()


TOL = {"rtol": 1e-4, "atol": 1e-5}
LENGTHS = ["A heron.", "The bank of the river was muddy after the long storm of last night, and more rain came."]


@pytest.mark.parametrize("family", ["llama", "qwen2"])
@pytest.mark.parametrize("eos", [False, True], ids=["no-eos", "trailing-eos"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_sentence_pools_under_padding_with_and_without_a_trailing_eos(tiny_dir, family, eos, side, monkeypatch):
    """``last`` is the text's last piece and ``cls`` the EOS that decoder embedders append (e5-mistral style)."""
    path = tiny_dir(family)
    base = Extractor.from_pretrained(path, device="cpu")
    bos = base.tokenizer("a")["input_ids"][0] == base.tokenizer.bos_token_id  # llama: <s> text; qwen2: text
    # transformers 5 rebuilds the post-processor from the two flags given (a BOS not asked for is dropped), so the BOS
    # is asked for again where the tokenizer adds one: <s> text </s>, as e5-mistral's tokenizer gives
    asked = {"add_eos_token": True, "add_bos_token": bos} if eos else {}
    tokenizer = AutoTokenizer.from_pretrained(path, **asked)
    assert (tokenizer("a")["input_ids"][0] == tokenizer.bos_token_id) == bos
    padded = dataclasses.replace(base.family, padding_side=side)
    monkeypatch.setattr(Extractor, "family", property(lambda self: padded))
    batch = Extractor(base.model, tokenizer).embed(LENGTHS, layers="all")
    for text, r in zip(LENGTHS, batch):
        encoding = tokenizer(text, return_tensors="pt")
        assert r.ids.tolist() == encoding["input_ids"][0].tolist()
        assert (r.tokens[-1] == tokenizer.eos_token) == eos
        with torch.no_grad():
            states = base.model(**encoding, output_hidden_states=True).hidden_states
        reference = torch.stack(states)[:, 0].numpy()  # (layers, tokens, dim), the text alone, unpadded
        content = np.flatnonzero(~r.special)
        np.testing.assert_allclose(r.sentence_vector("last"), reference[:, content[-1]], **TOL)
        np.testing.assert_allclose(r.sentence_vector("mean"), reference[:, content].mean(axis=1), **TOL)
        assert (r.tokens[0] == tokenizer.bos_token and r.special[0]) == bos
        if eos:  # the appended EOS is the summary token (e5-mistral style: <s> text </s>, or text </s>)
            assert r.cls_index == len(r.tokens) - 1
            np.testing.assert_allclose(r.sentence_vector("cls"), reference[:, -1], **TOL)
        else:
            with pytest.raises(ValueError, match="use 'last'"):
                r.sentence_vector("cls")


def test_opt_with_a_projected_last_layer_reads_it_alone(tiny_dir):
    """opt-350m's shape: post-norm blocks and a last layer projected to the (narrower) word-embedding width."""
    path = tiny_dir("opt", word_embed_proj_dim=16, do_layer_norm_before=False)
    with pytest.raises(ValueError, match=r"layer 3 of this opt model is 16 wide .* other layers 32: ask for layer 3"):
        Extractor.from_pretrained(path, device="cpu")  # the default layers='all' mixes both widths
    ext = Extractor.from_pretrained(path, device="cpu", layers=[-1])
    encoding = ext.tokenizer(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        states = ext.model(**encoding, output_hidden_states=True).hidden_states
    last = ext.embed(TEXTS[:1])[0]
    assert last.hidden.shape[-1] == 16
    np.testing.assert_allclose(last.hidden[0], states[-1][0].numpy(), **TOL)
    below = ext.embed(TEXTS[:1], layers=slice(0, 3))[0]
    assert below.hidden.shape[-1] == 32
    np.testing.assert_allclose(below.hidden[2], states[2][0].numpy(), **TOL)


def test_family_less_byte_fallback_vocabulary_keeps_punctuation_apart():
    from ctxemb.testing import corpus_path
    from ctxemb.tokenization import train_tokenizer

    tokenizer = train_tokenizer(corpus_path().read_text().splitlines(), "byte_fallback_bpe", 1000)
    for piece in tokenizer.get_vocab():
        letters = any(c.isalpha() for c in piece)
        assert not (letters and any(c in ".,;:!?()" for c in piece)), piece
    assert "<0xE2>" in tokenizer.get_vocab()  # the byte pieces
