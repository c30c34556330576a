"""Running a model once and keeping only the requested hidden states, without computing the layers above them.

The blocks whose outputs are ``hidden_states`` are the ones transformers itself records (the model class's
``_can_record_outputs["hidden_states"]``). Forward hooks on them keep the requested layers as they are produced
(layer 0 is the first block's input, layer ``k`` the ``k``-th block's output) and stop the forward pass before the
first block that is not needed. Layer ``L`` is read from ``last_hidden_state`` after a full pass, as transformers
does (for GPT-2 that is after the final layer norm). Models that declare no such blocks fall back to
``output_hidden_states=True`` and a full pass. The hooks live only for the duration of one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


class _StopForward(Exception):
    """Raised inside a hook once every requested layer has been produced."""


def hidden_state_blocks(model: nn.Module) -> tuple[list[nn.Module], int] | None:
    """The modules whose outputs transformers records as hidden states, and the index of that output.

    Returns:
        ``(modules, index)``, or ``None`` when the model does not declare them.
    """
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
    modules = [m for m in model.modules() if isinstance(m, spec)]
    return (modules, index) if modules else None


def run_layers(
    model: nn.Module, inputs: Mapping[str, torch.Tensor], layers: tuple[int, ...], num_layers: int
) -> dict[int, torch.Tensor]:
    """Run ``model`` on ``inputs`` and return the hidden states of ``layers`` only.

    Args:
        model: a transformers base model in eval mode.
        inputs: the model's keyword inputs for one batch.
        layers: absolute layer indices in ``[0, num_layers]``, ascending.
        num_layers: ``L``.

    Returns:
        ``{layer: tensor of shape (batch, tokens, dim)}`` for every requested layer.
    """
    wanted = set(layers)
    top = max(layers)
    blocks = hidden_state_blocks(model)
    if blocks is None:
        states = model(**inputs, output_hidden_states=True).hidden_states
        return {k: states[k] for k in layers}
    modules, index = blocks
    kept: dict[int, torch.Tensor] = {}
    done = 0

    def before(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if done == 0 and 0 in wanted:
            kept[0] = args[0] if args else kwargs["hidden_states"]
        if done == top:
            raise _StopForward

    def after(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        nonlocal done
        done += 1
        if done in wanted:
            kept[done] = output[index] if isinstance(output, (tuple, list)) else output

    handles = []
    for module in modules:
        handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(module.register_forward_hook(after, with_kwargs=True))
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
