"""Checking inputs and turning texts into pieces aligned with words (no model involved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Any

import numpy as np

from .alignment import trim_whitespace, words_from_offsets
from .words import Split, split_words

TextInput = str | Sequence[str]
Target = tuple[str, tuple[int, int]]


class LazyStrings:
    """``tokens`` and ``words`` made on first read; shared by :class:`Encoded` and :class:`ctxemb.Embedding`.

    ``tokens`` come from ``token_source`` (a list of piece strings, or a `tokenizers` encoding), ``words`` from
    ``text`` sliced at ``word_spans``.
    """

    text: str
    token_source: Any
    word_spans: np.ndarray

    @cached_property
    def tokens(self) -> list[str]:
        """The piece strings, specials included (made on first read)."""
        source = self.token_source
        return source if isinstance(source, list) else source.tokens

    @cached_property
    def words(self) -> list[str]:
        """The words, ``text[s:e]`` for each span (made on first read)."""
        return [self.text[a:b] for a, b in self.word_spans.tolist()]


@dataclass
class Encoded(LazyStrings):
    """One text as pieces: the model's input ids plus everything needed to map pieces back to words.

    Arrays have ``tokens`` rows (specials included) except the word arrays (see :class:`ctxemb.Embedding`).
    ``token_source`` is the list of piece strings, or the tokenizer's own encoding, whose strings are only turned
    into Python strings when :attr:`tokens` is read; :attr:`words` are sliced from the text on first use too.
    """

    text: str
    ids: np.ndarray
    type_ids: np.ndarray | None
    special: np.ndarray
    offsets: np.ndarray
    token_source: Any
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


def encode(
    tokenizer: Any, items: Sequence[TextInput], split: Split = "punct", lang: str | None = None
) -> list[Encoded]:
    """Tokenize every item once (with the model's special tokens) and align pieces with words.

    Raw texts are split into words by :func:`ctxemb.words.split_words`; pre-split words are joined with single
    spaces and keep their own spans. Either way the text is tokenized as a whole and pieces are matched to words
    by their character offsets (trimmed of surrounding white space), so pre-split words get exactly the pieces of
    their joined text. A Python-only tokenizer (no offsets) goes through :func:`encode_word_by_word`.
    """
    if not getattr(tokenizer, "is_fast", True):
        cache: dict[str, tuple[list[int], list[str]]] = {}
        return [encode_word_by_word(tokenizer, item, split, lang, cache) for item in items]
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    for item in items:
        if isinstance(item, str):
            texts.append(item)
            spans.append(split_words(item, split))
        else:
            texts.append(" ".join(item))
            spans.append([tuple(span) for span in _joined_spans(list(item)).tolist()])
    encodings = _tokenize(tokenizer, texts)
    return _align_batch(texts, spans, encodings, "token_type_ids" in tokenizer.model_input_names)


def _align_batch(
    texts: list[str], spans: list[list[tuple[int, int]]], encodings: list[Any], with_types: bool
) -> list[Encoded]:
    """Align the pieces of every text with its words in one pass over the whole batch.

    The texts are laid end to end (text ``i`` starts at character ``base[i]``), so white-space trimming and the
    piece-to-word overlap run once over all pieces instead of once per text; no piece or word can reach into a
    neighbouring text, because every span lies inside its own text's characters. The result equals aligning
    each text on its own.
    """
    n_texts = len(texts)
    n_pieces = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=n_texts)
    n_words = np.fromiter((len(w) for w in spans), dtype=np.int64, count=n_texts)
    piece_base = np.concatenate([[0], np.cumsum(n_pieces)])
    word_base = np.concatenate([[0], np.cumsum(n_words)])
    char_base = np.concatenate([[0], np.cumsum([len(t) for t in texts])])
    total = int(piece_base[-1])
    ids = np.fromiter(chain.from_iterable(e.ids for e in encodings), dtype=np.int64, count=total)
    special = np.fromiter(chain.from_iterable(e.special_tokens_mask for e in encodings), dtype=bool, count=total)
    flat = chain.from_iterable(chain.from_iterable(e.offsets for e in encodings))
    offsets = np.fromiter(flat, dtype=np.int64, count=2 * total).reshape(total, 2)
    type_ids = None
    if with_types:
        type_ids = np.fromiter(chain.from_iterable(e.type_ids for e in encodings), dtype=np.int64, count=total)
    word_spans = np.fromiter(chain.from_iterable(chain.from_iterable(spans)), dtype=np.int64).reshape(-1, 2)
    offsets += np.repeat(char_base[:-1], n_pieces)[:, None]
    word_spans += np.repeat(char_base[:-1], n_words)[:, None]
    offsets = trim_whitespace(offsets, "".join(texts))
    ptr, pieces = words_from_offsets(offsets, special, word_spans)
    out = []
    for i, (text, encoding) in enumerate(zip(texts, encodings)):
        p0, p1, w0, w1, c0 = piece_base[i], piece_base[i + 1], word_base[i], word_base[i + 1], char_base[i]
        text_spans = word_spans[w0:w1] - c0
        text_ptr = ptr[w0 : w1 + 1] - ptr[w0]
        out.append(
            Encoded(
                text,
                ids[p0:p1],
                None if type_ids is None else type_ids[p0:p1],
                special[p0:p1],
                offsets[p0:p1] - c0,
                encoding,
                text_spans,
                text_ptr,
                pieces[ptr[w0] : ptr[w1]] - p0,
            )
        )
    return out


def encode_word_by_word(
    tokenizer: Any,
    item: TextInput,
    split: Split = "punct",
    lang: str | None = None,
    cache: dict[str, tuple[list[int], list[str]]] | None = None,
) -> Encoded:
    """Encode one text with a Python-only tokenizer, which has no offsets: each word is tokenized on its own.

    The words (split as for every tokenizer, or given pre-split) are tokenized one by one, so every piece
    belongs to exactly the word it came from; the model's special tokens are added around the joined pieces by
    the tokenizer itself. A piece's offsets are its word's span (the tokenizer does not say which characters
    within the word a piece covers), so a target span must cover whole words. ``cache`` (word -> piece ids and tokens),
    shared across the texts of one call, tokenizes each distinct word once: tokenization of a word alone does
    not depend on the text around it.

    Raises:
        ValueError: the tokenizer's special-token mask does not account for the pieces (an unusual tokenizer).
    """
    if isinstance(item, str):
        text = item
        spans = np.array(split_words(text, split), dtype=np.int64).reshape(-1, 2)
        words = [text[s:e] for s, e in spans]
    else:
        words = list(item)
        text = " ".join(words)
        spans = _joined_spans(words)
    extra = {"lang": lang} if lang is not None else {}
    cache = {} if cache is None else cache
    content: list[int] = []
    content_tokens: list[str] = []
    counts = np.zeros(len(words), dtype=np.int64)
    for w, word in enumerate(words):
        known = cache.get(word)
        if known is None:
            word_ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(word, **extra)) if word.strip() else []
            known = cache[word] = (word_ids, tokenizer.convert_ids_to_tokens(word_ids))
        content += known[0]
        content_tokens += known[1]
        counts[w] = len(known[0])
    ids = np.asarray(tokenizer.build_inputs_with_special_tokens(content), dtype=np.int64)
    special = np.asarray(tokenizer.get_special_tokens_mask(content), dtype=bool).reshape(len(ids))
    positions = np.flatnonzero(~special)
    if len(positions) != len(content):
        raise ValueError(
            f"{type(tokenizer).__name__} marks {len(positions)} non-special tokens around {len(content)} pieces; "
            "cannot align pieces with words"
        )
    type_ids = None
    if "token_type_ids" in tokenizer.model_input_names:
        type_ids = np.asarray(tokenizer.create_token_type_ids_from_sequences(content), dtype=np.int64)
    offsets = np.zeros((len(ids), 2), dtype=np.int64)
    offsets[positions] = np.repeat(spans, counts, axis=0) if len(spans) else np.zeros((0, 2), dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    tokens = [""] * len(ids)
    for i, token in zip(positions.tolist(), content_tokens):
        tokens[i] = token
    for i in np.flatnonzero(special).tolist():
        tokens[i] = tokenizer.convert_ids_to_tokens(int(ids[i]))
    return Encoded(text, ids, type_ids, special, offsets, tokens, spans, ptr, positions.astype(np.int64))


def _joined_spans(words: list[str]) -> np.ndarray:
    """Character spans of pre-split words in their single-space join: ``(words, 2)``."""
    if not words:
        return np.zeros((0, 2), dtype=np.int64)
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    return np.stack([starts, starts + np.array([len(w) for w in words])], axis=1).astype(np.int64).reshape(-1, 2)


def _tokenize(tokenizer: Any, inputs: list[str]) -> list[Any]:
    """The `tokenizers` encodings of a batch, with the model's special tokens, never truncated or padded.

    When the Rust tokenizer is in its plain state (no truncation or padding set on it) it is called directly,
    which is what transformers does underneath, without converting every encoding to Python lists; otherwise
    transformers' own call sets that state right.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if (
        backend is not None
        and backend.truncation is None
        and backend.padding is None
        and backend.encode_special_tokens == bool(getattr(tokenizer, "split_special_tokens", False))
    ):
        return backend.encode_batch(inputs, add_special_tokens=True)
    return tokenizer(
        inputs,
        add_special_tokens=True,
        truncation=False,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_attention_mask=False,
        return_token_type_ids="token_type_ids" in tokenizer.model_input_names,
        verbose=False,
    ).encodings


def check_targets(targets: Sequence[Target]) -> tuple[list[str], list[int]]:
    """Check targets and return the distinct texts and, per target, the index of its text."""
    if isinstance(targets, tuple) and len(targets) == 2 and isinstance(targets[0], str):
        raise TypeError("targets must be a list of (text, (start, end)); for one target pass [target]")
    index: dict[str, int] = {}
    which = []
    for i, target in enumerate(targets):
        try:
            text, (start, end) = target
        except (TypeError, ValueError):
            raise TypeError(f"targets[{i}] is {target!r}; expected (text, (start, end))") from None
        if not isinstance(text, str):
            raise TypeError(f"targets[{i}]: the text is a {type(text).__name__}, not a string")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(
                f"targets[{i}]: span ({start}, {end}) is not a non-empty span of a text of {len(text)} characters"
            )
        which.append(index.setdefault(text, len(index)))
    return list(index), which
