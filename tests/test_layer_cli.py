"""``ctxemb geometry`` and ``ctxemb probe pos`` on tiny checkpoints: files, numbers equal to the library's, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctxemb import Extractor
from ctxemb.analysis import LayerGeometry, LayerReport, read_conllu, read_corpus
from ctxemb.cli import main
from ctxemb.testing import corpus_path

FIXTURE = Path(__file__).parent / "data" / "en_fixture.conllu"


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    lines = [line for line in corpus_path().read_text(encoding="utf-8").splitlines() if line.strip()][:120]
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_layers_cli_two_models(tiny_dir, small_corpus, tmp_path, capsys):
    bert, gpt2 = tiny_dir("bert"), tiny_dir("gpt2")
    options = ["--samples", "40", "--min-contexts", "3", "--max-words", "30", "--cka-samples", "200", "--seed", "1"]
    options += ["--metrics", "anisotropy,selfsim,rogue,cka"]
    argv = ["geometry", "--model", str(bert), "--model", str(gpt2), "--corpus", str(small_corpus)]
    assert main([*argv, *options, "--device", "cpu", "--no-progress", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| model | layer | anisotropy |" in out and "| gpt2 | 3 |" in out
    for name in ("layers-bert.csv", "layers-gpt2.json", "layers.md", "layer_curves.png", "cka.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    first = LayerReport.from_json(tmp_path / "layers-bert.json")
    second = LayerReport.from_json(tmp_path / "layers-gpt2.json")
    assert set(second.cka) == {"within", "vs bert"} and second.cka["vs bert"].shape == (4, 4)
    metrics = ("anisotropy", "selfsim", "rogue", "cka")
    geometry = LayerGeometry(metrics, samples=40, min_contexts=3, max_words=30, cka_samples=200, seed=1)
    direct = geometry.run(Extractor.from_pretrained(bert, device="cpu"), read_corpus(small_corpus))
    assert [(m, k) for m, k, _ in first.rows] == [(m, k) for m, k, _ in direct.rows]
    np.testing.assert_allclose([v for *_, v in first.rows], [v for *_, v in direct.rows], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(first.cka["within"], direct.cka["within"], rtol=1e-5, atol=1e-7)


def test_layers_cli_metric_choice_and_errors(tiny_dir, small_corpus, tmp_path, capsys):
    base = ["layers", "--model", str(tiny_dir("bert")), "--device", "cpu", "--no-progress", "--output", str(tmp_path)]
    assert main([*base, "--corpus", str(small_corpus), "--metrics", "anisotropy,norms", "--samples", "30"]) == 0
    report = LayerReport.from_json(tmp_path / "layers-bert.json")
    assert report.metrics == ["anisotropy", "norm_mean", "norm_std"] and not report.cka
    assert not (tmp_path / "cka.png").exists()
    capsys.readouterr()
    assert main([*base, "--corpus", str(small_corpus), "--metrics", "anisotropy,entropy"]) == 2
    assert "--metrics 'entropy'" in capsys.readouterr().err
    few = tmp_path / "few.txt"
    few.write_text("One short text.\nAnother short text.\nA third.\n", encoding="utf-8")
    assert main([*base, "--corpus", str(few), "--samples", "10"]) == 2
    assert "few.txt has 3 non-empty texts" in capsys.readouterr().err  # checked before the model loads


def test_probe_layers_cli(tiny_dir, tmp_path, capsys):
    argv = ["probe", "pos", "--model", str(tiny_dir("bert")), "--conllu", str(FIXTURE), "--folds", "2"]
    argv += ["--max-sentences", "20", "--mix-iter", "50"]
    assert main([*argv, "--device", "cpu", "--no-progress", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    sentences = read_conllu(FIXTURE)[:20]
    upos = [tag for s in sentences for tag in s.upos]
    assert f"UPOS probe: bert on en_fixture.conllu (20 sentences, {len(upos)} words)" in out
    assert "centre of gravity" in out and "Centre of gravity in each fold: " in out
    result = json.loads((tmp_path / "probe.json").read_text(encoding="utf-8"))
    assert result["layers"] == [0, 1, 2, 3] and len(result["selectivity"]) == 4
    assert sum(result["mix_weights"]) == pytest.approx(1.0, abs=1e-5)
    assert result["classes"] == sorted(set(upos))
    assert result["majority"] == pytest.approx(max(upos.count(t) for t in upos) / len(upos))
    assert (tmp_path / "probe.png").stat().st_size > 0 and (tmp_path / "probe.md").exists()


def test_probe_layers_cli_errors(tiny_dir, tmp_path, capsys):
    base = ["probe", "layers", "--model", str(tiny_dir("bert")), "--device", "cpu", "--no-progress"]
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = Hi there\n1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n2 there _ ADV\n\n", encoding="utf-8")
    assert main([*base, "--conllu", str(bad), "--output", str(tmp_path / "o")]) == 2
    assert f"{bad}:3: expected 10 tab-separated fields" in capsys.readouterr().err
    single = tmp_path / "single.conllu"
    rows = [
        f"# text = s{i}\n1\tcat{i}\t_\tNOUN\t_\t_\t0\troot\t_\t_\n2\tdog\t_\tNOUN\t_\t_\t1\tobj\t_\t_\n"
        for i in range(6)
    ]
    single.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main([*base, "--conllu", str(single), "--folds", "2", "--output", str(tmp_path / "o")]) == 2
    assert "at least two classes; all 12 items are labelled 'NOUN'" in capsys.readouterr().err
