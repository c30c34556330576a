"""The estimator base class shared by every static method."""

from __future__ import annotations

from gensim.models import KeyedVectors

from ..params import Params
from .corpus import Corpus, CorpusSource


class StaticModel(Params):
    """A static-embedding estimator: hyperparameters in, ``fit(corpus) -> self``, vectors in ``vectors_``.

    Subclasses store their keyword hyperparameters in ``__init__`` and do nothing else there (scikit-learn
    style); :meth:`fit` sets ``vectors_`` (a gensim ``KeyedVectors``, words most frequent first).
    """

    vectors_: KeyedVectors

    def fit(self, corpus: CorpusSource | Corpus) -> StaticModel:
        """Learn vectors from ``corpus`` (a file path, or an iterable of texts) and return ``self``."""
        raise NotImplementedError


def check_dim(dim: int, limit: int, what: str, corpus: Corpus, equal: bool = False) -> None:
    """Refuse a ``dim`` of at least ``limit`` (a truncated SVD gives fewer), or above it when ``equal`` is allowed."""
    if dim < 1:
        raise ValueError(f"dim must be at least 1, not {dim}")
    if dim > limit or (dim == limit and not equal):
        relation = "larger than" if equal else "not smaller than"
        raise ValueError(
            f"dim={dim} is {relation} the {what} of corpus {corpus.name} ({limit}); lower dim (or min_count)"
        )
