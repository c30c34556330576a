"""Notebook views: every public result, report, probe and loaded file has a short repr that says what it holds."""

from __future__ import annotations

import re

import numpy as np

import ctxemb
from ctxemb.analysis import LayerGeometry, LayerProbe, LayerReport, PolysemyProbe, PolysemyReport
from ctxemb.analysis.polysemy import ProbeRow, load_data
from ctxemb.static import GloVe, Word2Vec

ADDRESS = re.compile(r"object at 0x[0-9a-f]+")


def check(obj: object, *expected: str, limit: int = 400) -> None:
    text = repr(obj)
    assert len(text) <= limit, f"{type(obj).__name__} repr is {len(text)} characters: {text[:200]}..."
    assert not ADDRESS.search(text), text
    for part in expected:
        assert part in text, (part, text)


def test_data_and_probes():
    data = load_data("bundled")
    check(data, "ProbeData(bundled: 728 occurrences of 44 words, 91 senses")
    check(PolysemyProbe(), "PolysemyProbe(", "postprocess='none'", "cluster=")
    check(LayerGeometry(), "LayerGeometry(", "samples=1000", "units='words'")
    check(LayerProbe(), "LayerProbe(", "folds=5")
    check(Word2Vec(), "Word2Vec(dim=100")
    check(GloVe(), "GloVe(dim=300")
    check(ctxemb.ScalarMix(3), "ScalarMix(")


def test_reports():
    rows = [ProbeRow("m", f"layer{k}", k, metric, 0.5, 10) for k in range(13) for metric in ("1-NN", "ARI", "WiC")]
    report = PolysemyReport(rows, data_name="bundled")
    check(report, "data='bundled'", "models=['m']", "representations=13", "metrics=3")
    big = np.zeros((13, 13))
    layer_report = LayerReport("minilm", "news.txt", [("anisotropy", k, 0.1) for k in range(13)], cka={"within": big})
    check(layer_report, "model='minilm'", "anisotropy", "cka=['within']")


def test_results(tiny_bert, tmp_path):
    from ctxemb.export import load_extraction, save_extraction

    results = tiny_bert.embed(["One text here."] * 50)
    check(tiny_bert, "Extractor(")
    check(results[0], "Embedding('One text here.'", "layers=[0, 1, 2, 3]")
    save_extraction(tmp_path / "v.safetensors", results, "word", "mean", "tiny")
    check(load_extraction(tmp_path / "v.safetensors"), "texts=50", "dim=32")
    store = ctxemb.extract_to(tiny_bert, tmp_path / "store", ["a text", "another"])
    check(store, "Store(")
    check(store[0], "StoredText(")


def test_repr_is_not_the_data(tiny_bert):
    check(tiny_bert.embed(["word " * 300])[0], "tokens=302")
