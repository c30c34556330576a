"""Training subword vocabularies (WordPiece, BPE, byte-level BPE, Unigram) for any model family."""

from __future__ import annotations

from .training import KINDS, Kind, family_named, train_tokenizer

__all__ = ["KINDS", "Kind", "family_named", "train_tokenizer"]
