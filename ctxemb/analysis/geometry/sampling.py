"""Which units of a corpus enter the layer analyses, and their vectors collected in one pass over the model.

A *unit* is a word (its tokens pooled, ``units="words"``) or a single token (``units="tokens"``); a *context* is
one text of the corpus (a line, or a sentence of it: :func:`ctxemb.analysis.geometry.corpus.read_corpus`). What enters
the sample changes the numbers, so each choice is an option with a documented default:

- ``specials="exclude"``: special tokens (``[CLS]``, ``</s>`` ...) are not units. Words never include them.
- ``punctuation="exclude"``: units made only of punctuation and symbols (Unicode categories ``P*``, ``S*``) are
  left out.
- ``first="include"``: the first unit of each text (its first word, or first non-special piece) stays in. GPT-2
  style models put a very large vector there; ``first="exclude"`` drops it.
- ``pool="mean"``: how a word's pieces become one vector (``first | last | mean | max``).
- Word types are case-folded (``The`` and ``the`` are one word) for self-similarity.

The plan is drawn from the tokenized corpus before the model runs, with one seed, so two models with the same
word splitting get exactly the same word units (CKA across models needs that).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...encoding import encode
from ...layers import LayerSelection, resolve_layers
from ...pooling import WORD_POOLS, WordPool, check_pool
from ...progress import progress_bar

if TYPE_CHECKING:
    from ...encoding import Encoded
    from ...extractor import Extractor

logger = logging.getLogger(__name__)

Units = Literal["words", "tokens"]
Keep = Literal["exclude", "include"]
UNITS: tuple[str, ...] = ("words", "tokens")
KEEP: tuple[str, ...] = ("exclude", "include")


def is_punctuation(unit: str) -> bool:
    """Whether a unit is made only of punctuation and symbols (and white space)."""
    chars = [c for c in unit if not c.isspace()]
    return bool(chars) and all(unicodedata.category(c)[0] in "PS" for c in chars)


@dataclass(frozen=True)
class UnitOptions:
    """What enters the sample; see the module docstring for the meaning and the defaults."""

    units: Units = "words"
    pool: WordPool = "mean"
    specials: Keep = "exclude"
    punctuation: Keep = "exclude"
    first: Keep = "include"

    def check(self) -> None:
        """Raise a ValueError naming the first option with an unknown value."""
        for name, allowed in (("units", UNITS), ("specials", KEEP), ("punctuation", KEEP), ("first", KEEP)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"unknown {name}={getattr(self, name)!r}; choose one of {', '.join(allowed)}")
        check_pool(self.pool, tuple(p for p in WORD_POOLS if p != "first_last"), "word")

    def eligible(self, enc: Encoded) -> tuple[np.ndarray, list[str]]:
        """The units of one tokenized text that enter the sample, and their types.

        Returns:
            ``(units,)`` unit indices (word numbers, or piece positions) and one type string per unit (the
            case-folded word, or the piece string).
        """
        if self.units == "words":
            strings = enc.words
            keep = np.diff(enc.word_ptr) > 0  # a word with no piece has no vector
            first = 0
        else:
            pieces = zip(enc.tokens, enc.special, enc.offsets)
            strings = [tok if sp else enc.text[s:e] for tok, sp, (s, e) in pieces]
            keep = np.ones(len(enc.tokens), dtype=bool) if self.specials == "include" else ~enc.special
            regular = np.flatnonzero(~enc.special)
            first = int(regular[0]) if regular.size else -1
        if self.punctuation == "exclude":
            keep &= np.array([not is_punctuation(s) for s in strings], dtype=bool)
        if self.first == "exclude" and 0 <= first < len(keep):
            keep[first] = False
        index = np.flatnonzero(keep)
        types = [enc.words[i].casefold() for i in index] if self.units == "words" else [enc.tokens[i] for i in index]
        return index, types


@dataclass(frozen=True)
class SamplePlan:
    """Which text positions are embedded for what, drawn with one seed before the model runs.

    Attributes:
        random: ``(n, 2)`` (text, unit) of the random sample: ``n`` distinct texts, one unit from each.
        texts: the texts read in full (the random sample's texts): intra-text similarity, norms, statistics.
        cka: ``(k, 2)`` (text, unit) of the units compared by CKA, uniform over the units of ``texts``.
        occurrences: ``(m, 2)`` (text, unit) of the occurrences of the self-similarity words, one per text.
        occurrence_word: ``(m,)`` index into ``words``.
        words: the self-similarity words (types found in at least ``min_contexts`` texts).
        eligible_words: how many types were found in at least ``min_contexts`` texts.
        units: the eligible units of every text.
    """

    random: np.ndarray
    texts: np.ndarray
    cka: np.ndarray
    occurrences: np.ndarray
    occurrence_word: np.ndarray
    words: list[str]
    eligible_words: int
    units: list[np.ndarray] = field(repr=False)


def check_sample_size(samples: int, usable: int, what: str, source: str) -> None:
    """The one check of a sample size against a corpus: ``samples`` units, each from a different text.

    Args:
        samples: the units asked for.
        usable: the texts that can give one.
        what: what ``usable`` counts, for the message (``"non-empty texts"``).
        source: the corpus's name.

    Raises:
        ValueError: fewer than 2 samples, or fewer usable texts than samples.
    """
    if samples < 2:
        raise ValueError(f"samples={samples}: need at least 2 units from different texts")
    if usable < samples:
        raise ValueError(
            f"{source} has {usable} {what}; the sample asks for {samples} units from {samples} different texts. "
            "Lower samples (--samples) or use a larger corpus (or split it into sentences)."
        )


def plan_sample(
    eligible: Sequence[tuple[np.ndarray, list[str]]],
    *,
    samples: int,
    cka_samples: int,
    min_contexts: int,
    max_words: int,
    max_occurrences: int,
    occurrences: bool,
    seed: int,
    source: str = "the corpus",
) -> SamplePlan:
    """Draw the sample from each text's eligible units (see :meth:`UnitOptions.eligible`).

    Raises:
        ValueError: fewer texts with an eligible unit than ``samples`` (one unit is drawn from each of ``samples``
            different texts), fewer than 2 such texts, or, with ``occurrences``, no type in ``min_contexts`` texts.
    """
    # One stream per sample, spawned from the seed: the CKA units' size or the word sample's options never move
    # the random sample, nor each other.
    rng, cka_rng, words_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    units = [u for u, _ in eligible]
    usable = np.flatnonzero([len(u) > 0 for u in units])
    check_sample_size(samples, len(usable), f"texts with an eligible unit (of {len(units)} texts)", source)
    texts = np.sort(rng.choice(usable, size=samples, replace=False))
    random = np.array([(t, units[t][rng.integers(len(units[t]))]) for t in texts], dtype=np.int64)
    pool = np.concatenate([np.stack([np.full(len(units[t]), t), units[t]], axis=1) for t in texts])
    pick = np.sort(cka_rng.choice(len(pool), size=min(cka_samples, len(pool)), replace=False))
    if cka_samples > len(pool):
        logger.info("CKA: %d units asked, the sampled texts hold %d; using all of them", cka_samples, len(pool))
    occ = np.zeros((0, 2), dtype=np.int64)
    occ_word = np.zeros(0, dtype=np.int64)
    words: list[str] = []
    eligible_words = 0
    if occurrences:
        where: dict[str, dict[int, list[int]]] = {}
        for t, (index, types) in enumerate(eligible):
            for u, w in zip(index.tolist(), types):
                where.setdefault(w, {}).setdefault(t, []).append(u)
        frequent = sorted(w for w, by_text in where.items() if len(by_text) >= min_contexts)
        eligible_words = len(frequent)
        if not frequent:
            raise ValueError(
                f"{source}: no type occurs in {min_contexts} different texts "
                f"({len(units)} texts); self-similarity and MEV need min_contexts={min_contexts} contexts per word. "
                "Lower min_contexts or use a larger corpus."
            )
        chosen = sorted(words_rng.choice(len(frequent), size=min(max_words, len(frequent)), replace=False).tolist())
        rows = []
        for k, i in enumerate(chosen):
            words.append(frequent[i])
            by_text = where[frequent[i]]
            text_ids = sorted(by_text)
            take = words_rng.choice(len(text_ids), size=min(max_occurrences, len(text_ids)), replace=False)
            for t in sorted(text_ids[j] for j in take):
                rows.append((t, by_text[t][words_rng.integers(len(by_text[t]))], k))
        table = np.array(rows, dtype=np.int64)
        occ, occ_word = table[:, :2], table[:, 2]
    return SamplePlan(random, texts, pool[pick], occ, occ_word, words, eligible_words, units)


@dataclass(eq=False)
class CorpusSample:
    """The vectors the layer analyses need, for one model and corpus. Shapes use ``layers`` and ``dim``.

    Attributes:
        model: the model's name.
        source: the corpus's name.
        layers: the absolute layer indices.
        options: the unit options, sample sizes and seed, for the report.
        random: ``(layers, n, dim)``: one unit from each of ``n`` different texts.
        random_ids: ``(n, 2)`` (text, unit) of those units.
        intra: ``(layers, texts)`` intra-text similarity of each sampled text with at least 2 units.
        norms: ``(layers, units)`` Euclidean norm of every eligible unit of the sampled texts.
        mean: ``(layers, dim)`` per-dimension mean over every eligible unit of the sampled texts.
        std: ``(layers, dim)`` per-dimension standard deviation over the same units.
        cka: ``(layers, k, dim)`` the units compared by CKA; ``cka_ids`` ``(k, 2)`` says which.
        occurrences: ``(layers, m, dim)`` occurrences of the self-similarity words (one per text).
        occurrence_word: ``(m,)`` index into ``words``.
        words: the self-similarity words.
        provenance: the model's hashes and facts (:func:`ctxemb.store.manifest.model_provenance`) and the ctxemb
            version.
    """

    model: str
    source: str
    layers: tuple[int, ...]
    options: dict[str, Any]
    random: np.ndarray
    random_ids: np.ndarray
    intra: np.ndarray
    norms: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    cka: np.ndarray
    cka_ids: np.ndarray
    occurrences: np.ndarray
    occurrence_word: np.ndarray
    words: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)


def collect(
    extractor: Extractor,
    texts: Sequence[str],
    plan: SamplePlan,
    options: UnitOptions,
    *,
    layers: LayerSelection = "all",
    chunk: int = 64,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Embed the texts the plan needs, chunk by chunk, keeping only the planned units' vectors.

    Returns:
        The array fields of :class:`CorpusSample` (``random``, ``intra``, ``norms``, ``mean``, ``std``, ``cka``,
        ``occurrences``), plus ``layers``.
    """
    from .metrics import intra_similarity

    kept = resolve_layers(layers, extractor.num_layers)
    wanted: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for name, table in (("random", plan.random), ("cka", plan.cka), ("occurrences", plan.occurrences)):
        for row, (t, u) in enumerate(table.tolist()):
            wanted.setdefault((t, u), []).append((name, row))
    full = set(plan.texts.tolist())
    needed = sorted(full | {t for t, _ in wanted})
    dim = int(extractor.model.config.hidden_size)
    out = {
        name: np.full((len(kept), len(table), dim), np.nan, dtype=np.float32)
        for name, table in (("random", plan.random), ("cka", plan.cka), ("occurrences", plan.occurrences))
    }
    intra: list[np.ndarray] = []
    norms: list[np.ndarray] = []
    total = np.zeros((len(kept), dim))
    squares = np.zeros((len(kept), dim))
    count = 0
    bar = progress_bar(total=len(needed), unit="text", progress=progress, desc=f"embedding {extractor.name or 'model'}")
    for start in range(0, len(needed), chunk):
        batch = needed[start : start + chunk]
        for t, result in zip(batch, extractor.embed([texts[t] for t in batch], layers=kept, progress=False)):
            vectors = result.word_vectors(options.pool) if options.units == "words" else result.hidden
            index = plan.units[t]
            if len(vectors[0]) <= (index.max() if index.size else -1):
                raise ValueError(f"text {t}: the model returned {len(vectors[0])} units, the plan expects more")
            for u in index.tolist():
                for name, row in wanted.get((t, u), ()):
                    out[name][:, row] = vectors[:, u]
            if t in full:
                selected = vectors[:, index].astype(np.float64)
                norms.append(np.linalg.norm(selected, axis=-1))
                total += selected.sum(axis=1)
                squares += (selected**2).sum(axis=1)
                count += selected.shape[1]
                if selected.shape[1] >= 2:
                    intra.append(np.array([intra_similarity(layer) for layer in selected]))
        bar.update(len(batch))
    bar.close()
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return {
        "layers": kept,
        **out,
        "intra": np.stack(intra, axis=1) if intra else np.zeros((len(kept), 0)),
        "norms": np.concatenate(norms, axis=1),
        "mean": mean,
        "std": std,
    }


def eligible_units(
    extractor: Extractor, texts: Sequence[str], options: UnitOptions
) -> list[tuple[np.ndarray, list[str]]]:
    """Tokenize the corpus (no model run) and list each text's eligible units with their types."""
    encoded = encode(extractor.tokenizer, list(texts), extractor.split, extractor.lang)
    return [options.eligible(enc) for enc in encoded]
