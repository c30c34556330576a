"""Static baselines on the same occurrences: the target word's vector, and the mean vector of its context.

A static vector is the same for every occurrence of a word, so on its own it cannot tell senses apart: the
**target** baseline scores at chance (1-NN with every neighbour tied) or at the most-frequent-sense level
(centroids and WiC thresholds with all cosines equal), and shows where that floor lies under each metric. The
**context** baseline asks how far the surrounding words alone go: the mean static vector of the content words
(not in gensim's stop-word list, in the vocabulary) within ``window`` words on either side of the target,
the target itself excluded (a bag-of-context-words classifier, the classic non-contextual WSD feature).

Any gensim ``KeyedVectors`` works. :func:`default_static_vectors` trains word2vec on the text8 sample that
ships with gensim (``head500.noblanks.cor``) with :class:`ctxemb.static.Word2Vec` and caches it. The static baselines
need the ``static`` extra (gensim).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...extras import require
from ...words import split_words
from .data import Occurrence

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

logger = logging.getLogger("ctxemb")

StaticKind = Literal["target", "context"]
STATIC_KINDS: tuple[StaticKind, ...] = ("target", "context")
DEFAULT_CORPUS = "head500.noblanks.cor"


@functools.cache
def _stemmer() -> Any:
    return require("gensim.parsing.porter", "static", "the polysemy probe's static baselines").PorterStemmer()


@functools.cache
def _stopwords() -> frozenset[str]:
    return require("gensim.parsing.preprocessing", "static", "the polysemy probe's static baselines").STOPWORDS


def lookup_key(keyed: KeyedVectors, word: str) -> str | None:
    """The vocabulary key of ``word``: itself, its lowercase form, or its Porter stem; ``None`` if none is there.

    The stem serves vectors trained on stemmed text, such as gensim's ``head500.noblanks.cor`` (lowercased,
    stop words removed, Porter-stemmed: ``capital`` is ``capit``).
    """
    lower = word.lower()
    for key in (word, lower, _stemmer().stem(lower)):
        if key in keyed.key_to_index:
            return key
    return None


def _lookup(keyed: KeyedVectors, word: str) -> np.ndarray | None:
    key = lookup_key(keyed, word)
    return None if key is None else keyed[key]


def target_vectors(keyed: KeyedVectors, occurrences: Sequence[Occurrence]) -> np.ndarray:
    """The static vector of each occurrence's word (its lemma, then its surface form): ``(n, dim)``.

    A word in neither form is a zero row (cosine 0 with everything); how many is logged.
    """
    out = np.zeros((len(occurrences), keyed.vector_size), dtype=np.float32)
    missing = set()
    for i, o in enumerate(occurrences):
        vector = _lookup(keyed, o.word)
        if vector is None:
            vector = _lookup(keyed, o.surface)
        if vector is None:
            missing.add(o.word)
        else:
            out[i] = vector
    if missing:
        logger.warning("static target: %d word(s) not in the vocabulary: %s", len(missing), ", ".join(sorted(missing)))
    return out


def context_words(occurrence: Occurrence, window: int = 5) -> list[str]:
    """The lowercase content words within ``window`` words of the target (the target's own words excluded)."""
    spans = split_words(occurrence.text)
    start, end = occurrence.span
    inside = [k for k, (s, e) in enumerate(spans) if s < end and e > start]
    if not inside:
        return []
    first, last = inside[0], inside[-1]
    chosen = spans[max(0, first - window) : first] + spans[last + 1 : last + 1 + window]
    words = [occurrence.text[s:e].lower() for s, e in chosen]
    return [w for w in words if w.isalpha() and w not in _stopwords()]


def context_vectors(keyed: KeyedVectors, occurrences: Sequence[Occurrence], window: int = 5) -> np.ndarray:
    """Mean static vector of each occurrence's context words (see :func:`context_words`): ``(n, dim)``.

    ``v = (1/|C|) sum_{w in C} e_w`` over the context words ``C`` found in the vocabulary; a zero row where none is.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, not {window}")
    out = np.zeros((len(occurrences), keyed.vector_size), dtype=np.float32)
    empty = 0
    for i, o in enumerate(occurrences):
        found = [v for v in (_lookup(keyed, w) for w in context_words(o, window)) if v is not None]
        if found:
            out[i] = np.mean(found, axis=0)
        else:
            empty += 1
    if empty:
        logger.warning("static context: %d occurrence(s) have no context word in the vocabulary", empty)
    return out


def static_vectors(
    keyed: KeyedVectors, occurrences: Sequence[Occurrence], kind: StaticKind, window: int = 5
) -> np.ndarray:
    """One static baseline's vectors for the occurrences: ``(n, dim)``; ``kind`` is ``target | context``."""
    if kind == "target":
        return target_vectors(keyed, occurrences)
    if kind == "context":
        return context_vectors(keyed, occurrences, window)
    raise ValueError(f"unknown static baseline {kind!r}; choose one of {', '.join(STATIC_KINDS)}")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/ctxemb`` (``~/.cache/ctxemb`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ctxemb"


def default_static_vectors(
    directory: str | Path | None = None, dim: int = 100, epochs: int = 5, *, progress: bool | None = None
) -> KeyedVectors:
    """Word2vec (skip-gram, window 5) trained on gensim's bundled text8 sample, cached after the first call.

    The sample (``head500.noblanks.cor``, about 330k words of Wikipedia text, lowercased, without stop words and
    Porter-stemmed; :func:`lookup_key` stems to match) ships with gensim, so this runs offline; training takes
    a few seconds with one worker (deterministic: fixed seed and a stable hash).

    Args:
        directory: where to cache the vectors (default: :func:`cache_dir`).
        dim: vector size.
        epochs: passes over the corpus.
        progress: a bar over the corpus on each pass while training (``None``: where someone watches).
    """
    from ...static import Word2Vec, load_vectors, save_vectors  # needs the 'static' extra, and says so

    datapath = require("gensim.test.utils", "static", "default_static_vectors").datapath

    directory = Path(directory) if directory is not None else cache_dir()
    # word2vec binary, not gensim's pickle: a cache file someone else could write must not be able to run code.
    path = directory / f"word2vec-head500-d{dim}-e{epochs}.bin"
    if path.is_file():
        return load_vectors(path, "word2vec-binary")
    corpus = datapath(DEFAULT_CORPUS)
    logger.info("training word2vec on %s (cached at %s)", DEFAULT_CORPUS, path)
    estimator = Word2Vec(dim=dim, window=5, min_count=5, epochs=epochs, seed=0, progress=progress)  # skip-gram
    vectors = estimator.fit(corpus).vectors_
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_vectors(vectors, tmp, "word2vec-binary")
    os.replace(tmp, path)  # a run killed while writing leaves no half-written cache
    return vectors
