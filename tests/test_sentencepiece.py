"""Checkpoints whose tokenizer exists only as a SentencePiece model, as DeBERTa-v3 ships on the hub.

microsoft/deberta-v3-* hold ``spm.model`` and a ``tokenizer_config.json`` of ``{"do_lower_case": false,
"vocab_type": "spm"}`` and no ``tokenizer.json``: transformers converts the SentencePiece model when it loads,
which needs the ``sentencepiece`` and ``protobuf`` packages that ctxemb installs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sentencepiece as spm
import torch
from test_families import SENTENCES, TRICKY
from transformers import DebertaV2Config, DebertaV2Model

from ctxemb import Extractor
from ctxemb.testing import corpus_path

TOL = {"rtol": 1e-4, "atol": 1e-5}
#: transformers' conversion of a SentencePiece model leaves out its nmt_nfkc normaliser, so for these characters
#: ``tokenizer(text)`` (what ctxemb runs, as Hugging Face does) differs from ``sentencepiece`` itself: no-break
#: space and zero-width characters become [UNK] instead of a space.
NOT_CONVERTED = "\u00a0\u200b\u200c\u200d\ufeff\u00ad"


@pytest.fixture(scope="module")
def deberta_v3_dir(tmp_path_factory):
    """A tiny DeBERTa-v3-style checkpoint: a unigram ``spm.model`` with [PAD] [CLS] [SEP] [UNK] as ids 0-3."""
    directory = tmp_path_factory.mktemp("deberta-v3")
    spm.SentencePieceTrainer.train(
        input=str(corpus_path()),
        model_prefix=str(directory / "spm"),
        vocab_size=1000,
        model_type="unigram",
        pad_id=0,
        pad_piece="[PAD]",
        bos_id=1,
        bos_piece="[CLS]",
        eos_id=2,
        eos_piece="[SEP]",
        unk_id=3,
        unk_piece="[UNK]",
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    (directory / "spm.vocab").unlink()
    (directory / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False, "vocab_type": "spm"}))
    config = DebertaV2Config(
        vocab_size=1001,  # the pieces plus [MASK], which the tokenizer adds after them
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
        relative_attention=True,
        position_biased_input=False,
        pos_att_type=["p2c", "c2p"],
        type_vocab_size=0,
        pad_token_id=0,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        DebertaV2Model(config).eval().save_pretrained(directory)
    assert not (directory / "tokenizer.json").exists()
    return directory


def test_loads_and_runs_the_sentencepiece_models_own_ids(deberta_v3_dir):
    ext = Extractor.from_pretrained(deberta_v3_dir, device="cpu")
    processor = spm.SentencePieceProcessor(model_file=str(deberta_v3_dir / "spm.model"))
    texts = SENTENCES + TRICKY
    for text, result in zip(texts, ext.embed(texts)):
        ids = ext.tokenizer(text)["input_ids"]
        assert result.ids.tolist() == ids, text
        if not any(ch in text for ch in NOT_CONVERTED):
            assert ids == [processor.piece_to_id("[CLS]"), *processor.encode(text), processor.piece_to_id("[SEP]")]
        with torch.no_grad():
            expected = ext.model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
        for k, layer in enumerate(expected):
            np.testing.assert_allclose(result.hidden[k], layer[0].numpy(), **TOL, err_msg=f"{text!r} layer {k}")
    result = ext.embed(["The bank of the river."])[0]
    assert result.words == ["The", "bank", "of", "the", "river", "."] and not result.empty_words
    assert result.cls_index == 0 and result.tokens[0] == "[CLS]"
