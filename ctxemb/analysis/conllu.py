"""Reading CoNLL-U files (Universal Dependencies) into sentences of words with their annotations.

The format (https://universaldependencies.org/format.html): a sentence is a block of lines ended by a blank line;
``#`` lines are comments (``# sent_id = ...``, ``# text = ...``); every other line has 10 tab-separated fields
``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``. ``ID`` is a word number ``1, 2, ...``, a multiword-token
range ``1-2`` (the surface token, e.g. *don't* over the words *do* and *n't*; its fields other than FORM and MISC
are ``_``) or an empty node ``1.1`` (enhanced dependencies). The words (integer IDs) are what annotations such as
UPOS belong to; ranges are kept as surface tokens, empty nodes are skipped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..textlines import read_lines

Field = Literal["upos", "xpos", "deprel", "lemma"]
FIELDS: tuple[str, ...] = ("upos", "xpos", "deprel", "lemma")
_RANGE = re.compile(r"^([1-9][0-9]*)-([1-9][0-9]*)$")
_EMPTY = re.compile(r"^(0|[1-9][0-9]*)\.([1-9][0-9]*)$")
_WORD = re.compile(r"^[1-9][0-9]*$")


@dataclass
class ConlluSentence:
    """One sentence: its words (integer IDs) with their annotations, and its multiword tokens.

    Attributes:
        words: the FORM of each word, in order.
        lemmas: the LEMMA of each word.
        upos: universal part-of-speech tags.
        xpos: language-specific tags (``_`` when absent).
        heads: the HEAD of each word (0 is the root; -1 when ``_``).
        deprels: dependency relations.
        tokens: multiword tokens ``(first word, last word, FORM)`` with 0-based word indices, inclusive.
        sent_id: the ``# sent_id`` comment, or ``None``.
        text: the ``# text`` comment, or ``None``.
        line: the file's line number where the sentence starts.
    """

    words: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)
    upos: list[str] = field(default_factory=list)
    xpos: list[str] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    deprels: list[str] = field(default_factory=list)
    tokens: list[tuple[int, int, str]] = field(default_factory=list)
    sent_id: str | None = None
    text: str | None = None
    line: int = 0

    def labels(self, name: Field = "upos") -> list[str]:
        """One label per word from the field ``name``: ``upos | xpos | deprel | lemma``."""
        if name not in FIELDS:
            raise ValueError(f"unknown CoNLL-U field {name!r}; choose one of {', '.join(FIELDS)}")
        return list({"upos": self.upos, "xpos": self.xpos, "deprel": self.deprels, "lemma": self.lemmas}[name])


def read_conllu(path: str | os.PathLike[str]) -> list[ConlluSentence]:
    """Read every sentence of a CoNLL-U file.

    Raises:
        ValueError: naming the file and line: a line without 10 tab-separated fields, a bad ID, word IDs out of
            order, a range that does not cover the words after it, an empty FORM, a HEAD that is not a number,
            a line that is not UTF-8, or a file with no sentence.
    """
    path = Path(path)
    sentences: list[ConlluSentence] = []
    current = ConlluSentence()
    pending: list[tuple[int, int, str, int]] = []  # ranges not yet checked against the words: (a, b, form, line)

    def close(number: int) -> None:
        nonlocal current, pending
        if current.words or pending:
            for a, b, _, where in pending:
                if b > len(current.words):
                    raise ValueError(f"{path}:{where}: multiword token {a}-{b} reaches past the sentence's last word")
            if not current.words:
                raise ValueError(f"{path}:{current.line}: a sentence with no word line")
            sentences.append(current)
        elif current.sent_id is not None or current.text is not None:
            raise ValueError(f"{path}:{current.line}: comments with no word line after them (before line {number})")
        current, pending = ConlluSentence(), []

    number = 0
    for number, line in read_lines(path):
        if not line.strip():
            close(number)
            continue
        if not current.line:
            current.line = number
        if line.startswith("#"):
            key, _, value = line[1:].partition("=")
            if key.strip() == "sent_id":
                current.sent_id = value.strip()
            elif key.strip() == "text":
                current.text = value.strip()
            continue
        _parse_line(line, number, path, current, pending)
    close(number + 1)
    if not sentences:
        raise ValueError(f"{path}: no sentence found (a CoNLL-U file has 10 tab-separated fields per word line)")
    return sentences


def _parse_line(
    line: str, number: int, path: Path, sentence: ConlluSentence, pending: list[tuple[int, int, str, int]]
) -> None:
    columns = line.split("\t")
    if len(columns) != 10:
        raise ValueError(
            f"{path}:{number}: expected 10 tab-separated fields (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS "
            f"MISC), got {len(columns)}: {line[:60]!r}"
        )
    ident, form, lemma, upos, xpos, _, head, deprel, _, _ = columns
    if not form:
        raise ValueError(f"{path}:{number}: empty FORM for ID {ident}")
    expected = len(sentence.words) + 1
    if _EMPTY.match(ident):
        return  # an empty node of the enhanced graph: not a word of the sentence
    ranged = _RANGE.match(ident)
    if ranged:
        a, b = int(ranged.group(1)), int(ranged.group(2))
        if a != expected or b <= a:
            raise ValueError(
                f"{path}:{number}: multiword token {ident} should start at word {expected} and end after it"
            )
        pending.append((a, b, form, number))
        sentence.tokens.append((a - 1, b - 1, form))
        return
    if not _WORD.match(ident):
        raise ValueError(f"{path}:{number}: bad ID {ident!r} (expected 1, 2, ... or a range 1-2 or an empty node 1.1)")
    if int(ident) != expected:
        raise ValueError(f"{path}:{number}: word ID {ident} out of order; expected {expected}")
    if head == "_":
        head_id = -1
    elif head.isdigit():
        head_id = int(head)
    else:
        raise ValueError(f"{path}:{number}: HEAD {head!r} of word {ident} is not a number")
    sentence.words.append(form)
    sentence.lemmas.append(lemma)
    sentence.upos.append(upos)
    sentence.xpos.append(xpos)
    sentence.heads.append(head_id)
    sentence.deprels.append(deprel)
