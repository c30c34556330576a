"""Shards on disk: one directory per shard, written under a temporary name and renamed when complete.

A shard ``shards/000003/`` holds:

- ``arrays.safetensors``: the vectors, a row per token / word / text, texts one after another:
  ``token_vectors`` ``(tokens, layers, dim)``, ``word_vectors`` ``(words, layers, dim)``, ``sentence_vectors``
  ``(texts, layers, dim)`` (``(rows, dim)`` when the layers were mixed), and ``token_ptr`` / ``word_ptr``
  ``(texts + 1,)``: the rows of text ``i`` are ``ptr[i]:ptr[i + 1]``. A text's rows are contiguous, so reading one
  text reads one block. The metadata holds the shard's number, its text count and the hash of its input.
- ``texts.arrow``: an Arrow IPC stream (the format of ``datasets``' own cache), a row per text: ``id``, ``text``,
  ``tokens``, ``special``, ``offsets``, ``words``, ``word_spans``.
- ``files.json``: the size in bytes and SHA-256 of the two files above, written last. The manifest copies it
  into the shard's entry; a resumed run checks sizes always and checksums with ``verify=True``, and
  :func:`check_shard` says what is wrong with a damaged shard.

Directory renames are atomic, so a shard directory with a plain number for its name is always complete;
a run killed while writing leaves a ``.tmp-*`` directory, removed when the next run starts. Stores written
before ``files.json`` existed (manifest version 1) are read as before, without checksums.

safetensors is safe to open (no pickle), self-describing, and read by PyTorch, NumPy, JAX and Rust alike. Its
layout (an 8-byte header length, a JSON header, then the raw little-endian arrays at 8-byte aligned offsets) lets
:func:`open_arrays` memory-map the arrays with NumPy directly, without reading them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..filemodes import as_umask_gives

SHARDS = "shards"
ARRAYS = "arrays.safetensors"
TEXTS = "texts.arrow"
FILES = "files.json"
_NAME = re.compile(r"^[0-9]{6,}$")
SHARD_FORMAT = "ctxemb-store-shard"
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "BOOL": np.bool_}


def shard_name(index: int) -> str:
    """The directory name of shard ``index``: six digits, so that names sort in order."""
    return f"{index:06d}"


def is_shard_name(name: str) -> bool:
    """Whether ``name`` is a plain shard directory name (digits only: nothing that leads out of the store)."""
    return bool(_NAME.match(name))


def complete_shards(directory: Path) -> dict[int, Path]:
    """The shard directories of a store, by number: complete when written, though possibly damaged since.

    Check them with :func:`check_shard`.
    """
    root = directory / SHARDS
    if not root.is_dir():
        return {}
    return {int(p.name): p for p in root.iterdir() if is_shard_name(p.name) and p.is_dir()}


def file_records(shard: Path) -> dict[str, dict[str, Any]]:
    """``{file name: {"bytes": size, "sha256": hex}}`` for the shard's two data files, read from disk."""
    return {name: {"bytes": (shard / name).stat().st_size, "sha256": _sha256(shard / name)} for name in (ARRAYS, TEXTS)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def recorded_files(shard: Path) -> dict[str, dict[str, Any]] | None:
    """The shard's own ``files.json``; ``None`` for a shard of a store written before it existed.

    Raises:
        ValueError: the file is there but unreadable (naming it).
    """
    path = shard / FILES
    if not path.exists():
        return None
    try:
        records: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        if not all(isinstance(records[n]["bytes"], int) and isinstance(records[n]["sha256"], str) for n in records):
            raise ValueError("entries without bytes and sha256")
        return records
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is damaged ({error})") from None


def check_shard(
    shard: Path, expected: dict[str, dict[str, Any]] | None = None, deep: bool = False, texts: int | None = None
) -> list[str]:
    """What is wrong with a shard on disk, one line per problem naming the file (empty when it is sound).

    Args:
        shard: the shard's directory.
        expected: the sizes and checksums it should have (the manifest's entry); by default its ``files.json``.
        deep: compare SHA-256 checksums too (reads every byte), not only sizes and headers.
        texts: the number of texts the manifest says the shard holds, if it says.
    """
    if not shard.is_dir():
        return [f"{shard}: the shard directory is missing"]
    problems = []
    if expected is None:
        try:
            expected = recorded_files(shard)
        except ValueError as error:
            problems.append(str(error))
    for name in (ARRAYS, TEXTS):
        path = shard / name
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        record = (expected or {}).get(name)
        if record is not None and path.stat().st_size != record["bytes"]:
            problems.append(f"{path}: {path.stat().st_size} bytes, {record['bytes']} when written (truncated?)")
        elif record is not None and deep and _sha256(path) != record["sha256"]:
            problems.append(f"{path}: the SHA-256 checksum differs from when it was written (corrupted bytes)")
    if problems:
        return problems
    try:
        arrays = open_arrays(shard)
        rows_in_table = open_texts(shard).num_rows
        if texts is not None and rows_in_table != texts:
            problems.append(f"{shard / TEXTS}: {rows_in_table} texts, {texts} in the manifest")
        for name, array in arrays.items():
            if name.endswith("_ptr") and array.shape[0] != rows_in_table + 1:
                problems.append(f"{shard / ARRAYS}: {name} has {array.shape[0]} rows for {rows_in_table} texts")
        for kind, ptr in (("token", "token_ptr"), ("word", "word_ptr"), ("sentence", None)):
            name = f"{kind}_vectors"
            if name not in arrays:
                continue
            if ptr is None:
                rows = rows_in_table
            else:
                rows = int(arrays[ptr][-1]) if ptr in arrays else -1
            if arrays[name].shape[0] != rows:
                problems.append(f"{shard / ARRAYS}: {name} has {arrays[name].shape[0]} rows, {rows} expected")
    except ValueError as error:
        problems.append(str(error))
    return problems


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
            ``tokens``, ``words`` (flat lists of strings), ``special`` (``(tokens,)`` bool), ``offsets``
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
            "tokens": pa.ListArray.from_arrays(token_ptr, pa.array(columns["tokens"], pa.string())),
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
        as_umask_gives(tmp / ARRAYS)  # safetensors creates it owner-only; a store is meant to be shared
        with pa.OSFile(str(tmp / TEXTS), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        for name in (ARRAYS, TEXTS):
            _fsync(tmp / name)
        with open(tmp / FILES, "w", encoding="utf-8") as f:
            json.dump(file_records(tmp), f)
            f.flush()
            os.fsync(f.fileno())
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
    """The metadata of a shard's arrays file (its number, text count, input hash), read from the header only.

    Raises:
        ValueError: the file is missing or its header is damaged (naming the file).
    """
    metadata: dict[str, str] = _header(shard / ARRAYS)[0].get("__metadata__", {})
    return metadata


def _header(path: Path) -> tuple[dict[str, Any], int]:
    """The safetensors JSON header of ``path`` and where the data starts.

    Raises:
        ValueError: a missing file or a damaged header, naming the file.
    """
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            total = os.fstat(f.fileno()).st_size
            if not 0 < size <= total - 8:
                raise ValueError(f"a header of {size} bytes in a file of {total}")
            header = json.loads(f.read(size))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except FileNotFoundError:
        raise ValueError(f"{path}: missing") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable safetensors file ({error})") from None
    return header, 8 + size


def open_arrays(shard: Path) -> dict[str, np.ndarray]:
    """Memory-map every array of a shard's safetensors file (read-only; nothing is read until used).

    Raises:
        ValueError: the file is missing, damaged (an array past its end, a shape that does not match its bytes),
            or holds a dtype NumPy cannot map; the message names the file.
    """
    path = shard / ARRAYS
    header, start = _header(path)
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    arrays: dict[str, np.ndarray] = {}
    for name, info in header.items():
        try:
            dtype = _DTYPES[info["dtype"]]
            begin, end = (int(x) for x in info["data_offsets"])
            shape = tuple(int(x) for x in info["shape"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: array {name!r} has a damaged entry {info!r} in the header") from None
        if not 0 <= begin <= end <= len(data) - start:
            raise ValueError(f"{path}: array {name!r} lies past the end of the file (truncated?)")
        if int(np.prod(shape)) * np.dtype(dtype).itemsize != end - begin:
            raise ValueError(f"{path}: array {name!r} of shape {shape} does not fill its {end - begin} bytes")
        arrays[name] = data[start + begin : start + end].view(dtype).reshape(shape)
    return arrays


def open_texts(shard: Path) -> Any:
    """The shard's table of texts, memory-mapped (a ``pyarrow.Table``).

    Raises:
        ValueError: the file is missing or not a readable Arrow stream, naming it.
    """
    import pyarrow as pa

    path = shard / TEXTS
    try:
        return pa.ipc.open_stream(pa.memory_map(str(path))).read_all()
    except FileNotFoundError:
        raise ValueError(f"{path}: missing") from None
    except (OSError, pa.ArrowException) as error:
        raise ValueError(f"{path}: not a readable Arrow stream ({error})") from None
