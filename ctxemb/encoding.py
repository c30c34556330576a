"""Checking inputs and turning texts into pieces aligned with words (no model involved)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Any

import numpy as np

from .alignment import place, trim_whitespace, words_from_offsets
from .families import family_for_tokenizer
from .words import Split, check_unicode, split_words

logger = logging.getLogger(__name__)

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
    word_tokens: np.ndarray

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
        ValueError: a text that is not valid Unicode (a lone surrogate, as decoding bytes with
            ``errors="surrogateescape"`` leaves), naming the item and the position.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of texts; for a single text pass [text]")
    try:
        items = list(texts)
    except TypeError:
        raise TypeError(f"texts must be a list of texts, not {type(texts).__name__}") from None
    for i, item in enumerate(items):
        if isinstance(item, str):
            check_unicode(item, f"texts[{i}]")
            continue
        if item is None:
            raise TypeError(f"texts[{i}] is None; expected a string or a list of words")
        if not isinstance(item, (list, tuple)):
            raise TypeError(f"texts[{i}] is a {type(item).__name__}; expected a string or a list of words")
        for j, word in enumerate(item):
            if not isinstance(word, str):
                raise TypeError(f"texts[{i}][{j}] is a {type(word).__name__}; pre-split words must be strings")
            check_unicode(word, f"texts[{i}][{j}]")
    return items


def encode(
    tokenizer: Any,
    items: Sequence[TextInput],
    split: Split = "punct",
    lang: str | None = None,
    names: Sequence[str] | None = None,
) -> list[Encoded]:
    """Tokenize every item once with the tokenizer itself (and its special tokens) and align pieces with words.

    The ids are exactly ``tokenizer(text)["input_ids"]``: word splitting decides which pieces form a word, never
    the pieces. Raw texts are split into words by :func:`ctxemb.words.split_words`, or (``split="tokenizer"``) into
    the words of the tokenizer's own pre-tokenizer; pre-split words are joined with single spaces and keep their
    own spans. Pieces are matched to words by their character offsets (trimmed of surrounding white space): from
    the tokenizer for fast tokenizers, recovered by :func:`ctxemb.alignment.place` for Python-only ones
    (:func:`encode_python`). ``names`` name the texts in warnings (default ``texts[i]``).
    """
    if not getattr(tokenizer, "is_fast", True):
        return encode_python(tokenizer, items, split, lang, names)
    texts: list[str] = []
    spans: list[list[tuple[int, int]] | None] = []
    for item in items:
        if isinstance(item, str):
            texts.append(item)
            spans.append(None if split == "tokenizer" else split_words(item, split))
        else:
            texts.append(" ".join(item))
            spans.append([tuple(span) for span in _joined_spans(list(item)).tolist()])
    encodings = _tokenize(tokenizer, texts)
    for i, found in enumerate(spans):
        if found is None:
            spans[i] = _pre_tokenized_words(encodings[i], texts[i])
    return _align_batch(texts, spans, encodings, "token_type_ids" in tokenizer.model_input_names)  # type: ignore[arg-type]


def check_tokenizer_words(tokenizer: Any) -> None:
    """Check that a fast tokenizer has words of its own for ``split="tokenizer"``.

    Byte-fallback BPE tokenizers in the SentencePiece style (Llama, Mistral, Gemma) read the whole text as one
    string of ``▁``-joined pieces: their ``word_ids`` put every piece in one word.

    Raises:
        ValueError: the tokenizer puts the two words of ``"a b"`` in one word.
    """
    if not getattr(tokenizer, "is_fast", False):
        return  # Python-only tokenizers: encode_python checks that ctxemb knows their words
    encoding = tokenizer("a b", add_special_tokens=False)
    if len({w for w in encoding.word_ids() if w is not None}) < 2:
        raise ValueError(
            f"split='tokenizer': {type(tokenizer).__name__} does not split text into words (it reads the whole text "
            "as one string of pieces, as SentencePiece does), so every text would be one word; use split='punct' "
            "or 'whitespace'"
        )


def _pre_tokenized_words(encoding: Any, text: str) -> list[tuple[int, int]]:
    """The words of a fast tokenizer's pre-tokenizer (its ``word_ids``), each spanning its pieces' characters.

    Every word runs from its first piece's start to its last piece's end (offsets trimmed of white space, as for
    alignment); words without a visible piece are left out, and words that overlap after trimming are merged.
    """
    word_ids = np.fromiter((-1 if w is None else w for w in encoding.word_ids), dtype=np.int64)
    special = np.asarray(encoding.special_tokens_mask, dtype=bool)
    offsets = trim_whitespace(np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2), text)
    keep = (word_ids >= 0) & ~special & (offsets[:, 1] > offsets[:, 0])
    return _word_spans(word_ids[keep], offsets[keep])


def _word_spans(groups: np.ndarray, offsets: np.ndarray) -> list[tuple[int, int]]:
    """One span per group of pieces (``groups[i]`` is piece ``i``'s group): first start to last end, in text order;
    overlapping spans are merged into one word."""
    if groups.size == 0:
        return []
    _, inverse = np.unique(groups, return_inverse=True)
    starts = np.full(int(inverse.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    ends = np.zeros_like(starts)
    np.minimum.at(starts, inverse, offsets[:, 0])
    np.maximum.at(ends, inverse, offsets[:, 1])
    merged: list[tuple[int, int]] = []
    for a, b in sorted(zip(starts.tolist(), ends.tolist())):
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


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


def encode_python(
    tokenizer: Any,
    items: Sequence[TextInput],
    split: Split = "punct",
    lang: str | None = None,
    names: Sequence[str] | None = None,
) -> list[Encoded]:
    """Encode texts with a Python-only tokenizer, which gives no offsets (transformers' XLM tokenizer).

    Each text is tokenized whole by the tokenizer itself (the steps of ``tokenizer(text)``, with ``lang`` where
    given), so the ids are the tokenizer's own. Each piece's character span is then recovered by aligning the
    pieces' surfaces with the text (the tokenizer's own ``convert_tokens_to_string`` of the string its ``tokenize``
    gave, so a piece mapped to the unknown id keeps its characters) through :func:`ctxemb.alignment.place`, which
    survives lower-casing, accent removal, Moses' punctuation
    normalisation and deleted characters. Words then come from these offsets as for fast tokenizers: a piece that
    covers several words (XLM's ``state-of-the-art</w>``) belongs to each of them. Pieces whose span had to be
    guessed are counted in one warning per call, which shows the first with its text and span.

    ``split="tokenizer"`` takes the words of the tokenizer's own pre-tokenizer (Moses, for XLM), placed the same way.

    Raises:
        ValueError: ``split="tokenizer"`` with a tokenizer whose own word split ctxemb does not know; a tokenizer
            whose special-token mask does not account for its pieces.
    """
    extra = {"lang": lang} if lang is not None else {}
    with_types = "token_type_ids" in tokenizer.model_input_names
    unknown = getattr(tokenizer, "unk_token", None)
    surfaces: dict[str, str] = {}
    words_of = family_for_tokenizer(tokenizer).tokenizer_words
    if split == "tokenizer" and words_of is None:
        raise ValueError(
            f"split='tokenizer' needs the tokenizer's own words; {type(tokenizer).__name__} is Python-only and "
            "ctxemb does not know its pre-tokenizer. Use split='punct' or 'whitespace'."
        )
    guesses: list[str] = []
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    encodings: list[_PythonEncoding] = []
    for i, item in enumerate(items):
        text = item if isinstance(item, str) else " ".join(item)
        # What ``tokenizer(text)`` does for a Python tokenizer (transformers' ``prepare_for_model``), without its
        # truncation and padding checks and with the piece strings kept: the same ids, about a third faster.
        pieces = tokenizer.tokenize(text, **extra)
        content_ids = tokenizer.convert_tokens_to_ids(pieces)
        ids = tokenizer.build_inputs_with_special_tokens(content_ids)
        special = tokenizer.get_special_tokens_mask(content_ids)
        content = [k for k, flag in enumerate(special) if not flag]
        if len(content) != len(pieces) or len(special) != len(ids):
            raise ValueError(
                f"{type(tokenizer).__name__} marks {len(content)} non-special tokens around {len(pieces)} pieces; "
                "cannot align pieces with the text"
            )
        tokens = tokenizer.convert_ids_to_tokens(ids)
        offsets = [(0, 0)] * len(ids)
        for piece in pieces:
            if piece not in surfaces:  # an unknown piece keeps its own string here: "-</w>", not "<unk>"
                surfaces[piece] = "" if piece == unknown else tokenizer.convert_tokens_to_string([piece])
        placed, guessed = place([surfaces[piece] for piece in pieces], text)
        for k, span in zip(content, placed.tolist()):
            offsets[k] = span
        for g in guessed.tolist():
            s, e = offsets[content[g]]
            name = f"texts[{i}]" if names is None else names[i]
            guesses.append(f"{name} piece {tokens[content[g]]!r} at ({s}, {e}) {text[s:e]!r}")
        type_ids = tokenizer.create_token_type_ids_from_sequences(content_ids) if with_types else []
        encodings.append(_PythonEncoding(ids, special, offsets, type_ids, tokens))
        texts.append(text)
        if not isinstance(item, str):
            spans.append([tuple(span) for span in _joined_spans(list(item)).tolist()])
        elif split == "tokenizer":
            found, _ = place(words_of(tokenizer, text, lang), text)  # type: ignore[misc]
            found = trim_whitespace(found, text)
            visible = found[:, 1] > found[:, 0]
            spans.append(_word_spans(np.flatnonzero(visible), found[visible]))
        else:
            spans.append(split_words(text, split))
    if guesses:
        logger.warning(
            "%d piece(s) of %s could not be placed in their text by character alignment: they share the characters "
            "between their neighbours with other pieces, or (an empty span) belong to no word; first: %s",
            len(guesses),
            type(tokenizer).__name__,
            guesses[0],
        )
    return _align_batch(texts, spans, encodings, with_types)


@dataclass
class _PythonEncoding:
    """What :func:`_align_batch` reads of a `tokenizers` encoding, made for a Python-only tokenizer's pieces."""

    ids: list[int]
    special_tokens_mask: list[int]
    offsets: list[tuple[int, int]]
    type_ids: list[int]
    tokens: list[str]


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
    encodings: list[Any]
    if (
        backend is not None
        and backend.truncation is None
        and backend.padding is None
        and backend.encode_special_tokens == bool(getattr(tokenizer, "split_special_tokens", False))
    ):
        encodings = backend.encode_batch(inputs, add_special_tokens=True)
        return encodings
    encodings = tokenizer(
        inputs,
        add_special_tokens=True,
        truncation=False,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_attention_mask=False,
        return_token_type_ids="token_type_ids" in tokenizer.model_input_names,
        verbose=False,
    ).encodings
    return encodings


def check_targets(targets: Sequence[Target]) -> tuple[list[str], list[int]]:
    """Check targets and return the distinct texts and, per target, the index of its text.

    Span ends may be any integers (Python or NumPy), not booleans.

    Raises:
        TypeError: a target that is not ``(text, (start, end))``.
        ValueError: a span outside its text or empty, or a text that is not valid Unicode, naming the target.
    """
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
        if not all(isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in (start, end)):
            raise TypeError(f"targets[{i}]: span ({start!r}, {end!r}) must be two integers")
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"targets[{i}]: span ({start}, {end}) is not a non-empty span of a text of {len(text)} characters"
            )
        if text not in index:
            check_unicode(text, f"targets[{i}]")
        which.append(index.setdefault(text, len(index)))
    return list(index), which
