"""One padded batch through the model, and the requested layers back on the host as float32 arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .capture import Blocks, run_layers
from .families import Family, pad_id


def forward_batch(
    model: Any,
    family: Family,
    tokenizer: Any,
    sequences: list[tuple[np.ndarray, np.ndarray | None]],
    layers: tuple[int, ...],
    blocks: Blocks | None,
    lang: int | None = None,
) -> list[np.ndarray]:
    """Pad one batch, run it once, and cut each sequence's rows out: ``(layers, tokens, dim)`` each.

    Padding goes on the family's side under the attention mask (filled with the family's pad id, never a resized
    vocabulary); positions, when the family needs them, count from each sequence's first piece, so a sequence's
    vectors do not depend on its batch.

    Args:
        model: the transformers model.
        family: its entry in the family table.
        tokenizer: its tokenizer (for the pad id).
        sequences: ``(ids, type ids or None)`` of each sequence.
        layers: the layers to keep (``0..L``).
        blocks: where the model's hidden states are produced (:func:`ctxemb.capture.run_layers`).
        lang: the language id for checkpoints with language embeddings (XLM), else ``None``.
    """
    lengths = [len(ids) for ids, _ in sequences]
    width = max(lengths)
    ids = np.full((len(sequences), width), pad_id(tokenizer, family), dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    with_types = sequences[0][1] is not None
    types = np.zeros_like(ids) if with_types else None
    left = family.padding_side == "left"
    begins = [width - n if left else 0 for n in lengths]
    for row, ((seq, seq_types), n, begin) in enumerate(zip(sequences, lengths, begins)):
        ids[row, begin : begin + n] = seq
        mask[row, begin : begin + n] = 1
        if types is not None and seq_types is not None:  # a batch has type ids for every sequence or for none
            types[row, begin : begin + n] = seq_types
    device = input_device(model)
    accelerated = device.type == "cuda"

    def to_device(array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(array)
        return tensor.pin_memory().to(device, non_blocking=True) if accelerated else tensor.to(device)

    inputs = {"input_ids": to_device(ids), "attention_mask": to_device(mask)}
    if family.position_ids:
        inputs["position_ids"] = to_device(np.maximum(np.cumsum(mask, axis=1) - 1, 0))
    if types is not None:
        inputs["token_type_ids"] = to_device(types)
    if lang is not None:
        inputs["langs"] = torch.full(ids.shape, lang, dtype=torch.int64, device=device)
    inputs.update(family.model_kwargs)
    with torch.inference_mode():
        states = run_layers(model, inputs, layers, int(model.config.num_hidden_layers), blocks)
        # Only the requested layers leave the device: stacked there into one (layers, batch, tokens, dim)
        # tensor, in the model's dtype (half the bytes for bf16/fp16), copied into pinned memory without
        # blocking, float32 on the host.
        # (under a device_map the blocks, hence the layers, may live on different devices: gathered on the first's)
        first = states[layers[0]].device
        stacked = torch.stack([states[k].to(first) for k in layers])
        del states
        copy = stacked.to("cpu", non_blocking=accelerated)
        if accelerated:
            torch.cuda.synchronize(device)
        host_tensor = copy.float()
        # Results outlive the batch, so they must not hold page-locked memory: a float32 copy that landed in
        # pinned memory moves to ordinary memory once per batch (bf16/fp16 were already converted above).
        host = np.array(host_tensor.numpy()) if host_tensor.is_pinned() else host_tensor.numpy()
    # Each sequence's rows are a view of the batch array (no copy per sequence): every layer of it is one
    # contiguous (tokens, dim) block.
    return [host[:, row, begin : begin + n] for row, (n, begin) in enumerate(zip(lengths, begins))]


def input_device(model: Any) -> torch.device:
    """Where a batch's inputs go: the model's device, or under accelerate's big-model inference (``device_map``)
    the device that runs the input embeddings, whose weights may be offloaded (``model.device`` then says "meta")."""
    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    hook = getattr(embeddings, "_hf_hook", None)
    execution = getattr(hook, "execution_device", None)
    if execution is not None:
        return torch.device(execution if not isinstance(execution, int) else f"cuda:{execution}")
    if embeddings is not None and getattr(model, "hf_device_map", None):
        weight: torch.Tensor = next(embeddings.parameters())
        return weight.device
    return torch.device(model.device)
