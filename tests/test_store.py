from __future__ import annotations

import errno
import json
import shutil
import time

import numpy as np
import pytest
from stores import assert_same_store

from ctxemb.cli import main
from ctxemb.sources import Problems, as_source
from ctxemb.store import extract_to, open_store
from ctxemb.store.manifest import FORMAT, MANIFEST, VERSION, write_json
from ctxemb.store.shards import SHARDS, shard_name, text_table, write_shard

TEXTS = [
    "The bank of the river.",
    "She paid the bank!",
    "",
    "state-of-the-art models, 3.14 times faster",
    ["pre", "split", "words"],
    "A somewhat longer sentence that has more pieces than the others in this list, for the batches.",
    "Zero\u200bwidth and emoji 👍🏽 here",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_round_trip_matches_embed(tiny_bert, tmp_path, monkeypatch):
    import ctxemb.store.content

    # A chunk budget of about 12 pieces: a shard is embedded in several chunks of texts sorted by length.
    monkeypatch.setattr(ctxemb.store.content, "CHUNK_BYTES", 12 * 4 * 4 * tiny_bert.model.config.hidden_size)
    store = extract_to(
        tiny_bert, tmp_path / "s", TEXTS, vectors=("token", "word", "sentence"), word_pool="first", shard_size=3
    )
    assert len(store) == len(TEXTS) and [a.shape[1] for a in store.arrays("sentence")] == [3, 3, 1]
    expected = tiny_bert.embed(TEXTS)
    assert store.layers == expected[0].layers == (0, 1, 2, 3)
    for i, (stored, r) in enumerate(zip(store, expected, strict=True)):
        assert stored.index == i and stored.id == str(i) and stored.text == r.text
        assert stored.tokens == r.tokens and stored.words == r.words
        np.testing.assert_array_equal(stored.special, r.special)
        np.testing.assert_array_equal(stored.offsets, r.offsets)
        np.testing.assert_array_equal(stored.word_spans, r.word_spans)
        assert stored.token_vectors.dtype == np.float32 and stored.token_vectors.shape == r.hidden.shape
        np.testing.assert_allclose(stored.token_vectors, r.hidden, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(stored.word_vectors, r.word_vectors("first"), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(stored.sentence_vector, r.sentence_vector("mean"), rtol=1e-4, atol=1e-5)
    assert store[-1].text == TEXTS[-1] and store["4"].words == ["pre", "split", "words"]
    assert store.ids == [str(i) for i in range(len(TEXTS))]
    with pytest.raises(KeyError, match="no text with id 'nope'"):
        store["nope"]
    with pytest.raises(IndexError, match="out of range"):
        store[len(TEXTS)]
    assert isinstance(store[1].word_vectors.base, np.memmap) or isinstance(store[1].word_vectors, np.memmap)
    assert store.manifest["words"] == sum(len(r.words) for r in expected)
    assert store.manifest["settings"]["model"]["weights_from"] == "files"


def test_float16_and_weighted_mix(tiny_bert, tmp_path):
    weights = [0.1, 0.2, 0.3, 0.4]
    store = extract_to(
        tiny_bert, tmp_path / "s", TEXTS[:4], layers="all", mix="weighted", mix_weights=weights, dtype="float16"
    )
    for stored, r in zip(store, tiny_bert.embed(TEXTS[:4]), strict=True):
        reference = np.einsum("k,kwd->wd", np.array(weights, dtype=np.float32), r.word_vectors("mean"))
        assert stored.word_vectors.dtype == np.float16 and stored.word_vectors.shape == reference.shape
        np.testing.assert_allclose(stored.word_vectors.astype(np.float32), reference, rtol=2e-3, atol=2e-3)
        assert stored.token_vectors is None and stored.sentence_vector is None
    with pytest.raises(ValueError, match="2 mix weights for 4 layers"):
        extract_to(tiny_bert, tmp_path / "t", TEXTS, mix="weighted", mix_weights=[1, 2])
    with pytest.raises(ValueError, match="vectors must be some of"):
        extract_to(tiny_bert, tmp_path / "t", TEXTS, vectors=("words",))


def test_float16_rows_count_only_new_overflows(caplog):
    from ctxemb.store.layout import Layout

    array = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # (layers, words, dim)
    array[1, 2, 3], array[0, 0, 0] = 1e6, np.nan  # one value beyond float16's 65504; one NaN already there
    rows = Layout((0, 1), ("word",), "mean", "mean", None, None, "float16").stored(array)
    assert rows.dtype == np.float16 and rows.shape == (3, 2, 4)
    np.testing.assert_array_equal(rows[:, 0, 1:], array[0, :, 1:].astype(np.float16))
    assert np.isinf(rows[2, 1, 3]) and np.isnan(rows[0, 0, 0])
    assert "1 values exceed the float16 range" in caplog.text
    caplog.clear()
    layout = Layout((0, 1), ("word",), "mean", "mean", "sum", None, "float16")
    mixed = layout.stored(layout.mixed(array[:, 1:2, :3]))
    np.testing.assert_array_equal(mixed, (array[0, 1:2, :3] + array[1, 1:2, :3]).astype(np.float16))
    assert not caplog.text


def test_inputs_have_stable_ids_and_report_bad_records(tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    def read(texts, on_error="fail", **kw):
        problems = Problems(on_error, verbose=False)
        return [(r.id, r.text) for r in as_source(texts, **kw).records(problems)], problems

    text = tmp_path / "t.txt"
    text.write_bytes(b"first\nbad \xff byte\n\nlast\r\n")
    with pytest.raises(ValueError, match=r"t\.txt:2: not valid UTF-8"):
        read(text)
    records, problems = read(text, "skip")
    assert records == [("1", "first"), ("3", ""), ("4", "last")]
    assert problems.skipped == 1 and "t.txt:2: not valid UTF-8" in problems.examples[0]

    jsonl = tmp_path / "t.jsonl"
    jsonl.write_bytes(b'{"body": "a", "key": 7}\n\n{"body": 3, "key": 8}\nnot json\n{"body": "b", "key": "x"}\n')
    records, problems = read(jsonl, "skip", field="body", id_field="key")
    assert records == [("7", "a"), ("x", "b")] and problems.skipped == 2
    assert (
        "t.jsonl:3: no string field 'body'" in problems.examples[0]
        and "t.jsonl:4: not valid JSON" in problems.examples[1]
    )

    csv_path = tmp_path / "t.csv"
    csv_path.write_bytes(b'id,text\nu,"quoted, with comma"\nv,bad \xfe\nw,"two\nlines"\n')
    records, problems = read(csv_path, "skip", id_field="id")
    assert records == [("u", "quoted, with comma"), ("w", "two\nlines")] and "t.csv:3" in problems.examples[0]
    with pytest.raises(ValueError, match="no column 'body'; the columns are id, text"):
        read(csv_path, field="body")

    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["x", None, "z"]}), parquet)
    records, problems = read(parquet, "skip")
    assert records == [("0", "x"), ("2", "z")] and "row 1" in problems.examples[0]

    dataset = datasets.Dataset.from_dict({"sentence": ["p", "q"], "n": [10, 11]})
    assert read(dataset, field="sentence", id_field="n")[0] == [("10", "p"), ("11", "q")]
    assert read(dataset.to_iterable_dataset(), field="sentence")[0] == [("0", "p"), ("1", "q")]
    with pytest.raises(TypeError, match=r"pathlib\.Path"):
        as_source(str(text))


def test_resume_checks_settings_and_input(tiny_bert, tmp_path):
    directory = tmp_path / "s"
    extract_to(tiny_bert, directory, TEXTS, shard_size=2)
    with pytest.raises(ValueError, match="other settings") as error:
        extract_to(tiny_bert, directory, TEXTS, shard_size=2, dtype="float16", layers=[0, -1])
    message = str(error.value)
    assert "storage.dtype: 'float32' in the store != 'float16' now" in message
    assert "extraction.layers: [0, 1, 2, 3] in the store != [0, 3] now" in message
    changed = [*TEXTS[:3], "another text", *TEXTS[4:]]
    with pytest.raises(ValueError, match="the input changed since shard 1"):
        extract_to(tiny_bert, directory, changed, shard_size=2)
    store = extract_to(tiny_bert, directory, changed, shard_size=2, dtype="float16", overwrite=True)
    assert store[3].text == "another text" and store.arrays("word")[0].dtype == np.float16
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds no ctxemb store"):
        extract_to(tiny_bert, tmp_path / "other", TEXTS, overwrite=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        extract_to(tiny_bert, tmp_path / "missing" / "s", TEXTS)


def test_full_disk_keeps_completed_shards_and_resumes(tiny_bert, tmp_path, monkeypatch):
    import safetensors.numpy
    from safetensors import SafetensorError

    directory = tmp_path / "s"
    real_save = safetensors.numpy.save_file
    calls = []

    def fill_up(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 3:
            with open(filename, "wb") as f:
                f.write(b"partial")
            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.numpy, "save_file", fill_up)
    with pytest.raises(
        OSError, match=r"could not write shard 2 .* the disk is full\. The 2 shards already written"
    ) as e:
        extract_to(tiny_bert, directory, TEXTS, shard_size=2)
    assert e.value.errno == errno.ENOSPC
    assert sorted(p.name for p in (directory / SHARDS).iterdir()) == [shard_name(0), shard_name(1)]
    with pytest.raises(ValueError, match="has not finished"):
        open_store(directory)
    partial = open_store(directory, partial=True)
    assert len(partial) == 4 and partial[3].text == TEXTS[3]
    monkeypatch.setattr(safetensors.numpy, "save_file", real_save)
    resumed = extract_to(tiny_bert, directory, TEXTS, shard_size=2)
    assert_same_store(resumed, extract_to(tiny_bert, tmp_path / "ref", TEXTS, shard_size=2))


def test_store_directory_removed_during_a_run(tiny_bert, tmp_path, monkeypatch):
    import safetensors.numpy

    directory = tmp_path / "s"
    real_save = safetensors.numpy.save_file
    calls = []

    def remove_store(tensors, filename, metadata=None):
        calls.append(filename)
        if len(calls) == 2:
            shutil.rmtree(directory)
        return real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(safetensors.numpy, "save_file", remove_store)
    with pytest.raises(OSError, match=r"could not write shard 1 .* the store directory .*shards no longer exists"):
        extract_to(tiny_bert, directory, TEXTS, shard_size=2)


def test_a_run_stopped_by_a_bad_line_resumes_with_skip(tiny_bert, tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"one\ntwo\nthree\nfour\nfive\nbad \xc3\nsix\n")
    with pytest.raises(ValueError, match=r"t\.txt:6: not valid UTF-8"):
        extract_to(tiny_bert, tmp_path / "s", path, shard_size=2)
    assert sorted(p.name for p in (tmp_path / "s" / SHARDS).iterdir()) == [shard_name(0), shard_name(1)]
    resumed = extract_to(tiny_bert, tmp_path / "s", path, shard_size=2, on_error="skip")
    assert resumed.ids == ["1", "2", "3", "4", "5", "7"] and resumed.manifest["skipped"] == 1
    assert "t.txt:6: not valid UTF-8" in resumed.manifest["skipped_examples"][0]
    assert_same_store(resumed, extract_to(tiny_bert, tmp_path / "ref", path, shard_size=2, on_error="skip"))


def _synthetic_store(directory, n_texts: int, shard_size: int, layers: int = 2, dim: int = 8):
    """A store written without a model: text i has i % 7 + 1 words, word w of text i holds i + w / 100."""
    (directory / SHARDS).mkdir(parents=True)
    entries = []
    for k, first in enumerate(range(0, n_texts, shard_size)):
        index = np.arange(first, min(first + shard_size, n_texts))
        counts = index % 7 + 1
        ptr = np.concatenate([[0], np.cumsum(counts)])
        owner = np.repeat(index, counts)
        within = np.arange(ptr[-1]) - np.repeat(ptr[:-1], counts)
        values = (owner + within / 100).astype(np.float32)
        vectors = np.broadcast_to(values[:, None, None], (len(values), layers, dim)).astype(np.float32)
        words = [f"w{w}" for w in within]
        spans = np.stack([within * 3, within * 3 + 2], axis=1)
        table = text_table(
            {
                "id": [f"doc{i}" for i in index],
                "text": [" ".join(f"w{w}" for w in range(c)) for c in counts],
                "token_ptr": ptr,
                "word_ptr": ptr,
                "tokens": words,
                "special": np.zeros(ptr[-1], dtype=bool),
                "offsets": spans,
                "words": words,
                "word_spans": spans,
            }
        )
        write_shard(directory, k, table, {"token_ptr": ptr, "word_ptr": ptr, "word_vectors": vectors}, {})
        entries.append({"name": shard_name(k), "texts": len(index), "tokens": int(ptr[-1]), "words": int(ptr[-1])})
    settings = {
        "model": {"name": "synthetic"},
        "extraction": {"layers": list(range(layers)), "vectors": ["word"], "mix": None},
        "storage": {"dtype": "float32", "shard_size": shard_size},
    }
    write_json(
        directory / MANIFEST,
        {"format": FORMAT, "version": VERSION, "status": "complete", "settings": settings, "shards": entries},
    )


def test_open_is_fast_and_random_access_reads_one_shard(tmp_path):
    directory = tmp_path / "big"
    _synthetic_store(directory, 20_000, 1000)
    start = time.perf_counter()
    store = open_store(directory)
    assert time.perf_counter() - start < 0.2
    assert len(store) == 20_000
    # Move every shard but the one of text 12345 away: reading it must not need them.
    hidden = tmp_path / "elsewhere"
    hidden.mkdir()
    for path in (directory / SHARDS).iterdir():
        if path.name != shard_name(12):
            shutil.move(path, hidden / path.name)
    text = store[12345]
    assert text.id == "doc12345" and text.words == [f"w{w}" for w in range(12345 % 7 + 1)]
    expected = 12345 + np.arange(len(text.words)) / 100
    assert text.word_vectors.shape == (2, len(text.words), 8)
    np.testing.assert_allclose(text.word_vectors, np.broadcast_to(expected, (8, 2, len(expected))).T.swapaxes(0, 1))
    with pytest.raises(FileNotFoundError):
        store[0]
    # The id index reads the id columns of the texts files only, never an arrays file.
    for path in hidden.iterdir():
        shutil.move(path, directory / SHARDS / path.name)
    for path in (directory / SHARDS).iterdir():
        (path / "arrays.safetensors").rename(path / "moved")
    assert store.index_of("doc19999") == 19_999 and store["doc12346"].index == 12346


def test_to_dataset_reads_the_texts_in_place(tiny_bert, tmp_path):
    import datasets

    store = extract_to(tiny_bert, tmp_path / "s", TEXTS, shard_size=4)
    dataset = store.to_dataset()
    assert dataset.num_rows == len(TEXTS) and dataset["id"] == store.ids
    assert dataset[3]["words"] == store[3].words and dataset[3]["word_spans"] == store[3].word_spans.tolist()
    same = datasets.concatenate_datasets([datasets.Dataset.from_file(str(p)) for p in store.text_files])
    assert same["text"] == [store[i].text for i in range(len(TEXTS))]


def test_cli_writes_a_store(tiny_bert, tiny_bert_dir, tmp_path, capsys):
    path = tmp_path / "t.txt"
    path.write_bytes(b"The bank of the river.\nbad \xff\nShe paid the bank!\n")
    out = tmp_path / "store"
    args = ["extract", "--model", str(tiny_bert_dir), "--input", str(path), "--output", str(out), "--device", "cpu"]
    assert main([*args, "--no-progress"]) == 2
    assert "t.txt:2: not valid UTF-8" in capsys.readouterr().err
    extra = ["--on-error", "skip", "--vectors", "word,sentence", "--word-pool", "max", "--store-dtype", "float16"]
    assert main([*args, "--no-progress", *extra, "--layers", "0,-1"]) == 0
    store = open_store(out)
    assert store.ids == ["1", "3"] and store.manifest["skipped"] == 1 and store.layers == (0, 3)
    settings = store.manifest["settings"]["extraction"]
    assert settings["word_pool"] == "max" and settings["sentence_pool"] == "mean"
    expected = tiny_bert.embed(["She paid the bank!"], layers=[0, -1])[0]
    np.testing.assert_allclose(store["3"].word_vectors, expected.word_vectors("max"), rtol=2e-3, atol=2e-3)
    assert main([*args, "--no-progress", "--on-error", "skip"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main([*args, "--no-progress", "--on-error", "skip", "--overwrite"]) == 0
    assert json.loads((out / MANIFEST).read_text())["settings"]["storage"]["dtype"] == "float32"


def test_a_store_warning_names_the_input_id(tiny_bert, tmp_path, caplog):
    import logging

    from ctxemb import extract_to

    path = tmp_path / "t.txt"
    path.write_text("plain text\nother text\na \x07 bell\n", encoding="utf-8")  # the bell character yields no piece
    with caplog.at_level(logging.WARNING, logger="ctxemb"):
        extract_to(tiny_bert, tmp_path / "store", path, shard_size=2)
    assert "first: text id '3' word" in caplog.text  # line 3 of the file, not texts[0] of its chunk


def test_the_store_bar_has_a_total_and_moves_within_a_shard(tiny_bert, tmp_path, capsys, monkeypatch):
    from ctxemb import extract_to
    from ctxemb.store import content
    from ctxemb.store.layout import make_layout
    from ctxemb.store.writer import as_source

    texts = [f"text number {i} " * (i + 1) for i in range(6)]
    extract_to(tiny_bert, tmp_path / "store", texts, shard_size=1000, progress=True)
    err = capsys.readouterr().err
    assert "storing: 100%" in err and "6/6" in err  # a total: the bar knows how many texts there are
    monkeypatch.setattr(content, "CHUNK_BYTES", 1)  # one text per chunk
    records = list(as_source(texts, "text", None, "auto").records(None))
    calls: list[int] = []
    layout = make_layout(tiny_bert, ["word"], None, "mean", "mean", None, None, "float32")
    content.embed_shard(tiny_bert, records, layout, on_chunk=calls.append)
    assert calls == [1] * 6


def test_the_store_bar_moves_per_chunk_of_embedded_texts(tiny_bert, tmp_path, monkeypatch):
    from ctxemb import extract_to
    from ctxemb.store import content, writer

    updates: list[int] = []

    class Bar:
        disable, total = False, None

        def update(self, n: int) -> None:
            updates.append(n)

        def close(self) -> None:
            pass

    monkeypatch.setattr(writer, "progress_bar", lambda **options: Bar())
    monkeypatch.setattr(content, "CHUNK_BYTES", 1)  # one text per chunk
    extract_to(tiny_bert, tmp_path / "store", [f"text {i}" for i in range(5)], shard_size=1000)
    assert updates == [1] * 5  # within the one shard, not 5 at its end


def test_store_files_have_the_mode_the_umask_gives(tiny_bert, tmp_path):
    import os
    import stat

    from ctxemb import extract_to

    old = os.umask(0o027)
    try:
        store = extract_to(tiny_bert, tmp_path / "store", ["a text", "another"])
    finally:
        os.umask(old)
    arrays = next((tmp_path / "store").rglob("*.safetensors"))
    assert stat.S_IMODE(arrays.stat().st_mode) == 0o640 and len(store) == 2
