"""``ctxemb static train | distill | eval`` end to end on a tiny corpus and a tiny checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ctxemb.cli import main
from ctxemb.static import PPMISVD, load_vectors


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(["the cat sat on the mat .", "the dog sat on the log .", "a cat and a dog ."] * 5))
    return path


def test_train_writes_the_same_vectors_as_the_estimator(tmp_path, corpus, capsys):
    out = tmp_path / "ppmi.bin"
    code = main(
        ["static", "train", "--method", "ppmi-svd", "--corpus", str(corpus), "--dim", "3", "--output", str(out)]
    )
    assert code == 0 and "ppmi-svd: 10 words x 3 dims" in capsys.readouterr().out
    expected = PPMISVD(dim=3).fit(corpus).vectors_
    loaded = load_vectors(out)
    assert loaded.index_to_key == expected.index_to_key
    np.testing.assert_array_equal(loaded.vectors, expected.vectors)


def test_train_refuses_an_option_the_method_does_not_have(tmp_path, corpus, capsys):
    args = ["static", "train", "--method", "ppmi-svd", "--corpus", str(corpus), "--epochs", "3", "--output", "x.txt"]
    assert main(args) == 2
    assert "--epochs does not apply to --method ppmi-svd" in capsys.readouterr().err


def test_distill_then_eval_per_layer(tmp_path, corpus, tiny_dir, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tdog\t8\ncat\tmat\t2\ndog\tlog\t3\nsat\tcat\t1\n", encoding="utf-8")
    out = tmp_path / "tiny"
    args = ["static", "distill", "--model", str(tiny_dir("bert")), "--corpus", str(corpus), "--layers", "0,-1"]
    assert main([*args, "--output", str(out), "--max-occurrences", "3", "--device", "cpu", "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["input.txt", "layer0.txt", "layer3.txt"]
    capsys.readouterr()
    report = tmp_path / "report.json"
    args = ["static", "eval", str(out), "--tasks", str(pairs), "--json", str(report), "--no-progress"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert [line.split()[0] for line in table.splitlines()[2:5]] == ["tiny/input", "tiny/layer0", "tiny/layer3"]
    rows = json.loads(report.read_text())
    assert [r["covered"] for r in rows] == [4, 4, 4] and rows[0]["task"] == "pairs"


def test_gensim_logs_stay_quiet_in_the_cli(tmp_path, capsys):
    import logging

    from ctxemb.cli import main

    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20, encoding="utf-8")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers = []  # let the CLI's basicConfig install its handler, as in a fresh process
    try:
        args = ["static", "train", "--method", "word2vec", "--corpus", str(corpus), "--dim", "4", "--min-count", "1"]
        assert main([*args, "--output", str(tmp_path / "v.txt")]) == 0
    finally:
        root.handlers, root.level = handlers, level
    err = capsys.readouterr().err
    assert "collecting all words" not in err and "EPOCH" not in err  # gensim's INFO lines


def test_threads_apply_to_glove_only(tmp_path, capsys):
    from ctxemb.cli import main

    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20, encoding="utf-8")
    base = ["static", "train", "--corpus", str(corpus), "--dim", "4", "--min-count", "1", "--no-progress"]
    glove = ["--method", "glove", "--epochs", "1", "--threads", "2", "--output", str(tmp_path / "g.txt")]
    assert main([*base, *glove]) == 0
    assert main([*base, "--method", "word2vec", "--threads", "2", "--output", str(tmp_path / "w.txt")]) == 2
    assert "--threads does not apply to --method word2vec" in capsys.readouterr().err


def test_eval_oov_counts_fasttext_ngram_words_only_when_asked(tmp_path, corpus, capsys):
    from gensim.models import FastText

    model = FastText([line.split() for line in corpus.read_text().splitlines()], vector_size=8, min_count=1, seed=1)
    path = tmp_path / "ft.model"
    model.wv.save(str(path))  # gensim's own (pickle) format keeps the n-gram vectors
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("cat\tdog\t9\ncats\tdog\t8\nmat\tlog\t3\nmats\tlogs\t2\n")  # cats, mats, logs: n-grams only
    args = ["static", "eval", str(path), "--tasks", str(pairs), "--no-progress"]
    assert main(args) == 2 and "--allow-pickle" in capsys.readouterr().err  # refused unless asked, and says how
    covered = {}
    for oov in ("skip", "ngrams"):
        report = tmp_path / f"{oov}.json"
        assert main([*args, "--allow-pickle", "--oov", oov, "--json", str(report)]) == 0, capsys.readouterr().err
        (row,) = json.loads(report.read_text())
        covered[oov] = (row["covered"], row["total"])
    assert covered == {"skip": (2, 4), "ngrams": (4, 4)}  # gensim's count by default; n-gram words when asked
