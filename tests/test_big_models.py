"""Models larger than one device: ``device_map`` (accelerate's big-model inference) gives the single-device vectors.

Without a GPU the placements are the CPU and disk offload (weights on the meta device, loaded by accelerate's hooks
block by block); the same code places blocks on several GPUs where there are some.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from ctxemb import Extractor

TEXTS = ["The bank of the river.", "A much longer text about money and the bank that holds it, and more."]


@pytest.fixture(scope="module", params=["bert", "gpt2", "llama"])
def family_dir(request, tiny_dir):
    return tiny_dir(request.param)


@pytest.mark.parametrize(
    ("device_map", "offload"),
    [("auto", False), ({"": "cpu"}, False), ("auto", True)],
    ids=["auto", "all-on-cpu", "disk-offload"],
)
def test_device_map_gives_the_single_device_vectors(family_dir, tmp_path, device_map, offload):
    reference = Extractor.from_pretrained(family_dir, device="cpu").embed(TEXTS)
    options = {"max_memory": {"cpu": "30KiB"}, "offload_folder": str(tmp_path)} if offload else {}
    ext = Extractor.from_pretrained(family_dir, device_map=device_map, **options)
    if offload:
        assert "disk" in set(ext.model.hf_device_map.values())  # the weights really are offloaded
    for layers in ([0, 1, -1], [1]):
        got = ext.embed(TEXTS, layers=layers)
        for g, r in zip(got, reference):
            np.testing.assert_allclose(g.hidden, r.hidden[layers], rtol=1e-4, atol=1e-5)


def test_placement_options_are_checked_before_loading(tiny_bert_dir):
    with pytest.raises(ValueError, match="device='cpu' and device_map both place the model"):
        Extractor.from_pretrained(tiny_bert_dir, device="cpu", device_map="auto")
    with pytest.raises(ValueError, match="max_memory need device_map"):
        Extractor.from_pretrained(tiny_bert_dir, max_memory={"cpu": "1GiB"})


def test_quantised_loading_options_are_checked_before_loading(tiny_bert_dir):
    with pytest.raises(ValueError, match="load_in_8bit and load_in_4bit both asked for"):
        Extractor.from_pretrained(tiny_bert_dir, load_in_8bit=True, load_in_4bit=True)
    with pytest.raises(ValueError, match=r"load_in_4bit places the model with device_map .* leave device at 'auto'"):
        Extractor.from_pretrained(tiny_bert_dir, load_in_4bit=True, device="cpu")


@pytest.mark.parametrize("bits", [8, 4])
def test_quantised_loading_passes_a_bitsandbytes_config(tiny_bert_dir, monkeypatch, bits):
    """Where bitsandbytes and a GPU are there, the model is loaded with its config and placed by accelerate."""
    import transformers

    from ctxemb import loading

    seen = {}

    def load_model(path, **kwargs):
        seen.update(kwargs)
        raise OSError("stop here: this machine cannot load a quantised model")

    real = importlib.util.find_spec
    monkeypatch.setattr(loading.importlib.util, "find_spec", lambda n, *a: object() if n == "bitsandbytes" else real(n))
    monkeypatch.setattr(loading.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", load_model)
    with pytest.raises(OSError, match="stop here"):
        Extractor.from_pretrained(tiny_bert_dir, **{f"load_in_{bits}bit": True})
    config = seen["quantization_config"]
    assert isinstance(config, transformers.BitsAndBytesConfig)
    assert (config.load_in_8bit, config.load_in_4bit) == (bits == 8, bits == 4)
    assert seen["device_map"] == "auto"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusals of a machine without a CUDA GPU")
def test_quantised_loading_is_refused_clearly_without_its_library_or_a_gpu(tiny_bert_dir):
    for bits in ("load_in_8bit", "load_in_4bit"):
        if importlib.util.find_spec("bitsandbytes") is None:
            with pytest.raises(ImportError, match=f"{bits} needs bitsandbytes.*pip install bitsandbytes"):
                Extractor.from_pretrained(tiny_bert_dir, **{bits: True})
        else:
            with pytest.raises(ValueError, match=f"{bits}: bitsandbytes quantises on CUDA GPUs"):
                Extractor.from_pretrained(tiny_bert_dir, **{bits: True})
