"""Every script in ``examples/`` runs, with small arguments, on a tiny checkpoint or the bundled MiniLM.

Each runs as its users run it (``python examples/NAME.py ...``) in a fresh interpreter, in a scratch directory;
the checks are on what each script prints and writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str | Path, cwd: Path) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # XDG_CACHE_HOME: the session's shared cache (conftest.py)
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_example_is_tested():
    tested = {
        "word_similarity_by_layer.py",
        "polysemy_probe.py",
        "static_vs_contextual.py",
        "train_tiny_model.py",
        "encoder_vs_decoder.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_word_similarity_by_layer(tmp_path, tiny_bert_dir):
    out = run_example("word_similarity_by_layer.py", "--model", tiny_bert_dir, cwd=tmp_path)
    rows = [r for r in (line.split() for line in out.splitlines()) if len(r) == 3 and r[0].isdigit()]
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3]  # one row per layer of the tiny BERT (3 blocks + embeddings)
    assert all(-1.0 <= float(x) <= 1.0 for r in rows for x in r[1:])


@pytest.mark.slow
def test_polysemy_probe(tmp_path, tiny_bert_dir):
    run_example("polysemy_probe.py", "--model", tiny_bert_dir, "--output", tmp_path / "out", cwd=tmp_path)
    written = {p.suffix for p in (tmp_path / "out").iterdir()}
    assert written == {".csv", ".png"}


@pytest.mark.slow
def test_static_vs_contextual(tmp_path, tiny_bert_dir):
    from gensim.test.utils import datapath

    lines = Path(datapath("lee_background.cor")).read_text(encoding="utf-8").splitlines()
    (tmp_path / "corpus.txt").write_text("\n".join(lines[:60]) + "\n", encoding="utf-8")  # 12k of its 60k words
    out = run_example(
        "static_vs_contextual.py",
        *("--model", tiny_bert_dir, "--occurrences", "1", "--max-words", "12", "--dim", "8", "--glove-epochs", "1"),
        *("--corpus", tmp_path / "corpus.txt", "--output", tmp_path / "out"),
        cwd=tmp_path,
    )
    assert (tmp_path / "out" / "static_vs_contextual.csv").is_file()
    table = out[out.index("model ") :]
    assert "minilm/layer3 " in table and "minilm-alone/layer3 " in table and "minilm-alone/input" not in table
    assert "100%" in table.split("minilm-alone/layer0", 1)[1].splitlines()[0]  # alone: every task word
    assert "(best in context)" in out and "(best alone)" in out and "one-hot (the floor)" in out


@pytest.mark.slow
def test_train_tiny_model(tmp_path):
    corpus = tmp_path / "corpus.txt"
    from ctxemb.testing import corpus_path

    corpus.write_text(corpus_path().read_text(encoding="utf-8"), encoding="utf-8")
    out = run_example(
        "train_tiny_model.py",
        *("--family", "bert", "--corpus", corpus, "--output", tmp_path / "run", "--vocab-size", "300"),
        *("--hidden", "32", "--layers", "2", "--heads", "2", "--minutes", "0.1", "--threads", "1"),
        cwd=tmp_path,
    )
    assert (tmp_path / "run" / "config.json").is_file(), out


@pytest.mark.slow
def test_encoder_vs_decoder(tmp_path):
    out = run_example("encoder_vs_decoder.py", "--encoder", "tiny-bert", "--decoder", "tiny-qwen2", cwd=tmp_path)
    assert "encoder: tiny-bert (bert, 3 blocks)" in out and "decoder: tiny-qwen2 (qwen2, 3 blocks)" in out
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| 0.") or line.startswith("| 1.")]
    assert [float(r[0]) for r in rows] == pytest.approx([0, 1 / 3, 2 / 3, 1], abs=0.01)  # both have 3 blocks
    assert all(0.0 <= float(c) <= 1.0 for r in rows for c in (r[1], r[3], r[4], r[6]))  # accuracies
