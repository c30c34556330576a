from __future__ import annotations

import json

import numpy as np
import pytest

from ctxemb.cli import main
from ctxemb.export import load_extraction


@pytest.fixture
def texts_file(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("The bank of the river.\nShe paid the bank!\n\nstate-of-the-art\n", encoding="utf-8")
    return path


def test_extract_words_round_trip(minilm, texts_file, tmp_path):
    out = tmp_path / "out" / "v.safetensors"
    assert main(["extract", "--model", "minilm", "--layers", "0,-1", "--word-pool", "first", "--input",
                 str(texts_file), "--output", str(out), "--device", "cpu", "--no-progress"]) == 0  # fmt: skip
    x = load_extraction(out)
    texts = ["The bank of the river.", "She paid the bank!", "", "state-of-the-art"]
    assert x.texts == texts and x.layers == (0, 6) and x.level == "word" and x.pool == "first"
    assert len(x) == 4 and x.words[2] == [] and x[2].shape == (2, 0, 384)
    expected = minilm.embed(texts, layers=[0, -1])
    for i, r in enumerate(expected):
        np.testing.assert_allclose(x[i], r.word_vectors("first"), rtol=1e-4, atol=1e-5)
        assert x.words[i] == r.words
    np.testing.assert_array_equal(x.word_spans, np.concatenate([r.word_spans for r in expected]))


def test_extract_sentences_from_jsonl(minilm, tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"body": "A first text."}) + "\n" + json.dumps({"body": "Second."}) + "\n")
    out = tmp_path / "s.safetensors"
    args = ["extract", "--input", str(path), "--field", "body", "--output", str(out), "--vectors", "sentence"]
    assert main([*args, "--sentence-pool", "cls", "--layers", "-1", "--device", "cpu", "--no-progress"]) == 0
    x = load_extraction(out)
    assert x[1].shape == (1, 384)
    np.testing.assert_allclose(
        x[0], minilm.embed(["A first text."], layers=-1)[0].sentence_vector("cls"), rtol=1e-4, atol=1e-5
    )


def test_extract_reports_bad_utf8_line(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\nbad \xff byte\n")
    assert main(["extract", "--input", str(path), "--output", str(tmp_path / "o.safetensors")]) == 2
    assert "bad.txt:2: not valid UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "o.safetensors").exists()


def test_extract_names_what_a_file_cannot_hold_and_the_replaced_options(texts_file, tmp_path, capsys):
    args = ["extract", "--input", str(texts_file), "--output", str(tmp_path / "o.safetensors")]
    with pytest.raises(SystemExit):  # argparse: a word pool that is not one
        main([*args, "--word-pool", "cls"])
    assert main([*args, "--vectors", "token"]) == 2
    assert "a .safetensors file holds word or sentence vectors, not token" in capsys.readouterr().err
    assert main([*args, "--vectors", "words"]) == 2
    assert "--vectors 'words': choose from token, word, sentence" in capsys.readouterr().err
    assert main([*args, "--level", "sentence", "--pool", "first"]) == 2
    assert "--level and --pool were replaced by --vectors" in capsys.readouterr().err
    assert not (tmp_path / "o.safetensors").exists()


def test_extract_rejects_bad_layer(texts_file, tmp_path, capsys):
    args = ["extract", "--input", str(texts_file), "--output", str(tmp_path / "o.safetensors"), "--device", "cpu"]
    assert main([*args, "--layers", "9"]) == 2
    assert "layer 9 is outside" in capsys.readouterr().err


def test_load_rejects_other_files(tmp_path):
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(2, dtype=np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a ctxemb extraction file"):
        load_extraction(tmp_path / "other.safetensors")


def test_layer_values_that_start_with_a_minus_and_the_version(capsys):
    from ctxemb import __version__
    from ctxemb.cli import layer_values_attached

    assert layer_values_attached(["extract", "--layers", "-4:", "--input", "x"]) == [
        "extract",
        "--layers=-4:",
        "--input",
        "x",
    ]
    assert layer_values_attached(["--layers", "0,1"]) == ["--layers", "0,1"]
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"ctxemb {__version__}"


def test_single_file_keeps_input_ids_and_has_the_umask_mode(tiny_bert_dir, tmp_path):
    import os
    import stat

    path = tmp_path / "t.txt"
    path.write_bytes(b"first\n\xff broken\nthird\n")  # line 2 is not UTF-8: skipped
    out = tmp_path / "v.safetensors"
    old = os.umask(0o027)
    try:
        args = ["extract", "--model", str(tiny_bert_dir), "--input", str(path), "--output", str(out)]
        assert main([*args, "--on-error", "skip", "--device", "cpu", "--no-progress"]) == 0
    finally:
        os.umask(old)
    x = load_extraction(out)
    assert x.texts == ["first", "third"] and x.text_ids == ["1", "3"]  # line numbers: row 1 came from line 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert repr(x) == (
        f"Extraction(model={str(tiny_bert_dir)!r}, level='word', pool='mean', texts=2, rows=2, "
        "layers=[0, 1, 2, 3], dim=32)"
    )


def test_an_older_file_without_ids_reads_positions(tmp_path, tiny_bert):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from ctxemb.export import save_extraction

    path = tmp_path / "v.safetensors"
    save_extraction(path, tiny_bert.embed(["a", "b c"]), "word", "mean", "tiny")
    with safe_open(str(path), framework="numpy") as f:
        meta = {k: v for k, v in (f.metadata() or {}).items() if k != "text_ids"}
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    save_file(arrays, str(path), metadata=meta)
    assert load_extraction(path).text_ids == ["0", "1"]
