"""Running a model once and keeping only the requested hidden states, without computing the layers above them.

Where hidden states come from is described by :class:`Blocks`: the module that starts each block (its first
argument is the block's input, so the first one's input is layer 0) and the module whose output is each layer
``k >= 1``. Most models declare their blocks to transformers (the model class's
``_can_record_outputs["hidden_states"]``), which :func:`recorded_blocks` reads; the family table names them for
the others. Forward hooks keep the requested layers as they are produced and stop the forward pass before the
first block that is not needed. Layer ``L`` is read from ``last_hidden_state`` after a full pass, as transformers
does (for GPT-2 that is after the final layer norm). Models whose blocks are unknown fall back to
``output_hidden_states=True`` and a full pass. The hooks live only for the duration of one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: importing this module does not load torch
    import torch
    from torch import nn


class _StopForward(Exception):
    """Raised inside a hook once every requested layer has been produced."""


@dataclass(frozen=True)
class Blocks:
    """Where a model's hidden states are produced.

    Attributes:
        entries: the module that starts each block, in order; its first argument (or ``hidden_states``) is the
            block's input. A module shared by every block (ALBERT) is listed once and runs once per block.
        exits: the modules whose outputs are layers ``1..L``, in call order (shared modules listed once).
        index: which element of an exit's output is the hidden state, when the output is a tuple.
        time_major: the tensors are ``(tokens, batch, dim)`` (XLNet) instead of ``(batch, tokens, dim)``.
    """

    entries: tuple[nn.Module, ...]
    exits: tuple[nn.Module, ...]
    index: int = 0
    time_major: bool = False


def recorded_blocks(model: nn.Module) -> Blocks | None:
    """The blocks a model declares to transformers for recording ``hidden_states``, or ``None``."""
    spec = (getattr(type(model), "_can_record_outputs", None) or {}).get("hidden_states")
    if spec is None:
        return None
    index = 0
    if not isinstance(spec, type):
        if getattr(spec, "layer_name", None) or getattr(spec, "class_name", None):
            return None
        index = getattr(spec, "index", 0)
        spec = getattr(spec, "target_class", None)
    if not isinstance(spec, type):
        return None
    modules = tuple(m for m in model.modules() if isinstance(m, spec))
    return Blocks(modules, modules, index) if modules else None


def run_layers(
    model: nn.Module,
    inputs: Mapping[str, torch.Tensor],
    layers: tuple[int, ...],
    num_layers: int,
    blocks: Blocks | None,
) -> dict[int, torch.Tensor]:
    """Run ``model`` on ``inputs`` and return the hidden states of ``layers`` only.

    Args:
        model: a transformers base model in eval mode.
        inputs: the model's keyword inputs for one batch.
        layers: absolute layer indices in ``[0, num_layers]``, ascending.
        num_layers: ``L``.
        blocks: where the hidden states are produced, or ``None`` for a full pass with
            ``output_hidden_states=True``.

    Returns:
        ``{layer: tensor of shape (batch, tokens, dim)}`` for every requested layer.
    """
    if blocks is None:
        states = model(**inputs, output_hidden_states=True).hidden_states
        return {k: states[k] for k in layers}
    wanted = set(layers)
    top = max(layers)
    kept: dict[int, torch.Tensor] = {}
    done = 0

    def keep(k: int, tensor: torch.Tensor) -> None:
        kept[k] = tensor.transpose(0, 1) if blocks.time_major else tensor

    def before(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if done == 0 and 0 in wanted:
            keep(0, args[0] if args else kwargs["hidden_states"])
        if done == top:
            raise _StopForward

    def after(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        nonlocal done
        done += 1
        if done in wanted:
            keep(done, output[blocks.index] if isinstance(output, (tuple, list)) else output)

    handles = [m.register_forward_pre_hook(before, with_kwargs=True) for m in blocks.entries]
    handles += [m.register_forward_hook(after, with_kwargs=True) for m in blocks.exits]
    try:
        output = model(**inputs)
        last = getattr(output, "last_hidden_state", None)
        if num_layers in wanted and last is not None and getattr(model.config, "tie_last_hidden_states", True):
            kept[num_layers] = last
    except _StopForward:
        pass
    finally:
        for handle in handles:
            handle.remove()
    missing = wanted - kept.keys()
    if missing:
        raise RuntimeError(
            f"the model ran {done} blocks but layers {sorted(missing)} were not produced; "
            f"its config says {num_layers} layers"
        )
    return kept
