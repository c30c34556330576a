"""Splitting raw text into words with character spans.

The default, ``split="punct"``, follows "whitespace and punctuation": a word is a maximal run of letters,
combining marks, digits and connector punctuation (``_``); every other punctuation mark or symbol is a word of its
own, except that an emoji keeps its modifiers, variation selectors and zero-width-joiner sequence (👩🏽‍🔬 is one
word) and a regional-indicator pair (a flag) stays together. Zero-width space, word joiner and byte-order mark
separate words like whitespace; zero-width (non-)joiners and soft hyphens stay inside the word they are in.
``split="whitespace"`` splits on whitespace only. Words are always exact slices of the text.

``split="tokenizer"`` takes the words of the model's own tokenizer (its pre-tokenizer: BERT splits white space and
punctuation but keeps symbols such as ``°`` inside a word, byte-level BPE splits off letters, digits and other runs,
SentencePiece tokenizers split on white space only); it needs the tokenizer, so only the extractor does it
(:func:`ctxemb.encoding.encode`), not :func:`split_words`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Split = Literal["punct", "whitespace", "tokenizer"]
SPLITS: tuple[str, ...] = ("punct", "whitespace", "tokenizer")

_INVISIBLE_SEPARATORS = frozenset("\u200b\u2060\ufeff")
_ZWJ = "\u200d"
_SEP, _WORD, _MARK, _SYMBOL, _PUNCT = range(5)
_WHITESPACE = re.compile(r"\S+")
# For ASCII text the rules reduce to this (no marks, joiners or emoji): runs of letters, digits and "_", and every
# other visible character alone. Same spans as the general loop, many times faster.
_ASCII_PUNCT = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")


def _is_emoji_modifier(ch: str) -> bool:
    return "\U0001f3fb" <= ch <= "\U0001f3ff"


def _is_regional_indicator(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _kind(ch: str) -> int:
    if ch.isspace() or ch in _INVISIBLE_SEPARATORS:
        return _SEP
    cat = unicodedata.category(ch)
    if cat[0] in "LN" or cat == "Pc":
        return _WORD
    if cat[0] == "M" or cat == "Cf" or _is_emoji_modifier(ch):
        return _MARK
    if cat in ("So", "Sk"):
        return _SYMBOL
    return _PUNCT


def split_words(text: str, split: Split = "punct") -> list[tuple[int, int]]:
    """Split a text into words.

    Args:
        text: the text.
        split: ``"punct"`` (whitespace and punctuation) or ``"whitespace"``.

    Raises:
        ValueError: an unknown split, or ``"tokenizer"`` (which needs the tokenizer).

    Returns:
        The ``(start, end)`` character span of every word, in order; ``text[start:end]`` is the word.
    """
    if split == "whitespace":
        return [m.span() for m in _WHITESPACE.finditer(text)]
    if split == "tokenizer":
        raise ValueError("split='tokenizer' needs the model's tokenizer: pass it to the Extractor, not split_words")
    if split != "punct":
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    if text.isascii():
        return [m.span() for m in _ASCII_PUNCT.finditer(text)]
    spans: list[tuple[int, int]] = []
    start = -1
    current = _SEP
    for i, ch in enumerate(text):
        kind = _kind(ch)
        if kind == _SEP:
            if start >= 0:
                spans.append((start, i))
            start, current = -1, _SEP
            continue
        joins = start >= 0 and (
            (kind == _WORD and current == _WORD)
            or kind == _MARK
            or (
                kind == _SYMBOL
                and current == _SYMBOL
                and (
                    text[i - 1] == _ZWJ
                    or (_is_regional_indicator(ch) and i - start == 1 and _is_regional_indicator(text[start]))
                )
            )
        )
        if joins:
            continue
        if start >= 0:
            spans.append((start, i))
        start = i
        current = _WORD if kind == _MARK else kind
    if start >= 0:
        spans.append((start, len(text)))
    return spans


def check_unicode(text: str, where: str) -> None:
    """Raise a ValueError naming ``where`` when ``text`` cannot be encoded as UTF-8 (a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{where} is not valid Unicode: lone surrogate {text[error.start]!r} at character {error.start} "
            "(text decoded with errors='surrogateescape'?)"
        ) from None
