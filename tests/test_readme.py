"""The README as a user meets it: every Python block and every ``ctxemb`` line runs, from a scratch directory;
the README stays short and nothing in the repository points outside it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ctxemb.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks need no file of the user's
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


def cli_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("ctxemb ")]


@pytest.mark.slow
def test_every_cli_line_of_the_readme_runs(tmp_path, monkeypatch, tiny_bert_dir):
    """Each ``ctxemb ...`` line as written, from a scratch directory, on the inputs the README says where to find."""
    import json
    import shlex

    from gensim.test.utils import datapath

    monkeypatch.chdir(tmp_path)
    lines = Path(datapath("lee_background.cor")).read_text(encoding="utf-8").splitlines()
    Path("texts.txt").write_text("\n".join(lines[:120]) + "\n", encoding="utf-8")  # the README's file, cut short
    Path("data.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in lines[:20]), encoding="utf-8")
    shutil.copytree(tiny_bert_dir, "my-bert")
    commands = cli_lines()
    assert len(commands) >= 5
    for line in commands:
        args = shlex.split(line)[1:]
        if args[0] == "extract":
            args += ["--no-progress"]
        assert main(args) == 0, f"README line failed: {line}"
    assert Path("vectors.safetensors").is_file() and Path("store/manifest.json").is_file()
    assert Path("glove.txt").is_file()
