"""The polysemy probe end to end on MiniLM and the bundled set (embedded once), and its command line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ctxemb.analysis.polysemy import PolysemyProbe, default_static_vectors, load_bundled, prepare
from ctxemb.analysis.polysemy.loaders import bundled_path
from ctxemb.cli import main


@pytest.fixture(scope="module")
def bundled():
    return prepare(load_bundled())


@pytest.fixture(scope="module")
def embedded(minilm, bundled):
    """``(layers, n, dim)`` span vectors of the bundled set on every MiniLM layer, and the layer numbers."""
    return PolysemyProbe().embed(minilm, bundled)


@pytest.fixture(scope="module")
def word2vec():
    return default_static_vectors()  # the session's shared cache (conftest.py)


@pytest.fixture(scope="module")
def report(bundled, embedded, word2vec):
    vectors, layers = embedded
    probe = PolysemyProbe(mixes=("mean", "concat"))
    return probe.score(bundled, vectors, layers, static={"word2vec": word2vec}, model_name="minilm")


def test_every_contextual_layer_beats_mfs_and_static_baselines(report):
    layers, knn = report.layer_values("knn_accuracy")
    assert layers == list(range(7))
    mfs = report.value("knn_accuracy", "most frequent sense")
    statics = {r: report.value("knn_accuracy", r) for _, r in report.representations() if r.startswith("static")}
    assert set(statics) == {"static target", "static context"}
    for layer, accuracy in zip(layers[1:], knn[1:]):
        assert accuracy > mfs, f"layer {layer}: 1-NN {accuracy:.3f} <= MFS {mfs:.3f}"
        for name, value in statics.items():
            assert accuracy > value, f"layer {layer}: 1-NN {accuracy:.3f} <= {name} {value:.3f}"


def test_other_probes_separate_senses_above_baselines(report):
    context = "static context"
    for metric in ("centroid_accuracy", "ari", "nmi", "wic_accuracy"):
        _, values = report.layer_values(metric)
        assert max(values) > report.value(metric, context) + 0.05, metric
    assert report.value("centroid_accuracy", "layer4") > report.value("centroid_accuracy", "most frequent sense")
    # layer 0 has no context: every occurrence of a word is nearly the same vector
    assert report.value("sense_gap", "layer0") < 0.01 < report.value("sense_gap", "layer3")
    assert report.value("self_similarity", "layer0") > report.value("self_similarity", "layer6")
    assert report.skipped_words == ()


def test_report_files(report, tmp_path):
    rows = list(csv.DictReader(open(report.to_csv(tmp_path / "p.csv"), encoding="utf-8")))
    assert len(rows) == len(report.rows)
    assert {"model", "representation", "layer", "metric", "value", "n"} <= set(rows[0])
    document = json.loads(report.to_json(tmp_path / "p.json").read_text(encoding="utf-8"))
    assert document["data"] == "bundled" and "knn_accuracy" in document["metrics"]
    png = report.plot(tmp_path / "p.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    table = report.table()
    assert "static context (word2vec)" in table and "mix concat" in table


@pytest.mark.parametrize("method", ["abtt", "standardize"])
def test_postprocessing_changes_cosines_not_the_conclusion(bundled, embedded, word2vec, report, method):
    vectors, layers = embedded
    processed = PolysemyProbe(layers=layers, mixes=(), postprocess=method).score(
        bundled, vectors, layers, static={"word2vec": word2vec}
    )
    assert processed.value("within_sense", "layer3") < report.value("within_sense", "layer3")
    _, knn = processed.layer_values("knn_accuracy")
    assert min(knn[1:]) > processed.value("knn_accuracy", "static context")


@pytest.fixture
def small_jsonl(tmp_path):
    lines = bundled_path().read_text(encoding="utf-8").splitlines()
    chosen = [line for line in lines if json.loads(line)["word"] in ("bank", "book")]
    path = tmp_path / "two_words.jsonl"
    path.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return path


def test_cli_probe_polysemy(small_jsonl, tmp_path, capsys):
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(3)
    keyed.add_vectors(["bank", "book", "river"], np.eye(3, dtype=np.float32))
    keyed.save(str(tmp_path / "tiny.kv"))  # gensim's pickle: refused unless --allow-pickle
    keyed.save_word2vec_format(str(tmp_path / "tiny.bin"), binary=True)
    out = tmp_path / "out"
    args = ["probe", "polysemy", "--data", str(small_jsonl), "--layers", "0,-1", "--mix", "mean,concat"]
    assert main([*args, "--static", str(tmp_path / "tiny.kv"), "--device", "cpu", "--output", str(out)]) == 2
    assert "tiny.kv is a Python pickle" in capsys.readouterr().err
    assert main([*args, "--static", str(tmp_path / "tiny.bin"), "--device", "cpu", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "static target (tiny)" in printed and "mix concat" in printed
    rows = [line.split() for line in printed.splitlines() if line.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["0", "6"]
    assert {p.name for p in out.iterdir()} == {"polysemy.csv", "polysemy.json", "polysemy.png"}


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert main(["probe", "polysemy", "--data", "semcor", "--output", str(tmp_path)]) == 2
    assert "unknown data spec 'semcor'" in capsys.readouterr().err
    assert main(["probe", "polysemy", "--mix", "median", "--output", str(tmp_path)]) == 2
    assert "--mix 'median'" in capsys.readouterr().err
    assert main(["probe", "polysemy", "--static", "nowhere.kv", "--output", str(tmp_path)]) == 2
    assert "--static 'nowhere.kv'" in capsys.readouterr().err


def test_demo_prints_layers_and_points_to_the_plot(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--device", "cpu", "--layers", "0,1", "--static", "none", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = [line.split() for line in printed.splitlines() if line[:5].strip().isdigit()]
    assert [int(r[0]) for r in rows] == [0, 1]
    assert float(rows[1][3]) > float(rows[0][3])  # the gap column: context separates senses at layer 1
    assert f"plot: {out / 'polysemy.png'}" in printed
    assert (out / "polysemy.png").is_file()
    assert f"explorer page (open in a browser): {out / 'explore.html'}" in printed
    assert (out / "explore.html").stat().st_size > 100_000  # BokehJS inlined
