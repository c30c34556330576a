"""Combining layers: fixed mixes of an array, and ELMo's learnable scalar mix.

``mix`` works on any array with a layer axis (``(layers, words, dim)``, ``(layers, dim)``,
``(layers, n, dim)`` ...). ``ScalarMix`` is a torch module to train on top of extracted layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

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


class ScalarMix(nn.Module):
    """ELMo's scalar mix: ``mix = gamma * sum_k softmax(s)_k * LN(h_k)``, trainable ``s`` and ``gamma``.

    ``LN`` is the identity, or with ``layer_norm=True`` a parameter-free layer norm over the feature dimension
    of each token separately (never over the batch, so a token's result does not depend on its batch).

    Args:
        num_layers: ``K``, the number of layers mixed.
        layer_norm: normalise each token's vector of each layer before mixing.
        initial_weights: initial values of ``s`` (defaults to zeros: a uniform mix).
        trainable: whether ``s`` and ``gamma`` receive gradients.
        eps: the layer norm's epsilon.
    """

    def __init__(
        self,
        num_layers: int,
        layer_norm: bool = False,
        initial_weights: Sequence[float] | None = None,
        trainable: bool = True,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        init = torch.zeros(num_layers) if initial_weights is None else torch.tensor(initial_weights)
        if init.shape != (num_layers,):
            raise ValueError(f"got {init.numel()} initial weights for {num_layers} layers")
        self.num_layers = num_layers
        self.layer_norm = layer_norm
        self.eps = eps
        self.scalars = nn.Parameter(init.float(), requires_grad=trainable)
        self.gamma = nn.Parameter(torch.ones(()), requires_grad=trainable)

    def forward(self, layers: torch.Tensor | Sequence[torch.Tensor], dim: int = 0) -> torch.Tensor:
        """Mix ``layers``: a tensor with the layer axis at ``dim``, or a sequence of same-shaped tensors.

        Integer tensors are mixed as float32; floating ones keep their dtype.

        Raises:
            ValueError: ``dim`` outside the tensor's dimensions, or another number of layers than ``num_layers``.
        """
        if isinstance(layers, torch.Tensor) and not -layers.dim() <= dim < layers.dim():
            raise ValueError(f"dim {dim} is out of range for a tensor of {layers.dim()} dimensions")
        stacked = torch.stack(list(layers)) if not isinstance(layers, torch.Tensor) else layers.movedim(dim, 0)
        if not stacked.is_floating_point():  # integer layers would truncate the softmax weights to zeros
            stacked = stacked.to(self.scalars.dtype)
        if stacked.shape[0] != self.num_layers:
            raise ValueError(f"ScalarMix was built for {self.num_layers} layers, got {stacked.shape[0]}")
        if self.layer_norm:
            stacked = nn.functional.layer_norm(stacked, stacked.shape[-1:], eps=self.eps)
        weights = torch.softmax(self.scalars, dim=0).to(stacked.dtype)
        # torch.tensordot has no return annotation, so the product is Any to mypy
        mixed: torch.Tensor = self.gamma * torch.tensordot(weights, stacked, dims=([0], [0]))
        return mixed

    def extra_repr(self) -> str:
        """Shown by ``repr``: the settings and the current weights."""
        weights = ", ".join(f"{w:.3f}" for w in self.weights())
        return (
            f"num_layers={self.num_layers}, layer_norm={self.layer_norm}, trainable={self.scalars.requires_grad}, "
            f"gamma={float(self.gamma.detach()):.3f}, weights=[{weights}]"
        )

    def weights(self) -> np.ndarray:
        """The normalised layer weights ``softmax(s)``, shape ``(num_layers,)``."""
        return torch.softmax(self.scalars.detach(), dim=0).cpu().numpy()


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
        if isinstance(self.mode, ScalarMix):
            if self.weights is not None:
                raise ValueError("a ScalarMix has its own weights; pass none")
            return
        if self.mode not in MIX_MODES:
            raise ValueError(
                f"unknown mix {self.mode!r}; use {', '.join(MIX_MODES)}, ('weighted', weights) or a ScalarMix"
            )
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
        return "scalar_mix" if isinstance(self.mode, ScalarMix) else self.mode

    def __call__(self, array: np.ndarray, axis: int = 0) -> np.ndarray:
        """Mix the layer axis ``axis`` of ``array`` away (see :func:`mix`; a ``ScalarMix`` runs without gradients)."""
        if isinstance(self.mode, ScalarMix):
            with torch.no_grad():
                # calling an nn.Module is typed as returning Any; ScalarMix.forward returns a Tensor
                mixed: torch.Tensor = self.mode(torch.from_numpy(np.ascontiguousarray(array)), dim=axis)
                return mixed.numpy()
        return mix(array, self.mode, self.weights, axis=axis)  # type: ignore[arg-type]


#: What may stand for a mix wherever one is asked for (see :meth:`Mix.of`).
MixLike = str | tuple[str, Sequence[float]] | ScalarMix | Mix
