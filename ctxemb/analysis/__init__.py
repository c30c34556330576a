"""Analyses of contextual embeddings: polysemy probes and layer analyses (geometry, CKA, probes)."""

from __future__ import annotations

from .cka import cka_matrix, linear_cka, minibatch_cka
from .conllu import ConlluSentence, read_conllu
from .layer_report import LayerReport
from .layerwise import LayerGeometry, cross_model_cka
from .polysemy import PolysemyProbe, PolysemyReport, load_data
from .probing import LayerProbe, word_features
from .sampling import read_corpus

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
