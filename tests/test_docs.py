"""The documentation site: every Python block of every page runs, and the built pages render in a browser.

Each page's ```python blocks run in order, in one namespace per page, in a scratch directory. The files the blocks
name are made there first from data that exists offline, as for the README: ``corpus.txt`` and ``held_out.txt``
from the bundled corpus, ``news.txt`` from gensim's ``lee_background.cor`` (news text),
``en_ewt-ud-dev.conllu`` from the CoNLL-U fixture of the tests, ``vectors.safetensors`` by ``ctxemb extract``.
Nothing is downloaded: the blocks use the bundled ``"minilm"`` or tiny checkpoints.

The browser test builds the site into a scratch directory, opens two pages in headless Chromium (skipped where
there is none) and keeps screenshots in ``docs/_build/screenshots/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser import find_browser

from ctxemb.cli import main
from ctxemb.testing import corpus_path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FIXTURE = Path(__file__).parent / "data" / "en_fixture.conllu"
SCREENSHOTS = DOCS / "_build" / "screenshots"

#: Pages whose blocks take more than a few seconds (training, probing, sampling a corpus).
SLOW_PAGES = {"guides/layers.md", "guides/polysemy.md", "guides/static.md", "guides/stores.md", "guides/tokenizers.md"}

FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def pages() -> list[str]:
    """Every Markdown page of the site, as a path relative to docs/."""
    return sorted(
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if not {"_build", "_inventories"} & set(path.relative_to(DOCS).parts)
    )


def python_blocks(page: str) -> list[tuple[int, str]]:
    """The ```python blocks of a page, each with the line it starts on."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in FENCE.finditer(text)]


def make_named_files(code: str) -> None:
    """Make, in the current directory, the input files that ``code`` names (only those: each costs time)."""
    from gensim.test.utils import datapath

    if "corpus.txt" in code or "held_out.txt" in code or "vectors.safetensors" in code:
        lines = corpus_path().read_text(encoding="utf-8").splitlines()
        Path("corpus.txt").write_text("\n".join(lines[:400]) + "\n", encoding="utf-8")
        Path("held_out.txt").write_text("\n".join(lines[400:]) + "\n", encoding="utf-8")
    if "news.txt" in code:
        shutil.copy(datapath("lee_background.cor"), "news.txt")
    if "en_ewt-ud-dev.conllu" in code:
        shutil.copy(FIXTURE, "en_ewt-ud-dev.conllu")
    if "vectors.safetensors" in code:
        argv = ["extract", "--input", "held_out.txt", "--output", "vectors.safetensors", "--device", "cpu"]
        assert main([*argv, "--no-progress"]) == 0


def test_the_site_has_the_pages_the_readme_links_to():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(docs/([^)#]+\.md)", readme))
    assert linked, "the README links to no page of the site"
    assert linked <= set(pages()), sorted(linked - set(pages()))


def test_the_design_notes_map_every_module():
    design = (DOCS / "design.md").read_text(encoding="utf-8")
    package = ROOT / "ctxemb"
    missing = sorted(
        path.relative_to(package).as_posix() for path in package.rglob("*.py") if f"`{path.name}`" not in design
    )
    assert missing == [], f"modules missing from the module map of docs/design.md: {missing}"


def test_the_api_reference_documents_every_top_level_name():
    import ctxemb

    page = (DOCS / "api" / "ctxemb.md").read_text(encoding="utf-8")
    names = [name for name in ctxemb.__all__ if not name.startswith("_")]
    assert [name for name in names if f":: {name}\n" not in page] == []


def test_the_pages_have_python_blocks():
    assert sum(len(python_blocks(page)) for page in pages()) >= 20
    for page in ("getting-started.md", "guides/extraction.md", "guides/stores.md"):
        assert python_blocks(page), page


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=pytest.mark.slow) if p in SLOW_PAGES else p for p in pages() if python_blocks(p)],
)
def test_every_python_block_of_the_page_runs(page, tmp_path, monkeypatch, one_torch_thread):
    # one torch thread (conftest): on a shared 2-core machine torch's default of two spins against other work and
    # the heavy pages (distilling, sampling a corpus) take several times longer
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(page)
    make_named_files("\n".join(code for _, code in blocks))
    namespace: dict[str, object] = {"__name__": "docs"}
    for number, (line, code) in enumerate(blocks, 1):
        try:
            exec(compile(code, f"docs/{page}:{line}", "exec"), namespace)
        except Exception as error:  # name the page and the block, not just the line inside it
            raise AssertionError(
                f"docs/{page}, python block {number} (line {line}) failed: {type(error).__name__}: {error}\n{code}"
            ) from error


def _chromium(browser: str, *args: str) -> str:
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _text(dom: str) -> str:
    """What a page says, without its tags (code blocks are split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", dom))


def _not_flat(png: Path) -> None:
    assert png.is_file() and png.stat().st_size > 0, png
    try:
        from PIL import Image
    except ImportError:  # no Pillow: a page of one colour compresses to far less than this
        assert png.stat().st_size > 10_000, png
        return
    with Image.open(png) as image:
        assert image.size == (1280, 1600), image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 16, f"{png} is (nearly) one flat colour"


@pytest.mark.slow
def test_the_built_site_renders_in_a_browser(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH")
    site = tmp_path / "html"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CTXEMB_DOCS_OFFLINE": "1"}
    build = [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"), str(DOCS), str(site)]
    done = subprocess.run(build, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]

    start = _chromium(browser, "--dump-dom", (site / "getting-started.html").as_uri())
    assert "<title>Getting started - ctxemb" in start and "<h1>Getting started<" in start
    assert "pip install ctxemb" in _text(start)  # the highlighted install command, as a reader sees it

    api = _chromium(browser, "--dump-dom", (site / "api" / "ctxemb.html").as_uri())
    assert "sig sig-object" in api
    assert 'id="ctxemb.Extractor.from_pretrained"' in api
    assert "name_or_path" in api  # the signature's parameters are rendered

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, page in (("getting-started", site / "getting-started.html"), ("api", site / "api" / "ctxemb.html")):
        png = SCREENSHOTS / f"{name}.png"
        png.unlink(missing_ok=True)
        _chromium(browser, f"--screenshot={png}", "--window-size=1280,1600", page.as_uri())
        _not_flat(png)
