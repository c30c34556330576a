"""Layer probes: cross-validation against scikit-learn, the control task, the scalar mix, and MiniLM's POS tags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctxemb.analysis.conllu import read_conllu
from ctxemb.analysis.probing import LayerProbe, control_labels, sentence_folds, word_features

FIXTURE = Path(__file__).parent / "data" / "en_fixture.conllu"


def _planted(n: int = 240, dim: int = 8, layers: int = 4, signal: int = 2, seed: int = 0):
    """Features where only layer ``signal`` carries the label (in its first dimension)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["A", "B", "C"], size=n)
    x = rng.normal(size=(layers, n, dim)).astype(np.float32)
    x[signal, :, 0] += 4.0 * (np.searchsorted(["A", "B", "C"], labels) - 1)
    groups = np.arange(n) // 4  # sentences of 4 items
    types = [f"w{i}" for i in range(n)]
    return x, labels, types, groups


def test_control_labels_are_per_type_and_follow_the_label_distribution():
    rng = np.random.default_rng(1)
    types = [f"t{i % 4000}" for i in range(12000)]
    labels = rng.choice(["N", "V"], p=[0.8, 0.2], size=12000)
    control = control_labels(types, labels, seed=3)
    by_type: dict[str, set[str]] = {}
    for t, c in zip(types, control):
        by_type.setdefault(t, set()).add(c)
    assert all(len(v) == 1 for v in by_type.values())
    share = np.mean([next(iter(v)) == "N" for v in by_type.values()])
    assert abs(share - np.mean(labels == "N")) < 0.03  # 4000 draws: sd ~0.006
    assert np.array_equal(control, control_labels(types, labels, seed=3))


def test_sentence_folds_keep_sentences_whole():
    groups = np.repeat(np.arange(10), 3)
    fold = sentence_folds(groups, 3, seed=0)
    for g in range(10):
        assert len(set(fold[groups == g])) == 1
    assert sorted(np.bincount(fold).tolist()) == [9, 9, 12]  # 10 sentences dealt to 3 folds: 3, 3, 4
    with pytest.raises(ValueError, match="2 sentences cannot fill 3 folds"):
        sentence_folds(np.array([0, 0, 1]), 3)


def test_layer_accuracy_equals_scikit_learn_cross_validation():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import PredefinedSplit, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, labels, types, groups = _planted()
    probe = LayerProbe(folds=3, control="none", mix="none")
    assert str(probe).startswith("LayerProbe(folds=3, C=1.0") and probe.get_params()["control"] == "none"
    assert probe.set_params(max_iter=50) is probe and probe.max_iter == 50
    with pytest.raises(ValueError, match="has no parameter 'depth'"):
        probe.set_params(depth=3)
    with pytest.raises(TypeError):
        LayerProbe(3)  # type: ignore[misc]  # hyperparameters are keyword-only
    probe = probe.set_params(max_iter=300).fit(x, labels, types=types, groups=groups)
    assert str(probe) == probe.table()
    fold = sentence_folds(groups, 3, seed=0)
    for k in range(x.shape[0]):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=300))
        reference = cross_val_score(model, x[k], labels, cv=PredefinedSplit(fold)).mean()
        assert probe.accuracy_[k] == pytest.approx(reference, abs=1e-12)
    assert probe.accuracy_[2] > 0.95
    assert max(np.delete(probe.accuracy_, 2)) < 0.6  # chance is ~1/3
    assert np.isnan(probe.control_accuracy_).all() and np.isnan(probe.mix_weights_).all()
    assert probe.majority_ == pytest.approx(np.unique(labels, return_counts=True)[1].max() / len(labels))


def test_scalar_mix_probe_weights_the_informative_layer():
    x, labels, types, groups = _planted(signal=2)
    probe = LayerProbe(folds=2, control="none").fit(x, labels, types=types, groups=groups, layers=[3, 4, 5, 6])
    assert probe.mix_weights_.sum() == pytest.approx(1.0, abs=1e-6)
    assert probe.mix_weights_folds_.shape == (2, 4) and (probe.mix_weights_folds_.argmax(axis=1) == 2).all()
    assert int(np.argmax(probe.mix_weights_)) == 2
    assert probe.mix_weights_[2] > 0.5
    assert probe.centre_of_gravity_ == pytest.approx(float(np.dot([3, 4, 5, 6], probe.mix_weights_)))
    assert 4.5 < probe.centre_of_gravity_ < 5.5  # pulled towards absolute layer 5
    assert probe.mix_accuracy_ > 0.9
    data = probe.to_dict()
    assert data["layers"] == [3, 4, 5, 6] and data["control_accuracy"] == [None] * 4
    assert "scalar mix (centre of gravity" in probe.table()


def test_identical_layers_get_equal_mix_weights():
    x, labels, types, groups = _planted(n=60, layers=1, signal=0)
    same = np.repeat(x, 3, axis=0)  # the gradient of every mix scalar is the same: the weights stay uniform
    probe = LayerProbe(folds=2, control="none", mix_iter=30).fit(same, labels, types=types, groups=groups)
    np.testing.assert_allclose(probe.mix_weights_, [1 / 3] * 3, atol=1e-6)
    assert probe.centre_of_gravity_ == pytest.approx(1.0, abs=1e-5)
    assert np.ptp(probe.accuracy_) == 0


def test_bad_inputs():
    x, labels, types, groups = _planted(n=12)
    with pytest.raises(ValueError, match="at least two classes; all 12 items are labelled 'NOUN'"):
        LayerProbe(folds=2).fit(x, ["NOUN"] * 12, types=types, groups=groups)
    with pytest.raises(ValueError, match="12 items but there are 11 labels"):
        LayerProbe(folds=2).fit(x, labels[:11], types=types, groups=groups)
    with pytest.raises(ValueError, match="control='words'"):
        LayerProbe(control="words").fit(x, labels, types=types, groups=groups)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 layer indices for 4 layers"):
        LayerProbe(folds=2, mix="none").fit(x, labels, types=types, groups=groups, layers=[0, 1])


@pytest.fixture(scope="module")
def minilm_pos(minilm):
    sentences = read_conllu(FIXTURE)
    return sentences, word_features(minilm, sentences, "upos")


def test_word_features_line_up_with_conllu_words(minilm_pos, minilm):
    sentences, (features, labels, types, groups, layers) = minilm_pos
    n = sum(len(s.words) for s in sentences)
    assert features.shape == (minilm.num_layers + 1, n, 384)
    assert layers == tuple(range(minilm.num_layers + 1))
    assert labels[:7] == ["PRON", "AUX", "PART", "VERB", "ADJ", "NOUN", "PUNCT"]
    assert types[:3] == ["i", "do", "n't"]
    assert groups[7] == 1 and np.bincount(groups).tolist() == [len(s.words) for s in sentences]
    alone = minilm.embed([sentences[0].words])[0].word_vectors("mean")
    np.testing.assert_allclose(features[:, :7], alone, rtol=1e-4, atol=1e-5)


def test_pos_selectivity_is_positive_on_minilm(minilm_pos):
    _, (features, labels, types, groups, layers) = minilm_pos
    probe = LayerProbe(folds=3, mix="none").fit(features, labels, types=types, groups=groups, layers=layers)
    assert (probe.accuracy_ > probe.majority_ + 0.3).all()
    assert (probe.selectivity_ > 0.1).all(), probe.table()


def test_probe_writes_its_table_as_json_and_csv(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.choice(["X", "Y"], size=30)
    x = rng.normal(size=(2, 30, 3)).astype(np.float32)
    probe = LayerProbe(folds=2, mix="none").fit(x, labels, types=list(labels), groups=np.arange(30) // 2)
    assert probe.to_json(tmp_path / "p.json") == tmp_path / "p.json"
    assert json.loads((tmp_path / "p.json").read_text())["layers"] == [0, 1]
    assert probe.to_csv(tmp_path / "p.csv") == tmp_path / "p.csv"
    assert (tmp_path / "p.csv").read_text().splitlines()[
        0
    ] == "layer,accuracy,accuracy_std,control_accuracy,selectivity"
