"""The estimator base class shared by every static method."""

from __future__ import annotations

import inspect
from typing import Any

from gensim.models import KeyedVectors

from .corpus import Corpus, CorpusSource


class StaticModel:
    """A static-embedding estimator: hyperparameters in, ``fit(corpus) -> self``, vectors in ``vectors_``.

    Subclasses store their keyword hyperparameters in ``__init__`` and do nothing else there (scikit-learn
    style); :meth:`fit` sets ``vectors_`` (a gensim ``KeyedVectors``, words most frequent first).
    """

    vectors_: KeyedVectors

    def fit(self, corpus: CorpusSource | Corpus) -> StaticModel:
        """Learn vectors from ``corpus`` (a file path, or an iterable of texts) and return ``self``."""
        raise NotImplementedError

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, by name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def check_dim(dim: int, limit: int, what: str, corpus: Corpus, equal: bool = False) -> None:
    """Refuse a ``dim`` of at least ``limit`` (a truncated SVD gives fewer), or above it when ``equal`` is allowed."""
    if dim < 1:
        raise ValueError(f"dim must be at least 1, not {dim}")
    if dim > limit or (dim == limit and not equal):
        relation = "larger than" if equal else "not smaller than"
        raise ValueError(
            f"dim={dim} is {relation} the {what} of corpus {corpus.name} ({limit}); lower dim (or min_count)"
        )
