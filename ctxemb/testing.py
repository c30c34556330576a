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
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

if TYPE_CHECKING:
    from transformers import PreTrainedModel

__all__ = ["SUPPORTED_FAMILIES", "corpus_path", "tiny_checkpoint"]

_MARKER = "ctxemb_tiny.json"
_FORMAT = 1  # bump when a builder changes, so that stale checkpoints are not reused
_MAX_LENGTH = 128
_SIZES = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 64}


def corpus_path() -> Path:
    """Return the path of the small English corpus shipped with the package (one sentence per line)."""
    return Path(str(files("ctxemb") / "data" / "corpus.txt"))


def _corpus_lines() -> list[str]:
    return corpus_path().read_text(encoding="utf-8").splitlines()


def _continuation_tokens(backend: Tokenizer, lines: list[str], prefix: str) -> list[str]:
    """List ``prefix + c`` for every character that occurs after the first one of a pre-tokenized word.

    The `tokenizers` BPE/WordPiece trainers create these tokens in hash-map order, which makes their ids,
    and through tie-breaking the learned merges, change from run to run (huggingface/tokenizers#1794).
    Registering them up front, sorted, as trainer special tokens fixes their ids and makes training
    deterministic.
    """
    chars: set[str] = set()
    for line in lines:
        for word, _ in backend.pre_tokenizer.pre_tokenize_str(backend.normalizer.normalize_str(line)):
            chars.update(word[1:])
    return [prefix + c for c in sorted(chars)]


def _save_model(model_factory: Callable[[], PreTrainedModel], seed: int, directory: Path) -> None:
    """Build a model under ``torch.manual_seed(seed)``, keeping the caller's RNG state, and save it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_factory()
    model.eval()
    model.save_pretrained(directory)


def _build_bert(directory: Path, seed: int) -> None:
    """Write a tiny BERT (WordPiece, lowercased, accents stripped) into ``directory``."""
    from transformers import BertConfig, BertModel, BertTokenizer

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    lines = _corpus_lines()

    trainee = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trainee.normalizer = normalizers.BertNormalizer(lowercase=True)
    trainee.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    pinned = _continuation_tokens(trainee, lines, "##")
    trainer = trainers.WordPieceTrainer(vocab_size=1000, special_tokens=[*specials, *pinned], show_progress=False)
    trainee.train_from_iterator(lines, trainer)

    # Rebuild from the learned vocabulary so that only the five real specials are special tokens.
    vocab = trainee.get_vocab()
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = trainee.normalizer
    backend.pre_tokenizer = trainee.pre_tokenizer
    backend.decoder = decoders.WordPiece(prefix="##")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    backend.add_special_tokens(specials)

    # transformers 5 rebuilds a BertTokenizer's pipeline from its vocabulary and these keyword arguments
    # when loading (the normalizer saved in tokenizer.json is not used), so they must describe the
    # pipeline above: lowercase, and accents stripped as a consequence (strip_accents=None).
    tokenizer = BertTokenizer(
        tokenizer_object=backend,
        do_lower_case=True,
        strip_accents=None,
        model_max_length=_MAX_LENGTH,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=len(vocab), max_position_embeddings=_MAX_LENGTH, pad_token_id=vocab["[PAD]"], **_SIZES
    )
    _save_model(lambda: BertModel(config), seed, directory)
    tokenizer.save_pretrained(directory)


_BUILDERS: dict[str, Callable[[Path, int], None]] = {"bert": _build_bert}
SUPPORTED_FAMILIES: tuple[str, ...] = tuple(_BUILDERS)


def _marker(family: str, seed: int) -> dict[str, object]:
    return {"family": family, "seed": seed, "format": _FORMAT}


def _holds(directory: Path, marker: dict[str, object]) -> bool:
    """Tell whether ``directory`` is a complete checkpoint built by this module with ``marker``."""
    try:
        return json.loads((directory / _MARKER).read_text(encoding="utf-8")) == marker
    except (OSError, ValueError):
        return False


def tiny_checkpoint(family: str, directory: str | os.PathLike[str], *, seed: int = 0) -> Path:
    """Build a tiny, randomly initialised checkpoint of ``family`` into ``directory``, offline.

    The checkpoint holds ``config.json``, ``model.safetensors``, the tokenizer files and a marker file
    ``ctxemb_tiny.json``. It is written into a temporary sibling directory that is renamed into place at
    the end, so an interrupted build leaves nothing behind. If ``directory`` already holds a checkpoint
    built by this function with the same family and seed, it is returned as is.

    Args:
        family: The model family; one of `SUPPORTED_FAMILIES`.
        directory: Where to write the checkpoint. Must not exist, be empty, or hold a matching checkpoint.
        seed: Seed of ``torch.manual_seed`` for the weight initialisation. The caller's RNG state is kept.

    Returns:
        The checkpoint directory, loadable with ``AutoModel.from_pretrained`` and
        ``AutoTokenizer.from_pretrained``.

    Raises:
        ValueError: If ``family`` is not supported.
        FileExistsError: If ``directory`` holds something other than a matching checkpoint.
    """
    if family not in _BUILDERS:
        raise ValueError(f"unknown family {family!r}; supported families: {', '.join(SUPPORTED_FAMILIES)}")
    target = Path(directory)
    marker = _marker(family, seed)
    if _holds(target, marker):
        return target
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not a tiny {family} checkpoint with seed {seed}")

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:12]}")
    staging.mkdir()  # unlike tempfile.mkdtemp, respects the umask (the directory is renamed into place)
    try:
        _BUILDERS[family](staging, seed)
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
