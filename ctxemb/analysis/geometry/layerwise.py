"""LayerGeometry: sample a corpus once, then compute every per-layer metric on the same units."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from ...layers import LayerSelection
from ...params import Params
from ...pooling import WordPool
from .cka import cka_matrix
from .metrics import (
    grouped,
    max_explainable_variance,
    mean_pairwise_cosine,
    rogue_dimensions,
    self_similarity,
    standardise,
)
from .report import LayerReport
from .sampling import CorpusSample, Keep, UnitOptions, Units, check_sample_size, collect, eligible_units, plan_sample

if TYPE_CHECKING:
    from ...extractor import Extractor

logger = logging.getLogger(__name__)

Metric = Literal["anisotropy", "selfsim", "intrasim", "mev", "norms", "rogue", "cka"]
GEOMETRY_METRICS: tuple[str, ...] = ("anisotropy", "selfsim", "intrasim", "mev", "norms", "rogue", "cka")
CkaEstimator = Literal["biased", "debiased"]


class LayerGeometry(Params):
    """Per-layer geometry of a model over a corpus (anisotropy, self-similarity, MEV, norms, rogue dims, CKA).

    The constructor only stores the options. :meth:`run` tokenizes the corpus, draws one sample with ``seed``
    (see :mod:`ctxemb.analysis.geometry.sampling` for what enters it), embeds only the texts it needs, and computes:

    - ``anisotropy``: the mean cosine over all pairs of ``samples`` units, one from each of ``samples`` different
      texts (Ethayarajh 2019's baseline; ``samples * (samples - 1) / 2`` pairs).
    - ``selfsim``, ``mev``: self-similarity and maximum explainable variance averaged over up to ``max_words``
      word types found in at least ``min_contexts`` texts, each with up to ``max_occurrences`` occurrences from
      different texts; ``selfsim_adj = selfsim - anisotropy``; ``mev_adj = mev - mev_baseline``, where the
      baseline is the MEV of as many random units (from the random sample) as the word has occurrences, averaged
      over the words. The paper used one 1000-word baseline; a size-matched one is fairer, since the first
      component of ``n`` points explains at least ``1 / (n - 1)`` of their variance.
    - ``intrasim``: intra-text similarity averaged over the sampled texts (texts with at least 2 units);
      ``intrasim_adj = intrasim - anisotropy``.
    - ``norms``: mean and standard deviation of the Euclidean norm over every unit of the sampled texts.
    - ``rogue``: the top dimensions' shares of the expected cosine on the random sample (Timkey & van Schijndel
      2021), and the anisotropy and top share again after per-dimension standardisation with the mean and
      standard deviation over every unit of the sampled texts.
    - ``cka``: the layer x layer linear CKA matrix on ``cka_samples`` units of the sampled texts.

    Args:
        metrics: which metrics (default: all of :data:`GEOMETRY_METRICS`).
        layers: the layer selection.
        units: ``words`` (tokens pooled with ``pool``) or ``tokens``.
        pool: ``first | last | mean | max``.
        specials: whether special tokens are units (``units="tokens"`` only).
        punctuation: whether punctuation-only units are.
        first: whether each text's first unit is.
        samples: texts in the random sample, one unit from each.
        min_contexts: texts a word type must occur in for self-similarity and MEV.
        max_words: most word types for self-similarity and MEV.
        max_occurrences: most occurrences (texts) per word type.
        cka_samples: units compared by CKA.
        cka: ``biased`` (Kornblith et al. 2019) or ``debiased`` estimator.
        seed: the one seed of every draw.
        chunk: texts embedded per call to the extractor.
    """

    def __init__(
        self,
        metrics: Sequence[Metric] = GEOMETRY_METRICS,  # type: ignore[assignment]
        layers: LayerSelection = "all",
        *,
        units: Units = "words",
        pool: WordPool = "mean",
        specials: Keep = "exclude",
        punctuation: Keep = "exclude",
        first: Keep = "include",
        samples: int = 1000,
        min_contexts: int = 5,
        max_words: int = 500,
        max_occurrences: int = 20,
        cka_samples: int = 4000,
        cka: CkaEstimator = "debiased",
        seed: int = 0,
        chunk: int = 64,
    ) -> None:
        self.metrics = metrics
        self.layers = layers
        self.units = units
        self.pool = pool
        self.specials = specials
        self.punctuation = punctuation
        self.first = first
        self.samples = samples
        self.min_contexts = min_contexts
        self.max_words = max_words
        self.max_occurrences = max_occurrences
        self.cka_samples = cka_samples
        self.cka = cka
        self.seed = seed
        self.chunk = chunk

    def _options(self) -> UnitOptions:
        unknown = [m for m in self.metrics if m not in GEOMETRY_METRICS]
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}; choose from {', '.join(GEOMETRY_METRICS)}")
        if self.cka not in ("biased", "debiased"):
            raise ValueError(f"unknown CKA estimator {self.cka!r}; choose biased or debiased")
        if self.min_contexts < 2 or self.max_occurrences < 2:
            raise ValueError("min_contexts and max_occurrences must be at least 2 (a pairwise mean needs 2)")
        options = UnitOptions(self.units, self.pool, self.specials, self.punctuation, self.first)
        options.check()
        return options

    def check_corpus(self, texts: Sequence[str], source: str = "the corpus") -> None:
        """What can be checked before any model loads: the options, and enough non-empty texts for the sample.

        Raises:
            ValueError: an unknown option, or fewer non-empty texts than ``samples`` (one unit is drawn from each of
                ``samples`` different texts).
        """
        self._options()
        check_sample_size(self.samples, sum(1 for t in texts if t.strip()), "non-empty texts", source)

    def sample(
        self, extractor: Extractor, texts: Sequence[str], *, source: str = "corpus", progress: bool | None = None
    ) -> CorpusSample:
        """Tokenize, draw the sample, embed what it needs; the vectors every metric is computed from."""
        texts = list(texts)
        self.check_corpus(texts, source)
        options = self._options()
        needs_words = bool({"selfsim", "mev"} & set(self.metrics))
        plan = plan_sample(
            eligible_units(extractor, texts, options),
            samples=self.samples,
            cka_samples=self.cka_samples if "cka" in self.metrics else 0,
            min_contexts=self.min_contexts,
            max_words=self.max_words,
            max_occurrences=self.max_occurrences,
            occurrences=needs_words,
            seed=self.seed,
            source=source,
        )
        arrays = collect(extractor, texts, plan, options, layers=self.layers, chunk=self.chunk, progress=progress)
        description = {
            "units": options.units,
            "pool": options.pool if options.units == "words" else "-",
            "specials": options.specials,
            "punctuation": options.punctuation,
            "first": options.first,
            "texts": len(texts),
            "samples": self.samples,
            "pairs": self.samples * (self.samples - 1) // 2,
            "sampled_units": int(arrays["norms"].shape[1]),
            "words": len(plan.words),
            "eligible_words": plan.eligible_words,
            "occurrences": len(plan.occurrences),
            "min_contexts": self.min_contexts,
            "cka_units": len(plan.cka),
            "cka": self.cka,
            "seed": self.seed,
        }
        from ... import __version__
        from ...store.manifest import model_provenance

        return CorpusSample(
            provenance={"model": model_provenance(extractor), "ctxemb": __version__},
            model=str(extractor.name or type(extractor.model).__name__),
            source=source,
            layers=arrays["layers"],
            options=description,
            random=arrays["random"],
            random_ids=plan.random,
            intra=arrays["intra"],
            norms=arrays["norms"],
            mean=arrays["mean"],
            std=arrays["std"],
            cka=arrays["cka"],
            cka_ids=plan.cka,
            occurrences=arrays["occurrences"],
            occurrence_word=plan.occurrence_word,
            words=plan.words,
        )

    def compute(self, sample: CorpusSample, model_name: str | None = None) -> LayerReport:
        """Every requested metric from a sample: a :class:`LayerReport`."""
        self._options()
        layers = list(sample.layers)
        rows: list[tuple[str, int, float]] = []

        def add(metric: str, values: np.ndarray) -> None:
            rows.extend((metric, k, float(v)) for k, v in zip(layers, values))

        wanted = set(self.metrics)
        anisotropy = mean_pairwise_cosine(sample.random)
        add("anisotropy", anisotropy)
        if "selfsim" in wanted or "mev" in wanted:
            per_word = grouped(sample.occurrences, sample.occurrence_word, len(sample.words))
            if "selfsim" in wanted:
                selfsim = np.mean([self_similarity(w) for w in per_word], axis=0)
                add("selfsim", selfsim)
                add("selfsim_adj", selfsim - anisotropy)
            if "mev" in wanted:
                mev = np.nanmean([max_explainable_variance(w) for w in per_word], axis=0)
                rng = np.random.default_rng(self.seed + 1)
                n = sample.random.shape[1]
                baseline = np.nanmean(
                    [
                        max_explainable_variance(sample.random[:, rng.choice(n, min(w.shape[1], n), replace=False)])
                        for w in per_word
                    ],
                    axis=0,
                )
                add("mev", mev)
                add("mev_baseline", baseline)
                add("mev_adj", mev - baseline)
        if "intrasim" in wanted:
            intrasim = sample.intra.mean(axis=1) if sample.intra.shape[1] else np.full(len(layers), np.nan)
            add("intrasim", intrasim)
            add("intrasim_adj", intrasim - anisotropy)
        if "norms" in wanted:
            add("norm_mean", sample.norms.mean(axis=1))
            add("norm_std", sample.norms.std(axis=1))
        if "rogue" in wanted:
            dims, shares = rogue_dimensions(sample.random, top=3)
            add("rogue_top1", shares[:, 0])
            add("rogue_top3", shares.sum(axis=1))
            add("rogue_dim", dims[:, 0].astype(float))
            z = standardise(sample.random, sample.mean, sample.std)
            add("anisotropy_std", mean_pairwise_cosine(z))
            add("rogue_top1_std", rogue_dimensions(z, top=1)[1][:, 0])
        report = LayerReport(
            model_name or sample.model, sample.source, rows, dict(sample.options), provenance=dict(sample.provenance)
        )
        if "cka" in wanted:
            report.cka["within"] = cka_matrix(sample.cka, debiased=self.cka == "debiased")
            report.cka_layers["within"] = (layers, layers)
        return report

    def run(
        self,
        extractor: Extractor,
        texts: Sequence[str],
        *,
        source: str = "corpus",
        model_name: str | None = None,
        progress: bool | None = None,
    ) -> LayerReport:
        """Sample the corpus and compute every requested metric."""
        return self.compute(self.sample(extractor, texts, source=source, progress=progress), model_name)


def cross_model_cka(first: CorpusSample, second: CorpusSample, *, debiased: bool = True) -> np.ndarray:
    """Layer x layer CKA between two models on the same units: ``(layers_first, layers_second)``.

    Both samples must come from :meth:`LayerGeometry.sample` with word units, the same corpus, options and seed,
    so that they hold the same words (two tokenizers do not share pieces).

    Raises:
        ValueError: the samples hold different units.
    """
    if first.cka_ids.shape != second.cka_ids.shape or not np.array_equal(first.cka_ids, second.cka_ids):
        raise ValueError(
            f"{first.model} and {second.model} were sampled on different units; CKA across models needs word units, "
            "the same corpus, options and seed (and the same word splitting)"
        )
    return cka_matrix(first.cka, second.cka, debiased=debiased)
