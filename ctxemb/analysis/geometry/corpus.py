"""Reading a corpus for layer analyses: one context per non-empty line, or per sentence of it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from ...sources import texts_of

ContextSplit = Literal["line", "sentence"]
CONTEXT_SPLITS: tuple[str, ...] = ("line", "sentence")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def read_corpus(path: str | os.PathLike[str], split: ContextSplit = "line") -> list[str]:
    """Read a plain-text corpus: one text per non-empty line, or with ``split="sentence"`` one per sentence.

    Sentences are cut after ``.``, ``!`` or ``?`` (and closing quotes or brackets) followed by white space and a
    capital letter or digit: a simple rule, good enough for news text like gensim's ``lee_background.cor``.

    Raises:
        ValueError: a line that is not UTF-8 (naming the file and line), an unknown ``split``, or no text at all.
    """
    if split not in CONTEXT_SPLITS:
        raise ValueError(f"unknown context split {split!r}; choose one of {', '.join(CONTEXT_SPLITS)}")
    path = Path(path)
    texts: list[str] = []
    for raw_line in texts_of(path):
        line = raw_line.strip()
        if line:
            texts.extend(split_sentences(line) if split == "sentence" else [line])
    if not texts:
        raise ValueError(f"{path}: the corpus has no text (every line is empty)")
    return texts


def split_sentences(text: str) -> list[str]:
    """Split one text into sentences with the rule of :func:`read_corpus`."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
