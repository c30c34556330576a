"""Layer geometry: anisotropy, self-similarity, intra-sentence similarity, MEV, norms, rogue dimensions and CKA,
layer by layer, on a corpus sample drawn before the model runs.

Modules: ``corpus`` (read a corpus into contexts), ``sampling`` (plan and collect the sample), ``metrics`` (the
per-layer measures), ``cka`` (linear and minibatch CKA), ``layerwise`` (:class:`LayerGeometry`, joining them),
``report`` (:class:`LayerReport`), ``compare`` (CKA across models), ``plots`` (figures of layer reports and probe
results).
"""

from __future__ import annotations

from .cka import cka_matrix, linear_cka, minibatch_cka
from .corpus import read_corpus
from .layerwise import GEOMETRY_METRICS, LayerGeometry, cross_model_cka
from .report import LayerReport

__all__ = [
    "GEOMETRY_METRICS",
    "LayerGeometry",
    "LayerReport",
    "cka_matrix",
    "cross_model_cka",
    "linear_cka",
    "minibatch_cka",
    "read_corpus",
]
