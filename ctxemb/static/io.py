"""Building, saving and loading static vectors (gensim ``KeyedVectors``) in the common file formats.

Formats: ``word2vec`` (text: a header ``count dim``, then ``word v1 ... vdim`` per line; fastText's ``.vec`` is
the same), ``word2vec-binary``, ``glove`` (text without a header) and ``fasttext-bin`` (Facebook's ``.bin``,
read through gensim; it keeps the character n-grams, so unseen words get vectors). Text files are written with
the shortest decimal that reads back to the same float32, so a save/load round trip is lossless.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from gensim.models import KeyedVectors

from ..textlines import decode_line

VectorFormat = Literal["auto", "word2vec", "word2vec-binary", "glove", "fasttext-bin", "gensim"]
FORMATS: tuple[str, ...] = ("auto", "word2vec", "word2vec-binary", "glove", "fasttext-bin", "gensim")
_PICKLE = b"\x80"  # the first byte of a pickle of protocol 2 or later: gensim's KeyedVectors.save
_FASTTEXT_MAGIC = 793712314


def keyed_vectors(
    words: Sequence[str], matrix: np.ndarray, counts: Sequence[int] | np.ndarray | None = None
) -> KeyedVectors:
    """Wrap a ``(words, dim)`` matrix as float32 ``KeyedVectors``; ``counts`` become the ``count`` attribute."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(f"expected a ({len(words)}, dim) matrix, got shape {matrix.shape}")
    kv = KeyedVectors(matrix.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(list(words), matrix)
    if counts is not None:  # gensim 4.4's add_vectors(extras=...) iterates a dict wrongly; set the attribute here
        kv.allocate_vecattrs(["count"], [np.int64])
        kv.expandos["count"][:] = np.asarray(counts, dtype=np.int64)
    return kv


def save_vectors(vectors: KeyedVectors, path: str | os.PathLike[str], format: VectorFormat = "auto") -> None:
    """Write ``vectors`` to ``path``; ``auto`` picks ``word2vec-binary`` for ``.bin`` and ``word2vec`` text otherwise.

    Rows are written in ``vectors.index_to_key`` order (gensim's ``save_word2vec_format`` would sort them by the
    ``count`` attribute; here they keep their order, which for the trainers of this package is the same).
    """
    path = Path(path)
    if format == "auto":
        format = "word2vec-binary" if path.suffix == ".bin" else "word2vec"
    if format == "fasttext-bin":
        raise ValueError("writing Facebook fastText .bin files is not supported; save FastText.model_ with gensim")
    if format == "gensim":
        raise ValueError("ctxemb writes no pickles; save as word2vec text (.txt) or binary (.bin)")
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    gensim_logger = logging.getLogger("gensim.models.keyedvectors")
    level = gensim_logger.level
    gensim_logger.setLevel(logging.ERROR)  # it warns that the (absent) sort attribute leaves the order as it is
    try:
        vectors.save_word2vec_format(
            os.fspath(path), binary=format == "word2vec-binary", write_header=format != "glove", sort_attr=""
        )
    finally:
        gensim_logger.setLevel(level)


def load_vectors(
    path: str | os.PathLike[str], format: VectorFormat = "auto", *, allow_pickle: bool = False
) -> KeyedVectors:
    """Read vectors from a word2vec (text or binary), GloVe, fastText ``.vec`` or fastText ``.bin`` file.

    ``auto`` looks at the file: fastText's magic number means ``fasttext-bin``; a pickle (gensim's own
    ``KeyedVectors.save``, often ``.kv``) means ``gensim``; a ``.bin`` suffix means ``word2vec-binary``; a text file
    whose first line is two integers is ``word2vec`` text, any other text file is ``glove``. A byte-order mark
    at the start of a text file is ignored.

    Args:
        path: the file.
        format: one of ``auto | word2vec | word2vec-binary | glove | fasttext-bin | gensim``.
        allow_pickle: load gensim's pickle-based files. **Unsafe**: unpickling a crafted file runs arbitrary code,
            so only pass ``True`` for files you made or trust. Every other format cannot run code.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a pickle without ``allow_pickle``; a wrong header, a ragged row, a value that is not a number,
            a row count that does not match the header or the file's size, naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"vectors file {path} does not exist")
    if format == "auto":
        format = _sniff(path)
    if format == "gensim":
        if not allow_pickle:
            raise ValueError(
                f"{path} is a Python pickle (gensim's KeyedVectors.save format): loading it can run any code the "
                "file holds, so ctxemb refuses it. Convert it where you trust it (KeyedVectors.load(path)"
                ".save_word2vec_format(out, binary=True)), or pass allow_pickle=True (--allow-pickle) if you made it"
            )
        return KeyedVectors.load(os.fspath(path))
    if format == "fasttext-bin":
        return _load_fasttext(path)
    if format == "word2vec-binary":
        return _load_binary(path)
    if format in ("word2vec", "glove"):
        return _load_text(path, header=format == "word2vec")
    raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")


def _load_fasttext(path: Path) -> KeyedVectors:
    """A Facebook fastText ``.bin`` file through gensim, its read errors named with the file."""
    from gensim.models.fasttext import load_facebook_vectors

    try:
        return load_facebook_vectors(os.fspath(path))
    except (struct.error, EOFError, ValueError, UnicodeDecodeError, OverflowError, MemoryError, IndexError) as e:
        raise ValueError(f"{path}: not a valid fastText .bin file ({type(e).__name__}: {e})") from None


def _sniff(path: Path) -> VectorFormat:
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        first = f.readline(1 << 16)
    if len(head) == 4 and struct.unpack("<i", head)[0] == _FASTTEXT_MAGIC:
        return "fasttext-bin"
    if head.startswith(_PICKLE):
        return "gensim"
    if path.suffix == ".bin":
        return "word2vec-binary"
    return "word2vec" if _header(first) is not None else "glove"


def _header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _load_binary(path: Path) -> KeyedVectors:
    with open(path, "rb") as f:
        first = f.readline(1 << 16)
    header = _header(first)
    if header is None or header[1] == 0:
        raise ValueError(
            f"{path}:1: expected the word2vec header 'count dim' (two positive integers), found {first[:60]!r}"
        )
    size = path.stat().st_size - len(first)
    if header[0] * (header[1] * 4 + 2) > size:  # each row: a word, a space, dim float32s (and maybe a newline)
        raise ValueError(
            f"{path}:1: the header announces {header[0]} vectors of {header[1]}, more than the file's {size} bytes "
            "after it can hold"
        )
    try:
        return KeyedVectors.load_word2vec_format(os.fspath(path), binary=True)
    except (EOFError, ValueError, UnicodeDecodeError) as e:
        raise ValueError(
            f"{path}: not a valid word2vec binary file with {header[0]} vectors of {header[1]} ({e})"
        ) from None


def _load_text(path: Path, header: bool) -> KeyedVectors:
    words: list[str] = []
    rows: list[np.ndarray] = []
    expected_rows, dim, dim_from = None, None, ""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            line = decode_line(raw, path, number)
            if header and number == 1:
                parsed = _header(line.encode("utf-8"))
                if parsed is None or parsed[1] == 0:
                    raise ValueError(
                        f"{path}:1: expected the word2vec header 'count dim' (two positive integers), found "
                        f"{line[:60]!r}; a GloVe file has no header: load it with format='glove'"
                    )
                expected_rows, dim = parsed
                dim_from = "the header"
                continue
            if not line.strip():
                continue
            parts = line.rstrip().split(" ")
            if dim is None:
                dim, dim_from = len(parts) - 1, f"line {number}"
                if dim == 0:
                    raise ValueError(f"{path}:{number}: a word without values: {line[:60]!r}")
            if len(parts) - 1 != dim:
                raise ValueError(
                    f"{path}:{number}: ragged row: {parts[0]!r} has {len(parts) - 1} values, expected {dim} (from "
                    f"{dim_from})"
                )
            try:
                rows.append(np.array(parts[1:], dtype=np.float32))
            except ValueError:
                bad = next(p for p in parts[1:] if not _is_number(p))
                raise ValueError(f"{path}:{number}: value {bad!r} of {parts[0]!r} is not a number") from None
            words.append(parts[0])
    if expected_rows is not None and expected_rows != len(words):
        raise ValueError(f"{path}: the header announces {expected_rows} vectors, the file has {len(words)}")
    if not words:
        raise ValueError(f"{path}: no vectors in the file")
    if len(set(words)) != len(words):
        seen: set[str] = set()
        for word in words:
            if word in seen:
                raise ValueError(f"{path}: the word {word!r} has two rows")
            seen.add(word)
    return keyed_vectors(words, np.stack(rows))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
