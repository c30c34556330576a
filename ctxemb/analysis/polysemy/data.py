"""Sense-labelled occurrences of ambiguous words, the pairs built from them, and how they are checked and split.

One in-memory form serves every source: an :class:`Occurrence` is ``(text, (start, end), word, sense)`` plus an
optional part of speech and split; a :class:`ProbeData` holds the occurrences and the WiC-style :class:`Pair` s
over them. The loaders (``loaders.py``) all produce it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

logger = logging.getLogger("ctxemb")

SPLITS: tuple[str, ...] = ("train", "dev", "test")


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an ambiguous word.

    Attributes:
        text: the sentence (or passage) it occurs in.
        span: ``(start, end)`` character span of the occurrence; ``text[start:end]`` is the surface form.
        word: the word (lemma) the occurrence belongs to; occurrences are grouped by it.
        sense: the gold sense label, or ``None`` where the source has none (WiC gives only pair labels).
        pos: part of speech, if known.
        split: ``train``, ``dev`` or ``test``, if known.
        source: where it came from (``file:line``), used in error messages.
    """

    text: str
    span: tuple[int, int]
    word: str
    sense: str | None = None
    pos: str | None = None
    split: str | None = None
    source: str = ""

    @property
    def surface(self) -> str:
        """The characters the span covers."""
        return self.text[self.span[0] : self.span[1]]

    @property
    def target(self) -> tuple[str, tuple[int, int]]:
        """``(text, (start, end))``, the form ``Extractor.embed_spans`` takes."""
        return self.text, self.span


@dataclass(frozen=True)
class Pair:
    """A WiC-style pair: do two occurrences of one word share a sense?

    Attributes:
        first: index of the first occurrence in :attr:`ProbeData.occurrences`.
        second: index of the second occurrence.
        same: the gold label (``True``: same sense).
        split: ``train``, ``dev`` or ``test``.
    """

    first: int
    second: int
    same: bool
    split: str


@dataclass(frozen=True)
class ProbeData:
    """Occurrences and the pairs over them.

    Attributes:
        occurrences: every occurrence, in order.
        pairs: the WiC-style pairs (given by the source, as WiC's, or built by :func:`sense_pairs`).
        name: a short name for reports.
    """

    occurrences: tuple[Occurrence, ...]
    pairs: tuple[Pair, ...] = ()
    name: str = "data"

    def __len__(self) -> int:
        return len(self.occurrences)

    def __repr__(self) -> str:
        return f"ProbeData({describe(self)})"

    @property
    def words(self) -> list[str]:
        """The word of every occurrence."""
        return [o.word for o in self.occurrences]


def check_occurrences(occurrences: Sequence[Occurrence]) -> None:
    """Check every occurrence: a string text, an integer span inside it covering some text, a non-empty word.

    Raises:
        ValueError: listing the bad items (index, source, span and text length).
    """
    problems = []
    for i, o in enumerate(occurrences):
        where = f"item {i}" + (f" ({o.source})" if o.source else "")
        if not isinstance(o.text, str):
            problems.append(f"{where}: text is a {type(o.text).__name__}, not a string")
            continue
        if not isinstance(o.word, str) or not o.word.strip():
            problems.append(f"{where}: empty or missing word")
        try:
            start, end = (int(x) for x in o.span)
            if (start, end) != tuple(o.span):
                raise TypeError
        except (TypeError, ValueError):
            problems.append(f"{where}: span {o.span!r} is not two integers")
            continue
        if not 0 <= start < end <= len(o.text):
            problems.append(
                f"{where}: span ({start}, {end}) of word {o.word!r} is outside its text of {len(o.text)} characters"
                f" or empty: {o.text!r}"
            )
        elif not o.text[start:end].strip():
            problems.append(f"{where}: span ({start}, {end}) of word {o.word!r} covers only whitespace")
        if o.split is not None and o.split not in SPLITS:
            problems.append(f"{where}: unknown split {o.split!r}; use one of {', '.join(SPLITS)}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ValueError(f"{len(problems)} bad occurrence(s):\n  {shown}{more}")


def sense_words(occurrences: Sequence[Occurrence]) -> tuple[dict[str, list[int]], list[str]]:
    """Group sense-labelled occurrences by word, keeping words with at least two senses.

    Returns:
        ``(groups, skipped)``: the occurrence indices of every word with two or more senses (in first-seen
        order), and the words that have sense labels but only one sense (reported, left out of sense metrics).
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, o in enumerate(occurrences):
        if o.sense is not None:
            groups[o.word].append(i)
    kept = {w: idx for w, idx in groups.items() if len({occurrences[i].sense for i in idx}) >= 2}
    skipped = [w for w in groups if w not in kept]
    return kept, skipped


def assign_splits(occurrences: Sequence[Occurrence], test_fraction: float = 1 / 3, seed: int = 0) -> list[Occurrence]:
    """Give a split to occurrences that have none, stratified by ``(word, sense)``.

    In each ``(word, sense)`` group of occurrences without a split, ``round(n * test_fraction)`` (at least one
    when ``n >= 2``, none when ``n == 1``) chosen with a seeded generator go to ``test``, the rest to ``train``.
    Occurrences that already have a split keep it.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), not {test_fraction}")
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for i, o in enumerate(occurrences):
        if o.split is None:
            groups[(o.word, o.sense)].append(i)
    out = list(occurrences)
    for _, idx in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        n_test = 0 if len(idx) < 2 else max(1, round(len(idx) * test_fraction))
        test = set(rng.permutation(idx)[:n_test].tolist())
        for i in idx:
            out[i] = replace(out[i], split="test" if i in test else "train")
    return out


def sense_pairs(occurrences: Sequence[Occurrence], max_per_word: int = 500, seed: int = 0) -> list[Pair]:
    """Build WiC-style pairs from sense labels: two occurrences of one word in one split, same sense or not.

    Every such pair is kept, or ``max_per_word`` of them per word and split (a seeded sample) for frequent words.
    Occurrences without a sense or a split are not paired.
    """
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, o in enumerate(occurrences):
        if o.sense is not None and o.split is not None:
            groups[(o.word, o.split)].append(i)
    pairs = []
    for (_, split), idx in groups.items():
        a, b = np.triu_indices(len(idx), k=1)
        if a.size > max_per_word:
            keep = np.sort(rng.choice(a.size, size=max_per_word, replace=False))
            a, b = a[keep], b[keep]
        for x, y in zip(a.tolist(), b.tolist()):
            i, j = idx[x], idx[y]
            pairs.append(Pair(i, j, occurrences[i].sense == occurrences[j].sense, split))
    return pairs


def prepare(data: ProbeData, test_fraction: float = 1 / 3, seed: int = 0) -> ProbeData:
    """Check the data, give splits to sense-labelled occurrences without one, and build pairs if there are none.

    Words with sense labels but a single sense are reported in the log (they are skipped by sense metrics).
    """
    check_occurrences(data.occurrences)
    occurrences = data.occurrences
    if any(o.split is None and o.sense is not None for o in occurrences):
        occurrences = tuple(assign_splits(occurrences, test_fraction, seed))
    pairs = data.pairs or tuple(sense_pairs(occurrences, seed=seed))
    _, skipped = sense_words(occurrences)
    if skipped:
        logger.warning(
            "%d word(s) with a single sense are skipped by the sense metrics: %s",
            len(skipped),
            ", ".join(skipped[:20]) + (" ..." if len(skipped) > 20 else ""),
        )
    return replace(data, occurrences=occurrences, pairs=pairs)


def describe(data: ProbeData) -> str:
    """One line: how many occurrences, words, senses and pairs."""
    words = Counter(o.word for o in data.occurrences)
    senses = {(o.word, o.sense) for o in data.occurrences if o.sense is not None}
    splits = Counter(p.split for p in data.pairs)
    pair_text = ", ".join(f"{n} {s}" for s, n in sorted(splits.items()))
    return (
        f"{data.name}: {len(data.occurrences)} occurrences of {len(words)} words, {len(senses)} senses; "
        f"{len(data.pairs)} pairs ({pair_text or 'none'})"
    )
