"""The store's manifest: what was extracted, from which model and input, and which shards it holds.

``manifest.json`` is written when a run starts (``"status": "running"``, the run's settings and provenance) and
rewritten when the last shard is done (``"status": "complete"``, the shard list and totals). Everything under
``"settings"`` must match for a run to resume; a difference is an error that lists it.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..extractor import Extractor

FORMAT = "ctxemb-store"
#: 2: shards carry ``files.json`` (sizes and checksums) and the manifest's shard entries copy it. Version 1 stores
#: (without checksums) are read as before.
VERSION = 2
MANIFEST = "manifest.json"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".msgpack", ".h5")
_CASE_FLAGS = ("do_lower_case", "do_lowercase", "do_lowercase_and_remove_accent", "strip_accents", "keep_accents")


def model_provenance(extractor: Extractor) -> dict[str, Any]:
    """Name, weight and tokenizer hashes, type, size and compute dtype of the extractor's model.

    The weight hash is the SHA-256 of the checkpoint's weight files (name and content, in name order) when they
    can be found on disk, else of the parameters themselves (``"weights_from": "parameters"``).
    """
    model = extractor.model
    files = _weight_files(getattr(model, "name_or_path", "") or "")
    if files:
        weights = _files_digest(tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
        source = "files"
    else:
        import torch  # here, not at the top: the command line reads this module without loading torch

        digest = hashlib.sha256()
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode() + b"\0")
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
        weights = digest.hexdigest()
        source = "parameters"
    return {
        "name": extractor.name or type(model).__name__,
        "weights_sha256": weights,
        "weights_from": source,
        "weight_files": [p.name for p in files],
        "tokenizer_sha256": tokenizer_digest(extractor.tokenizer),
        "model_type": getattr(model.config, "model_type", None),
        "num_layers": int(extractor.num_layers),
        "hidden_size": int(model.config.hidden_size),
        "compute_dtype": str(model.dtype).removeprefix("torch."),
    }


@functools.lru_cache(maxsize=16)
def _files_digest(files: tuple[tuple[str, int, int], ...]) -> str:
    """SHA-256 of weight files (name and content, in the order given), keyed by each file's path, size and mtime:
    a process that asks again (a probe, then a search, then another search) reads a large checkpoint once."""
    digest = hashlib.sha256()
    for name, _, _ in files:
        path = Path(name)
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            while block := f.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()


def _weight_files(name_or_path: str) -> list[Path]:
    """The weight files of a local checkpoint directory, or of a hub checkpoint in the local cache."""
    directory = Path(name_or_path)
    if directory.is_dir():
        return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not name_or_path:
        return []
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on it
        return []
    for filename in ("model.safetensors", "pytorch_model.bin"):
        found = try_to_load_from_cache(name_or_path, filename)
        if isinstance(found, str):
            return [Path(found)]
    return []


def tokenizer_digest(tokenizer: Any) -> str:
    """SHA-256 of what decides a tokenizer's pieces, never of its runtime state.

    For a fast tokenizer: its `tokenizers` definition (vocabulary, merges, normalizer, pre-tokenizer,
    post-processor, added tokens) without the ``truncation`` and ``padding`` settings, which transformers changes
    while it runs (a checkpoint's ``tokenizer.json`` may carry some that the first call resets). For a Python-only
    one: its class, vocabulary (added tokens included), BPE merges and lowercasing flags.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        definition = json.loads(backend.to_str())
        definition.pop("truncation", None)
        definition.pop("padding", None)
    else:
        merges = sorted(getattr(tokenizer, "bpe_ranks", {}).items(), key=lambda item: item[1])
        flags = {name: getattr(tokenizer, name) for name in _CASE_FLAGS if hasattr(tokenizer, name)}
        definition = {
            "class": type(tokenizer).__name__,
            "vocab": sorted(tokenizer.get_vocab().items()),
            "merges": [list(pair) for pair, _ in merges],
            "flags": flags,
        }
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def differences(stored: Any, current: Any, prefix: str = "") -> list[str]:
    """Every setting that differs between a stored manifest section and the current run, as ``key: a != b``."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out: list[str] = []
        for key in sorted(set(stored) | set(current), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored:
                out.append(f"{name}: not in the store, {current[key]!r} now")
            elif key not in current:
                out.append(f"{name}: {stored[key]!r} in the store, not set now")
            else:
                out.extend(differences(stored[key], current[key], name))
        return out
    if stored != current:
        return [f"{prefix}: {stored!r} in the store != {current!r} now"]
    return []


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write JSON atomically: a temporary file in the same directory, flushed to disk, then renamed.

    Raises:
        OSError: the file could not be written (the temporary file is removed; the old file, if any, is intact).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(content, f, indent=1, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        cause = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
        raise OSError(error.errno, f"could not write {path}: {cause}; it is unchanged") from error


def read_manifest(directory: Path, strict: bool = True) -> dict[str, Any] | None:
    """The manifest of a store directory, or ``None`` when there is none.

    Args:
        directory: the store.
        strict: check the shard list too (for reading); a run that resumes needs only the settings, since it
            writes the shard list again.

    Raises:
        ValueError: the manifest is not valid JSON, not a ctxemb store manifest, of a newer format version, or
            lacks what a store needs; the message names the file and what is wrong.
    """
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is damaged: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ValueError(f"{path} is not a ctxemb store manifest (format {found!r})")
    version = manifest.get("version", 0)
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(f"{path} has format version {version!r}; this ctxemb reads up to {VERSION}")
    problems = _manifest_problems(manifest, strict)
    if problems:
        raise ValueError(f"{path} is damaged: " + "; ".join(problems))
    return manifest


def _file_records_ok(records: Any) -> bool:
    """Whether ``records`` is ``{file name: {"bytes": int, "sha256": str}}``."""
    return isinstance(records, dict) and all(
        isinstance(r, dict) and isinstance(r.get("bytes"), int) and isinstance(r.get("sha256"), str)
        for r in records.values()
    )


def _manifest_problems(manifest: dict[str, Any], strict: bool = True) -> list[str]:
    """What a manifest lacks for the store to be read (settings, and for a complete store its shard list)."""
    from .shards import is_shard_name

    settings = manifest.get("settings")
    if not isinstance(settings, dict):
        return ["no 'settings' section"]
    problems = []
    for section, keys in (("extraction", ("layers", "vectors", "mix")), ("storage", ("dtype",)), ("model", ("name",))):
        part = settings.get(section)
        missing = [k for k in keys if not isinstance(part, dict) or k not in part]
        if missing:
            problems.append(f"settings.{section} lacks {', '.join(missing)}")
    if strict and manifest.get("status") == "complete":
        shards = manifest.get("shards")
        if not isinstance(shards, list):
            return [*problems, "a complete store without a 'shards' list"]
        for i, entry in enumerate(shards):
            if not isinstance(entry, dict) or not isinstance(entry.get("texts"), int):
                problems.append(f"shards[{i}] is not an entry with a text count")
            elif not isinstance(entry.get("name"), str) or not is_shard_name(entry["name"]):
                problems.append(f"shards[{i}] has the name {entry.get('name')!r}, not a plain shard number")
            elif "files" in entry and not _file_records_ok(entry["files"]):
                problems.append(f"shards[{i}] has damaged file records {entry['files']!r}")
    return problems
