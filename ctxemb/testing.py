"""Tiny offline checkpoints and the bundled corpus, for tests, examples and benchmarks.

Every checkpoint is built from scratch without network access: a tokenizer of the family's kind is trained
with `tokenizers` on the corpus shipped in ``ctxemb/data/corpus.txt``, and a randomly initialised model
(hidden 32, 3 layers, 4 heads) is saved next to it with ``save_pretrained``. The result loads with
``AutoModel.from_pretrained`` and ``AutoTokenizer.from_pretrained``. Builds are deterministic: the same
family and seed give byte-identical weights and the same vocabulary.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .families import FAMILIES
from .tokenization import family_named

if TYPE_CHECKING:
    from transformers import PreTrainedModel

__all__ = ["SUPPORTED_FAMILIES", "corpus_path", "tiny_checkpoint", "tiny_config"]

_MARKER = "ctxemb_tiny.json"
_FORMAT = 5  # bump when a builder changes, so that stale checkpoints are not reused
_MAX_LENGTH = 128
_TOKENIZER_KEYS = ("lang2id", "id2lang")
#: The families with a tiny-checkpoint recipe in the family table (``Family.tiny``).
SUPPORTED_FAMILIES: tuple[str, ...] = tuple(f.name for f in FAMILIES if f.tiny is not None)


def corpus_path() -> Path:
    """Return the path of the small English corpus shipped with the package (one sentence per line)."""
    return Path(str(files("ctxemb") / "data" / "corpus.txt"))


def _corpus_lines() -> list[str]:
    return corpus_path().read_text(encoding="utf-8").splitlines()


def _save_model(model_factory: Callable[[], PreTrainedModel], seed: int, directory: Path) -> None:
    """Build a model under ``torch.manual_seed(seed)``, keeping the caller's RNG state, and save it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_factory()
    model.eval()
    model.save_pretrained(directory)


def tiny_config(
    family: str,
    tokenizer: Any,
    *,
    hidden: int = 32,
    layers: int = 3,
    heads: int = 4,
    max_length: int = _MAX_LENGTH,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """The family's own config class, small, with the tokenizer's vocabulary size and special ids.

    The class and its size keywords come from the family table (``Family.tiny``). The feed-forward width is
    ``2 * hidden``; ALBERT's embedding size is ``hidden // 2`` (different from the hidden
    size, as in the released ALBERTs); XLNet has no window. The defaults are the tiny checkpoints' sizes.

    Args:
        family: one of `SUPPORTED_FAMILIES`.
        tokenizer: the tokenizer the model is for (``len(tokenizer)`` rows of embeddings, its pad/bos/eos ids).
        hidden: hidden size.
        layers: number of blocks.
        heads: attention heads.
        max_length: the window in pieces (position embeddings).
        overrides: more config values, applied last.

    Raises:
        ValueError: an unsupported family.
    """
    import transformers

    if family not in SUPPORTED_FAMILIES:
        raise ValueError(f"unknown family {family!r}; supported families: {', '.join(SUPPORTED_FAMILIES)}")
    recipe = family_named(family).tiny
    assert recipe is not None  # SUPPORTED_FAMILIES holds only families with one
    ids = {"pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.bos_token_id}
    ids["eos_token_id"] = tokenizer.eos_token_id
    ids = {k: v for k, v in ids.items() if v is not None}
    sizes = recipe.sizes(hidden, layers, heads, max_length)
    config_class = getattr(transformers, recipe.config_class)
    return config_class(**{"vocab_size": len(tokenizer), **ids, **sizes, **dict(overrides or {})})


def _build(family: str, directory: Path, seed: int, overrides: dict[str, Any]) -> None:
    """Write the tiny checkpoint of ``family``: a tokenizer trained on the bundled corpus and a random model."""
    from transformers import AutoModel

    from .tokenization import train_tokenizer

    # Tokenizer settings among the overrides (XLM's language tables) go to the tokenizer as well.
    shared = {key: overrides[key] for key in _TOKENIZER_KEYS if key in overrides}
    tokenizer = train_tokenizer(_corpus_lines(), vocab_size=1000, family=family, tokenizer_kwargs=shared)
    config = tiny_config(family, tokenizer, overrides=overrides)
    if family_named(family).max_positions(config) is not None:
        tokenizer.model_max_length = _MAX_LENGTH
    _save_model(lambda: AutoModel.from_config(config), seed, directory)
    tokenizer.save_pretrained(directory)


def _marker(family: str, seed: int, overrides: Mapping[str, Any]) -> dict[str, object]:
    return {"family": family, "seed": seed, "format": _FORMAT, "config_overrides": dict(overrides)}


def _holds(directory: Path, marker: dict[str, object]) -> bool:
    """Tell whether ``directory`` is a complete checkpoint built by this module with ``marker``."""
    try:
        stored: object = json.loads((directory / _MARKER).read_text(encoding="utf-8"))
        return stored == marker
    except (OSError, ValueError):
        return False


def tiny_checkpoint(
    family: str,
    directory: str | os.PathLike[str],
    *,
    seed: int = 0,
    config_overrides: Mapping[str, Any] | None = None,
) -> Path:
    """Build a tiny, randomly initialised checkpoint of ``family`` into ``directory``, offline.

    The checkpoint holds ``config.json``, ``model.safetensors``, the tokenizer files and a marker file
    ``ctxemb_tiny.json``. It is written into a temporary sibling directory that is renamed into place at
    the end, so an interrupted build leaves nothing behind. If ``directory`` already holds a checkpoint
    built by this function with the same family and seed, it is returned as is.

    Args:
        family: The model family; one of `SUPPORTED_FAMILIES`.
        directory: Where to write the checkpoint. Must not exist, be empty, or hold a matching checkpoint.
        seed: Seed of ``torch.manual_seed`` for the weight initialisation. The caller's RNG state is kept.
        config_overrides: Values merged into the model config (recorded in the marker file), e.g. XLM with
            language embeddings: ``{"n_langs": 2, "use_lang_emb": True, "lang2id": {"en": 0, "fr": 1}}``.

    Returns:
        The checkpoint directory, loadable with ``AutoModel.from_pretrained`` and
        ``AutoTokenizer.from_pretrained``.

    Raises:
        ValueError: If ``family`` is not supported.
        FileExistsError: If ``directory`` holds something other than a matching checkpoint.
    """
    if family not in SUPPORTED_FAMILIES:
        raise ValueError(f"unknown family {family!r}; supported families: {', '.join(SUPPORTED_FAMILIES)}")
    target = Path(directory)
    overrides = json.loads(json.dumps(dict(config_overrides or {}), sort_keys=True))
    marker = _marker(family, seed, overrides)
    if _holds(target, marker):
        return target
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not a tiny {family} checkpoint with seed {seed}")

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:12]}")
    staging.mkdir()  # unlike tempfile.mkdtemp, respects the umask (the directory is renamed into place)
    try:
        _build(family, staging, seed, overrides)
        (staging / _MARKER).write_text(json.dumps(marker, sort_keys=True) + "\n", encoding="utf-8")
        try:
            if target.is_dir():
                target.rmdir()  # empty, checked above
            staging.rename(target)
        except OSError:
            if not _holds(target, marker):  # not a concurrent build of the same checkpoint that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
