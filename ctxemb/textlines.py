"""Reading UTF-8 text files line by line, with one error format for every reader: ``file:line: what``.

Every reader of text in ctxemb (corpora, tokenizer training files, store inputs, probe and evaluation data, vector
files) goes through :func:`decode_line` or :func:`read_lines`, so a bad byte is reported the same way everywhere:
``corpus.txt:1832: not valid UTF-8 (invalid start byte at byte 4)``. A byte-order mark at the start of a file is
not text and is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def decode_line(raw: bytes, path: str | os.PathLike[str], number: int) -> str:
    """Decode line ``number`` of ``path`` (1-based) as UTF-8, without its line end; line 1 loses a byte-order mark.

    Raises:
        ValueError: ``file:line: not valid UTF-8 (reason at byte n)``.
    """
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{os.fspath(path)}:{number}: not valid UTF-8 ({e.reason} at byte {e.start})") from None
    return text.rstrip("\r\n")


def read_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for every line of a UTF-8 text file, streamed, line ends removed.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not UTF-8, as ``file:line: not valid UTF-8 (...)``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            yield number, decode_line(raw, path, number)


def count_lines(path: Path) -> int | None:
    """The number of lines of a file (a final line without a newline counts), read in 1 MiB blocks."""
    if not path.is_file():
        return None
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
