"""Checking inputs and turning texts into pieces aligned with words (no model involved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .alignment import words_from_offsets, words_from_word_ids
from .words import Split, split_words

TextInput = str | Sequence[str]


@dataclass
class Encoded:
    """One text as pieces: the model's input ids plus everything needed to map pieces back to words.

    Arrays have ``tokens`` rows (specials included) except the word arrays (see :class:`ctxemb.Embedding`).
    """

    text: str
    ids: np.ndarray
    type_ids: np.ndarray | None
    special: np.ndarray
    offsets: np.ndarray
    tokens: list[str]
    words: list[str]
    word_spans: np.ndarray
    word_ptr: np.ndarray
    word_pieces: np.ndarray

    def content_range(self) -> tuple[int, int]:
        """``(first, stop)``: the pieces between the leading and the trailing run of special tokens."""
        regular = np.flatnonzero(~self.special)
        if regular.size == 0:
            return len(self.ids), len(self.ids)
        return int(regular[0]), int(regular[-1]) + 1


def check_texts(texts: Any) -> list[TextInput]:
    """Check that ``texts`` is a list of strings or of pre-split word lists, naming the first bad item.

    Raises:
        TypeError: a single string instead of a list, or an item that is neither a string nor a list of strings.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of texts; for a single text pass [text]")
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"texts must be a list of texts, not {type(texts).__name__}") from None
    for i, item in enumerate(items):
        if isinstance(item, str):
            continue
        if item is None:
            raise TypeError(f"texts[{i}] is None; expected a string or a list of words")
        if not isinstance(item, (list, tuple)):
            raise TypeError(f"texts[{i}] is a {type(item).__name__}; expected a string or a list of words")
        for j, word in enumerate(item):
            if not isinstance(word, str):
                raise TypeError(f"texts[{i}][{j}] is a {type(word).__name__}; pre-split words must be strings")
    return items


def encode(tokenizer: Any, items: Sequence[TextInput], split: Split = "punct") -> list[Encoded]:
    """Tokenize every item once (with the model's special tokens) and align pieces with words.

    Raw texts are split into words by :func:`ctxemb.words.split_words` and pieces are matched to words by their
    character offsets; pre-split words are tokenized as such and matched through ``word_ids()``.
    """
    if not getattr(tokenizer, "is_fast", True):
        raise ValueError(
            f"{type(tokenizer).__name__} is a Python-only tokenizer without offsets; it is not supported yet"
        )
    out: list[Encoded | None] = [None] * len(items)
    raw = [i for i, item in enumerate(items) if isinstance(item, str) or len(item) == 0]
    pre = [i for i, item in enumerate(items) if not isinstance(item, str) and len(item) > 0]
    if raw:
        texts = [items[i] if isinstance(items[i], str) else "" for i in raw]
        batch = _tokenize(tokenizer, texts, is_split_into_words=False)
        for row, (i, text) in enumerate(zip(raw, texts)):
            spans = np.array(split_words(text, split), dtype=np.int64).reshape(-1, 2)
            ids, type_ids, special, offsets = _arrays(batch, row)
            ptr, pieces = words_from_offsets(offsets, special, spans)
            words = [text[s:e] for s, e in spans]
            out[i] = Encoded(text, ids, type_ids, special, offsets, batch.tokens(row), words, spans, ptr, pieces)
    if pre:
        word_lists = [list(items[i]) for i in pre]
        batch = _tokenize(tokenizer, word_lists, is_split_into_words=True)
        for row, (i, words) in enumerate(zip(pre, word_lists)):
            starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
            spans = np.stack([starts, starts + np.array([len(w) for w in words])], axis=1).astype(np.int64)
            ids, type_ids, special, offsets = _arrays(batch, row)
            word_ids = batch.word_ids(row)
            for t, w in enumerate(word_ids):
                if w is not None:
                    offsets[t] += spans[w, 0]
            ptr, pieces = words_from_word_ids(word_ids, len(words))
            text = " ".join(words)
            out[i] = Encoded(text, ids, type_ids, special, offsets, batch.tokens(row), words, spans, ptr, pieces)
    return out  # type: ignore[return-value]


def _tokenize(tokenizer: Any, inputs: list[Any], is_split_into_words: bool) -> Any:
    return tokenizer(
        inputs,
        is_split_into_words=is_split_into_words,
        add_special_tokens=True,
        truncation=False,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_attention_mask=False,
        return_token_type_ids="token_type_ids" in tokenizer.model_input_names,
        verbose=False,
    )


def _arrays(batch: Any, row: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    ids = np.asarray(batch["input_ids"][row], dtype=np.int64)
    type_ids = batch.get("token_type_ids")
    type_ids = None if type_ids is None else np.asarray(type_ids[row], dtype=np.int64)
    special = np.asarray(batch["special_tokens_mask"][row], dtype=bool).reshape(len(ids))
    offsets = np.asarray(batch["offset_mapping"][row], dtype=np.int64).reshape(len(ids), 2)
    return ids, type_ids, special, offsets
