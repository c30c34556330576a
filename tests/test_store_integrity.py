"""Store guarantees: one writer, verified resume, checksums, damage named; resumable from Python or the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import safetensors.numpy
from stores import assert_same_store

from ctxemb.cli import main
from ctxemb.store import extract_to, open_store
from ctxemb.store.lock import HOLDER, StoreLockedError
from ctxemb.store.manifest import MANIFEST, tokenizer_digest
from ctxemb.store.shards import ARRAYS, SHARDS, TEXTS, open_arrays, shard_name

TEXTS_IN = [f"The bank of river number {i} flooded after storm {i % 7}." for i in range(9)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _hold_lock(directory):
    """A separate process that holds the store's lock until killed; returns it once the lock is taken."""
    code = (
        "import sys, time; from pathlib import Path; from ctxemb.store.lock import StoreLock; "
        "held = StoreLock(Path(sys.argv[1])); held.acquire(); print('held', flush=True); time.sleep(600)"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(directory)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    return child


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_second_writer_is_refused_and_a_killed_holder_leaves_no_lock(tiny_bert, tmp_path, overwrite):
    directory = tmp_path / "s"
    first = extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)
    holder = _hold_lock(directory)
    try:
        busy = rf"{directory} is being written by another process \(pid {holder.pid}"
        with pytest.raises(StoreLockedError, match=busy):
            extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4, layers=[0], overwrite=overwrite)
        assert_same_store(open_store(directory), first)  # untouched, and it opens
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    again = extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4, layers=[0], overwrite=True)
    assert again.layers == (0,)


def test_a_second_cli_writer_during_a_real_run_is_refused(tiny_bert_dir, tmp_path, corpus_lines, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines * 4) + "\n", encoding="utf-8")
    directory = tmp_path / "s"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    args = ["--model", str(tiny_bert_dir), "--input", str(corpus), "--output", str(directory), "--device", "cpu"]
    writer = subprocess.Popen([sys.executable, "-m", "ctxemb", "extract", *args, "--layers=-1", "--shard-size", "50",
                               "--vectors", "token,word,sentence", "--no-progress"], env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (directory / HOLDER).exists() and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writer.poll() is None, "the first writer finished before the second could start"
        for extra in ([], ["--overwrite"]):
            assert main(["extract", *args, "--layers", "0,-1", "--no-progress", *extra]) == 2
            assert f"{directory} is being written by another process (pid {writer.pid}" in capsys.readouterr().err
        assert writer.poll() is None, "the first writer finished while the second was tried: the test proves nothing"
    finally:
        assert writer.wait(timeout=300) == 0
    store = open_store(directory)
    assert store.layers == (3,) and len(store) == 4 * len(corpus_lines) and store.verify() == []


def _damage(directory):
    """Truncate shard 0's arrays, flip bytes inside shard 1's vectors, delete shard 2's texts."""
    arrays = directory / SHARDS / shard_name(0) / ARRAYS
    arrays.write_bytes(arrays.read_bytes()[:200])
    path = directory / SHARDS / shard_name(1) / ARRAYS
    vectors = open_arrays(path.parent)["word_vectors"]
    offset = len(path.read_bytes()) - vectors.nbytes + 16  # vectors are the last block of the file here
    data = bytearray(path.read_bytes())
    data[offset : offset + 8] = bytes(255 - b for b in data[offset : offset + 8])
    path.write_bytes(bytes(data))
    (directory / SHARDS / shard_name(2) / TEXTS).unlink()


def test_verify_names_each_damage_and_resume_repairs_it(tiny_bert, tmp_path, capsys):
    clean = extract_to(tiny_bert, tmp_path / "clean", TEXTS_IN, shard_size=2)
    directory = tmp_path / "s"
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=2)
    assert open_store(directory).verify() == []
    _damage(directory)
    problems = open_store(directory).verify()
    assert any(f"{shard_name(0)}/{ARRAYS}: 200 bytes" in p and "truncated" in p for p in problems), problems
    assert any(f"{shard_name(1)}/{ARRAYS}: the SHA-256 checksum differs" in p for p in problems), problems
    assert any(f"{shard_name(2)}/{TEXTS}: missing" in p for p in problems), problems
    assert open_store(directory).verify(deep=False) == [p for p in problems if "SHA-256" not in p]
    assert main(["store", "verify", str(directory)]) == 1
    err = capsys.readouterr().err
    assert "truncated" in err and "checksum differs" in err and "missing" in err
    with pytest.raises(ValueError, match=rf"{shard_name(0)}/{ARRAYS}: 200 bytes"):
        open_store(directory)[0]
    # A plain resume rewrites the shards whose sizes or files are wrong; verify=True also the flipped bytes.
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=2)
    assert [p for p in open_store(directory).verify() if "SHA-256" not in p] == []
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=2, verify=True)
    assert open_store(directory).verify() == []
    assert_same_store(open_store(directory), clean)
    assert main(["store", "verify", str(directory)]) == 0


def test_shard_names_must_stay_inside_the_store(tiny_bert, tmp_path):
    directory = tmp_path / "s"
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["shards"][1]["name"] = "../x"
    (directory / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"manifest.json is damaged: shards\[1\] has the name '../x'"):
        open_store(directory)
    assert main(["store", "verify", str(directory)]) == 2
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)  # a resume writes the shard list again
    assert open_store(directory).verify() == []


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"format": "ctxemb-store", "version": 2}', "no 'settings' section")],
)
def test_a_damaged_manifest_is_named(tiny_bert, tmp_path, content, message):
    directory = tmp_path / "s"
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)
    (directory / MANIFEST).write_text(content)
    with pytest.raises(ValueError, match=rf"{MANIFEST} is damaged: {message}"):
        open_store(directory)
    with pytest.raises(ValueError, match="pass overwrite=True"):
        extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)
    assert len(extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4, overwrite=True)) == len(TEXTS_IN)


def test_a_failed_manifest_write_leaves_no_temporary_file(tiny_bert, tmp_path, monkeypatch):
    directory = tmp_path / "s"
    real_dump = json.dump

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", full)
    with pytest.raises(OSError, match=r"could not write .*manifest.json: the disk is full"):
        extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)
    monkeypatch.setattr(json, "dump", real_dump)
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    assert len(extract_to(tiny_bert, directory, TEXTS_IN, shard_size=4)) == len(TEXTS_IN)


def test_tokenizer_fingerprint_ignores_runtime_truncation_and_padding(minilm):
    # MiniLM's tokenizer.json carries truncation and padding settings, which transformers resets on first use.
    tokenizer = minilm.tokenizer
    before = tokenizer_digest(tokenizer)
    tokenizer(["a b c", "d"], padding="max_length", truncation=True, max_length=8)
    assert tokenizer.backend_tokenizer.truncation is not None
    assert tokenizer_digest(tokenizer) == before
    minilm.embed(["hello"])
    assert tokenizer_digest(tokenizer) == before


def _full_disk_after(monkeypatch, shards: int):
    """Make the shard write after the first ``shards`` fail as a full disk does."""
    real = safetensors.numpy.save_file
    calls = []

    def save(*args, **kwargs):
        calls.append(1)
        if len(calls) > shards:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(safetensors.numpy, "save_file", save)
    return real


@pytest.mark.parametrize("started_by", ["python", "cli"])
def test_a_store_started_one_way_resumes_the_other_and_in_the_same_process(minilm, tmp_path, monkeypatch, started_by):
    corpus = tmp_path / "texts.txt"
    corpus.write_text("\n".join(TEXTS_IN) + "\n", encoding="utf-8")
    directory = tmp_path / "s"
    cli = ["extract", "--model", "minilm", "--input", str(corpus), "--output", str(directory), "--device", "cpu",
           "--shard-size", "3", "--no-progress"]  # fmt: skip
    minilm.embed(["something first, which resets the tokenizer's truncation state"])
    real = _full_disk_after(monkeypatch, 1)
    if started_by == "python":
        with pytest.raises(OSError, match="disk is full"):
            extract_to(minilm, directory, corpus, shard_size=3)
        with pytest.raises(OSError, match="disk is full"):  # the same-process retry resumes (and fails again)
            extract_to(minilm, directory, corpus, shard_size=3)
        monkeypatch.setattr(safetensors.numpy, "save_file", real)
        assert main(cli) == 0
    else:
        assert main(cli) == 2
        monkeypatch.setattr(safetensors.numpy, "save_file", real)
        extract_to(minilm, directory, corpus, shard_size=3)
    store = open_store(directory)
    assert len(store) == len(TEXTS_IN) and store.verify() == []


def test_a_partial_open_names_the_damaged_shards_it_leaves_out(tiny_bert, tmp_path, monkeypatch, caplog):
    directory = tmp_path / "s"
    _full_disk_after(monkeypatch, 3)
    with pytest.raises(OSError, match="disk is full"):
        extract_to(tiny_bert, directory, TEXTS_IN, shard_size=2)
    arrays = directory / SHARDS / shard_name(1) / ARRAYS
    arrays.write_bytes(arrays.read_bytes()[:100])
    with caplog.at_level("WARNING", logger="ctxemb.store.reader"):
        store = open_store(directory, partial=True)
    assert len(store) == 4 and f"leaves out the damaged shard {directory / SHARDS / shard_name(1)}" in caplog.text
    assert any(f"{shard_name(1)}/{ARRAYS}: 100 bytes" in p for p in store.verify())
    assert main(["store", "verify", str(directory)]) == 1


def test_a_resumed_complete_store_is_running_until_its_shards_are_checked(tiny_bert, tmp_path, monkeypatch):
    directory = tmp_path / "s"
    extract_to(tiny_bert, directory, TEXTS_IN, shard_size=2)
    (directory / SHARDS / shard_name(2) / TEXTS).unlink()
    _full_disk_after(monkeypatch, 0)  # the damaged shard is removed, then cannot be written again
    with pytest.raises(OSError, match="disk is full"):
        extract_to(tiny_bert, directory, TEXTS_IN, shard_size=2)
    assert json.loads((directory / MANIFEST).read_text())["status"] == "running"
    with pytest.raises(ValueError, match="has not finished"):
        open_store(directory)


def test_a_store_with_the_older_column_names_still_reads(tiny_bert, tmp_path):
    import pyarrow as pa

    directory = tmp_path / "s"
    fresh = extract_to(tiny_bert, directory, TEXTS_IN[:3], shard_size=4)
    expected = [t.tokens for t in fresh]
    path = directory / SHARDS / shard_name(0) / TEXTS
    table = pa.ipc.open_stream(path.read_bytes()).read_all()  # in memory: the file is rewritten below
    old = table.rename_columns(["pieces" if n == "tokens" else n for n in table.column_names])
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, old.schema) as writer:
        writer.write_table(old)
    manifest = json.loads((directory / MANIFEST).read_text())  # as a version 1 store: no file records
    manifest["version"] = 1
    for entry in manifest["shards"]:
        del entry["files"]
    (directory / MANIFEST).write_text(json.dumps(manifest))
    (directory / SHARDS / shard_name(0) / "files.json").unlink()
    assert [t.tokens for t in open_store(directory)] == expected
    assert open_store(directory).verify() == []
    assert open_store(directory).to_dataset()["tokens"] == expected  # the older column, under its new name


def test_an_export_file_of_a_newer_format_is_refused(tiny_bert, tmp_path):
    from safetensors.numpy import save_file

    from ctxemb.export import load_extraction, save_extraction

    path = tmp_path / "x.safetensors"
    save_extraction(path, tiny_bert.embed(["a b"]), "word", "mean", "tiny")
    assert load_extraction(path).text_ptr.tolist() == [0, 2]
    save_file({"vectors": np.zeros((1, 1, 1), dtype=np.float32)}, str(path), metadata={"format": "ctxemb-extract",
              "version": "9"})  # fmt: skip
    with pytest.raises(ValueError, match="format version '9'; this ctxemb reads up to 2"):
        load_extraction(path)
