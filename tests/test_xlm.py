"""XLM: the Python-only tokenizer's word-by-word alignment, and language embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from ctxemb import Extractor
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


def fast_twin(slow) -> PreTrainedTokenizerFast:
    """A fast tokenizer over the same BPE vocabulary and merges (lowercase, whitespace + punctuation words)."""
    merges = [tuple(pair) for pair in slow.bpe_ranks]
    backend = Tokenizer(
        models.BPE(vocab=dict(slow.encoder), merges=merges, end_of_word_suffix="</w>", unk_token="<unk>")
    )
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")


def pieces(enc, w):
    """The piece strings of word ``w``."""
    return [enc.tokens[p] for p in enc.word_pieces[enc.word_ptr[w] : enc.word_ptr[w + 1]]]


def test_slow_tokenizer_is_aligned_word_by_word(xlm):
    assert not xlm.tokenizer.is_fast
    fast = fast_twin(xlm.tokenizer)
    for text, slow_enc, fast_enc in zip(TEXTS, encode(xlm.tokenizer, TEXTS), encode(fast, TEXTS)):
        assert slow_enc.words == fast_enc.words
        for w in range(len(slow_enc.words)):
            slow_pieces = [
                slow_enc.tokens[p] for p in slow_enc.word_pieces[slow_enc.word_ptr[w] : slow_enc.word_ptr[w + 1]]
            ]
            fast_pieces = [
                fast_enc.tokens[p] for p in fast_enc.word_pieces[fast_enc.word_ptr[w] : fast_enc.word_ptr[w + 1]]
            ]
            assert slow_pieces == fast_pieces, (text, slow_enc.words[w])
        # specials come from the tokenizer itself: <s> ... </s>
        assert slow_enc.tokens[0] == "<s>" and slow_enc.tokens[-1] == "</s>"
        assert slow_enc.special.tolist() == [True] + [False] * (len(slow_enc.ids) - 2) + [True]


def test_piece_offsets_are_word_spans_so_spans_cover_whole_words(xlm):
    text = "the riverbank flooded ."
    result = xlm.embed([text])[0]
    w = result.words.index("riverbank")
    s, e = (int(x) for x in result.word_spans[w])
    np.testing.assert_allclose(xlm.embed_spans([(text, (s, e))])[0], result.word_vectors("mean")[:, w], **TOL)
    if len(result.pieces_of(w)) > 1:
        with pytest.raises(ValueError, match="cuts through piece"):
            xlm.embed_spans([(text, (s, s + 5))])


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
    ids = torch.from_numpy(encode(en.tokenizer, [TEXTS[0]])[0].ids)[None]
    with torch.no_grad():
        expected = en.model(input_ids=ids, langs=torch.ones_like(ids), output_hidden_states=True).hidden_states
    for k, layer in enumerate(expected):
        np.testing.assert_allclose(got_fr.hidden[k], layer[0].numpy(), **TOL, err_msg=f"layer {k}")


def test_checkpoint_without_language_embeddings_needs_no_lang(xlm):
    assert xlm.model.config.n_langs == 1
    assert xlm._lang_id() is None  # parity without langs is in test_families.py
