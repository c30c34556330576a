"""Static word vectors: baselines trained on a corpus, vectors distilled from a contextual model, one evaluation.

Every method is an estimator (``fit(corpus) -> self``, the learned gensim ``KeyedVectors`` in ``vectors_``):
:class:`OneHot` (the no-similarity floor), :class:`LSA`, :class:`PPMISVD`, :class:`Word2Vec`, :class:`FastText`
and :class:`GloVe`. :func:`distill` turns a :class:`~ctxemb.Extractor` into one ``KeyedVectors`` per layer;
:func:`evaluate` scores any of them on word similarity and analogy, side by side and coverage-matched;
:func:`load_vectors` / :func:`save_vectors` read and write the common file formats.
"""

from __future__ import annotations

from ..extras import require_extra

require_extra("static", "ctxemb.static")

# ruff: isort: split

from .base import StaticModel
from .cooccurrence import cooccurrence, distance_weights
from .corpus import Corpus, Vocabulary, tokenize
from .count import LSA, PPMISVD, OneHot, ppmi, truncated_svd, weighted_svd_vectors
from .distill import distill, input_vectors
from .evaluation import Task, evaluate, load_task
from .glove import GloVe
from .io import keyed_vectors, load_vectors, save_vectors
from .neural import FastText, Word2Vec
from .report import Evaluation, ScoreRow

__all__ = [
    "LSA",
    "PPMISVD",
    "Corpus",
    "Evaluation",
    "FastText",
    "GloVe",
    "OneHot",
    "ScoreRow",
    "StaticModel",
    "Task",
    "Vocabulary",
    "Word2Vec",
    "cooccurrence",
    "distance_weights",
    "distill",
    "evaluate",
    "input_vectors",
    "keyed_vectors",
    "load_task",
    "load_vectors",
    "ppmi",
    "save_vectors",
    "tokenize",
    "truncated_svd",
    "weighted_svd_vectors",
]
