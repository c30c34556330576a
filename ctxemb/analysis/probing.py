"""Linear probes per layer, with a control task for selectivity and a learned scalar mix over all layers.

- Probe: multinomial logistic regression (scikit-learn, features standardised) on one layer's word vectors,
  scored by accuracy under k-fold cross-validation with folds made of whole sentences.
- Control task (Hewitt & Liang 2019, "Designing and Interpreting Probes with Control Tasks"): every word type
  gets one label drawn from the empirical distribution of the real labels, the same for all its occurrences;
  ``selectivity = accuracy(real task) - accuracy(control task)``. A probe that only memorises word types does as
  well on the control task; a selective one does better on the real one.
- Scalar mix (Tenney, Das & Pavlick 2019, "BERT Rediscovers the Classical NLP Pipeline"): a linear probe on
  ``gamma * sum_l softmax(s)_l LN(h_l)`` (:class:`ctxemb.ScalarMix` with a per-token layer norm) trained end to
  end with the same L2 strength as the per-layer probes; its weights say which layers the task draws on,
  summarised by the centre of gravity ``E_s[l] = sum_l l * softmax(s)_l``. Fitted to convergence, the weights
  tend to concentrate on the layer(s) where the labels are most linearly accessible; where layers are almost
  alike (or the data small) they are poorly determined, so read them with the per-layer accuracies.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..extras import require, require_extra
from ..layers import LayerSelection
from ..params import Params
from ..pooling import WordPool
from ..reports import TableReport
from ..threads import thread_limit

if TYPE_CHECKING:
    from ..extractor import Extractor
    from .conllu import ConlluSentence, Field

logger = logging.getLogger(__name__)

Control = Literal["types", "none"]
MixProbe = Literal["scalar", "none"]


def control_labels(types: Sequence[str], labels: Sequence[str] | np.ndarray, seed: int = 0) -> np.ndarray:
    """Hewitt & Liang's (2019) control task: one label per word type, drawn from the empirical label distribution.

    Args:
        types: ``(n,)`` the word type of each item (e.g. its case-folded form).
        labels: ``(n,)`` the real labels.
        seed: the draw's seed.

    Returns:
        ``(n,)`` control labels: equal for items of the same type.
    """
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    distinct = sorted(set(types))
    rng = np.random.default_rng(seed)
    drawn = dict(zip(distinct, rng.choice(values, size=len(distinct), p=counts / counts.sum())))
    return np.array([drawn[t] for t in types], dtype=object).astype(str)


def sentence_folds(groups: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """The fold of each item: whole sentences (``groups``) are dealt to ``folds`` folds in a seeded random order."""
    ids = np.unique(groups)
    if folds < 2:
        raise ValueError(f"folds={folds}: cross-validation needs at least 2 folds")
    if len(ids) < folds:
        raise ValueError(f"{len(ids)} sentences cannot fill {folds} folds; lower folds or give more sentences")
    order = np.random.default_rng(seed).permutation(len(ids))
    fold_of = dict(zip(ids.tolist(), (order % folds).tolist()))
    return np.array([fold_of[g] for g in groups.tolist()], dtype=np.int64)


class LayerProbe(Params, TableReport):
    """A linear probe on every layer, its control task, and a scalar-mix probe over all layers.

    The constructor only stores the options; :meth:`fit` runs the cross-validation and sets the ``*_`` attributes.

    Args:
        folds: cross-validation folds (made of whole sentences).
        C: inverse L2 strength of the logistic regression.
        max_iter: iterations of the logistic regression's solver.
        control: ``types`` runs the control task (selectivity), ``none`` skips it.
        mix: ``scalar`` trains the scalar-mix probe, ``none`` skips it.
        mix_iter: most L-BFGS iterations of the scalar-mix probe (full batch; it stops earlier once converged).
        seed: seed of the folds, the control labels and the scalar mix's initialisation.
        threads: BLAS and torch threads while fitting (restored afterwards); ``None`` leaves them alone. Probes are
            many small problems, where more threads cost more than they save (1 thread was 7x faster than 2 on a
            busy 2-core machine).

    Attributes:
        layers_: the layers probed.
        classes_: the labels seen.
        majority_: accuracy of always predicting the commonest label.
        accuracy_: ``(layers,)`` mean cross-validated accuracy per layer; ``accuracy_std_`` its spread over folds.
        control_accuracy_: ``(layers,)`` the same on the control task; ``selectivity_`` the difference.
        mix_accuracy_: cross-validated accuracy of the scalar-mix probe.
        mix_weights_: ``(layers,)`` its softmax weights, fitted on all items.
        mix_weights_folds_: ``(folds, layers)`` the weights fitted in each fold: how stable they are.
        centre_of_gravity_: ``sum_l l * mix_weights_[l]`` over the absolute layer indices.
    """

    def __init__(
        self,
        *,
        folds: int = 5,
        C: float = 1.0,
        max_iter: int = 300,
        control: Control = "types",
        mix: MixProbe = "scalar",
        mix_iter: int = 200,
        seed: int = 0,
        threads: int | None = 1,
    ) -> None:
        self.folds = folds
        self.C = C
        self.max_iter = max_iter
        self.control = control
        self.mix = mix
        self.mix_iter = mix_iter
        self.seed = seed
        self.threads = threads

    def fit(
        self,
        features: np.ndarray,
        labels: Sequence[str],
        *,
        types: Sequence[str],
        groups: Sequence[int] | np.ndarray,
        layers: Sequence[int] | None = None,
        progress: bool | None = None,
    ) -> LayerProbe:
        """Cross-validate a probe per layer (and the control task and the scalar mix).

        Args:
            features: ``(layers, n, dim)``.
            labels: ``(n,)`` the real labels.
            types: ``(n,)`` word types, for the control task.
            groups: ``(n,)`` sentence ids; a sentence never straddles two folds.
            layers: the absolute index of each layer of ``features`` (default ``0..layers-1``).
            progress: show a progress bar over layers.

        Raises:
            ValueError: fewer than two classes, mismatched lengths, or too few sentences for the folds.
        """
        require_extra("analysis", "LayerProbe")  # before any work, not after the first layer
        from ..progress import progress_bar

        if self.control not in ("types", "none") or self.mix not in ("scalar", "none"):
            raise ValueError(f"control={self.control!r} / mix={self.mix!r}: use types|none and scalar|none")
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 3:
            raise ValueError(f"features must be (layers, n, dim); got shape {features.shape}")
        y = np.asarray(labels, dtype=object).astype(str)
        n = features.shape[1]
        if not (len(y) == len(types) == len(groups) == n):
            raise ValueError(
                f"features hold {n} items but there are {len(y)} labels, {len(types)} types, {len(groups)} groups"
            )
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            only = f"all {n} items are labelled {str(classes[0])!r}" if len(classes) else "there are no items"
            raise ValueError(f"a probe needs at least two classes; {only}")
        fold = sentence_folds(np.asarray(groups), self.folds, self.seed)
        self.layers_ = list(range(features.shape[0]) if layers is None else layers)
        if len(self.layers_) != features.shape[0]:
            raise ValueError(f"{len(self.layers_)} layer indices for {features.shape[0]} layers of features")
        self.classes_ = classes.tolist()
        self.majority_ = float(counts.max() / n)
        control = control_labels(list(types), y, self.seed) if self.control == "types" else None
        real, ctrl = [], []
        with thread_limit(self.threads):
            for k in progress_bar(range(features.shape[0]), desc="probing layers", progress=progress):
                real.append(self._cross_validate(features[k], y, fold))
                if control is not None:
                    ctrl.append(self._cross_validate(features[k], control, fold))
            self.accuracy_ = np.array([r.mean() for r in real])
            self.accuracy_std_ = np.array([r.std() for r in real])
            self.control_accuracy_ = np.array([c.mean() for c in ctrl]) if ctrl else np.full(len(real), np.nan)
            self.selectivity_ = self.accuracy_ - self.control_accuracy_
            self.mix_accuracy_ = float("nan")
            self.mix_weights_ = np.full(len(real), np.nan)
            self.mix_weights_folds_ = np.full((0, len(real)), np.nan)
            self.centre_of_gravity_ = float("nan")
            if self.mix == "scalar":
                self._fit_mix(features, np.searchsorted(classes, y), len(classes), fold, progress)
        return self

    def _fit_mix(
        self, features: np.ndarray, codes: np.ndarray, n_classes: int, fold: np.ndarray, progress: bool | None
    ) -> None:
        """Cross-validate the scalar-mix probe, then fit it on every item for its weights."""
        import torch

        from ..progress import progress_bar

        # LN has no parameter: normalise once, then mix with ScalarMix(layer_norm=False) (the same function).
        normed = torch.nn.functional.layer_norm(torch.from_numpy(features), features.shape[-1:]).numpy()
        scores, weights = [], []
        for f in progress_bar(range(self.folds), desc="scalar-mix probe", progress=progress):
            train, test = fold != f, fold == f
            mixer, head = self._train_mix(normed[:, train], codes[train], n_classes)
            scores.append(_mix_accuracy(mixer, head, normed[:, test], codes[test]))
            weights.append(mixer.weights())
        self.mix_weights_folds_ = np.stack(weights)
        self.mix_accuracy_ = float(np.mean(scores))
        mixer, _ = self._train_mix(normed, codes, n_classes)
        self.mix_weights_ = mixer.weights()
        self.centre_of_gravity_ = float(np.dot(self.layers_, self.mix_weights_))

    def _cross_validate(self, x: np.ndarray, y: np.ndarray, fold: np.ndarray) -> np.ndarray:
        require("sklearn", "analysis", "LayerProbe")
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        scores = []
        for f in range(self.folds):
            train, test = fold != f, fold == f
            if len(np.unique(y[train])) < 2:
                scores.append(float(np.mean(y[test] == y[train][0])))
                continue
            model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter))
            model.fit(x[train], y[train])
            scores.append(float(model.score(x[test], y[test])))
        return np.array(scores)

    def _train_mix(self, x: np.ndarray, codes: np.ndarray, n_classes: int) -> tuple[Any, Any]:
        """Fit ``softmax(W gamma sum_l w_l x_l + b)`` on layer-normed ``x`` by full-batch L-BFGS.

        The objective is the mean cross-entropy plus the logistic regression's L2 penalty on the effective linear
        map, ``||gamma W||^2 / (2 C n)`` (penalising ``W`` alone would let ``gamma`` grow and dodge it). L-BFGS
        minimises this deterministic objective; a first-order optimiser run for a fixed number of steps instead
        leaves weights that depend on its step size (Adam moves even scalars whose gradient is noise by a full step).
        """
        import torch

        from ..scalar_mix import ScalarMix

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            mixer = ScalarMix(x.shape[0], layer_norm=False)
            head = torch.nn.Linear(x.shape[2], n_classes)
            inputs = torch.from_numpy(np.ascontiguousarray(x))
            target = torch.from_numpy(codes.astype(np.int64))
            penalty = 1.0 / (2.0 * self.C * len(codes))
            optimiser = torch.optim.LBFGS(
                [*mixer.parameters(), *head.parameters()],
                max_iter=self.mix_iter,
                line_search_fn="strong_wolfe",
                tolerance_grad=1e-6,
                tolerance_change=1e-9,
            )

            def objective() -> torch.Tensor:
                optimiser.zero_grad()
                loss = torch.nn.functional.cross_entropy(head(mixer(inputs)), target)
                loss = loss + penalty * (mixer.gamma * head.weight).pow(2).sum()
                loss.backward()
                return loss

            optimiser.step(objective)
        return mixer, head

    def __str__(self) -> str:
        return self.table() if hasattr(self, "accuracy_") else repr(self)

    def _repr_html_(self) -> str:
        return super()._repr_html_() if hasattr(self, "accuracy_") else f"<pre>{self!r}</pre>"

    def plot(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Draw the fitted probe (:func:`~ctxemb.analysis.geometry.plots.plot_probe`)."""
        from .geometry.plots import plot_probe

        return plot_probe(self, path, title=title)

    def to_html(
        self, path: str | os.PathLike[str], *, title: str | None = None, provenance: dict[str, Any] | None = None
    ) -> Path:
        """Write the explorer page of the fitted probe: accuracy, control accuracy and selectivity per layer and the
        scalar mix, interactive, in one self-contained HTML file (:func:`ctxemb.analysis.explorer.write_page`).

        Args:
            path: the HTML file to write.
            title: the page title.
            provenance: header entries (the model, the data): the probe records only its own options.
        """
        from .explorer import write_page

        return write_page(path, probes=self, title=title, provenance=provenance)

    def table(self, digits: int = 3) -> str:
        """A markdown table: accuracy, control accuracy and selectivity per layer, then the mix and the baseline."""
        lines = ["| layer | accuracy | control | selectivity |", "|---|---|---|---|"]
        for k, a, c, s in zip(self.layers_, self.accuracy_, self.control_accuracy_, self.selectivity_):
            lines.append(f"| {k} | {a:.{digits}f} | {_num(c, digits)} | {_num(s, digits)} |")
        if not np.isnan(self.mix_accuracy_):
            label = f"scalar mix (centre of gravity {self.centre_of_gravity_:.2f})"
            lines.append(f"| {label} | {self.mix_accuracy_:.{digits}f} | | |")
        lines.append(f"| majority label | {self.majority_:.{digits}f} | | |")
        return "\n".join(lines)

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one row per layer: ``layer, accuracy, accuracy_std, control_accuracy, selectivity``; returns the
        path."""
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["layer", "accuracy", "accuracy_std", "control_accuracy", "selectivity"])
            rows = zip(self.layers_, self.accuracy_, self.accuracy_std_, self.control_accuracy_, self.selectivity_)
            for k, a, sd, c, sel in rows:
                writer.writerow([k, repr(float(a)), repr(float(sd)), repr(float(c)), repr(float(sel))])
        return path

    def to_dict(self) -> dict[str, Any]:
        """Everything fitted, as plain Python values (for JSON)."""
        return {
            "layers": list(self.layers_),
            "accuracy": self.accuracy_.tolist(),
            "accuracy_std": self.accuracy_std_.tolist(),
            "control_accuracy": [None if np.isnan(v) else v for v in self.control_accuracy_.tolist()],
            "selectivity": [None if np.isnan(v) else v for v in self.selectivity_.tolist()],
            "mix_accuracy": None if np.isnan(self.mix_accuracy_) else self.mix_accuracy_,
            "mix_weights": [None if np.isnan(v) else v for v in self.mix_weights_.tolist()],
            "mix_weights_folds": self.mix_weights_folds_.tolist(),
            "centre_of_gravity": None if np.isnan(self.centre_of_gravity_) else self.centre_of_gravity_,
            "majority": self.majority_,
            "classes": self.classes_,
            "options": {
                "folds": self.folds,
                "C": self.C,
                "control": self.control,
                "mix": self.mix,
                "mix_iter": self.mix_iter,
                "seed": self.seed,
            },
        }


def _mix_accuracy(mixer: Any, head: Any, x: np.ndarray, codes: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        predicted = head(mixer(torch.from_numpy(np.ascontiguousarray(x)))).argmax(dim=-1).numpy()
    return float(np.mean(predicted == codes))


def _num(value: float, digits: int) -> str:
    return "" if np.isnan(value) else f"{value:.{digits}f}"


def word_features(
    extractor: Extractor,
    sentences: Sequence[ConlluSentence],
    field: Field = "upos",
    *,
    layers: LayerSelection = "all",
    pool: WordPool = "mean",
    progress: bool | None = None,
) -> tuple[np.ndarray, list[str], list[str], np.ndarray, tuple[int, ...]]:
    """Embed CoNLL-U sentences as their (syntactic) words and line up one label per word.

    The words are given to the model pre-split (joined by single spaces), so a multiword token such as *don't* is
    read as its words *do n't*, which is what the labels belong to.

    Returns:
        ``features`` ``(layers, words, dim)``, ``labels`` and ``types`` (case-folded forms) per word, ``groups``
        ``(words,)`` the sentence of each word, and the absolute layer indices.
    """
    results = extractor.embed([s.words for s in sentences], layers=layers, progress=progress)
    features = np.concatenate([r.word_vectors(pool) for r in results], axis=1)
    labels = [label for s in sentences for label in s.labels(field)]
    types = [w.casefold() for s in sentences for w in s.words]
    groups = np.concatenate([np.full(len(s.words), i) for i, s in enumerate(sentences)])
    return features, labels, types, groups, results[0].layers
