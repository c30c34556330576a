"""The explorer page: projections, the points it draws, one self-contained HTML file, ``ctxemb explore``, and the
page itself in a real headless Chromium (word picker, layer slider, hover text)."""

from __future__ import annotations

import importlib.util
import json
import re
import time

import numpy as np
import pytest
from browser import FIND_DEEP, chrome_driver

from ctxemb.analysis import LayerProbe, LayerReport
from ctxemb.analysis.explorer import occurrence_points, project, write_page
from ctxemb.analysis.explorer.points import highlight
from ctxemb.analysis.explorer.projection import align, check_projection, project_series
from ctxemb.analysis.polysemy import Occurrence, PolysemyProbe, ProbeData, load_data
from ctxemb.analysis.polysemy.report import ProbeVectors
from ctxemb.cli import main
from ctxemb.extras import MissingExtraError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _toy(seed: int = 0) -> tuple[ProbeData, np.ndarray]:
    """Two words: ``bank`` with two senses (apart in the last layer only), ``spring`` without senses, in two
    clear groups; vectors ``(3 layers, 16, 8)``."""
    rng = np.random.default_rng(seed)
    occurrences, vectors = [], rng.normal(scale=0.1, size=(3, 16, 8))
    for i in range(8):
        sense = "bank.river" if i < 4 else "bank.money"
        text = f"Item {i}: the <b>bank</b> & more."
        start = text.index("bank")
        occurrences.append(Occurrence(text, (start, start + 4), "bank", sense, split="train" if i % 2 else "test"))
        vectors[2, i, 0] += 3.0 if i < 4 else -3.0
    for i in range(8):
        text = f"A spring {i} here."
        occurrences.append(Occurrence(text, (2, 8), "spring"))
        vectors[:, 8 + i, 1] += 3.0 if i < 4 else -3.0
    return ProbeData(tuple(occurrences), name="toy"), vectors.astype(np.float32)


def test_pca_finds_the_direction_of_most_variance():
    rng = np.random.default_rng(0)
    t = np.linspace(-1, 1, 30)
    direction = rng.normal(size=16)
    x = np.outer(t, direction) + rng.normal(scale=0.01, size=(30, 16))
    coords, note = project(x)
    assert coords.shape == (30, 2)
    assert abs(np.corrcoef(coords[:, 0], t)[0, 1]) > 0.999
    assert note.startswith("PC1 100%") or note.startswith("PC1 99%"), note
    for shape in ((16, 40), (60, 5)):  # fewer occurrences than dimensions, and more: NumPy's SVD as the reference
        x = rng.normal(size=shape) * np.linspace(3.0, 0.1, shape[1])
        centred = x - x.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        coords, note = project(x)
        np.testing.assert_allclose(np.abs(coords), np.abs(centred @ vt[:2].T), atol=1e-8)
        share = s**2 / np.sum(s**2)
        assert note == f"PC1 {share[0]:.0%}, PC2 {share[1]:.0%} of the variance"


def test_alignment_undoes_a_rotation_and_a_reflection_and_keeps_distances():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(12, 2))
    angle = np.deg2rad(70)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1.0, -1.0])
    aligned = align(points @ turn + 5.0, points)
    np.testing.assert_allclose(aligned, points - points.mean(axis=0), atol=1e-9)
    series, notes = project_series([rng.normal(size=(10, 6)) for _ in range(3)])
    assert [np.abs(s).max() for s in series] == pytest.approx([1.0, 1.0, 1.0]) and len(notes) == 3


def test_few_or_identical_points_are_placed_without_fitting():
    assert project(np.ones((1, 4)))[0].tolist() == [[0.0, 0.0]]
    assert project(np.eye(2, 4))[0][:, 0].tolist() == [-1.0, 1.0]
    assert not project(np.ones((5, 4)))[0].any()


def test_projection_names_and_libraries_are_checked():
    with pytest.raises(ValueError, match="unknown projection 'mds'; choose one of pca, umap, tsne"):
        check_projection("mds")
    if importlib.util.find_spec("umap") is None:
        with pytest.raises(MissingExtraError, match="pip install umap-learn"):
            check_projection("umap")
    coords, note = project(np.random.default_rng(0).normal(size=(20, 5)), "tsne")
    assert coords.shape == (20, 2) and np.isfinite(coords).all() and "t-SNE" in note


def test_hover_text_is_escaped_and_marks_the_target():
    text = "Fish & <chips> by the bank, " + "and so on " * 40
    start = text.index("bank")
    marked = highlight(Occurrence(text, (start, start + 4), "bank"))
    assert marked.startswith("Fish &amp; &lt;chips&gt; by the <mark>bank</mark>, ")
    assert marked.endswith("…") and len(marked) < len(text)


def test_points_are_coloured_by_sense_else_by_cluster():
    data, vectors = _toy()
    kept = ProbeVectors(data.occurrences, (0, 1, 2), vectors, ("mean",))
    points = occurrence_points(kept)
    assert points.representations == ["layer 0", "layer 1", "layer 2", "mix mean"]
    bank, spring = points.words
    assert (bank.word, bank.by, spring.word, spring.by) == ("bank", "sense", "spring", "cluster")
    assert bank.coords.shape == (4, 8, 2) and np.abs(bank.coords).max() == pytest.approx(1.0)
    assert bank.labels[0] == ["river"] * 4 + ["money"] * 4  # the word's prefix is dropped
    assert "<mark>bank</mark>" in bank.html[0] and "&lt;b&gt;" in bank.html[0]
    for labels in spring.labels:  # the two planted groups, found at every layer
        assert len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1 and labels[0] != labels[4]
    # the senses separate along the first axis in the last layer only
    last = bank.coords[2, :, 0]
    assert (
        np.sign(last[:4]).tolist() == [np.sign(last[0])] * 4 and np.sign(last[4:]).tolist() == [-np.sign(last[0])] * 4
    )
    with pytest.raises(ValueError, match="do not match 2 layers and 16 occurrences"):
        occurrence_points(ProbeVectors(data.occurrences, (0, 1), vectors))
    only = occurrence_points(kept, words=["spring", "bank"])
    assert [w.word for w in only.words] == ["spring", "bank"]
    with pytest.raises(ValueError, match="no occurrence of 'bat' in the data; its words: bank, spring"):
        occurrence_points(kept, words=["bat"])


def _self_contained(text: str) -> None:
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", text), "fetches something"
    assert text.count("<script") >= 2 and "Bokeh" in text


def test_a_polysemy_page_is_one_self_contained_file(tmp_path):
    data, vectors = _toy()
    report = PolysemyProbe(mixes=("mean",)).score(data, vectors, [0, 1, 2], model_name="toy-model")
    report.provenance["model"] = {"name": "toy-model", "weights_sha256": "ab" * 32}
    page = report.to_html(tmp_path / "p.html", provenance={"note": "made by a test"})
    text = page.read_text(encoding="utf-8")
    _self_contained(text)
    assert page.stat().st_size < 3_000_000
    for shown in ("toy-model", "ab" * 32, "made by a test", "postprocess: none", "Occurrences, layer by layer"):
        assert shown in text, shown
    assert "Polysemy metrics per layer" in text and "most frequent sense" in text
    # without vectors (only baselines scored): the curves, no occurrence view
    bare = PolysemyProbe().score(data).to_html(tmp_path / "bare.html").read_text(encoding="utf-8")
    assert "Polysemy metrics per layer" in bare and "Occurrences, layer by layer" not in bare
    with pytest.raises(ValueError, match="nothing to show"):
        write_page(tmp_path / "none.html")
    with pytest.raises(ValueError, match="unknown projection"):
        report.to_html(tmp_path / "p.html", projection="mds")


def test_geometry_and_probe_pages(tmp_path):
    rows = [(m, k, 0.1 * k + i) for i, m in enumerate(("anisotropy", "selfsim")) for k in range(4)]
    report = LayerReport("toy", "toy.txt", rows, {"samples": 10}, provenance={"model": {"weights_sha256": "cd" * 32}})
    report.cka["within"] = np.eye(4)
    report.cka_layers["within"] = (list(range(4)), list(range(4)))
    again = LayerReport.from_json(report.to_json(tmp_path / "r.json"))
    assert again.provenance == report.provenance
    text = again.to_html(tmp_path / "g.html").read_text(encoding="utf-8")
    _self_contained(text)
    assert "Layer geometry" in text and "CKA between layers" in text and "cd" * 32 in text
    rng = np.random.default_rng(0)
    labels = rng.choice(["X", "Y"], size=40)
    x = rng.normal(size=(3, 40, 3)).astype(np.float32)
    probe = LayerProbe(folds=2, mix_iter=10)
    with pytest.raises(ValueError, match="not fitted"):
        probe.to_html(tmp_path / "p.html")
    probe.fit(x, labels, types=list(labels), groups=np.arange(40) // 2)
    text = probe.to_html(tmp_path / "p.html", provenance={"data": "toy"}).read_text(encoding="utf-8")
    _self_contained(text)
    assert "Linear probes per layer" in text and "scalar-mix weights" in text and "selectivity" in text


def test_cli_explore(tmp_path, tiny_bert_dir, capsys):
    data, _ = _toy()
    jsonl = tmp_path / "toy.jsonl"
    items = [
        {"text": o.text, "start": o.span[0], "end": o.span[1], "word": o.word, "sense": o.sense}
        for o in data.occurrences
    ]
    jsonl.write_text("".join(json.dumps(item) + "\n" for item in items[:8]), encoding="utf-8")
    geometry = LayerReport("other", "toy.txt", [("anisotropy", k, 0.1 * k) for k in range(4)]).to_json(
        tmp_path / "g.json"
    )
    out = tmp_path / "page" / "explore.html"
    args = ["explore", "--model", str(tiny_bert_dir), "--data", str(jsonl), "--static", "none", "--device", "cpu"]
    assert main([*args, "--geometry", str(geometry), "--no-progress", "--output", str(out)]) == 0
    assert f": {out}" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "weights_sha256" in text and "Occurrences, layer by layer" in text and "Layer geometry" in text
    assert main([*args, "--output", str(tmp_path / "x.png")]) == 2
    assert "--output" in capsys.readouterr().err
    assert main([*args, "--words", "bank,bat", "--output", str(out)]) == 2
    assert "--words: no occurrence of 'bat'" in capsys.readouterr().err
    assert main([*args, "--geometry", str(tmp_path / "nowhere.json"), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ctxemb explore: error: --geometry" in err and "nowhere.json" in err


@pytest.fixture(scope="module")
def bundled_page(tmp_path_factory, tiny_bert):
    """The explorer page of the bundled probe set (a tiny BERT: layers 0 and 3, and their mean)."""
    data = load_data("bundled")
    probe = PolysemyProbe(layers=[0, 3], mixes=("mean",))
    vectors, layers = probe.embed(tiny_bert, data, progress=False)
    report = probe.score(data, vectors, layers, model_name="tiny-bert")
    return report.to_html(tmp_path_factory.mktemp("explorer") / "explore.html"), data


SOURCE = "Bokeh.documents[0].get_model_by_name('occurrence-points').data"
TITLE = "Bokeh.documents[0].get_model_by_name('occurrence-plot').title.text"


def test_the_bundled_page_works_in_a_headless_chromium(bundled_page, tmp_path):
    path, data = bundled_page
    assert path.stat().st_size < 4_000_000  # a few MB: BokehJS with its widgets, and the points
    driver = chrome_driver()
    try:
        driver.get(path.as_uri())
        deadline = time.time() + 30
        while not driver.execute_script("return typeof Bokeh !== 'undefined' && Bokeh.documents.length > 0"):
            assert time.time() < deadline, "the page did not render"
            time.sleep(0.2)
        time.sleep(0.5)
        first = driver.execute_script(f"return [{SOURCE}.x.slice(), {SOURCE}.html.slice(), {TITLE}]")
        assert first[2].startswith("bank: layer") and len(first[0]) == 16
        assert all(re.search("<mark>bank</mark>", h, re.I) for h in first[1])

        # the word picker (a real <select>, inside Bokeh's shadow DOM)
        from selenium.webdriver.support.ui import Select

        (picker,) = driver.execute_script(FIND_DEEP, "select[name='word-picker']")
        Select(picker).select_by_visible_text("crane (16, 2 senses)")
        time.sleep(0.3)
        picked = driver.execute_script(f"return [{SOURCE}.x.slice(), {SOURCE}.html.slice(), {TITLE}]")
        assert picked[2].startswith("crane: layer") and picked[0] != first[0]
        crane = [o for o in data.occurrences if o.word == "crane"]
        assert [re.sub("<[^>]+>", "", h) for h in picked[1]] == [o.text for o in crane]

        # the layer slider: keyboard steps on its handle, as a person would
        from selenium.webdriver.common.keys import Keys

        (handle,) = driver.execute_script(FIND_DEEP, ".noUi-handle")
        handle.send_keys(Keys.HOME)
        time.sleep(0.3)
        at_zero = driver.execute_script(f"return [{SOURCE}.x.slice(), {TITLE}]")
        assert at_zero[1].startswith("crane: layer 0 ")
        handle.send_keys(Keys.ARROW_RIGHT)
        time.sleep(0.3)
        moved = driver.execute_script(f"return [{SOURCE}.x.slice(), {TITLE}]")
        assert moved[1].startswith("crane: layer 3 ") and moved[0] != at_zero[0]
        handle.send_keys(Keys.END)
        time.sleep(0.3)
        assert driver.execute_script(f"return {TITLE}").startswith("crane: mix mean")

        # hovering a point shows its sentence, the target marked
        where = driver.execute_script(
            f"""
            const plot = Bokeh.documents[0].get_model_by_name('occurrence-plot');
            const view = Bokeh.index.find_one(plot);
            view.el.scrollIntoView();
            const box = view.canvas_view.el.getBoundingClientRect();
            return [box.left + view.frame.x_scale.compute({SOURCE}.x[0]),
                    box.top + view.frame.y_scale.compute({SOURCE}.y[0])];
            """
        )
        driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": where[0], "y": where[1]})
        time.sleep(0.5)
        tips = driver.execute_script(FIND_DEEP, ".bk-tooltip-content")
        shown = " ".join(t.get_attribute("textContent") for t in tips)
        assert crane[0].text in shown, shown[:500]
        assert re.search("<mark>crane</mark>", " ".join(t.get_attribute("innerHTML") for t in tips), re.I)

        driver.save_screenshot(str(tmp_path / "explore.png"))
        assert (tmp_path / "explore.png").stat().st_size > 10_000
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == [], errors
    finally:
        driver.quit()
