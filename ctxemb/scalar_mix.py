"""ELMo's learnable scalar mix of layers: a torch module to train on top of extracted layers.

``gamma * sum_k softmax(s)_k * h_k`` (Peters et al., 2018), optionally after a layer norm of each ``h_k``. Any
:class:`ctxemb.Mix` accepts one (``Mix.of(scalar_mix)``) and applies it without gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


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
