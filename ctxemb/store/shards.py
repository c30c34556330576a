"""Shards on disk: one directory per shard, written under a temporary name and renamed when complete.

A shard ``shards/000003/`` holds:

- ``arrays.safetensors``: the vectors, a row per token / word / text, texts one after another:
  ``token_vectors`` ``(tokens, layers, dim)``, ``word_vectors`` ``(words, layers, dim)``, ``sentence_vectors``
  ``(texts, layers, dim)`` (``(rows, dim)`` when the layers were mixed), and ``token_ptr`` / ``word_ptr``
  ``(texts + 1,)``: the rows of text ``i`` are ``ptr[i]:ptr[i + 1]``. A text's rows are contiguous, so reading one
  text reads one block. The metadata holds the shard's number, its text count and the hash of its input.
- ``texts.arrow``: an Arrow IPC stream (the format of ``datasets``' own cache), a row per text: ``id``, ``text``,
  ``pieces``, ``special``, ``offsets``, ``words``, ``word_spans``.

Directory renames are atomic, so a shard directory with a plain number for its name is always complete;
a run killed while writing leaves a ``.tmp-*`` directory, removed when the next run starts.

safetensors is safe to open (no pickle), self-describing, and read by PyTorch, NumPy, JAX and Rust alike. Its
layout (an 8-byte header length, a JSON header, then the raw little-endian arrays at 8-byte aligned offsets) lets
:func:`open_arrays` memory-map the arrays with NumPy directly, without reading them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

SHARDS = "shards"
ARRAYS = "arrays.safetensors"
TEXTS = "texts.arrow"
SHARD_FORMAT = "ctxemb-store-shard"
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "BOOL": np.bool_}


def shard_name(index: int) -> str:
    """The directory name of shard ``index``: six digits, so that names sort in order."""
    return f"{index:06d}"


def complete_shards(directory: Path) -> dict[int, Path]:
    """The complete shards of a store directory, by number."""
    root = directory / SHARDS
    if not root.is_dir():
        return {}
    return {
        int(p.name): p for p in root.iterdir() if p.name.isdigit() and (p / ARRAYS).is_file() and (p / TEXTS).is_file()
    }


def remove_temporary(directory: Path) -> None:
    """Remove what runs killed while writing a shard left behind."""
    root = directory / SHARDS
    if root.is_dir():
        for path in root.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)


def text_table(columns: dict[str, Any]) -> Any:
    """Build the Arrow table of one shard's texts.

    Args:
        columns: ``id``, ``text`` (lists of strings, one per text), ``token_ptr``, ``word_ptr`` (``(texts + 1,)``),
            ``pieces``, ``words`` (flat lists of strings), ``special`` (``(tokens,)`` bool), ``offsets``
            (``(tokens, 2)``) and ``word_spans`` (``(words, 2)``).
    """
    import pyarrow as pa

    def pairs(array: np.ndarray) -> Any:
        flat = pa.array(np.ascontiguousarray(array, dtype=np.int32).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, 2)

    token_ptr = pa.array(np.asarray(columns["token_ptr"], dtype=np.int32))
    word_ptr = pa.array(np.asarray(columns["word_ptr"], dtype=np.int32))
    return pa.table(
        {
            "id": pa.array(columns["id"], pa.string()),
            "text": pa.array(columns["text"], pa.string()),
            "pieces": pa.ListArray.from_arrays(token_ptr, pa.array(columns["pieces"], pa.string())),
            "special": pa.ListArray.from_arrays(token_ptr, pa.array(np.asarray(columns["special"], dtype=bool))),
            "offsets": pa.ListArray.from_arrays(token_ptr, pairs(columns["offsets"])),
            "words": pa.ListArray.from_arrays(word_ptr, pa.array(columns["words"], pa.string())),
            "word_spans": pa.ListArray.from_arrays(word_ptr, pairs(columns["word_spans"])),
        }
    )


def write_shard(
    directory: Path, index: int, table: Any, arrays: dict[str, np.ndarray], metadata: dict[str, str]
) -> Path:
    """Write one shard atomically: into ``shards/.tmp-NNNNNN-PID/``, flushed to disk, then renamed.

    On any error the temporary directory is removed, so the shards already written stay the only ones.

    Returns:
        The shard's directory.
    """
    import pyarrow as pa
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    root = directory / SHARDS
    final = root / shard_name(index)
    tmp = root / f".tmp-{shard_name(index)}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        try:
            save_file(arrays, str(tmp / ARRAYS), metadata={"format": SHARD_FORMAT, **metadata})
        except SafetensorError as error:
            raise _as_os_error(error, tmp / ARRAYS) from error
        os.chmod(tmp / ARRAYS, 0o644)  # safetensors creates it owner-only; a store is meant to be shared
        with pa.OSFile(str(tmp / TEXTS), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        for name in (ARRAYS, TEXTS):
            _fsync(tmp / name)
        os.rename(tmp, final)
        _fsync(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _as_os_error(error: Exception, path: Path) -> Exception:
    """safetensors reports a failed write (full disk, directory gone) as ``SafetensorError("... (os error N)")``.

    Returns:
        The ``OSError`` with that errno, so that callers see disk errors as such; any other error unchanged.
    """
    found = re.search(r"\(os error (\d+)\)", str(error))
    if found is None:
        return error
    code = int(found.group(1))
    return OSError(code, os.strerror(code), str(path))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def shard_metadata(shard: Path) -> dict[str, str]:
    """The metadata of a shard's arrays file (its number, text count, input hash), read from the header only."""
    return _header(shard / ARRAYS)[0].get("__metadata__", {})


def _header(path: Path) -> tuple[dict[str, Any], int]:
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    return header, 8 + size


def open_arrays(shard: Path) -> dict[str, np.ndarray]:
    """Memory-map every array of a shard's safetensors file (read-only; nothing is read until used).

    Raises:
        ValueError: the file holds a dtype NumPy cannot map.
    """
    path = shard / ARRAYS
    header, start = _header(path)
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    arrays = {}
    for name, info in header.items():
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: array {name!r} has dtype {info['dtype']}, which ctxemb does not read")
        begin, end = info["data_offsets"]
        arrays[name] = data[start + begin : start + end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
    return arrays


def open_texts(shard: Path) -> Any:
    """The shard's table of texts, memory-mapped (a ``pyarrow.Table``)."""
    import pyarrow as pa

    return pa.ipc.open_stream(pa.memory_map(str(shard / TEXTS))).read_all()
