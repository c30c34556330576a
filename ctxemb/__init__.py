"""ctxemb: per-layer contextual word embeddings from BERT- and GPT-style models.

The names below load on first use (PEP 562), so ``import ctxemb`` and ``ctxemb --help`` stay quick and import
neither torch nor the optional libraries; ``ctxemb.Extractor`` imports what extraction needs.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "Embedding": "ctxemb.outputs",
    "Extractor": "ctxemb.extractor",
    "Mix": "ctxemb.mixing",
    "ScalarMix": "ctxemb.scalar_mix",
    "extract_to": "ctxemb.store",
    "mix": "ctxemb.mixing",
    "open_store": "ctxemb.store",
    "parse_layers": "ctxemb.layers",
    "resolve_layers": "ctxemb.layers",
    "split_words": "ctxemb.words",
    "train_tokenizer": "ctxemb.tokenization",
}

__all__ = [
    "Embedding",
    "Extractor",
    "Mix",
    "ScalarMix",
    "__version__",
    "extract_to",
    "mix",
    "open_store",
    "parse_layers",
    "resolve_layers",
    "split_words",
    "train_tokenizer",
]

if TYPE_CHECKING:
    from .extractor import Extractor
    from .layers import parse_layers, resolve_layers
    from .mixing import Mix, mix
    from .outputs import Embedding
    from .scalar_mix import ScalarMix
    from .store import extract_to, open_store
    from .tokenization import train_tokenizer
    from .words import split_words


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if importlib.util.find_spec(f"ctxemb.{name}") is not None:  # ctxemb.store, ctxemb.layers ... as before
            return importlib.import_module(f"ctxemb.{name}")
        raise AttributeError(f"module 'ctxemb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
