"""Static vectors distilled from a contextual model, one set per layer (Bommasani, Davis & Cardie 2020).

A word's vector at layer ``k`` is the mean of its contextual vectors over its occurrences in a corpus:
``v_k(w) = 1/n sum_(o = 1..n) h_k(w, o)``, where ``h_k(w, o)`` pools the pieces of occurrence ``o`` (mean by
default) and ``n <= max_occurrences`` (the first occurrences in corpus order). Beside the layers, the ``input``
baseline takes the model's own input-embedding rows of the word's pieces, pooled the same way: no position, no
layer norm, no context.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

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


def distill(
    extractor: Extractor,
    corpus: CorpusSource | Corpus,
    layers: LayerSelection = "all",
    *,
    max_occurrences: int = 100,
    words: Iterable[str] | None = None,
    min_count: int = 1,
    pool: WordPool = "mean",
    max_words: int = 64,
    batch_texts: int = 128,
    input_layer: bool = True,
    progress: bool | None = None,
) -> dict[str, KeyedVectors]:
    """Average a contextual model's word vectors over a corpus: one ``KeyedVectors`` per layer.

    The corpus is read in order and cut into pieces of ``max_words`` words (the context each occurrence sees);
    a piece is embedded only if it holds an occurrence still wanted (a vocabulary word seen fewer than
    ``max_occurrences`` times so far), and reading stops once every word has its ``max_occurrences``.

    Args:
        extractor: a :class:`~ctxemb.Extractor`.
        corpus: a file (one text per line) or an iterable of texts.
        layers: the layers to distil (``int | Sequence[int] | slice | "all"``).
        max_occurrences: the most occurrences averaged per word.
        words: the vocabulary to distil (lowercased; say, the words of an evaluation set); by default every
            word of the corpus seen at least ``min_count`` times (one extra pass to count).
        min_count: see ``words``.
        pool: how a word's pieces are combined: ``first | last | mean | max | first_last``.
        max_words: the longest piece of text embedded, in words.
        batch_texts: pieces per call to the extractor.
        input_layer: also return the ``input`` baseline (input-embedding rows of each word's pieces).
        progress: progress bar over the pieces read.

    Returns:
        ``{"input": ..., "layer0": ..., "layer1": ...}``: for each kept layer ``k`` a ``KeyedVectors`` under
        ``layer{k}`` (``input`` first when asked). Words are ordered by the number of occurrences averaged
        (the ``count`` attribute), then by first occurrence; a wanted word that never occurs is left out.

    Raises:
        ValueError: an empty corpus, no wanted word in it, or a bad ``pool`` / ``max_occurrences``.
    """
    check_pool(pool, WORD_POOLS, "word")
    if max_occurrences < 1:
        raise ValueError(f"max_occurrences must be at least 1, not {max_occurrences}")
    corpus = as_corpus(corpus, progress=False)  # the bar is over pieces, below
    kept = resolve_layers(layers, extractor.num_layers)
    if words is None:
        wanted = Vocabulary.build(corpus, min_count).words
    else:
        wanted = list(dict.fromkeys(w.lower() for w in words))
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
