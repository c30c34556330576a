"""Texts streamed from files, datasets or Python iterables, each with a stable id: the one reader of corpora.

The store reads its input through it, and so do the static baselines, tokenizer training files and the layer
analyses' corpora, so a text file, JSONL, CSV or Parquet is read the same way everywhere, and a bad record is
named the same way (``file:line: what``).

Ids are strings. By default: the 1-based line number for plain text and JSONL (the number error messages
give), the 0-based row index for CSV, Parquet, ``datasets`` and Python iterables; or the value of an id
column (``id_field``). A record that cannot be read (bad UTF-8, bad JSON, a missing or non-string field) is
reported with its file and line (or row) and, per ``on_error``, stops the run (``"fail"``) or is skipped
(``"skip"``); skipped records keep their place, so the ids of the others do not move.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .textlines import count_lines, decode_line

logger = logging.getLogger(__name__)

OnError = Literal["skip", "fail"]
InputFormat = Literal["auto", "text", "jsonl", "csv", "parquet"]
ON_ERROR: tuple[str, ...] = ("skip", "fail")
INPUT_FORMATS: tuple[str, ...] = ("auto", "text", "jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
_SHOWN = 20  # skipped records logged one by one; the rest are counted
_CSV_FIELD_LIMIT = 2**31 - 1


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogate, as bad UTF-8 or a JSON ``\\ud800`` escape gives)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Record:
    """One text to embed: its stable id and the text (a string, or pre-split words)."""

    id: str
    text: str | list[str]


@dataclass
class Problems:
    """What happens to records that cannot be read: fail at once, or skip and count them.

    Attributes:
        on_error: ``"fail"`` raises a ValueError naming the file and line; ``"skip"`` logs and goes on.
        advice: what the error adds about skipping (``None`` where a reader cannot skip).
        verbose: log skipped records (the first few one by one).
        skipped: how many records were skipped.
        examples: the messages of the first skipped records.
    """

    on_error: OnError = "fail"
    verbose: bool = True
    skipped: int = 0
    examples: list[str] = field(default_factory=list)
    advice: str | None = "on_error='skip', --on-error skip on the command line, skips such records"

    def report(self, where: str, reason: str) -> None:
        """Fail or count one unreadable record (``where`` is ``file:line`` or ``... row i``)."""
        self.fail_or_skip(f"{where}: {reason}")

    def fail_or_skip(self, message: str) -> None:
        """Fail or count one unreadable record whose message already names it (``file:line: what``)."""
        if self.on_error == "fail":
            raise ValueError(message if self.advice is None else f"{message} ({self.advice})")
        self.skipped += 1
        if len(self.examples) < _SHOWN:
            self.examples.append(message)
            if self.verbose:
                logger.warning("skipped %s", message)


class Source:
    """A stream of records, read once per run; a run that resumes reads it again from the start."""

    kind = "source"

    def records(self, problems: Problems) -> Iterator[Record]:
        """Yield the records in input order, reporting unreadable ones to ``problems``."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What the input is, for the store's provenance (compared when a run resumes)."""
        return {"kind": self.kind, "fingerprint": None}

    def size_hint(self) -> int | None:
        """About how many records there are (a progress bar's total), if that is cheap to know; else ``None``."""
        return None


class _File(Source):
    def __init__(self, path: str | os.PathLike[str], field: str = "text", id_field: str | None = None) -> None:
        self.path = Path(path)
        self.field = field
        self.id_field = id_field

    def describe(self) -> dict[str, Any]:
        if not self.path.is_file():
            raise FileNotFoundError(f"input file {self.path} does not exist")
        digest = hashlib.sha256()
        with open(self.path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        return {
            "kind": self.kind,
            "path": str(self.path.resolve()),
            "field": None if self.kind == "text" else self.field,
            "id_field": self.id_field,
            "fingerprint": f"sha256:{digest.hexdigest()}",
        }


class _LineFile(_File):
    """A file of one record per line: as many records as lines (a progress bar's total)."""

    def size_hint(self) -> int | None:
        return count_lines(self.path)


class PlainTextFile(_LineFile):
    """A plain text file, one text per line (an empty line is an empty text); ids are line numbers."""

    kind = "text"

    def records(self, problems: Problems) -> Iterator[Record]:
        with open(self.path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    line = decode_line(raw, self.path, number)
                except ValueError as error:
                    problems.fail_or_skip(str(error))
                    continue
                yield Record(str(number), line)


class JsonlFile(_LineFile):
    """JSON lines: the string ``field`` of each object; ids are line numbers or the ``id_field`` values."""

    kind = "jsonl"

    def records(self, problems: Problems) -> Iterator[Record]:
        with open(self.path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                where = f"{self.path}:{number}"
                try:
                    line = decode_line(raw, self.path, number)
                except ValueError as error:
                    problems.fail_or_skip(str(error))
                    continue
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as e:
                    problems.report(where, f"not valid JSON ({e.msg})")
                    continue
                if not isinstance(item, dict) or not isinstance(item.get(self.field), str):
                    problems.report(where, f"no string field {self.field!r}")
                    continue
                if self.id_field is not None and item.get(self.id_field) is None:
                    problems.report(where, f"no id field {self.id_field!r}")
                    continue
                key = str(number) if self.id_field is None else str(item[self.id_field])
                if not _encodable(item[self.field]) or not _encodable(key):
                    problems.report(where, "not valid Unicode: a lone surrogate (a \\ud800-\\udfff escape)")
                    continue
                yield Record(key, item[self.field])


class CsvFile(_File):
    """CSV (or TSV) with a header row: the ``field`` column; ids are 0-based row numbers or ``id_field`` values."""

    kind = "csv"

    def records(self, problems: Problems) -> Iterator[Record]:
        delimiter = "\t" if self.path.suffix == ".tsv" else ","
        with open(self.path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
            reader = csv.DictReader(f, delimiter=delimiter)
            try:
                columns = _read_csv(lambda: reader.fieldnames) or []
            except csv.Error as e:
                raise ValueError(f"{self.path}:1: not a valid CSV header ({e})") from None
            for name in (self.field, self.id_field):
                if name is not None and name not in columns:
                    raise ValueError(f"{self.path}: no column {name!r}; the columns are {', '.join(columns)}")
            row_number = -1
            while True:
                row_number += 1
                try:
                    row = _read_csv(lambda: next(reader))
                except StopIteration:
                    break
                except csv.Error as e:
                    # the failing record is not counted yet: it starts on the next line
                    problems.report(f"{self.path}:{reader.line_num + 1}", f"not valid CSV ({e})")
                    continue
                where = f"{self.path}:{reader.line_num}"
                text, key = row.get(self.field), row.get(self.id_field) if self.id_field else str(row_number)
                if text is None or key is None:
                    problems.report(where, "too few fields")
                    continue
                if not _encodable(text) or not _encodable(key):
                    problems.report(where, "not valid UTF-8")
                    continue
                yield Record(key, text)


def _read_csv(step: Any) -> Any:
    """Run one read of a CSV reader with the field size limit raised, and restore it before returning.

    csv's default limit (131,072 characters) would stop a corpus at its first long document; the limit is
    process-wide, so it is raised only for the read itself, never across a ``yield``.
    """
    limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        return step()
    finally:
        csv.field_size_limit(limit)


class ParquetFile(_File):
    """A Parquet file, read one row group batch at a time: the ``field`` column; ids as for CSV."""

    kind = "parquet"

    def size_hint(self) -> int | None:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(self.path).metadata.num_rows) if self.path.is_file() else None

    def records(self, problems: Problems) -> Iterator[Record]:
        import pyarrow.parquet as pq

        reader = pq.ParquetFile(self.path)
        columns = reader.schema_arrow.names
        for name in (self.field, self.id_field):
            if name is not None and name not in columns:
                raise ValueError(f"{self.path}: no column {name!r}; the columns are {', '.join(columns)}")
        wanted = [self.field] if self.id_field is None else [self.field, self.id_field]
        row = 0
        for batch in reader.iter_batches(batch_size=1024, columns=wanted):
            texts = batch.column(self.field).to_pylist()
            keys = batch.column(self.id_field).to_pylist() if self.id_field else range(row, row + len(texts))
            for text, key in zip(texts, keys):
                if not isinstance(text, str) or key is None:
                    what = f"{self.field!r} is {type(text).__name__}" if not isinstance(text, str) else "no id"
                    problems.report(f"{self.path} row {row}", what)
                elif not _encodable(text):
                    problems.report(f"{self.path} row {row}", "not valid Unicode: a lone surrogate")
                else:
                    yield Record(str(key), text)
                row += 1


class DatasetSource(Source):
    """A ``datasets.Dataset`` or ``IterableDataset`` (streaming): its ``field`` column; ids as for CSV."""

    kind = "dataset"

    def __init__(self, dataset: Any, field: str = "text", id_field: str | None = None) -> None:
        self.dataset = dataset
        self.field = field
        self.id_field = id_field

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "type": type(self.dataset).__name__,
            "field": self.field,
            "id_field": self.id_field,
            "fingerprint": None,
        }

    def size_hint(self) -> int | None:
        try:
            return len(self.dataset)
        except TypeError:  # a streaming IterableDataset has no length
            return None

    def records(self, problems: Problems) -> Iterator[Record]:
        columns = getattr(self.dataset, "column_names", None)
        wanted = [self.field] if self.id_field is None else [self.field, self.id_field]
        if columns is not None:
            for name in wanted:
                if name not in columns:
                    raise ValueError(f"the dataset has no column {name!r}; its columns are {', '.join(columns)}")
        rows = self.dataset.select_columns(wanted) if columns is not None else self.dataset
        for i, row in enumerate(rows):
            text = row.get(self.field)
            key = str(i) if self.id_field is None else row.get(self.id_field)
            if not isinstance(text, str) or key is None:
                reason = f"{self.field!r} is {type(text).__name__}" if not isinstance(text, str) else "no id"
                problems.report(f"dataset row {i}", reason)
                continue
            if not _encodable(text):
                problems.report(f"dataset row {i}", "not valid Unicode: a lone surrogate")
                continue
            yield Record(str(key), text)


class IterableSource(Source):
    """A Python iterable of texts (strings or lists of words); ids are positions."""

    kind = "python"

    def __init__(self, texts: Iterable[Any]) -> None:
        self.texts = texts

    def size_hint(self) -> int | None:
        return len(self.texts) if isinstance(self.texts, Sized) else None

    def records(self, problems: Problems) -> Iterator[Record]:
        for i, item in enumerate(self.texts):
            words = item if isinstance(item, (list, tuple)) else None
            if isinstance(item, str) and _encodable(item):
                yield Record(str(i), item)
            elif words is not None and all(isinstance(w, str) and _encodable(w) for w in words):
                yield Record(str(i), list(words))
            elif isinstance(item, str) or (words is not None and all(isinstance(w, str) for w in words)):
                problems.report(f"texts[{i}]", "not valid Unicode: a lone surrogate")
            else:
                problems.report(f"texts[{i}]", f"a {type(item).__name__}, not a string or a list of words")


def as_source(
    texts: Any, field: str = "text", id_field: str | None = None, input_format: InputFormat = "auto"
) -> Source:
    """Wrap what the caller passed: a path (``pathlib.Path``), a ``datasets`` dataset, or a list of texts.

    Args:
        texts: a ``Source``; an ``os.PathLike`` to a ``.txt``, ``.jsonl``, ``.csv``/``.tsv`` or ``.parquet``
            file; a ``datasets.Dataset`` / ``IterableDataset``; or a list of texts.
        field: the column (JSONL field) holding the text.
        id_field: the column holding the ids; ``None`` numbers the records.
        input_format: the file format, or ``"auto"`` to tell it from the file's suffix.

    Raises:
        TypeError: a plain string (a path must be a ``pathlib.Path``; a single text must be in a list).
    """
    if isinstance(texts, Source):
        return texts
    if isinstance(texts, str):
        raise TypeError("texts is a string: pass pathlib.Path(...) for a file, or [text] for a single text")
    if isinstance(texts, os.PathLike):
        if input_format not in INPUT_FORMATS:
            raise ValueError(f"unknown input format {input_format!r}; choose one of {', '.join(INPUT_FORMATS)}")
        path = Path(texts)
        kind = _SUFFIXES.get(path.suffix.lower(), "text") if input_format == "auto" else input_format
        classes: dict[str, type[_File]] = {
            "text": PlainTextFile,
            "jsonl": JsonlFile,
            "csv": CsvFile,
            "parquet": ParquetFile,
        }
        if kind == "text" and id_field is not None:
            raise ValueError("a plain text file has no id field; its ids are line numbers")
        return classes[kind](path, field, id_field)
    if type(texts).__module__.startswith("datasets."):
        return DatasetSource(texts, field, id_field)
    return IterableSource(texts)


def texts_of(path: str | os.PathLike[str], field: str = "text") -> Iterator[str]:
    """The texts of a corpus file (text, JSONL, CSV/TSV or Parquet, by its suffix), read lazily, in order.

    For readers that need every text (training data, corpora): a bad record stops the read with its file and line.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a record that cannot be read (``file:line: what``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    for record in as_source(path, field).records(Problems("fail", verbose=False, advice=None)):
        yield record.text if isinstance(record.text, str) else " ".join(record.text)
