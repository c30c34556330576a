"""Other AutoModel architectures through the generic entry of the family table, and the ones refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from ctxemb import Extractor

TOL = {"rtol": 1e-4, "atol": 1e-5}
TEXT = "The bank of the river was muddy after the storm."
SIZES = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 64}


def configs(vocab_size: int) -> dict[str, object]:
    from transformers import (
        DebertaConfig,
        DistilBertConfig,
        ElectraConfig,
        FalconConfig,
        MPNetConfig,
        Olmo2Config,
        StableLmConfig,
        XLMRobertaConfig,
    )

    return {
        "distilbert": DistilBertConfig(vocab_size=vocab_size, dim=32, n_layers=3, n_heads=4, hidden_dim=64),
        "electra": ElectraConfig(vocab_size=vocab_size, embedding_size=16, **SIZES),
        "mpnet": MPNetConfig(vocab_size=vocab_size, **SIZES),
        "deberta": DebertaConfig(vocab_size=vocab_size, **SIZES),
        "xlm-roberta": XLMRobertaConfig(vocab_size=vocab_size, pad_token_id=0, **SIZES),
        # decoder LLMs without an entry of their own
        "olmo2": Olmo2Config(vocab_size=vocab_size, pad_token_id=0, num_key_value_heads=2, **SIZES),
        "stablelm": StableLmConfig(vocab_size=vocab_size, num_key_value_heads=2, **SIZES),
        "falcon": FalconConfig(vocab_size=vocab_size, **{k: v for k, v in SIZES.items() if k != "intermediate_size"}),
    }


@pytest.fixture(
    scope="module", params=["distilbert", "electra", "mpnet", "deberta", "xlm-roberta", "olmo2", "stablelm", "falcon"]
)
def other(request, tiny_bert_dir):
    """A randomly initialised model of another architecture, with the tiny BERT's WordPiece tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModel.from_config(configs(len(tokenizer))[request.param]).eval()
    return Extractor(model, tokenizer)


def test_parity_and_pools(other):
    enc = other.tokenizer(TEXT, return_tensors="pt")
    if "token_type_ids" not in other.tokenizer.model_input_names or other.model.config.model_type == "distilbert":
        enc.pop("token_type_ids", None)
    with torch.no_grad():
        expected = other.model(**enc, output_hidden_states=True).hidden_states
    result = other.embed([TEXT])[0]
    assert len(result.layers) == len(expected)
    for k, layer in enumerate(expected):
        np.testing.assert_allclose(result.hidden[k], layer[0].numpy(), **TOL, err_msg=f"layer {k}")
    assert result.tokens[result.cls_index] == "[CLS]"  # read from the tokenizer's cls_token
    assert result.word_vectors("mean").shape[1] == len(result.words) == 11


def test_layers_above_are_skipped_where_the_model_declares_its_blocks(other):
    blocks = other.family.blocks(other.model)
    if blocks is None:  # MPNet and Falcon declare no blocks to transformers: a full pass, documented
        assert other.model.config.model_type in ("mpnet", "falcon")
        assert other.embed([TEXT], layers=[1])[0].layers == (1,)
        return
    ran = []
    handles = [m.register_forward_hook(lambda *_: ran.append(1)) for m in blocks.exits]
    try:
        other.embed([TEXT], layers=[1])
    finally:
        for h in handles:
            h.remove()
    assert len(ran) == 1


def test_encoder_decoder_is_refused_with_a_reason(tmp_path):
    from transformers import T5Config

    T5Config(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="encoder-decoder model"):
        Extractor.from_pretrained(tmp_path, device="cpu")


def test_an_encoder_taken_from_an_encoder_decoder_works(tiny_bert_dir):
    from transformers import T5Config, T5EncoderModel

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=3, num_heads=4)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        encoder = T5EncoderModel(config).eval()
    ext = Extractor(encoder, tokenizer)
    enc = tokenizer(TEXT, return_tensors="pt")
    with torch.no_grad():
        expected = encoder(input_ids=enc["input_ids"], output_hidden_states=True).hidden_states
    result = ext.embed([TEXT])[0]
    for k, layer in enumerate(expected):
        np.testing.assert_allclose(result.hidden[k], layer[0].numpy(), **TOL, err_msg=f"layer {k}")
