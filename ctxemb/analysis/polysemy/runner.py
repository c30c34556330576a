"""One call that runs every polysemy probe on every requested layer, mix and static baseline.

``PolysemyProbe(...).run(extractor, data, static=...)`` embeds each occurrence once with
``Extractor.embed_spans``, then scores each layer, each mix of the layers, each static baseline and the
label-only baselines, and returns a :class:`~ctxemb.analysis.polysemy.report.PolysemyReport`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...extras import require_extra
from ...layers import LayerSelection, layer_name
from ...mixing import Mix, MixLike
from ...params import Params
from ...pooling import WordPool
from .data import ProbeData, check_occurrences, describe, prepare, sense_words
from .postprocess import POSTPROCESS, PostProcess, PostProcessor
from .probes import CLUSTER_METHODS, ClusterMethod, baselines, evaluate
from .report import PolysemyReport, ProbeRow, ProbeVectors
from .static import STATIC_KINDS, StaticKind, static_vectors

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from ...extractor import Extractor

logger = logging.getLogger("ctxemb")

MixSpec = MixLike  # the mixes a probe scores, as Mix.of reads them


def mix_name(spec: MixLike) -> str:
    """The name a mix gets in the report: its mode, or ``scalar_mix``."""
    return Mix.of(spec).name


def apply_mix(vectors: np.ndarray, spec: MixLike) -> np.ndarray:
    """Mix the layers of ``(layers, n, dim)`` vectors into ``(n, dim)`` (``concat``: ``(n, layers * dim)``).

    ``spec`` is anything :meth:`ctxemb.Mix.of` reads: a mode (``mean | sum | concat``), ``("weighted", weights)``,
    or a :class:`ctxemb.ScalarMix` built for as many layers (applied as it stands, without training).
    """
    return Mix.of(spec)(vectors, axis=0)


class PolysemyProbe(Params):
    """Do a word's senses separate, layer by layer? Every probe on every layer, mix and static baseline.

    Args:
        layers: the layers to probe (a layer selection, as everywhere in ctxemb).
        mixes: mixes of the probed layers to score as well (see :func:`apply_mix`).
        pool: how a multi-piece occurrence becomes one vector (``Extractor.embed_spans``' pool).
        postprocess: ``none | center | abtt | standardize``, applied to each representation before cosine (see
            :mod:`~ctxemb.analysis.polysemy.postprocess`).
        n_components: ``D`` for ``abtt``.
        cluster: ``agglomerative | kmeans``.
        static_kinds: the static baselines to score for each static model (``target``, ``context``).
        window: context words on each side for the ``context`` static baseline.
        seed: for split assignment, pair sampling and k-means.
    """

    def __init__(
        self,
        layers: LayerSelection = "all",
        mixes: Sequence[MixSpec] = ("mean",),
        pool: WordPool = "mean",
        postprocess: PostProcess = "none",
        n_components: int | None = None,
        cluster: ClusterMethod = "agglomerative",
        static_kinds: Sequence[StaticKind] = STATIC_KINDS,
        window: int = 5,
        seed: int = 0,
    ) -> None:
        self.layers = layers
        self.mixes = mixes
        self.pool = pool
        self.postprocess = postprocess
        self.n_components = n_components
        self.cluster = cluster
        self.static_kinds = static_kinds
        self.window = window
        self.seed = seed

    def _check(self) -> None:
        if self.postprocess not in POSTPROCESS:
            raise ValueError(f"unknown post-processing {self.postprocess!r}; choose one of {', '.join(POSTPROCESS)}")
        if self.cluster not in CLUSTER_METHODS:
            raise ValueError(f"unknown clustering {self.cluster!r}; choose one of {', '.join(CLUSTER_METHODS)}")
        for kind in self.static_kinds:
            if kind not in STATIC_KINDS:
                raise ValueError(f"unknown static baseline {kind!r}; choose one of {', '.join(STATIC_KINDS)}")

    def embed(
        self, extractor: Extractor, data: ProbeData, *, progress: bool | None = None
    ) -> tuple[np.ndarray, tuple[int, ...]]:
        """Embed every occurrence once: ``(layers, n, dim)`` and the layer numbers (``progress`` as in
        :meth:`ctxemb.Extractor.embed`)."""
        from ...layers import resolve_layers

        layers = resolve_layers(self.layers, extractor.num_layers)
        targets = [o.target for o in data.occurrences]
        vectors = extractor.embed_spans(targets, pool=self.pool, layers=layers, progress=progress)
        return vectors, layers

    def _score(self, vectors: np.ndarray, data: ProbeData) -> dict[str, tuple[float, int]]:
        processed = PostProcessor(self.postprocess, self.n_components).fit_transform(vectors)
        return evaluate(processed, data, self.cluster, self.seed)

    def run(
        self,
        extractor: Extractor,
        data: ProbeData,
        static: KeyedVectors | Mapping[str, KeyedVectors] | None = None,
        *,
        model_name: str | None = None,
        progress: bool | None = None,
    ) -> PolysemyReport:
        """Embed every occurrence of ``data`` with ``extractor`` and score it (model first, then data, as
        :meth:`ctxemb.analysis.LayerGeometry.run`): :meth:`embed`, then :meth:`score`.

        Args:
            extractor: the contextual model.
            data: the occurrences.
            static: one gensim ``KeyedVectors`` (named ``static``) or ``{name: KeyedVectors}``; ``None``: none.
            model_name: the contextual model's name in the report (default: the extractor's ``name``).
            progress: a bar over the pieces embedded (``None``: where someone watches; see :meth:`Extractor.embed`).
        """
        if isinstance(extractor, ProbeData):
            raise TypeError("PolysemyProbe.run takes the model first, then the data: run(extractor, data) (since 0.2)")
        self._check()
        require_extra("analysis", "PolysemyProbe")  # clustering: say so before the model runs
        check_occurrences(data.occurrences)  # before the model runs
        # spans only: splits and pairs do not change them
        vectors, layers = self.embed(extractor, data, progress=progress)
        name = model_name or getattr(extractor, "name", None) or "model"
        report = self.score(data, vectors, layers, static, model_name=str(name))
        from ...store.manifest import model_provenance

        report.provenance = {"model": model_provenance(extractor), **report.provenance}
        return report

    def score(
        self,
        data: ProbeData,
        vectors: np.ndarray | None = None,
        layers: Sequence[int] | None = None,
        static: KeyedVectors | Mapping[str, KeyedVectors] | None = None,
        *,
        model_name: str = "model",
    ) -> PolysemyReport:
        """Score every layer, mix, static baseline and label baseline on ``data``, from vectors already computed.

        Embed once with :meth:`embed` and score many times (other post-processing, mixes or baselines); with no
        ``vectors``, only the static and label baselines are scored.

        Args:
            data: the occurrences (checked; splits and pairs added where missing, see :func:`prepare`).
            vectors: ``(layers, n, dim)`` span vectors of ``data`` (from :meth:`embed`), or ``None``.
            layers: the layer numbers of ``vectors`` (required with it).
            static: one gensim ``KeyedVectors`` (named ``static``) or ``{name: KeyedVectors}``; ``None``: none.
            model_name: the contextual model's name in the report.

        Returns:
            The report: a tidy table of ``(model, representation, layer, metric, value, n)`` rows.

        Raises:
            ValueError: vectors that do not match the occurrences or the layers; an unknown option.
        """
        self._check()
        data = prepare(data, seed=self.seed)
        _, skipped = sense_words(data.occurrences)
        rows: list[ProbeRow] = []
        if vectors is not None:
            if layers is None or len(layers) != vectors.shape[0] or vectors.shape[1] != len(data):
                raise ValueError(
                    f"vectors of shape {vectors.shape} do not match {len(data)} occurrences and layers {layers}"
                )
            name = model_name
            for k, layer in enumerate(layers):
                for metric, (value, n) in self._score(vectors[k], data).items():
                    rows.append(ProbeRow(str(name), layer_name(layer), layer, metric, value, n))
            for spec in self.mixes:
                mixed = apply_mix(vectors, spec)
                for metric, (value, n) in self._score(mixed, data).items():
                    rows.append(ProbeRow(str(name), f"mix {mix_name(spec)}", None, metric, value, n))
        if static is not None:
            models = static if isinstance(static, Mapping) else {"static": static}
            for static_name, keyed in models.items():
                for kind in self.static_kinds:
                    array = static_vectors(keyed, data.occurrences, kind, self.window)
                    for metric, (value, n) in self._score(array, data).items():
                        rows.append(ProbeRow(static_name, f"static {kind}", None, metric, value, n))
        for metric, (value, n) in baselines(data).items():
            rows.append(ProbeRow("baseline", "most frequent sense", None, metric, value, n))
        kept = None
        if vectors is not None and layers is not None:
            kept = ProbeVectors(
                data.occurrences,
                tuple(int(k) for k in layers),
                vectors,
                tuple(self.mixes),
                self.postprocess,
                self.n_components,
                self.cluster,
                self.seed,
            )
        from ... import __version__

        provenance = {
            "ctxemb": __version__,
            "data": describe(data),
            "settings": {k: _plain(v) for k, v in self.get_params().items()},
            "static": list(static) if isinstance(static, Mapping) else (["static"] if static is not None else []),
        }
        return PolysemyReport(rows, data.name, tuple(skipped), self.postprocess, describe(data), kept, provenance)


def _plain(value: object) -> object:
    """A setting as JSON can hold it: numbers, strings and lists as they are, anything else as its ``repr``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, slice):
        return f"{'' if value.start is None else value.start}:{'' if value.stop is None else value.stop}"
    return repr(value)
