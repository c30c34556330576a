"""Embedding a corpus into a store: streamed shard by shard, resumable, spread over processes by rank."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..layers import LayerSelection
from ..mixing import MixMode
from ..outputs import VectorKind
from ..pooling import SentencePool, WordPool
from ..progress import progress_bar
from ..sources import ON_ERROR, InputFormat, OnError, Problems, Record, as_source
from .content import embed_shard
from .distributed import Ranks, current_ranks
from .layout import Layout, StoreDtype, make_layout
from .lock import LOCK_FILES, StoreLock, StoreLockedError, raise_if_locked
from .manifest import FORMAT, MANIFEST, VERSION, differences, model_provenance, read_manifest, write_json
from .shards import (
    SHARDS,
    check_shard,
    complete_shards,
    file_records,
    open_arrays,
    recorded_files,
    remove_temporary,
    shard_metadata,
    write_shard,
)

if TYPE_CHECKING:
    from ..extractor import Extractor
    from .reader import Store

logger = logging.getLogger(__name__)


def extract_to(
    extractor: Extractor,
    directory: str | os.PathLike[str],
    texts: Any,
    *,
    field: str = "text",
    id_field: str | None = None,
    input_format: InputFormat = "auto",
    vectors: Sequence[VectorKind] = ("word",),
    layers: LayerSelection | None = None,
    word_pool: WordPool = "mean",
    sentence_pool: SentencePool = "mean",
    mix: MixMode | None = None,
    mix_weights: Sequence[float] | None = None,
    dtype: StoreDtype = "float32",
    shard_size: int = 1000,
    on_error: OnError = "fail",
    overwrite: bool = False,
    verify: bool = False,
    progress: bool | None = None,
) -> Store:
    """Embed a corpus into a store directory, shard by shard; see :func:`ctxemb.open_store` to read it.

    Texts are streamed: shard ``k`` holds texts ``k * shard_size .. (k + 1) * shard_size - 1`` of the input (after
    skipped records), is embedded, written atomically and freed, so memory depends on the shard size, not on the
    corpus. A run started again with the same arguments skips the complete shards (checking that their texts are
    still the input's, and their files' sizes, or with ``verify`` their checksums: a damaged shard is written
    again) and continues; different arguments are an error that lists them. Under ``accelerate launch`` or
    ``torchrun``, process ``r`` of ``N`` embeds the shards ``k`` with ``k mod N == r`` and the main process writes
    the manifest when all are done.

    A store has one writer: the run holds an operating-system lock on ``directory/.lock`` from start to end
    (``overwrite`` included), which dies with its process, so a killed run leaves nothing to clean up; a second
    writer is refused with the holder's pid (:class:`ctxemb.store.lock.StoreLockedError`).

    Args:
        extractor: the model to run (in a multi-process run, put it on ``PartialState().device``).
        directory: the store; created if missing (its parent must exist).
        texts: a ``pathlib.Path`` (``.txt``, ``.jsonl``, ``.csv``, ``.tsv``, ``.parquet``), a ``datasets.Dataset``
            or ``IterableDataset``, or a list of texts (strings or pre-split words).
        field: the column (JSONL field) holding the texts.
        id_field: the column holding the ids; by default line numbers (text, JSONL) or row indices.
        input_format: ``auto`` (from the suffix), ``text``, ``jsonl``, ``csv`` or ``parquet``.
        vectors: which arrays to keep: ``token``, ``word``, ``sentence`` (stored rows first on disk, read back
            layers first: ``(layers, tokens, dim)``, ``(layers, words, dim)``, ``(layers, dim)`` per text).
        layers: the layer selection; the extractor's by default.
        word_pool: how pieces make a word (``first | last | mean | max | first_last``).
        sentence_pool: how tokens make a sentence vector (``mean | max | cls | last``).
        mix: ``None`` keeps every layer; ``mean | sum | concat | weighted`` stores one mixed vector per row
            (see :func:`ctxemb.mix`).
        mix_weights: one weight per layer, for ``mix="weighted"``.
        dtype: the dtype on disk, ``float32`` or ``float16`` (the model computes in its own dtype).
        shard_size: texts per shard.
        on_error: an unreadable input record stops the run (``fail``) or is logged and skipped (``skip``); not a
            setting that must match to resume, so a run stopped by a bad record can go on with ``skip``.
        overwrite: delete an existing store in ``directory`` and start over.
        verify: on resume, compare the SHA-256 checksums of the complete shards (reads them all), not only their
            sizes and headers.
        progress: show a progress bar over texts.

    Returns:
        The finished store.

    Raises:
        ValueError: a bad option; a store in ``directory`` made with other settings (listing them); a directory
            that holds something else; an input that changed under a store being resumed.
        StoreLockedError: another process is writing the store.
        OSError: a shard could not be written (full disk, directory gone); the shards written so far stay valid.
    """
    layout = make_layout(extractor, vectors, layers, word_pool, sentence_pool, mix, mix_weights, dtype)
    extractor.check(layers, sentence_pool=sentence_pool if "sentence" in vectors else None)
    if not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"unknown on_error {on_error!r}; choose one of {', '.join(ON_ERROR)}")
    source = as_source(texts, field, id_field, input_format)
    directory = Path(directory)
    settings = {
        "ctxemb_version": _version(),
        "model": model_provenance(extractor),
        "extraction": {
            **{k: v for k, v in layout.describe().items() if k != "dtype"},
            "split": extractor.split,
            "window": extractor.window,
            "stride": extractor.stride,
            "lang": extractor.lang,
        },
        "storage": {"dtype": layout.dtype, "shard_size": shard_size},
        "input": source.describe(),
    }
    ranks = current_ranks(cpu=extractor.model.device.type == "cpu")
    lock = _lock(directory, ranks)
    try:
        done = _prepare(directory, settings, overwrite, ranks)
        problems = Problems(on_error, verbose=ranks.main)
        shown = progress if ranks.main else False
        bar = progress_bar(unit="text", desc="storing", progress=shown)
        if not bar.disable:
            bar.total = source.size_hint()  # counting lines reads the file: only for a bar someone sees
        count, shard, pending = 0, 0, []
        for record in source.records(problems):
            if ranks.owns(shard):
                pending.append(record)
            count += 1
            if count % shard_size == 0:
                if ranks.owns(shard):
                    _shard(extractor, directory, shard, pending, layout, done, ranks, verify, bar)
                shard, pending = shard + 1, []
        if count % shard_size and ranks.owns(shard):
            _shard(extractor, directory, shard, pending, layout, done, ranks, verify, bar)
        bar.close()
        ranks.barrier()
        if ranks.main:
            _finish(directory, settings, math.ceil(count / shard_size), problems)
        ranks.barrier()
    finally:
        if lock is not None:
            lock.release()
    from .reader import open_store

    return open_store(directory)


def _lock(directory: Path, ranks: Ranks) -> StoreLock | None:
    """Take the store's write lock in the main process (creating the directory); every process learns the outcome.

    Raises:
        ValueError: ``directory`` is a file, or a non-empty directory that holds no store.
        FileNotFoundError: its parent does not exist.
        StoreLockedError: another run holds the lock.
    """
    lock: StoreLock | None = None
    failure: BaseException | None = None
    if ranks.main:
        try:
            try:
                _check_directory(directory)
            except ValueError:
                raise_if_locked(directory)  # a store another run is creating: say that, not "holds no store"
                raise
            try:
                directory.mkdir(exist_ok=True)
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"cannot create the store directory {directory}: {directory.parent} does not exist"
                ) from None
            lock = StoreLock(directory)
            lock.acquire()
        except Exception as error:  # every process must hear of it, or the others wait in the broadcast forever
            failure = error
    shared = ranks.share(None if failure is None else (type(failure).__name__, str(failure)))
    if failure is not None:
        raise failure
    if shared is not None:
        kinds: dict[str, type[Exception]] = {
            "StoreLockedError": StoreLockedError,
            "FileNotFoundError": FileNotFoundError,
        }
        raise kinds.get(shared[0], ValueError)(f"{shared[1]} (in the main process)")
    return lock


def _check_directory(directory: Path) -> None:
    """Refuse a path that is a file, or a non-empty directory holding no store (lock files aside).

    Raises:
        ValueError: naming the directory.
    """
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ValueError(f"{directory} exists and is not a directory")
    if not (directory / MANIFEST).exists() and any(p.name not in LOCK_FILES for p in directory.iterdir()):
        raise ValueError(f"{directory} is not empty and holds no ctxemb store ({MANIFEST}); choose another")


def _version() -> str:
    from .. import __version__

    return __version__


def _prepare(directory: Path, settings: dict[str, Any], overwrite: bool, ranks: Ranks) -> dict[int, Path]:
    """Check (every process) and set up (the main one) the store directory; the complete shards to keep.

    Raises:
        ValueError: the directory holds something other than a store, or a store made with other settings.
        FileNotFoundError: the directory's parent does not exist.
    """
    _check_directory(directory)
    try:
        existing = read_manifest(directory, strict=False)
    except ValueError as error:
        if not overwrite:
            raise ValueError(f"{error}; pass overwrite=True (--overwrite) to start over") from None
        existing = {"damaged": True}
    if existing is not None and existing.get("status") != "complete" and not complete_shards(directory):
        existing = None  # a run that stopped before its first shard: nothing to keep, nothing to compare
    if existing is not None and not overwrite:
        diff = differences(existing.get("settings", {}), settings)
        if diff:
            raise ValueError(
                f"the store in {directory} was made with other settings; run again with the same ones to resume, "
                "or pass overwrite=True (--overwrite) to start over:\n  " + "\n  ".join(diff)
            )
    ranks.barrier()  # every process has looked before the main one changes anything
    if ranks.main:
        if existing is not None and overwrite:
            shutil.rmtree(directory / SHARDS, ignore_errors=True)
            (directory / MANIFEST).unlink()
            existing = None
        if existing is None or overwrite or existing.get("status") == "complete":
            # First, so that a directory with anything in it holds a manifest; and a complete store being resumed
            # is "running" again until its shards are checked (a damaged one is rewritten), so that a run stopped
            # meanwhile never leaves a "complete" manifest over a missing shard.
            write_json(
                directory / MANIFEST, {"format": FORMAT, "version": VERSION, "status": "running", "settings": settings}
            )
        (directory / SHARDS).mkdir(exist_ok=True)
        remove_temporary(directory)
    ranks.barrier()
    done = complete_shards(directory)
    if done and ranks.main:
        logger.info("resuming %s: %d complete shards are kept", directory, len(done))
    return done


def _digest(records: list[Record]) -> str:
    """SHA-256 of a shard's ids and texts: tells whether the input still holds the same texts."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps([record.id, record.text], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _shard(
    extractor: Extractor,
    directory: Path,
    index: int,
    records: list[Record],
    layout: Layout,
    done: dict[int, Path],
    ranks: Ranks,
    verify: bool = False,
    bar: Any = None,
) -> None:
    """Embed and write shard ``index``, or check the complete one already on disk (rewritten if damaged).

    ``bar`` (a progress bar over texts) moves as each chunk of texts is embedded, and by a whole shard that is
    already complete.

    Raises:
        ValueError: the complete shard holds other texts than the input now gives.
        OSError: the shard could not be written (with what to do next).
    """
    digest = _digest(records)
    if index in done:
        damage = check_shard(done[index], deep=verify)
        if damage:
            logger.warning("shard %d of %s is damaged and is written again: %s", index, directory, "; ".join(damage))
            shutil.rmtree(done.pop(index))
    if index in done:
        meta = shard_metadata(done[index])
        if meta.get("input_sha256") != digest:
            raise ValueError(
                f"the input changed since shard {index} of {directory} was written (its {meta.get('texts')} texts "
                f"from id {meta.get('first_id')!r} differ from the input's); pass overwrite=True (--overwrite) "
                "to start over"
            )
        if bar is not None:
            bar.update(len(records))
        return
    table, arrays = embed_shard(extractor, records, layout, None if bar is None else bar.update)
    metadata = {
        "shard": str(index),
        "texts": str(len(records)),
        "first_id": records[0].id,
        "input_sha256": digest,
        "rank": f"{ranks.rank} of {ranks.world}",
    }
    try:
        write_shard(directory, index, table, arrays, metadata)
    except OSError as error:
        kept = len(complete_shards(directory)) if directory.is_dir() else 0
        cause = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
        if not (directory / SHARDS).is_dir():
            cause = f"the store directory {directory / SHARDS} no longer exists"
        raise OSError(
            error.errno,
            f"could not write shard {index} of the store {directory}: {cause}. The {kept} shards already written "
            "are complete and valid; fix the cause and run the same command again to resume",
        ) from error


def _finish(directory: Path, settings: dict[str, Any], count: int, problems: Problems) -> None:
    """Write the complete manifest once every shard is on disk.

    Raises:
        ValueError: shards are missing (a process failed) or left from a longer input.
    """
    shards = complete_shards(directory)
    missing = [k for k in range(count) if k not in shards]
    extra = sorted(k for k in shards if k >= count)
    if missing or extra:
        raise ValueError(
            f"the store {directory} is not consistent: shards {missing} are missing and shards {extra} are beyond "
            f"the input's {count}; run again (or with --overwrite to start over)"
        )
    entries, digest = [], hashlib.sha256()
    totals = {"texts": 0, "tokens": 0, "words": 0}
    for k in range(count):
        arrays = open_arrays(shards[k])
        meta = shard_metadata(shards[k])
        entry: dict[str, Any] = {
            "name": shards[k].name,
            "texts": len(arrays["token_ptr"]) - 1,
            "tokens": int(arrays["token_ptr"][-1]),
            "words": int(arrays["word_ptr"][-1]),
            "files": recorded_files(shards[k]) or file_records(shards[k]),
        }
        digest.update(meta["input_sha256"].encode() + b"\n")
        for key in totals:
            totals[key] += entry[key]
        entries.append(entry)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "status": "complete",
        "settings": settings,
        **totals,
        "input_sha256": digest.hexdigest(),
        "on_error": problems.on_error,
        "skipped": problems.skipped,
        "skipped_examples": problems.examples,
        "shards": entries,
    }
    write_json(directory / MANIFEST, manifest)
    logger.info(
        "stored %d texts (%d words, %d skipped) in %d shards under %s",
        totals["texts"],
        totals["words"],
        problems.skipped,
        count,
        directory,
    )
