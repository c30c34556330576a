"""Training subword vocabularies (WordPiece, BPE, byte-level BPE, Unigram) for any model family, and comparing them."""

from __future__ import annotations

from .files import TextFile, save_tokenizer
from .stats import TokenizerStats, VocabularyOverlap, stats, vocabulary_overlap
from .training import KINDS, TokenizerKind, family_named, train_tokenizer

__all__ = [
    "KINDS",
    "TextFile",
    "TokenizerKind",
    "TokenizerStats",
    "VocabularyOverlap",
    "family_named",
    "save_tokenizer",
    "stats",
    "train_tokenizer",
    "vocabulary_overlap",
]
