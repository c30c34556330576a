"""Corpora for the static baselines: one tokenisation shared by every method, streamed texts, vocabularies.

Tokenisation, used by every trainer, by :func:`~ctxemb.static.distill` and by the evaluation look-ups: a text is
split into words with :func:`ctxemb.split_words` (``split="punct"``: runs of letters, digits and ``_``; every
other punctuation mark or symbol is a word of its own) and each word is lowercased. It is the split the
:class:`~ctxemb.Extractor` uses by default, so a distilled model and a trained one have the same vocabulary.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sized
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..progress import progress_bar
from ..sources import as_source, texts_of
from ..words import split_words

_Words = TypeVar("_Words", list[str], np.ndarray)

logger = logging.getLogger(__name__)

CorpusSource = str | os.PathLike[str] | Iterable[str]


@lru_cache(maxsize=1 << 18)
def _split_chunk(chunk: str) -> tuple[str, ...]:
    return tuple(chunk[s:e].lower() for s, e in split_words(chunk, "punct"))


def tokenize(text: str) -> list[str]:
    """Split a text into lowercased words (``ctxemb.split_words(text, "punct")``, then ``str.lower``).

    Words never cross whitespace, so the text is cut at whitespace first and each chunk is split once and
    remembered (corpora repeat their chunks), which gives exactly ``split_words`` on the whole text.
    """
    return [word for chunk in text.split() for word in _split_chunk(chunk)]


class Corpus:
    """A re-iterable corpus: iterating gives the words of each text (see :func:`tokenize`).

    Args:
        source: a file path (read lazily on every pass by :func:`ctxemb.sources.texts_of`: one text per line, or
            the ``text`` field of JSONL, CSV or Parquet), a sequence of texts, or any
            iterable of texts. A one-shot iterator (a generator) is read once and its texts are kept in memory,
            since most methods take several passes.
        progress: show a progress bar over texts on every pass.
    """

    def __init__(self, source: CorpusSource, *, progress: bool | None = None) -> None:
        self.source = source
        self.progress = progress
        self._kept: list[str] | None = None

    @property
    def name(self) -> str:
        """The file name, or a short description of an in-memory corpus, for messages."""
        if isinstance(self.source, (str, os.PathLike)):
            return os.fspath(self.source)
        return f"<{type(self.source).__name__} of texts>"

    def _size(self) -> int | None:
        """How many texts a pass reads (a progress bar's total), where that is cheap to know."""
        if isinstance(self.source, (str, os.PathLike)):
            return as_source(Path(self.source)).size_hint() if Path(self.source).is_file() else None
        items = self.source if self._kept is None else self._kept
        return len(items) if isinstance(items, Sized) else None

    def texts(self) -> Iterator[str]:
        """The raw texts, in order.

        Raises:
            ValueError: a line that is not UTF-8 (naming the file and line), or an item that is not a string.
        """
        if isinstance(self.source, (str, os.PathLike)):
            yield from texts_of(Path(self.source))
            return
        if self._kept is None and iter(self.source) is self.source:  # a one-shot iterator: keep what it gives
            self._kept = list(self.source)
        items = self.source if self._kept is None else self._kept
        for i, text in enumerate(items):
            if not isinstance(text, str):
                raise TypeError(f"corpus item {i} is a {type(text).__name__}, not a str")
            yield text

    def __iter__(self) -> Iterator[list[str]]:
        bar = progress_bar(self.texts(), unit="text", desc="corpus", progress=self.progress)
        if not bar.disable:
            bar.total = self._size()  # counting lines reads the file: only for a bar someone sees
        for text in bar:
            yield tokenize(text)


def as_corpus(source: CorpusSource | Corpus, progress: bool | None = None) -> Corpus:
    """Wrap ``source`` in a :class:`Corpus` (a corpus is returned as it is)."""
    return source if isinstance(source, Corpus) else Corpus(source, progress=progress)


def chunked(words: _Words, size: int) -> Iterator[_Words]:
    """Cut a list of words (or an array of word ids) into consecutive pieces of at most ``size`` words."""
    for start in range(0, len(words), size):
        yield words[start : start + size]


class Vocabulary:
    """Words kept from a corpus, most frequent first, and their counts.

    Attributes:
        words: ``(words,)`` list, by count descending, ties in order of first occurrence.
        counts: ``(words,)`` int64 corpus counts.
        index: word -> row.
        tokens: number of words in the corpus (all words, kept or not).
    """

    def __init__(self, words: list[str], counts: np.ndarray, tokens: int) -> None:
        self.words = words
        self.counts = counts
        self.index = {w: i for i, w in enumerate(words)}
        self.tokens = tokens

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, corpus: Corpus, min_count: int = 5, max_vocab: int | None = None) -> Vocabulary:
        """Count the words of ``corpus`` and keep those seen at least ``min_count`` times (then the top ``max_vocab``).

        Raises:
            ValueError: the corpus has no word, or no word reaches ``min_count``.
        """
        counter: Counter[str] = Counter()
        for words in corpus:
            counter.update(words)
        tokens = sum(counter.values())
        if tokens == 0:
            raise ValueError(f"corpus {corpus.name} is empty: it has no words")
        kept = [(w, c) for w, c in counter.most_common() if c >= min_count][:max_vocab]
        if not kept:
            raise ValueError(
                f"corpus {corpus.name}: no word occurs min_count={min_count} times "
                f"({len(counter)} distinct words, the most frequent {counter.most_common(1)[0]!r}); lower min_count"
            )
        logger.info(
            "vocabulary: %d of %d distinct words (min_count=%d), %d tokens", len(kept), len(counter), min_count, tokens
        )
        return cls([w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64), tokens)

    def encode(self, corpus: Corpus) -> Iterator[np.ndarray]:
        """The rows of each text's in-vocabulary words: ``(words,)`` int64 per text; other words are removed."""
        index = self.index
        for words in corpus:
            yield np.fromiter((index[w] for w in words if w in index), dtype=np.int64)
