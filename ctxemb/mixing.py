"""Combining layers: fixed mixes of an array, and the one spelling of a mix (:class:`Mix`) used everywhere.

``mix`` works on any array with a layer axis (``(layers, words, dim)``, ``(layers, dim)``,
``(layers, n, dim)`` ...). ELMo's learnable ``ScalarMix`` is a torch module, kept in :mod:`ctxemb.scalar_mix` so
that this module (and everything that only names mixes, such as the command line) does not load torch; it is
importable from here as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

if TYPE_CHECKING:
    from .scalar_mix import ScalarMix

MixMode = Literal["mean", "sum", "concat", "weighted"]
MIX_MODES: tuple[str, ...] = ("mean", "sum", "concat", "weighted")


def mix(
    array: np.ndarray,
    mode: MixMode = "mean",
    weights: Sequence[float] | np.ndarray | None = None,
    axis: int = 0,
) -> np.ndarray:
    """Combine the layers of an array into one.

    With ``h_k`` the slice of layer ``k`` along ``axis``: ``mean = (1/K) sum_k h_k``, ``sum = sum_k h_k``,
    ``weighted = sum_k w_k h_k`` (weights used as given, not normalised), ``concat = [h_1; ...; h_K]`` along the
    last axis (``dim`` becomes ``K * dim``, layer-major).

    Args:
        array: an array with a layer axis. Integer and boolean arrays are mixed as float64 (their own dtype would
            truncate weights and means); floating arrays keep their dtype.
        mode: ``mean | sum | concat | weighted``.
        weights: one weight per layer, for ``weighted`` only.
        axis: the layer axis (negatives count from the end).

    Returns:
        The array without its layer axis (for ``concat``, with the last axis ``K`` times wider).

    Raises:
        ValueError: an unknown mode, ``axis`` outside the array's axes, weights missing or of the wrong count.
    """
    if mode not in MIX_MODES:
        raise ValueError(f"unknown mix mode {mode!r}; choose one of {', '.join(MIX_MODES)}")
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {array.ndim} dimensions {array.shape}")
    axis = axis % array.ndim
    n_layers = array.shape[axis]
    if (weights is not None) != (mode == "weighted"):
        raise ValueError("weights are required for mode='weighted' and only for it")
    # numpy's stubs type a reduction over an axis as Any; it is an array for any input with more than the layer axis
    reduced: np.ndarray
    if mode == "mean":
        reduced = array.mean(axis=axis)
        return reduced
    if mode == "sum":
        reduced = array.sum(axis=axis)
        return reduced
    if mode == "weighted":
        w = np.asarray(weights, dtype=array.dtype)
        if w.shape != (n_layers,):
            raise ValueError(f"got {w.size} weights for {n_layers} layers (axis {axis})")
        return np.tensordot(np.moveaxis(array, axis, -1), w, axes=([-1], [0]))
    if axis == array.ndim - 1:
        raise ValueError("concat needs a feature axis after the layer axis")
    moved = np.moveaxis(array, axis, -2)  # (..., layers, dim)
    return moved.reshape(*moved.shape[:-2], n_layers * moved.shape[-1])


@dataclass(frozen=True)
class Mix:
    """One layer mix, spelled one way everywhere: a :func:`mix` mode (with ``weights`` for ``weighted``), or a
    :class:`ScalarMix` applied as it stands (no training).

    ``Mix.of`` accepts what users write: ``"mean"``, ``("weighted", [0.5, 0.5])``, a ``ScalarMix`` or a ``Mix``.

    Attributes:
        mode: ``mean | sum | concat | weighted``, or a ``ScalarMix``.
        weights: one weight per layer, for ``weighted`` only.
    """

    mode: str | ScalarMix
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.mode, str):
            known = self.mode in MIX_MODES
        else:
            from .scalar_mix import ScalarMix

            known = isinstance(self.mode, ScalarMix)
        if not known:
            choices = ", ".join(MIX_MODES)
            raise ValueError(f"unknown mix {self.mode!r}; use {choices}, ('weighted', weights) or a ScalarMix")
        if not isinstance(self.mode, str):
            if self.weights is not None:
                raise ValueError("a ScalarMix has its own weights; pass none")
            return
        if (self.weights is not None) != (self.mode == "weighted"):
            raise ValueError("weights are required for mode='weighted' and only for it")

    @classmethod
    def of(cls, spec: MixLike) -> Mix:
        """The mix a user spelled: a mode name, ``(mode, weights)``, a ``ScalarMix``, or a ``Mix``.

        Raises:
            ValueError: an unknown mode, or weights with a mode other than ``weighted`` (and not with it).
        """
        if isinstance(spec, Mix):
            return spec
        if isinstance(spec, tuple):
            mode, weights = spec
            return cls(mode, tuple(float(w) for w in weights))
        return cls(spec)

    @property
    def name(self) -> str:
        """Its name in reports: the mode, or ``scalar_mix``."""
        return self.mode if isinstance(self.mode, str) else "scalar_mix"

    def __call__(self, array: np.ndarray, axis: int = 0) -> np.ndarray:
        """Mix the layer axis ``axis`` of ``array`` away (see :func:`mix`; a ``ScalarMix`` runs without gradients)."""
        if not isinstance(self.mode, str):  # a ScalarMix (checked in __post_init__)
            import torch

            with torch.no_grad():
                # calling an nn.Module is typed as returning Any; ScalarMix.forward returns a Tensor
                mixed: torch.Tensor = self.mode(torch.from_numpy(np.ascontiguousarray(array)), dim=axis)
                return mixed.numpy()
        return mix(array, self.mode, self.weights, axis=axis)  # type: ignore[arg-type]


#: What may stand for a mix wherever one is asked for (see :meth:`Mix.of`).
MixLike: TypeAlias = "str | tuple[str, Sequence[float]] | ScalarMix | Mix"


def __getattr__(name: str) -> Any:
    """``ctxemb.mixing.ScalarMix`` keeps working: it loads :mod:`ctxemb.scalar_mix` (and torch) on first use."""
    if name == "ScalarMix":
        from .scalar_mix import ScalarMix

        return ScalarMix
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
