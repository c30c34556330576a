"""Static vectors on disk: lossless word2vec text and binary, GloVe and fastText files, errors naming file and line."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.test.utils import datapath

from ctxemb.static import keyed_vectors, load_vectors, save_vectors


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(5, 7)).astype(np.float32)
    matrix[0, 0] = np.float32(1 / 3)  # a value whose shortest decimal is long
    matrix[1, 1] = np.float32(-1e-8)
    return keyed_vectors(["the", "naïve", "ünïcode", "a_b", "x"], matrix, counts=[9, 5, 5, 2, 1])


@pytest.mark.parametrize("name", ["vecs.txt", "vecs.bin", "vecs.vec"])
def test_save_load_round_trip_is_lossless(vectors, tmp_path, name):
    path = tmp_path / name
    save_vectors(vectors, path)
    loaded = load_vectors(path)
    assert loaded.index_to_key == vectors.index_to_key
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)
    if name.endswith(".bin"):
        assert path.read_bytes().startswith(b"5 7\n")


def test_glove_text_has_no_header_and_loads(vectors, tmp_path):
    path = tmp_path / "glove.6B.7d.txt"
    save_vectors(vectors, path, format="glove")
    assert path.read_text(encoding="utf-8").startswith("the ")
    loaded = load_vectors(path)  # auto: no header means GloVe
    np.testing.assert_array_equal(loaded.vectors, vectors.vectors)
    hand = tmp_path / "hand.txt"
    hand.write_text("king 0.5 -1.25 3\nqueen 1e-3 2 -0.0\n", encoding="utf-8")
    loaded = load_vectors(hand, format="glove")
    assert loaded.index_to_key == ["king", "queen"]
    np.testing.assert_array_equal(loaded["king"], np.array([0.5, -1.25, 3], dtype=np.float32))


def test_fasttext_vec_and_bin_files_load():
    vec = load_vectors(datapath("lee_fasttext.vec"))  # fastText's .vec is word2vec text
    assert len(vec) == 1762 and vec.vector_size == 10
    binary = load_vectors(datapath("lee_fasttext_new.bin"))  # auto: fastText's magic number
    assert binary.vector_size == 10 and "unseenwordxyz" not in binary.key_to_index
    assert np.isfinite(binary["unseenwordxyz"]).all()  # n-grams give unseen words a vector


@pytest.mark.parametrize(
    ("text", "format", "message"),
    [
        ("3 x\na 1 2\n", "word2vec", r"bad\.txt:1: expected the word2vec header 'count dim'"),
        ("a 1 2\nb 3 4\n", "word2vec", r"bad\.txt:1: expected the word2vec header.*format='glove'"),
        ("2 2\na 1 2\nb 3\n", "auto", r"bad\.txt:3: ragged row: 'b' has 1 values, expected 2 \(from the header\)"),
        ("a 1 2 3\nb 3 4\n", "glove", r"bad\.txt:2: ragged row: 'b' has 2 values, expected 3 \(from line 1\)"),
        ("a 1 2\nb 3 oops\n", "glove", r"bad\.txt:2: value 'oops' of 'b' is not a number"),
        ("3 2\na 1 2\nb 3 4\n", "auto", r"bad\.txt: the header announces 3 vectors, the file has 2"),
        ("a 1 2\na 3 4\n", "glove", r"bad\.txt: the word 'a' has two rows"),
        ("", "glove", r"bad\.txt: no vectors"),
    ],
)
def test_bad_vector_files_name_the_file_and_line(tmp_path, text, format, message):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_vectors(path, format=format)


def test_bad_binary_header_and_missing_file(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"two 3\nabc")
    with pytest.raises(ValueError, match=r"bad\.bin:1: expected the word2vec header"):
        load_vectors(path)
    with pytest.raises(FileNotFoundError, match=r"nothere\.txt does not exist"):
        load_vectors(tmp_path / "nothere.txt")
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        save_vectors(keyed_vectors(["a"], np.ones((1, 2))), tmp_path / "x.csv", format="csv")
