"""Tiny checkpoints for every family: they load with the Auto classes, run, and build deterministically."""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModel, AutoTokenizer

from ctxemb.families import FAMILIES
from ctxemb.testing import SUPPORTED_FAMILIES, tiny_checkpoint
from ctxemb.tokenization import family_named


def test_every_family_with_a_tokenizer_has_a_tiny_recipe():
    # the family table is the one list: every family whose tokenizer can be trained has a tiny checkpoint
    trainable = [f.name for f in FAMILIES if f.subwords is not None]
    assert list(SUPPORTED_FAMILIES) == trainable and len(trainable) >= 8


@pytest.mark.parametrize("family", SUPPORTED_FAMILIES)
def test_loads_with_auto_classes_and_returns_every_hidden_state(tiny_dir, family):
    directory = tiny_dir(family)
    config = AutoConfig.from_pretrained(directory)
    assert type(config).__name__ == family_named(family).tiny.config_class
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (32, 3, 4)
    if family == "albert":
        assert config.embedding_size != config.hidden_size
    tokenizer = AutoTokenizer.from_pretrained(directory)
    own = getattr(transformers, family_named(family).tokenizer_class).from_pretrained(directory)
    # transformers 5 loads the tokenizer.json of some model types (mistral, phi3) as it is, without its class
    backend = config.model_type in ("mistral", "phi3")
    assert type(tokenizer).__name__ == "TokenizersBackend" if backend else type(tokenizer) is type(own)
    text = "The bank raised its rates again, 😀."
    assert tokenizer(text)["input_ids"] == own(text)["input_ids"]
    assert len(tokenizer) == config.vocab_size
    model = AutoModel.from_pretrained(directory).eval()
    inputs = tokenizer(["The bank raised its rates again."], return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], output_hidden_states=True)
    assert len(out.hidden_states) == config.num_hidden_layers + 1
    tokens = inputs["input_ids"].shape[1]
    assert all(h.shape == (1, tokens, 32) for h in out.hidden_states)


@pytest.mark.parametrize("family", SUPPORTED_FAMILIES)
def test_two_builds_give_identical_weights_and_vocabularies(tiny_dir, tmp_path, family):
    first = tiny_dir(family)
    second = tiny_checkpoint(family, tmp_path / family)
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[name], b[name]) for name in a)
    assert AutoTokenizer.from_pretrained(first).get_vocab() == AutoTokenizer.from_pretrained(second).get_vocab()
    for name in ("vocab.json", "merges.txt", "tokenizer.json"):  # the files themselves, where the class writes them
        if (first / name).exists():
            assert (first / name).read_bytes() == (second / name).read_bytes()


def test_another_seed_gives_other_weights_and_the_same_vocabulary(tiny_dir, tmp_path):
    first = tiny_dir("bert")
    other = tiny_checkpoint("bert", tmp_path / "seed1", seed=1)
    a, b = load_file(first / "model.safetensors"), load_file(other / "model.safetensors")
    assert not torch.equal(a["embeddings.word_embeddings.weight"], b["embeddings.word_embeddings.weight"])
    assert (first / "tokenizer.json").read_bytes() == (other / "tokenizer.json").read_bytes()
    assert json.loads((other / "ctxemb_tiny.json").read_text())["seed"] == 1


def test_a_finished_checkpoint_is_reused_and_a_foreign_directory_refused(tiny_dir, tmp_path):
    directory = tiny_dir("gpt2")
    stamp = (directory / "model.safetensors").stat().st_mtime_ns
    assert tiny_checkpoint("gpt2", directory) == directory
    assert (directory / "model.safetensors").stat().st_mtime_ns == stamp
    with pytest.raises(FileExistsError, match="is not a tiny bert checkpoint"):
        tiny_checkpoint("bert", directory)
    with pytest.raises(ValueError, match="unknown family 't5'"):
        tiny_checkpoint("t5", tmp_path / "t5")
