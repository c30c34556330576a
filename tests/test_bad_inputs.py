"""Every bad input is named, nothing is silently wrong: one table of cases over the API, the CLI and the readers.

Each case is ``(name, call, expected exception, pattern the message must contain)``; the pattern names the item
(which text, span, option, file and line). A second table lists odd inputs that must give a correct result.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from ctxemb import Extractor, ScalarMix, mix, train_tokenizer
from ctxemb.analysis.polysemy.loaders import load_jsonl, load_wic
from ctxemb.cli import main
from ctxemb.sources import Problems, as_source
from ctxemb.static.io import load_vectors
from ctxemb.store import extract_to


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad files, written once."""
    d = tmp_path_factory.mktemp("bad")
    (d / "surrogate.jsonl").write_text('{"text": "ok"}\n{"text": "abc \\ud800"}\n{"text": "fine"}\n')
    (d / "big.csv").write_text("text\n" + "x" * 200_000 + "\nshort\n")
    (d / "bom.csv").write_text("\ufefftext\nhello\n", encoding="utf-8")
    (d / "nul.csv").write_text("text\nfine\nbad\0field\nafter\n")
    (d / "bom.glove.txt").write_text("\ufeffthe 0.1 0.2\ncat 0.3 0.4\n", encoding="utf-8")
    (d / "huge.bin").write_bytes(b"1000000000 300\n" + b"a " + b"\0" * 1200)
    (d / "garbage.fasttext.bin").write_bytes(struct.pack("<ii", 793712314, 12) + b"\xff" * 9)
    (d / "latin1.jsonl").write_bytes(b'{"text": "caf\xe9", "start": 0, "end": 3, "word": "caf", "sense": "x"}\n')
    record = {"text": "the bank", "start": 4, "end": 8, "word": "bank", "sense": "a"}
    (d / "wrong_word.jsonl").write_text(json.dumps({**record, "word": "river"}) + "\n")
    (d / "bool_start.jsonl").write_text(json.dumps({**record, "start": True}) + "\n")
    (d / "inflected.jsonl").write_text(json.dumps({**record, "text": "we ran", "start": 3, "end": 6,
                                                   "word": "run", "inflected": True}) + "\n")  # fmt: skip
    wic = d / "wic" / "train"
    wic.mkdir(parents=True)
    (wic / "train.data.txt").write_bytes(b"bank\tN\t1-1\tthe bank\tthe b\xe4nk\n")
    (wic / "train.gold.txt").write_text("T\n")
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(2)
    keyed.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
    keyed.save(str(d / "vectors.kv"))
    return d


def _records(path, on_error="fail", **kwargs):
    problems = Problems(on_error, verbose=False)
    return [r.text for r in as_source(path, **kwargs).records(problems)], problems


def cases(ext: Extractor, files) -> list[tuple[str, object, type[BaseException], str]]:
    text = "the river bank flooded after the storm again and again and again"
    return [
        # the extractor's options, checked before any compute
        ("stride > window", lambda: Extractor(ext.model, ext.tokenizer, max_length=16, stride=15).embed([text]),
         ValueError, "stride 15 is longer than the 14 pieces"),
        ("max_length > positions", lambda: Extractor(ext.model, ext.tokenizer, max_length=4096).embed(["x"]),
         ValueError, "max_length 4096 is longer than the 128 positions"),
        ("max_length <= specials", lambda: Extractor(ext.model, ext.tokenizer, max_length=2).embed(["x"]),
         ValueError, "a window of 2 pieces leaves no room"),
        ("max_tokens as a string", lambda: Extractor(ext.model, ext.tokenizer, max_tokens="100").embed(["x"]),
         TypeError, "max_tokens must be a positive integer, not '100'"),
        ("max_batch zero", lambda: Extractor(ext.model, ext.tokenizer, max_batch=0).embed(["x"]),
         ValueError, "max_batch must be a positive integer, not 0"),
        ("unknown split", lambda: Extractor(ext.model, ext.tokenizer, split="words").embed(["x"]),
         ValueError, "unknown split 'words'"),
        ("layer out of range at load", lambda: Extractor(ext.model, ext.tokenizer, layers=8).embed(["x"]),
         ValueError, "layer 8"),
        ("unknown device", lambda: Extractor.from_pretrained(ext.name, device="foo"),
         ValueError, "unknown device 'foo'"),
        ("no such model", lambda: Extractor.from_pretrained("/nonexistent/model"),
         OSError, "cannot load the model '/nonexistent/model': no such directory"),
        # texts and spans
        ("lone surrogate", lambda: ext.embed(["fine", "abc \ud800"]), ValueError, r"texts\[1\] is not valid Unicode"),
        ("surrogate in a word", lambda: ext.embed([["a", "\udcff"]]), ValueError, r"texts\[0\]\[1\] is not valid"),
        ("surrogate in a target", lambda: ext.embed_spans([("a \ud800 b", (0, 1))]),
         ValueError, r"targets\[0\] is not valid Unicode"),
        ("float span", lambda: ext.embed_spans([("a b", (0.0, 1))]), TypeError, r"targets\[0\]: span .* two integers"),
        ("bool span", lambda: ext.embed_spans([("a b", (False, True))]), TypeError, r"targets\[0\]"),
        ("word number out of range", lambda: ext.embed(["a b"])[0].tokens_of(99),
         IndexError, "word 99 is out of range for a text of 2 words"),
        # layer mixing
        ("mix axis out of range", lambda: mix(np.ones((2, 3, 4)), "mean", axis=5),
         ValueError, "axis 5 is out of range for an array of 3 dimensions"),
        ("ScalarMix dim out of range", lambda: ScalarMix(2)(torch.ones(2, 3), dim=4),
         ValueError, "dim 4 is out of range"),
        # tokenizer training
        ("surrogate in a training text", lambda: train_tokenizer(["ok", "a \ud800"], "wordpiece", 100),
         ValueError, r"texts\[1\] is not valid Unicode"),
        ("vocab_size far too large", lambda: train_tokenizer(["a b"], "wordpiece", 10**9),
         ValueError, "vocab_size 1,000,000,000 is more than ctxemb trains"),
        ("special_tokens as a string", lambda: train_tokenizer(["a b"], "wordpiece", 100, special_tokens="[X]"),
         TypeError, r"special_tokens must be a list of strings, not one string: \['\[X\]'\]"),
        # readers
        ("JSONL surrogate fails", lambda: _records(files / "surrogate.jsonl"),
         ValueError, r"surrogate.jsonl:2: not valid Unicode"),
        ("polysemy JSONL not UTF-8", lambda: load_jsonl(files / "latin1.jsonl"),
         ValueError, r"latin1.jsonl:1: not valid UTF-8"),
        ("polysemy span is not the word", lambda: load_jsonl(files / "wrong_word.jsonl"),
         ValueError, r"wrong_word.jsonl:1: the span \(4, 8\) covers 'bank', not the word 'river'"),
        ("polysemy start is a boolean", lambda: load_jsonl(files / "bool_start.jsonl"),
         ValueError, r"bool_start.jsonl:1: missing or wrong field\(s\): start/end"),
        ("WiC not UTF-8", lambda: load_wic(files / "wic"), ValueError, r"train.data.txt:1: not valid UTF-8"),
        ("word2vec .bin with a huge count", lambda: load_vectors(files / "huge.bin"),
         ValueError, r"huge.bin:1: the header announces 1000000000 vectors"),
        ("garbage after the fastText magic", lambda: load_vectors(files / "garbage.fasttext.bin"),
         ValueError, r"garbage.fasttext.bin: not a valid fastText .bin file"),
        ("gensim pickle refused", lambda: load_vectors(files / "vectors.kv"),
         ValueError, r"vectors.kv is a Python pickle"),
    ]  # fmt: skip


def test_every_bad_input_is_named(tiny_bert, files):
    failures = []
    for name, call, kind, pattern in cases(tiny_bert, files):
        try:
            call()
        except kind as error:
            import re

            if not re.search(pattern, str(error)):
                failures.append(f"{name}: message {str(error)!r} does not match {pattern!r}")
        except Exception as error:  # a raw library error: a crash
            failures.append(f"{name}: {type(error).__name__}: {error}")
        else:
            failures.append(f"{name}: no error")
    assert not failures, "\n".join(failures)


def test_odd_inputs_give_correct_results(tiny_bert, files):
    assert tiny_bert.embed([]) == []
    # a call's own layers are what is checked, not a default it overrides
    assert Extractor(tiny_bert.model, tiny_bert.tokenizer, layers=8).embed(["a b"], layers=[0])[0].layers == (0,)
    spans = tiny_bert.embed_spans([])
    assert spans.shape == (tiny_bert.num_layers + 1, 0, 32) and spans.dtype == np.float32
    text = "the river bank"
    np.testing.assert_array_equal(
        tiny_bert.embed_spans([(text, (np.int64(10), np.int64(14)))]), tiny_bert.embed_spans([(text, (10, 14))])
    )
    assert tiny_bert.embed([text])[0].tokens_of(-1).tolist() == tiny_bert.embed([text])[0].tokens_of(2).tolist()
    # mixing integers computes in floating point: weights 0.5 are not truncated to 0, a mean is not floored
    ints = np.array([[1, 2], [4, 5]])
    np.testing.assert_allclose(mix(ints, "weighted", weights=[0.5, 0.5]), [2.5, 3.5])
    np.testing.assert_allclose(mix(ints, "mean"), [2.5, 3.5])
    np.testing.assert_allclose(mix(np.ones((2, 3, 4)), "mean", axis=-1), np.ones((2, 3)))
    out = ScalarMix(2)(torch.tensor([[1, 2], [4, 5]]))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([2.5, 3.5]))
    # readers: a skipped surrogate record, a long CSV field, byte-order marks
    texts, problems = _records(files / "surrogate.jsonl", on_error="skip")
    assert texts == ["ok", "fine"] and problems.skipped == 1
    texts, _ = _records(files / "big.csv")
    assert [len(t) for t in texts] == [200_000, 5]
    assert _records(files / "nul.csv")[0] == ["fine", "bad\0field", "after"]  # Python's csv reads NUL bytes
    assert _records(files / "bom.csv")[0] == ["hello"]
    assert load_vectors(files / "bom.glove.txt").index_to_key == ["the", "cat"]
    assert load_vectors(files / "vectors.kv", allow_pickle=True).index_to_key == ["a", "b"]
    assert load_jsonl(files / "inflected.jsonl").occurrences[0].word == "run"


def test_a_csv_field_over_the_limit_is_named_and_skipped(files, monkeypatch):
    import ctxemb.sources

    monkeypatch.setattr(ctxemb.sources, "_CSV_FIELD_LIMIT", 1000)
    with pytest.raises(ValueError, match=r"big.csv:2: not valid CSV \(field larger than field limit"):
        _records(files / "big.csv")
    texts, problems = _records(files / "big.csv", on_error="skip")
    assert texts == ["short"] and problems.skipped == 1
    import csv

    assert csv.field_size_limit() == 131072  # restored after reading


def test_a_crafted_pickle_never_runs(tmp_path):
    import pickle

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "evil.kv").write_bytes(pickle.dumps(Payload(), protocol=4))
    with pytest.raises(ValueError, match="is a Python pickle"):
        load_vectors(tmp_path / "evil.kv")
    assert main(["probe", "polysemy", "--static", str(tmp_path / "evil.kv"), "--output", str(tmp_path / "o")]) == 2
    assert not marker.exists()


def test_cli_names_bad_devices_models_and_inputs(tiny_bert_dir, tmp_path, capsys):
    corpus = tmp_path / "in.txt"
    corpus.write_text("one\ntwo\n")
    base = ["extract", "--input", str(corpus), "--output", str(tmp_path / "s"), "--no-progress"]
    assert main([*base, "--model", str(tiny_bert_dir), "--device", "foo"]) == 2
    assert "unknown device 'foo'" in capsys.readouterr().err
    assert main([*base, "--model", "/nonexistent"]) == 2
    assert "cannot load the model '/nonexistent': no such directory" in capsys.readouterr().err
    assert main([*base, "--model", str(tiny_bert_dir), "--device", "cpu", "--layers", "9"]) == 2
    assert "layer 9" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # nothing was created before the error


def test_store_skips_a_surrogate_record_and_names_it(tiny_bert, files, tmp_path):
    with pytest.raises(ValueError, match=r"surrogate.jsonl:2: not valid Unicode"):
        extract_to(tiny_bert, tmp_path / "a", files / "surrogate.jsonl")
    store = extract_to(tiny_bert, tmp_path / "b", files / "surrogate.jsonl", on_error="skip")
    assert [t.id for t in store] == ["1", "3"] and store.manifest["skipped"] == 1


def test_a_device_this_machine_lacks_is_named(tiny_bert_dir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
    for device in ("cuda", "cuda:1"):
        with pytest.raises(ValueError, match=f"device '{device}' was asked for, but {why}"):
            Extractor.from_pretrained(tiny_bert_dir, device=device)
