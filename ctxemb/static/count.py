"""Count-based static vectors: one-hot (the no-similarity floor), LSA and PPMI-SVD."""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from .base import StaticModel, check_dim
from .cooccurrence import Context, Weighting, cooccurrence
from .corpus import Corpus, CorpusSource, Vocabulary, as_corpus, chunked
from .io import keyed_vectors

logger = logging.getLogger(__name__)

Output = Literal["w", "w+c"]


def ppmi(counts: sp.spmatrix, cds: float = 0.75, shift: float = 1.0) -> sp.csr_matrix:
    """Shifted positive PMI with context-distribution smoothing: ``(words, contexts)`` CSR.

    ``PPMI(w, c) = max(0, log(P(w, c) / (P(w) P_a(c))) - log(shift))`` with ``P(w, c) = X[w, c] / sum(X)``,
    ``P(w) = sum_c X[w, c] / sum(X)`` and ``P_a(c) = n(c)^a / sum_c' n(c')^a``, ``n(c) = sum_w X[w, c]``
    (Levy, Goldberg & Dagan 2015: ``a = cds = 0.75``; ``shift = k``, the number of negative samples that
    SGNS would use; ``shift = 1`` is plain PPMI).
    """
    if shift <= 0:
        raise ValueError(f"shift must be positive, not {shift}")
    counts = sp.csr_matrix(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        raise ValueError("the co-occurrence matrix is empty")
    p_word = np.asarray(counts.sum(axis=1)).ravel() / total
    smoothed = np.asarray(counts.sum(axis=0)).ravel() ** cds
    p_context = smoothed / smoothed.sum()
    coo = counts.tocoo()
    keep = coo.data > 0
    r, c, x = coo.row[keep], coo.col[keep], coo.data[keep]
    values = np.log(x / total) - np.log(p_word[r]) - np.log(p_context[c]) - np.log(shift)
    positive = values > 0
    return sp.csr_matrix((values[positive], (r[positive], c[positive])), shape=counts.shape)


def truncated_svd(
    matrix: sp.spmatrix | np.ndarray, dim: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top ``dim`` singular triplets, largest first: ``U (rows, dim)``, ``s (dim,)``, ``Vt (dim, cols)``.

    PROPACK (``scipy.sparse.linalg.svds(solver="propack")``, exact to solver tolerance; ten times faster than
    ARPACK for 300 of 8,000 dimensions), seeded; each singular vector's sign is fixed so that its
    largest-magnitude entry in ``U`` is positive, which makes the result deterministic.
    """
    u, s, vt = svds(sp.csr_matrix(matrix, dtype=np.float64), k=dim, solver="propack", random_state=seed)
    order = np.argsort(-s)
    u, s, vt = u[:, order], s[order], vt[order]
    signs = np.sign(u[np.abs(u).argmax(axis=0), np.arange(dim)])
    signs[signs == 0] = 1
    return u * signs, s, vt * signs[:, None]


def weighted_svd_vectors(u: np.ndarray, s: np.ndarray, vt: np.ndarray, eig: float, output: Output) -> np.ndarray:
    """Word vectors from an SVD ``M = U S V^T``: ``W = U S^eig`` (``w``) or ``U S^eig + V S^eig`` (``w+c``)."""
    scale = s**eig
    words = u * scale
    if output == "w":
        return words
    if output == "w+c":
        if vt.shape[1] != u.shape[0]:
            raise ValueError(f"output 'w+c' needs as many contexts as words, not {vt.shape[1]} and {u.shape[0]}")
        return words + vt.T * scale
    raise ValueError(f"unknown output {output!r}; choose 'w' or 'w+c'")


class OneHot(StaticModel):
    """One-hot word vectors, the no-similarity floor: every word is its own axis.

    ``vectors_`` holds the ``(words, words)`` identity (dense, so keep the vocabulary small: 10,000 words take
    400 MB); the cosine of two different words is 0, so it scores no similarity beyond identical pairs, and a
    bag-of-words count vector of a text (:meth:`transform`) is the sum of its words' one-hot vectors.

    Args:
        min_count: keep words seen at least this often.
        max_vocab: keep at most this many words (the most frequent).
        progress: progress bar over texts.
    """

    def __init__(self, *, min_count: int = 5, max_vocab: int | None = None, progress: bool | None = None) -> None:
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.progress = progress

    def fit(self, corpus: CorpusSource | Corpus) -> OneHot:
        """Build the vocabulary of ``corpus``; ``vectors_`` is the identity over it."""
        corpus = as_corpus(corpus, self.progress)
        self.vocabulary_ = Vocabulary.build(corpus, self.min_count, self.max_vocab)
        n = len(self.vocabulary_)
        self.vectors_ = keyed_vectors(self.vocabulary_.words, np.eye(n, dtype=np.float32), self.vocabulary_.counts)
        return self

    def transform(self, texts: CorpusSource | Corpus) -> sp.csr_matrix:
        """Bag-of-words counts of each text over the vocabulary: ``(n, words)`` int64 CSR."""
        rows = list(self.vocabulary_.encode(as_corpus(texts, self.progress)))
        indptr = np.cumsum([0, *map(len, rows)])
        data = np.ones(int(indptr[-1]), dtype=np.int64)
        cols = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        matrix = sp.csr_matrix((data, cols, indptr), shape=(len(rows), len(self.vocabulary_)))
        matrix.sum_duplicates()
        return matrix


class LSA(StaticModel):
    """Latent semantic analysis: a document-term matrix (counts or tf-idf), then a truncated SVD.

    With ``X = U S V^T`` (documents x words), a word's vector is its row of ``V S^eig`` (``eig = 1``: the
    classic term vectors of Deerwester et al. 1990). Texts longer than ``document_words`` are cut into
    documents of that many words.

    Args:
        dim: number of dimensions (below both the vocabulary size and the number of documents).
        weighting: ``tfidf`` (scikit-learn's ``TfidfTransformer``, sublinear tf, l2-normalised documents) or
            ``counts``.
        document_words: longest document, in words.
        eig: exponent of the singular values.
        min_count: keep words seen at least this often.
        max_vocab: keep at most this many words.
        seed: start vector of the SVD.
        progress: progress bar over texts.
    """

    def __init__(
        self,
        *,
        dim: int = 300,
        weighting: Literal["tfidf", "counts"] = "tfidf",
        document_words: int = 1000,
        eig: float = 1.0,
        min_count: int = 5,
        max_vocab: int | None = None,
        seed: int = 0,
        progress: bool | None = None,
    ) -> None:
        self.dim = dim
        self.weighting = weighting
        self.document_words = document_words
        self.eig = eig
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.seed = seed
        self.progress = progress

    def fit(self, corpus: CorpusSource | Corpus) -> LSA:
        """Build the document-term matrix of ``corpus`` and factorise it."""
        from sklearn.feature_extraction.text import TfidfTransformer

        if self.weighting not in ("tfidf", "counts"):
            raise ValueError(f"unknown weighting {self.weighting!r}; choose 'tfidf' or 'counts'")
        corpus = as_corpus(corpus, self.progress)
        vocab = Vocabulary.build(corpus, self.min_count, self.max_vocab)
        check_dim(self.dim, len(vocab), "vocabulary size", corpus)
        documents = [d for ids in vocab.encode(corpus) for d in chunked(ids, self.document_words) if len(d)]
        check_dim(self.dim, len(documents), f"number of documents of up to {self.document_words} words", corpus)
        indptr = np.cumsum([0, *map(len, documents)])
        matrix = sp.csr_matrix(
            (np.ones(int(indptr[-1])), np.concatenate(documents), indptr), shape=(len(documents), len(vocab))
        )
        matrix.sum_duplicates()
        if self.weighting == "tfidf":
            matrix = TfidfTransformer(sublinear_tf=True).fit_transform(matrix)
        u, s, _ = truncated_svd(matrix.T, self.dim, self.seed)
        self.vocabulary_ = vocab
        self.singular_values_ = s
        self.vectors_ = keyed_vectors(vocab.words, u * s**self.eig, vocab.counts)
        return self


class PPMISVD(StaticModel):
    """Count-based vectors: windowed co-occurrence -> shifted PPMI -> truncated SVD (Levy, Goldberg & Dagan 2015).

    ``M = PPMI(X)`` (see :func:`ppmi`), ``M ~ U S V^T``; a word's vector is its row of ``U S^eig``
    (``output="w"``) or of ``U S^eig + V S^eig`` (``output="w+c"``). The paper's recommended settings are the
    defaults: ``cds=0.75``, ``eig=0.5``, linear ("dyn") window weighting, ``shift=1``.

    Args:
        dim: number of dimensions (below the vocabulary size).
        window: largest distance between a word and a context.
        weighting: ``uniform | harmonic | linear`` distance weights.
        context: ``symmetric | left | right``.
        cds: context-distribution smoothing exponent (1 = none).
        shift: ``k`` in ``PMI - log k``.
        eig: singular-value exponent (0, 0.5 or 1 in the paper).
        output: ``w`` or ``w+c``.
        min_count: keep words seen at least this often.
        max_vocab: keep at most this many words.
        seed: start vector of the SVD.
        progress: progress bar over texts.
    """

    def __init__(
        self,
        *,
        dim: int = 300,
        window: int = 5,
        weighting: Weighting = "linear",
        context: Context = "symmetric",
        cds: float = 0.75,
        shift: float = 1.0,
        eig: float = 0.5,
        output: Output = "w",
        min_count: int = 5,
        max_vocab: int | None = None,
        seed: int = 0,
        progress: bool | None = None,
    ) -> None:
        self.dim = dim
        self.window = window
        self.weighting = weighting
        self.context = context
        self.cds = cds
        self.shift = shift
        self.eig = eig
        self.output = output
        self.min_count = min_count
        self.max_vocab = max_vocab
        self.seed = seed
        self.progress = progress

    def fit(self, corpus: CorpusSource | Corpus) -> PPMISVD:
        """Count co-occurrences in ``corpus``, weight them and factorise."""
        corpus = as_corpus(corpus, self.progress)
        vocab = Vocabulary.build(corpus, self.min_count, self.max_vocab)
        check_dim(self.dim, len(vocab), "vocabulary size", corpus)
        counts = cooccurrence(vocab.encode(corpus), len(vocab), self.window, self.weighting, self.context)
        matrix = ppmi(counts, self.cds, self.shift)
        u, s, vt = truncated_svd(matrix, self.dim, self.seed)
        self.vocabulary_ = vocab
        self.singular_values_ = s
        self.vectors_ = keyed_vectors(vocab.words, weighted_svd_vectors(u, s, vt, self.eig, self.output), vocab.counts)
        return self
