"""Every check runs before compute: a bad setting is refused before the model runs and before anything is written."""

from __future__ import annotations

import pytest

from ctxemb import Extractor, extract_to
from ctxemb.cli import main


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "texts.txt"
    path.write_text("One text.\nAnother text.\n", encoding="utf-8")
    return path


@pytest.fixture
def model_must_not_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model ran before the check")

    monkeypatch.setattr(Extractor, "_run", refuse)


@pytest.mark.parametrize("output", ["vectors.safetensors", "store"])
def test_cls_on_a_model_without_a_summary_token_is_refused_before_anything_is_written(
    tmp_path, tiny_dir, texts_file, capsys, output, model_must_not_run
):
    args = ["extract", "--model", str(tiny_dir("gpt2")), "--input", str(texts_file), "--device", "cpu"]
    args += ["--output", str(tmp_path / output), "--vectors", "sentence", "--sentence-pool", "cls", "--no-progress"]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "no CLS-like summary token" in error and "'last'" in error
    assert not (tmp_path / output).exists()


def test_extract_to_checks_the_sentence_pool_before_creating_the_store(tmp_path, tiny_dir, model_must_not_run):
    ext = Extractor.from_pretrained(tiny_dir("gpt2"), device="cpu")
    with pytest.raises(ValueError, match="no CLS-like summary token"):
        extract_to(ext, tmp_path / "store", ["a text"], vectors=["sentence"], sentence_pool="cls")
    assert not (tmp_path / "store").exists()
    assert ext.check(sentence_pool="last") == tuple(range(ext.num_layers + 1))
    with pytest.raises(ValueError, match="unknown sentence pool 'avg'"):
        ext.check(sentence_pool="avg")


def test_names_must_match_the_texts(tiny_bert, model_must_not_run):
    with pytest.raises(ValueError, match="names must hold one name per text: got 1 names for 2 texts"):
        tiny_bert.embed(["a", "b"], names=["only one"])
    with pytest.raises(ValueError, match="got a string"):
        tiny_bert.embed(["a", "b"], names="ab")


def test_the_tokenizers_cls_token_counts_as_a_summary_token(tiny_bert):
    assert tiny_bert.has_summary_token
    tiny_bert.check(sentence_pool="cls")


@pytest.mark.parametrize("output", ["x.npy", "vectors.h5", "out.txt"])
def test_an_output_file_of_another_kind_is_an_error(
    tmp_path, tiny_bert_dir, texts_file, capsys, output, model_must_not_run
):
    args = ["extract", "--model", str(tiny_bert_dir), "--input", str(texts_file), "--device", "cpu"]
    assert main([*args, "--output", str(tmp_path / output)]) == 2
    assert "writes a .safetensors file or a store directory" in capsys.readouterr().err
    assert not (tmp_path / output).exists()


def test_an_existing_directory_with_a_dot_in_its_name_is_a_store(tmp_path, tiny_bert_dir, texts_file):
    (tmp_path / "run.v1").mkdir()
    args = ["extract", "--model", str(tiny_bert_dir), "--input", str(texts_file), "--device", "cpu", "--no-progress"]
    assert main([*args, "--output", str(tmp_path / "run.v1")]) == 0
    assert (tmp_path / "run.v1" / "manifest.json").is_file()


def test_a_layer_outside_the_model_is_refused_at_construction(tiny_bert_dir):
    with pytest.raises(ValueError, match="layer 8 is outside"):
        Extractor.from_pretrained(tiny_bert_dir, layers=8, device="cpu")


def test_geometry_checks_the_sample_size_against_the_corpus_before_loading_a_model(tmp_path, capsys):
    corpus = tmp_path / "small.txt"
    corpus.write_text("A short text.\n" * 30, encoding="utf-8")
    args = ["geometry", "--model", str(tmp_path / "no-such-model"), "--corpus", str(corpus)]
    assert main([*args, "--output", str(tmp_path / "out"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "has 30 non-empty texts; the sample asks for 1000" in error  # not "cannot load the model"
    assert not (tmp_path / "out").exists()
