"""Result objects. They hold NumPy arrays and strings only, never the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .encoding import LazyStrings
from .mixing import Mix, MixLike
from .pooling import SENTENCE_POOLS, WORD_POOLS, SentencePool, WordPool, check_pool, pool_sentence, pool_words

VectorKind = Literal["token", "word", "sentence"]
VECTOR_KINDS: tuple[str, ...] = ("token", "word", "sentence")


@dataclass(frozen=True, eq=False)
class Embedding(LazyStrings):
    """The per-layer vectors of one text.

    Shapes use ``layers`` (the kept layers, ``len(self.layers)``), ``tokens`` (every piece, specials included),
    ``words`` and ``dim``.

    Attributes:
        text: the text (for pre-split input, the words joined by single spaces).
        tokens: ``tokens`` piece strings, specials included.
        ids: ``(tokens,)`` int64, the ids the model ran: exactly ``tokenizer(text)["input_ids"]``.
        special: ``(tokens,)`` bool, True for special tokens (they never belong to a word).
        offsets: ``(tokens, 2)`` character span of each piece in ``text`` (``(0, 0)`` for specials).
        words: the words.
        word_spans: ``(words, 2)`` character span of each word; ``text[s:e] == word``.
        layers: absolute indices of the kept layers (0 = embedding output).
        hidden: ``(layers, tokens, dim)`` float32. Usually a view of the array its batch was copied into (each
            layer a contiguous block), which stays in memory while any of the batch's results does; keep
            ``hidden.copy()`` to hold on to a few results of a large corpus.
        word_ptr: ``(words + 1,)``; the pieces of word ``w`` are ``word_tokens[word_ptr[w]:word_ptr[w + 1]]``.
        word_tokens: piece positions grouped by word.
        cls_index: position of the family's summary token, or ``None``.
        token_source: where :attr:`tokens` come from (the piece strings, or the tokenizer's encoding, turned into
            strings only when :attr:`tokens` is first read).
    """

    text: str
    ids: np.ndarray
    special: np.ndarray
    offsets: np.ndarray
    word_spans: np.ndarray
    layers: tuple[int, ...]
    hidden: np.ndarray
    word_ptr: np.ndarray
    word_tokens: np.ndarray
    cls_index: int | None
    token_source: Any

    def word_vectors(self, pool: WordPool = "mean") -> np.ndarray:
        """One vector per word and layer: ``(layers, words, dim)`` (``2 * dim`` for ``first_last``).

        Args:
            pool: how a word's pieces are combined: ``first | last | mean | max | first_last``.
                A word with no piece (see :attr:`empty_words`) gets NaN.
        """
        return pool_words(self.hidden, self.word_ptr, self.word_tokens, pool)

    def sentence_vector(self, pool: SentencePool = "mean") -> np.ndarray:
        """One vector per layer for the whole text: ``(layers, dim)``.

        Args:
            pool: ``mean`` / ``max`` over the non-special tokens, ``cls`` (the family's summary token; an error
                for models without one) or ``last`` (the last non-special token).
        """
        return pool_sentence(self.hidden, self.special, pool, self.cls_index)

    def vectors(self, kind: VectorKind = "word", pool: str = "mean", mix: MixLike | None = None) -> np.ndarray:
        """The text's rows of one kind, pooled, then (optionally) mixed: ctxemb's one pool-then-mix step.

        The store, the single-file export and the command line all take their vectors from here.

        Args:
            kind: ``token`` (every piece, specials included), ``word`` (pooled with ``pool``) or ``sentence``
                (one row, pooled with ``pool``).
            pool: a word pool (``first | last | mean | max | first_last``) or a sentence pool (``mean | max | cls |
                last``); ignored for ``token``.
            mix: ``None`` keeps the layer axis; else anything :meth:`ctxemb.Mix.of` reads (``"mean"``,
                ``("weighted", weights)``, a ``ScalarMix``).

        Returns:
            ``(layers, rows, dim)`` with ``rows`` = tokens, words or 1; when mixed, ``(rows, dim)`` (``concat``:
            ``(rows, layers * dim)``).

        Raises:
            ValueError: an unknown kind, a pool that is not one of that kind's, or an unknown mix.
        """
        if kind == "token":
            rows = self.hidden
        elif kind == "word":
            check_pool(pool, WORD_POOLS, "word")
            rows = self.word_vectors(pool)  # type: ignore[arg-type]
        elif kind == "sentence":
            check_pool(pool, SENTENCE_POOLS, "sentence")
            rows = self.sentence_vector(pool)[:, None]  # type: ignore[arg-type]
        else:
            raise ValueError(f"unknown vector kind {kind!r}; choose one of {', '.join(VECTOR_KINDS)}")
        return rows if mix is None else Mix.of(mix)(rows, axis=0)

    def tokens_of(self, word: int) -> np.ndarray:
        """Token positions of word number ``word`` (negatives count from the end).

        Raises:
            IndexError: a word number outside ``[-words, words)``.
        """
        n = len(self.word_ptr) - 1
        if not -n <= word < n:
            raise IndexError(f"word {word} is out of range for a text of {n} words")
        word %= n
        return self.word_tokens[self.word_ptr[word] : self.word_ptr[word + 1]]

    @property
    def empty_words(self) -> tuple[int, ...]:
        """Indices of the words that yielded no piece (their word vectors are NaN)."""
        return tuple(np.flatnonzero(np.diff(self.word_ptr) == 0).tolist())

    def __repr__(self) -> str:
        preview = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return (
            f"Embedding({preview!r}, tokens={len(self.tokens)}, words={len(self.words)}, "
            f"layers={list(self.layers)}, dim={self.hidden.shape[-1]})"
        )
