"""ctxemb: per-layer contextual word embeddings from BERT- and GPT-style models."""

from __future__ import annotations

from .extractor import Extractor
from .layers import parse_layers, resolve_layers
from .mixing import Mix, ScalarMix, mix
from .outputs import Embedding
from .store import extract_to, open_store
from .tokenization import train_tokenizer
from .words import split_words

__version__ = "0.1.0"

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
