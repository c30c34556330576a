"""Reading a corpus from text files and saving a tokenizer without leaving a half-written directory."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..sources import texts_of

__all__ = ["TextFile", "save_tokenizer"]


class TextFile:
    """The texts of one or more corpus files, re-readable and streamed (:func:`ctxemb.sources.texts_of`: one text
    per line of a text file, or the ``text`` field of JSONL, CSV or Parquet).

    Iterating opens the files again, so the object can be read twice (``train_tokenizer`` reads a corpus once
    for its alphabet and once to train) without holding the corpus in memory. Line ends (``\\n``, ``\\r\\n``)
    are removed; blank lines are kept (the trainers ignore them).

    Args:
        paths: one path or a sequence of paths, read in order.

    Raises:
        ValueError: while iterating, a line that is not valid UTF-8, as ``file:line: not valid UTF-8 (...)``.
        FileNotFoundError: while iterating, a missing file.
    """

    def __init__(self, paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> None:
        self.paths = paths

    def files(self) -> list[Path]:
        """The files, in reading order."""
        if isinstance(self.paths, (str, os.PathLike)):
            return [Path(self.paths)]
        return [Path(p) for p in self.paths]

    def size(self) -> int:
        """The total size of the files in bytes (for progress bars)."""
        return sum(path.stat().st_size for path in self.files())

    def __iter__(self) -> Iterator[str]:
        for path in self.files():
            yield from texts_of(path)

    def __repr__(self) -> str:
        return f"TextFile({[str(p) for p in self.files()]!r})"


def save_tokenizer(tokenizer: Any, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``tokenizer.save_pretrained`` output into ``directory`` all at once.

    The files are written into a temporary sibling directory which is renamed into place at the end, so an
    interrupted or failing save leaves either nothing or the complete directory.

    Args:
        tokenizer: any transformers tokenizer.
        directory: the output directory; it must not exist or be empty, unless ``overwrite``.
        overwrite: replace an existing directory.

    Returns:
        The output directory.

    Raises:
        FileExistsError: ``directory`` exists, is not empty, and ``overwrite`` is false.
    """
    target = Path(directory)
    if target.exists() and not overwrite and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not empty; choose another --output or overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:12]}")
    staging.mkdir()
    try:
        tokenizer.save_pretrained(staging)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
