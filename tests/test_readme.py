"""Every Python block of the README runs, in order, in one namespace, in a scratch directory.

The files the blocks name are made here from data that exists offline: ``corpus.txt`` and ``held_out.txt`` from
the bundled corpus, ``news.txt`` from gensim's ``lee_background.cor`` (news text, as the README says),
``en_ewt-ud-dev.conllu`` from the CoNLL-U fixture of the tests, ``vectors.safetensors`` by ``ctxemb extract``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ctxemb.cli import main
from ctxemb.testing import corpus_path

README = Path(__file__).resolve().parents[1] / "README.md"
FIXTURE = Path(__file__).parent / "data" / "en_fixture.conllu"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.mark.slow
def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    from gensim.test.utils import datapath

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lines = corpus_path().read_text(encoding="utf-8").splitlines()
    Path("corpus.txt").write_text("\n".join(lines[:400]) + "\n", encoding="utf-8")
    Path("held_out.txt").write_text("\n".join(lines[400:]) + "\n", encoding="utf-8")
    shutil.copy(datapath("lee_background.cor"), "news.txt")
    shutil.copy(FIXTURE, "en_ewt-ud-dev.conllu")
    assert main(["extract", "--input", "held_out.txt", "--output", "vectors.safetensors", "--device", "cpu",
                 "--no-progress"]) == 0  # fmt: skip
    blocks = python_blocks()
    assert len(blocks) >= 1
    namespace: dict[str, object] = {"__name__": "readme"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as error:  # name the block, not just the line inside it
            raise AssertionError(f"README python block {i} failed: {type(error).__name__}: {error}\n{block}") from error


OUTSIDE = ("../" + "shared", "shared/" + "DESIGN")  # spelt in two parts so that this file does not match


def test_the_readme_is_short_and_nothing_points_outside_the_repository():
    root = README.parent
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200
    outside = []
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if not path.is_file() or parts[0] in {".venv", ".git", "dist", "build"} or "_build" in parts:
            continue
        if path.suffix in {".py", ".md", ".toml", ".txt", ".cfg", ".yml", ".yaml", ".cff", ""} and path.stat().st_size:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if any(mark in text for mark in OUTSIDE):
                outside.append(str(path.relative_to(root)))
    assert outside == [], outside
