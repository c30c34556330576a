"""Static vectors distilled from a contextual model, one set per layer (Bommasani, Davis & Cardie 2020).

A word's vector at layer ``k`` is the mean of its contextual vectors over its occurrences in a corpus:
``v_k(w) = 1/n sum_(o = 1..n) h_k(w, o)``, where ``h_k(w, o)`` pools the pieces of occurrence ``o`` (mean by
default) and ``n <= max_occurrences`` (the first occurrences in corpus order). With ``contexts=None`` there is no
corpus context: each word is embedded alone, as a one-word text, ``v_k(w) = h_k(w, alone)`` (the vocabulary
distillation of model2vec, Tulkens & van Dongen 2024, before its PCA and weighting). Beside the layers, the
``input`` baseline takes the model's own input-embedding rows of the word's pieces, pooled the same way: no
position, no layer norm, no context.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from gensim.models import KeyedVectors

from ..encoding import encode
from ..layers import LayerSelection, layer_name, resolve_layers
from ..pooling import WORD_POOLS, WordPool, check_pool, pool_words
from ..progress import progress_bar
from ..words import split_words
from .corpus import Corpus, CorpusSource, Vocabulary, as_corpus
from .io import keyed_vectors

if TYPE_CHECKING:
    from ..extractor import Extractor


def _pieces(corpus: Corpus, max_words: int) -> Iterator[tuple[list[str], list[str]]]:
    """Each text cut into pieces of at most ``max_words`` words: ``(surface words, lowercased keys)``.

    The words are those of :func:`ctxemb.static.corpus.tokenize` (``split_words(..., "punct")``), in their
    original case, so the model sees the text as written and the keys match the trained models' vocabularies.
    """
    for text in corpus.texts():
        words = [text[s:e] for s, e in split_words(text, "punct")]
        for start in range(0, len(words), max_words):
            piece = words[start : start + max_words]
            yield piece, [w.lower() for w in piece]


Contexts = Literal["corpus"]


def distill(
    extractor: Extractor,
    corpus: CorpusSource | Corpus | None,
    layers: LayerSelection = "all",
    *,
    contexts: Contexts | None = "corpus",
    max_occurrences: int = 100,
    words: Iterable[str] | None = None,
    min_count: int = 1,
    pool: WordPool = "mean",
    max_words: int = 64,
    batch_texts: int = 128,
    input_layer: bool = True,
    progress: bool | None = None,
) -> dict[str, KeyedVectors]:
    """Average a contextual model's word vectors over a corpus, or embed each word alone: a ``KeyedVectors`` per layer.

    The corpus is read in order and cut into pieces of ``max_words`` words (the context each occurrence sees);
    a piece is embedded only if it holds an occurrence still wanted (a vocabulary word seen fewer than
    ``max_occurrences`` times so far), and reading stops once every word has its ``max_occurrences``.

    With ``contexts=None`` no text is read for contexts: each word of the vocabulary is embedded alone, as a
    one-word text (``[CLS] word [SEP]`` for BERT), and its pooled vector at each layer is its static vector. The
    corpus then only supplies the vocabulary (and may be ``None`` when ``words`` is given); every wanted word gets
    a vector, whether the corpus holds it or not.

    Args:
        extractor: a :class:`~ctxemb.Extractor`.
        corpus: a file (one text per line) or an iterable of texts; ``None`` with ``contexts=None`` and ``words``.
        layers: the layers to distil (``int | Sequence[int] | slice | "all"``).
        contexts: ``corpus`` (each word's occurrences in the corpus) or ``None`` (each word alone).
        max_occurrences: the most occurrences averaged per word.
        words: the vocabulary to distil (lowercased; say, the words of an evaluation set); by default every
            word of the corpus seen at least ``min_count`` times (one extra pass to count).
        min_count: see ``words``.
        pool: how a word's pieces are combined: ``first | last | mean | max | first_last``.
        max_words: the longest piece of text embedded, in words.
        batch_texts: pieces (or, with ``contexts=None``, words) per call to the extractor.
        input_layer: also return the ``input`` baseline (input-embedding rows of each word's pieces).
        progress: progress bar over the pieces read (over the batches of words, with ``contexts=None``).

    Returns:
        ``{"input": ..., "layer0": ..., "layer1": ...}``: for each kept layer ``k`` a ``KeyedVectors`` under
        ``layer{k}`` (``input`` first when asked). Words are ordered by the number of occurrences averaged
        (the ``count`` attribute), then by first occurrence; a wanted word that never occurs is left out. With
        ``contexts=None`` they are in the vocabulary's order (``words`` as given, or most frequent first), each
        with ``count`` 1; a word that yields no piece is left out.

    Raises:
        ValueError: an empty corpus, no wanted word in it, a bad ``pool`` / ``max_occurrences`` / ``contexts``,
            or ``corpus=None`` where a corpus is needed.
    """
    check_pool(pool, WORD_POOLS, "word")
    if max_occurrences < 1:
        raise ValueError(f"max_occurrences must be at least 1, not {max_occurrences}")
    if contexts not in ("corpus", None):
        raise ValueError(f"unknown contexts {contexts!r}; choose 'corpus' or None (each word alone)")
    kept = resolve_layers(layers, extractor.num_layers)
    if words is not None:
        wanted = list(dict.fromkeys(w.lower() for w in words))
    elif corpus is not None:
        wanted = Vocabulary.build(as_corpus(corpus, progress=False), min_count).words
    else:
        raise ValueError("corpus=None needs a words list: without one, the vocabulary comes from the corpus")
    if contexts is None:
        return _distill_alone(extractor, wanted, kept, pool, batch_texts, input_layer, progress)
    if corpus is None:
        raise ValueError("contexts='corpus' needs a corpus; contexts=None embeds each word alone")
    corpus = as_corpus(corpus, progress=False)  # the bar is over pieces, below
    row = {w: i for i, w in enumerate(wanted)}
    taken = np.zeros(len(wanted), dtype=np.int64)
    used = np.zeros(len(wanted), dtype=np.int64)
    first_seen = np.full(len(wanted), np.iinfo(np.int64).max)
    sums: np.ndarray | None = None
    missing = len(wanted)  # words still short of max_occurrences
    batch: list[tuple[list[str], list[tuple[int, int]]]] = []  # (piece words, [(position, row)])
    seen_words = 0

    def flush() -> None:
        nonlocal sums
        results = extractor.embed([piece for piece, _ in batch], layers=kept, progress=False)
        for (_, picks), result in zip(batch, results):
            vectors = result.word_vectors(pool)  # (layers, words, dim)
            if sums is None:
                sums = np.zeros((len(kept), len(wanted), vectors.shape[-1]))
            for position, r in picks:
                vector = vectors[:, position]
                if not np.isnan(vector).any():  # a word with no piece (reported by the extractor) is skipped
                    sums[:, r] += vector
                    used[r] += 1
        batch.clear()

    bar = progress_bar(_pieces(corpus, max_words), unit="piece", desc="distil", progress=progress)
    for piece, keys in bar:
        picks = []
        for position, key in enumerate(keys):
            r = row.get(key)
            if r is not None and taken[r] < max_occurrences:
                taken[r] += 1
                first_seen[r] = min(first_seen[r], seen_words + position)
                missing -= taken[r] == max_occurrences
                picks.append((position, r))
        seen_words += len(keys)
        if picks:
            batch.append((piece, picks))
        if len(batch) >= batch_texts:
            flush()
        if missing == 0:
            break
    bar.close()
    if seen_words == 0:
        raise ValueError(f"corpus {corpus.name} is empty: it has no words")
    if batch:
        flush()
    if sums is None or not used.any():
        raise ValueError(f"corpus {corpus.name}: none of the {len(wanted)} wanted words occurs in it")
    order = np.lexsort((first_seen, -used))
    order = order[used[order] > 0]
    names = [wanted[i] for i in order]
    out: dict[str, KeyedVectors] = {}
    if input_layer:
        out["input"] = keyed_vectors(names, input_vectors(extractor, names, pool), used[order])
    means = sums[:, order] / used[order][None, :, None]
    for i, layer in enumerate(kept):
        out[layer_name(layer)] = keyed_vectors(names, means[i], used[order])
    return out


def _distill_alone(
    extractor: Extractor,
    words: list[str],
    kept: Sequence[int],
    pool: WordPool,
    batch_texts: int,
    input_layer: bool,
    progress: bool | None,
) -> dict[str, KeyedVectors]:
    """Each word embedded alone, as a one-word text: its pooled vector per layer (``contexts=None``)."""
    if not words:
        raise ValueError("no word to distil: the words list is empty")
    rows: list[np.ndarray] = []  # (layers, dim) per word
    starts = range(0, len(words), batch_texts)
    for start in progress_bar(starts, unit="batch", desc="distil (alone)", progress=progress):
        batch = words[start : start + batch_texts]
        for result in extractor.embed([[w] for w in batch], layers=kept, progress=False):
            rows.append(result.word_vectors(pool)[:, 0])
    vectors = np.stack(rows, axis=1)  # (layers, words, dim)
    has_piece = ~np.isnan(vectors).any(axis=(0, 2))  # a word with no piece (reported by the extractor) is left out
    names = [w for w, ok in zip(words, has_piece) if ok]
    if not names:
        raise ValueError(f"none of the {len(words)} wanted words yields a piece of the model's tokenizer")
    ones = np.ones(len(names), dtype=np.int64)
    out: dict[str, KeyedVectors] = {}
    if input_layer:
        out["input"] = keyed_vectors(names, input_vectors(extractor, names, pool), ones)
    for i, layer in enumerate(kept):
        out[layer_name(layer)] = keyed_vectors(names, vectors[i][has_piece], ones)
    return out


def input_vectors(extractor: Extractor, words: list[str], pool: WordPool = "mean") -> np.ndarray:
    """Each word's input-embedding rows, pooled over its pieces: ``(words, dim)``.

    A word is tokenized on its own, as a one-word text (with the tokenizer's own rules for a text's first word);
    a word that yields no piece gets NaN.
    """
    table = extractor.model.get_input_embeddings().weight.detach().float().cpu().numpy()
    encoded = encode(extractor.tokenizer, [[w] for w in words], extractor.split, extractor.lang)
    dim = table.shape[1] * (2 if pool == "first_last" else 1)
    out = np.empty((len(words), dim), dtype=np.float32)
    for i, enc in enumerate(encoded):
        out[i] = pool_words(table[enc.ids][None], enc.word_ptr, enc.word_tokens, pool)[0, 0]
    return out
