"""Predictive static vectors trained by gensim: word2vec (CBOW, skip-gram) and fastText (character n-grams)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, Literal

from gensim.models import KeyedVectors

from .base import StaticModel
from .corpus import Corpus, CorpusSource, as_corpus, chunked
from .io import keyed_vectors

Architecture = Literal["skipgram", "cbow"]
ARCHITECTURES: tuple[str, ...] = ("skipgram", "cbow")

# gensim's training loop truncates longer sentences at this many words (MAX_WORDS_IN_BATCH); cutting texts here
# instead keeps every word, as gensim's own LineSentence does.
MAX_SENTENCE_WORDS = 10_000


def stable_hash(text: str) -> int:
    """A hash of a string that is the same in every process, passed to gensim as ``hashfxn``.

    gensim 4.4 does not train with it: it draws every initial vector from one ``numpy.random.default_rng(seed)``
    (``KeyedVectors.resize_vectors``), and ``hashfxn`` only reaches the deprecated ``Word2Vec.seeded_vector``. It is
    passed so that anything gensim derives from a word's hash is the same in every process, whatever
    ``PYTHONHASHSEED`` is.
    """
    return zlib.crc32(text.encode("utf-8"))


class _Sentences:
    """Re-iterable view of a corpus as gensim sentences: each text's words, cut into pieces gensim keeps whole."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def __iter__(self) -> Iterator[list[str]]:
        for words in self.corpus:
            yield from chunked(words, MAX_SENTENCE_WORDS)


def _gensim_options(model: Any) -> dict[str, Any]:
    """The gensim arguments shared by word2vec and fastText."""
    if model.architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {model.architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
    if model.dim < 1:
        raise ValueError(f"dim must be at least 1, not {model.dim}")
    options = {
        "vector_size": model.dim,
        "window": model.window,
        "min_count": model.min_count,
        "max_final_vocab": model.max_vocab,
        "sg": int(model.architecture == "skipgram"),
        "negative": model.negative,
        "hs": 0,
        "sample": model.sample,
        "epochs": model.epochs,
        "alpha": model.lr,
        "seed": model.seed,
        "workers": model.workers,
        "hashfxn": stable_hash,
    }
    if model.lr is None:  # gensim's own default learning rate
        del options["alpha"]
    return options


def _train(model: Any, corpus: Corpus) -> Any:
    """Build the vocabulary, refuse an empty one naming the corpus (gensim's errors do not), then train."""
    sentences = _Sentences(corpus)
    model.build_vocab(sentences)
    if model.corpus_total_words == 0:
        raise ValueError(f"corpus {corpus.name} is empty: it has no words")
    if not model.wv.index_to_key:
        raise ValueError(
            f"corpus {corpus.name}: no word occurs min_count={model.min_count} times "
            f"({model.corpus_total_words} words); lower min_count"
        )
    model.train(sentences, total_examples=model.corpus_count, total_words=model.corpus_total_words, epochs=model.epochs)
    return model


def _with_counts(vectors: KeyedVectors) -> KeyedVectors:
    """The word vectors of a trained gensim model as plain ``KeyedVectors`` with their corpus counts."""
    counts = [vectors.get_vecattr(w, "count") for w in vectors.index_to_key]
    return keyed_vectors(vectors.index_to_key, vectors.vectors, counts)


class Word2Vec(StaticModel):
    """Word2vec with negative sampling (Mikolov et al. 2013), trained by gensim on the shared tokenisation.

    Skip-gram maximises ``log s(w . c) + sum_k log s(-w . n_k)`` over word-context pairs within a dynamic window
    (``k = negative`` noise words from the unigram distribution to the 3/4); CBOW predicts a word from the mean of
    its context vectors. Deterministic for ``workers=1``: gensim draws the initial vectors from ``seed`` and samples
    windows, noise words and down-sampling from a generator seeded with it (nothing depends on Python's string
    hash); more workers are faster and not reproducible.

    Attributes set by :meth:`fit`: ``vectors_`` (``KeyedVectors``, most frequent word first, with ``count``) and
    ``model_`` (the gensim model, for further training).

    Args:
        dim: number of dimensions.
        architecture: ``skipgram`` or ``cbow``.
        window: largest distance between a word and a context (sampled uniformly up to it per word).
        negative: noise words per positive pair.
        sample: threshold for down-sampling frequent words.
        epochs: passes over the corpus.
        lr: initial learning rate (decays linearly); ``None`` for gensim's (0.025).
        min_count: keep words seen at least this often.
        max_vocab: keep at most this many words (gensim raises the effective ``min_count`` to fit).
        seed: seeds initialisation and sampling.
        workers: training threads.
        progress: progress bar over texts on every pass.
    """

    def __init__(
        self,
        *,
        dim: int = 100,
        architecture: Architecture = "skipgram",
        window: int = 5,
        negative: int = 5,
        sample: float = 1e-3,
        epochs: int = 5,
        lr: float | None = None,
        min_count: int = 5,
        max_vocab: int | None = None,
        seed: int = 0,
        workers: int = 1,
        progress: bool | None = None,
    ) -> None:
        self.dim = dim
        self.architecture = architecture
        self.window = window
        self.negative = negative
        self.sample = sample
        self.epochs = epochs
        self.lr = lr
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.seed = seed
        self.workers = workers
        self.progress = progress

    def fit(self, corpus: CorpusSource | Corpus) -> Word2Vec:
        """Train on ``corpus`` (a file path or an iterable of texts)."""
        from gensim.models import Word2Vec as GensimWord2Vec

        options = _gensim_options(self)
        self.model_ = _train(GensimWord2Vec(**options), as_corpus(corpus, self.progress))
        self.vectors_ = _with_counts(self.model_.wv)
        return self


class FastText(StaticModel):
    """FastText (Bojanowski et al. 2017): word2vec where a word is the sum of its character n-gram vectors.

    A word ``<where>`` is represented by its own vector plus the vectors of its n-grams of ``min_n..max_n``
    characters (hashed into ``bucket`` rows), so ``vectors_[word]`` works for words never seen in training.

    Attributes set by :meth:`fit`: ``vectors_`` (gensim's ``FastTextKeyedVectors``) and ``model_``.

    Args:
        dim, architecture, window, negative, sample, epochs, lr, min_count, max_vocab, seed, workers, progress:
            as for :class:`Word2Vec`.
        min_n, max_n: shortest and longest character n-gram (``max_n < min_n`` turns n-grams off).
        bucket: rows of the hashed n-gram table (memory: ``bucket * dim`` floats, twice while training).
    """

    def __init__(
        self,
        *,
        dim: int = 100,
        architecture: Architecture = "skipgram",
        window: int = 5,
        negative: int = 5,
        sample: float = 1e-3,
        epochs: int = 5,
        lr: float | None = None,
        min_n: int = 3,
        max_n: int = 6,
        bucket: int = 2_000_000,
        min_count: int = 5,
        max_vocab: int | None = None,
        seed: int = 0,
        workers: int = 1,
        progress: bool | None = None,
    ) -> None:
        self.dim = dim
        self.architecture = architecture
        self.window = window
        self.negative = negative
        self.sample = sample
        self.epochs = epochs
        self.lr = lr
        self.min_n = min_n
        self.max_n = max_n
        self.bucket = bucket
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.seed = seed
        self.workers = workers
        self.progress = progress

    def fit(self, corpus: CorpusSource | Corpus) -> FastText:
        """Train on ``corpus`` (a file path or an iterable of texts)."""
        from gensim.models import FastText as GensimFastText

        options = _gensim_options(self)
        model = GensimFastText(min_n=self.min_n, max_n=self.max_n, bucket=self.bucket, **options)
        self.model_ = _train(model, as_corpus(corpus, self.progress))
        self.vectors_ = self.model_.wv
        return self
