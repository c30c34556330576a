"""What people compare tokenizers by: fertility, words split, unknown pieces, vocabulary used and shared.

Words are found as everywhere in ctxemb (:func:`ctxemb.split_words`, or the caller's ``split``) and pieces are
matched to words by their character offsets exactly as the extractor does (offsets recovered by alignment for
Python-only tokenizers), so the figures describe the segmentation the embeddings are built from. Special tokens are
never counted. For a corpus of ``W`` words where word ``w`` gets ``n_w`` pieces:

    fertility = (1 / W) * sum_w n_w,   split rate = |{w : n_w > 1}| / W,   unknown rate = #unk pieces / #pieces.

A piece that overlaps two words (a tokenizer that merges across a word boundary) counts for both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

import numpy as np

from ..encoding import encode
from ..reports import TableReport
from ..words import Split

__all__ = ["TokenizerStats", "VocabularyOverlap", "stats", "vocabulary_overlap"]


@dataclass(frozen=True)
class TokenizerStats(TableReport):
    """Segmentation statistics of one tokenizer over a corpus.

    Attributes:
        name: the tokenizer's ``name_or_path`` (or class name).
        texts: texts read.
        words: words found in them.
        tokens: non-special tokens (subword pieces) the tokenizer produced.
        word_tokens: the sum over words of their token counts (``tokens`` plus tokens shared by two words).
        unknown: tokens that are the unknown token.
        words_split: words of more than one token.
        words_unknown: words with at least one unknown token.
        words_without_tokens: words that got no token at all (zero-width characters, say).
        tokens_per_word: the distribution of fertility: token count -> number of words.
        vocab_size: the size of the vocabulary, added tokens included (``len(tokenizer)``).
        vocab_used: distinct pieces the corpus used.
    """

    name: str
    texts: int
    words: int
    tokens: int
    word_tokens: int
    unknown: int
    words_split: int
    words_unknown: int
    words_without_tokens: int
    tokens_per_word: dict[int, int] = field(default_factory=dict)
    vocab_size: int = 0
    vocab_used: int = 0

    @property
    def fertility(self) -> float:
        """Mean pieces per word; ``nan`` for a corpus without words."""
        return self.word_tokens / self.words if self.words else float("nan")

    @property
    def split_rate(self) -> float:
        """Share of words cut into more than one piece."""
        return self.words_split / self.words if self.words else float("nan")

    @property
    def unknown_rate(self) -> float:
        """Share of pieces that are the unknown token."""
        return self.unknown / self.tokens if self.tokens else float("nan")

    @property
    def unknown_word_rate(self) -> float:
        """Share of words with at least one unknown piece."""
        return self.words_unknown / self.words if self.words else float("nan")

    @property
    def vocab_used_rate(self) -> float:
        """Share of the vocabulary the corpus used."""
        return self.vocab_used / self.vocab_size if self.vocab_size else float("nan")

    def percentile(self, q: float) -> int:
        """The ``q``-th percentile (0-100) of pieces per word: the least ``n`` with ``q`` % of words at ``<= n``."""
        if not 0 <= q <= 100:
            raise ValueError(f"q must be within [0, 100], not {q}")
        if not self.words:
            raise ValueError("no words: the corpus had no text to count")
        seen = 0
        for count in sorted(self.tokens_per_word):
            seen += self.tokens_per_word[count]
            if seen * 100 >= q * self.words:
                return count
        return max(self.tokens_per_word)

    def to_dict(self) -> dict[str, Any]:
        """The counts and the derived rates, as plain Python values (for JSON)."""
        out = asdict(self)
        out["tokens_per_word"] = {str(k): v for k, v in sorted(self.tokens_per_word.items())}
        for name in ("fertility", "split_rate", "unknown_rate", "unknown_word_rate", "vocab_used_rate"):
            out[name] = getattr(self, name)
        return out

    def table(self) -> str:
        """A readable multi-line report."""
        if not self.words:
            return f"{self.name}: {self.texts} texts, no words"
        shown = sorted(self.tokens_per_word)
        head = [n for n in shown if n < 5]
        tail = sum(self.tokens_per_word[n] for n in shown if n >= 5)
        dist = "  ".join(f"{n}: {_pct(self.tokens_per_word[n], self.words)}" for n in head)
        if tail:
            dist += f"  5+: {_pct(tail, self.words)}"
        rows = [
            ("tokenizer", f"{self.name}"),
            ("texts", f"{self.texts:,} ({self.words:,} words, {self.tokens:,} tokens)"),
            (
                "fertility",
                f"{self.fertility:.3f} tokens per word (median {self.percentile(50)}, "
                f"90th percentile {self.percentile(90)}, max {max(self.tokens_per_word)})",
            ),
            ("words split", f"{_pct(self.words_split, self.words)} ({self.words_split:,} of {self.words:,})"),
            (
                "unknown",
                f"{_pct(self.unknown, self.tokens)} of tokens ({self.unknown:,}), "
                f"{_pct(self.words_unknown, self.words)} of words ({self.words_unknown:,})",
            ),
            ("vocab used", f"{_pct(self.vocab_used, self.vocab_size)} ({self.vocab_used:,} of {self.vocab_size:,})"),
            ("tokens/word", dist),
        ]
        if self.words_without_tokens:
            rows.append(("no token", f"{self.words_without_tokens:,} words got no token"))
        return "\n".join(f"{label:<12} {value}" for label, value in rows)


@dataclass(frozen=True)
class VocabularyOverlap(TableReport):
    """How many pieces two vocabularies share, compared as the strings each vocabulary holds.

    Pieces are compared as written, markers included (``##ing``, ``Ġthe``, ``▁the``, ``the</w>``): two
    vocabularies of different kinds share few pieces even when they cover the same words.

    Attributes:
        names: the two tokenizers' names.
        size_a: pieces in the first vocabulary (special tokens excluded).
        size_b: pieces in the second.
        shared: pieces in both.
    """

    names: tuple[str, str]
    size_a: int
    size_b: int
    shared: int

    @property
    def jaccard(self) -> float:
        """``|A ∩ B| / |A ∪ B|``."""
        union = self.size_a + self.size_b - self.shared
        return self.shared / union if union else float("nan")

    def table(self) -> str:
        """One readable line per figure."""
        a, b = self.names
        return "\n".join(
            [
                f"shared      {self.shared:,} pieces (Jaccard {self.jaccard:.3f})",
                f"of {a}: {_pct(self.shared, self.size_a)} of {self.size_a:,}",
                f"of {b}: {_pct(self.shared, self.size_b)} of {self.size_b:,}",
            ]
        )


def stats(
    tokenizer: Any,
    texts: Iterable[str],
    *,
    split: Split = "punct",
    lang: str | None = None,
    batch_size: int = 256,
) -> TokenizerStats:
    """Count how ``tokenizer`` segments the words of ``texts``.

    Args:
        tokenizer: any transformers tokenizer, fast or Python-only (XLM's), custom or pretrained.
        texts: any iterable of strings, streamed in batches of ``batch_size``.
        split: how texts split into words: ``"punct"`` (whitespace and punctuation), ``"whitespace"``, or
            ``"tokenizer"`` (the tokenizer's own pre-tokenizer).
        lang: the language passed to a tokenizer that takes one (XLM).
        batch_size: texts tokenized per call.

    Returns:
        The counts; ``print(result)`` shows a readable summary.

    Raises:
        TypeError: ``texts`` is one string, or holds something that is not a string.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of texts, not one string; for a single text pass [text]")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    unk = getattr(tokenizer, "unk_token_id", None)
    used = np.zeros(len(tokenizer), dtype=bool)
    fertility: Counter[int] = Counter()
    totals: Counter[str] = Counter()
    for chunk in _chunks(texts, batch_size, totals):
        for item in encode(tokenizer, chunk, split, lang):
            content = item.ids[~item.special]
            used[content[content < len(used)]] = True
            counts = np.diff(item.word_ptr)
            if unk is not None:
                owner = np.repeat(np.arange(len(counts)), counts)  # the word of every entry of word_tokens
                totals["words_unknown"] += len(np.unique(owner[item.ids[item.word_tokens] == unk]))
            totals["words"] += len(counts)
            totals["tokens"] += len(content)
            totals["word_tokens"] += int(counts.sum())
            totals["unknown"] += int((content == unk).sum()) if unk is not None else 0
            totals["words_split"] += int((counts > 1).sum())
            totals["words_without_tokens"] += int((counts == 0).sum())
            fertility.update(counts.tolist())
    return TokenizerStats(
        name=str(getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__),
        texts=totals["texts"],
        words=totals["words"],
        tokens=totals["tokens"],
        word_tokens=totals["word_tokens"],
        unknown=totals["unknown"],
        words_split=totals["words_split"],
        words_unknown=totals["words_unknown"],
        words_without_tokens=totals["words_without_tokens"],
        tokens_per_word=dict(sorted(fertility.items())),
        vocab_size=len(tokenizer),
        vocab_used=int(used.sum()),
    )


def vocabulary_overlap(a: Any, b: Any) -> VocabularyOverlap:
    """Count the pieces two tokenizers' vocabularies share (special tokens left out).

    Args:
        a: a transformers tokenizer.
        b: another one.
    """
    pieces = []
    for tokenizer in (a, b):
        specials = set(getattr(tokenizer, "all_special_tokens", ()))
        pieces.append({token for token in tokenizer.get_vocab() if token not in specials})
    names = tuple(str(getattr(t, "name_or_path", "") or type(t).__name__) for t in (a, b))
    return VocabularyOverlap((names[0], names[1]), len(pieces[0]), len(pieces[1]), len(pieces[0] & pieces[1]))


def _chunks(texts: Iterable[str], size: int, totals: Counter[str]) -> Iterator[list[str]]:
    """Lists of up to ``size`` texts, checking that each is a string and counting them in ``totals["texts"]``."""
    stream = iter(texts)
    while chunk := list(islice(stream, size)):
        for i, text in enumerate(chunk):
            if not isinstance(text, str):
                raise TypeError(f"texts[{totals['texts'] + i}] is a {type(text).__name__}, not a string")
        totals["texts"] += len(chunk)
        yield chunk


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"
