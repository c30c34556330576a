"""Analyses of contextual embeddings: polysemy probes (``polysemy/``), layer geometry (``geometry/``: anisotropy,
self-similarity, CKA ...) and linear probes of word features (``probing``, on CoNLL-U data read by ``conllu``)."""

from __future__ import annotations

from .conllu import ConlluSentence, read_conllu
from .geometry import LayerGeometry, LayerReport, cka_matrix, cross_model_cka, linear_cka, minibatch_cka, read_corpus
from .polysemy import PolysemyProbe, PolysemyReport, load_data
from .probing import LayerProbe, word_features

__all__ = [
    "ConlluSentence",
    "LayerGeometry",
    "LayerProbe",
    "LayerReport",
    "PolysemyProbe",
    "PolysemyReport",
    "cka_matrix",
    "cross_model_cka",
    "linear_cka",
    "load_data",
    "minibatch_cka",
    "read_conllu",
    "read_corpus",
    "word_features",
]
