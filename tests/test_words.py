"""Word splitting and piece-to-word alignment: exact expectations and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxemb import split_words
from ctxemb.alignment import pieces_in_span, words_from_offsets


def words(text, split="punct"):
    return [text[s:e] for s, e in split_words(text, split)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", ["Hello", ",", "world", "!"]),
        ("state-of-the-art", ["state", "-", "of", "-", "the", "-", "art"]),
        (
            "It costs $3.14 (or 1,000¥).",
            ["It", "costs", "$", "3", ".", "14", "(", "or", "1", ",", "000", "¥", ")", "."],
        ),
        ("café naïve São Paulo", ["café", "naïve", "São", "Paulo"]),
        ("cafe\u0301 au lait", ["cafe\u0301", "au", "lait"]),
        ("I ❤️ 👩🏽‍🔬 and 🇫🇷!", ["I", "❤️", "👩🏽‍🔬", "and", "🇫🇷", "!"]),
        ("zero\u200bwidth", ["zero", "width"]),
        ("non\u200cjoiner soft\u00adhyphen", ["non\u200cjoiner", "soft\u00adhyphen"]),
        ("snake_case don't", ["snake_case", "don", "'", "t"]),
        ("  \t\n ", []),
        ("", []),
    ],
)
def test_split_punct(text, expected):
    assert words(text) == expected


def test_split_whitespace():
    assert words("state-of-the-art, café!", "whitespace") == ["state-of-the-art,", "café!"]


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown split"):
        split_words("x", "spaces")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(["punct", "whitespace"]))
def test_spans_are_ordered_slices(text, split):
    spans = split_words(text, split)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start:end].isspace()
        previous_end = end


def test_words_from_offsets_many_to_many():
    # pieces: [CLS] "ab" (spans two words "a" and "b") "c" [SEP]; word "zz" has no piece
    offsets = np.array([[0, 0], [0, 3], [4, 5], [0, 0]])
    special = np.array([True, False, False, True])
    word_spans = np.array([[0, 1], [2, 3], [4, 5], [6, 8]])
    ptr, pieces = words_from_offsets(offsets, special, word_spans)
    assert ptr.tolist() == [0, 1, 2, 3, 3]
    assert pieces.tolist() == [1, 1, 2]


def test_words_from_offsets_several_pieces_per_word():
    offsets = np.array([[0, 0], [0, 2], [2, 5], [5, 6], [7, 9], [0, 0]])
    special = np.array([True, False, False, False, False, True])
    ptr, pieces = words_from_offsets(offsets, special, np.array([[0, 5], [5, 6], [7, 9]]))
    assert ptr.tolist() == [0, 2, 3, 4]
    assert pieces.tolist() == [1, 2, 3, 4]


def test_pieces_in_span():
    offsets = np.array([[0, 0], [0, 4], [4, 6], [7, 9], [0, 0]])
    special = np.array([True, False, False, False, True])
    inside, cut = pieces_in_span(offsets, special, 0, 6)
    assert inside.tolist() == [1, 2] and cut.size == 0
    inside, cut = pieces_in_span(offsets, special, 2, 9)
    assert inside.tolist() == [2, 3] and cut.tolist() == [1]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_piece_offsets_and_word_spans_map_into_the_text(minilm, text):
    from ctxemb.encoding import encode

    enc = encode(minilm.tokenizer, [text])[0]
    assert enc.offsets.shape == (len(enc.ids), 2)
    assert ((enc.offsets >= 0) & (enc.offsets <= len(text))).all()
    assert (enc.offsets[:, 0] <= enc.offsets[:, 1]).all()
    for w, (s, e) in enumerate(enc.word_spans):
        assert text[s:e] == enc.words[w]
        for p in enc.word_tokens[enc.word_ptr[w] : enc.word_ptr[w + 1]]:
            assert not enc.special[p]
            assert enc.offsets[p, 0] < e and enc.offsets[p, 1] > s
