"""Stores written by separate processes: a run killed with SIGKILL and resumed, and a 2-process accelerate launch."""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
import traceback

import pytest
from stores import assert_same_store

from ctxemb.store import extract_to, open_store
from ctxemb.store.shards import SHARDS, shard_metadata

SETTINGS = ["--vectors", "token,word,sentence", "--store-dtype", "float16", "--no-progress", "--device", "cpu"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _reference(extractor, corpus, output, shard_size: int):
    """The uninterrupted one-process run, in this process, with the settings of ``SETTINGS``."""
    vectors = ("token", "word", "sentence")
    return extract_to(extractor, output, corpus, vectors=vectors, dtype="float16", shard_size=shard_size)


def _env() -> dict[str, str]:
    # One thread per process: the same kernels in every run, and no spinning threads on a shared machine.
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def corpus_file(corpus_lines, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    lines = [f"{line} ({copy})" for copy in range(2) for line in corpus_lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _command(model, corpus, output, shard_size: int) -> list[str]:
    return [sys.executable, "-m", "ctxemb", "extract", "--model", str(model), "--input", str(corpus), "--output",
            str(output), "--shard-size", str(shard_size), *SETTINGS]  # fmt: skip


def _complete(directory) -> list[str]:
    root = directory / SHARDS
    return sorted(p.name for p in root.iterdir() if p.name.isdigit()) if root.is_dir() else []


def _extract_then_exit(extractor, corpus, output, shard_size: int) -> None:
    """The run to kill, in a forked child (the parent's model, no import): ``os._exit`` skips pytest's atexit."""
    code = 1
    try:
        _reference(extractor, corpus, output, shard_size)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork and SIGKILL")
def test_killed_run_resumes_to_the_same_store(tiny_bert, corpus_file, tmp_path, caplog):
    # A forked child runs the extraction and is killed with SIGKILL once a random number of shards are complete,
    # after a random further delay (so it may die in the middle of a shard, or of writing one).
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    total = -(-len(corpus_file.read_text(encoding="utf-8").splitlines()) // 25)
    wanted, delay = rng.randint(1, total // 3), rng.uniform(0.0, 0.05)
    killed = tmp_path / "killed"
    process = multiprocessing.get_context("fork").Process(
        target=_extract_then_exit, args=(tiny_bert, corpus_file, killed, 25)
    )
    process.start()
    deadline = time.monotonic() + 120
    while len(_complete(killed)) < wanted and process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(delay)
    still_running = process.is_alive()
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    assert still_running, f"the run ended before it could be killed (seed {seed}, exit code {process.exitcode})"
    assert process.exitcode == -signal.SIGKILL
    kept = _complete(killed)
    assert wanted <= len(kept) < total, f"seed {seed}: {len(kept)} of {total} shards"
    with pytest.raises(ValueError, match="has not finished"):
        open_store(killed)
    with caplog.at_level(logging.INFO, logger="ctxemb.store"):
        store = _reference(tiny_bert, corpus_file, killed, 25)
    assert f"{len(kept)} complete shards are kept" in caplog.text
    assert len(store) == len(corpus_file.read_text(encoding="utf-8").splitlines())
    assert not [p for p in (killed / SHARDS).iterdir() if not p.name.isdigit()]  # no temporary left
    assert_same_store(open_store(killed), _reference(tiny_bert, corpus_file, tmp_path / "reference", 25))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_accelerate_launch_equals_one_process(tiny_bert, tiny_bert_dir, corpus_lines, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines[:230]) + "\n", encoding="utf-8")
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(_free_port()), "-m"]  # fmt: skip
    two = subprocess.run(
        [*launch, *_command(tiny_bert_dir, corpus, tmp_path / "two", 40)[2:]],
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stderr.count("wrote the store") == 2  # both processes took part
    merged = open_store(tmp_path / "two")
    assert len(merged) == 230 and len(merged.manifest["shards"]) == 6
    ranks = [shard_metadata(tmp_path / "two" / SHARDS / entry["name"])["rank"] for entry in merged.manifest["shards"]]
    assert ranks == ["0 of 2", "1 of 2"] * 3
    assert_same_store(merged, _reference(tiny_bert, corpus, tmp_path / "one", 40))
