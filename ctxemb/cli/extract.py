"""``ctxemb extract``: embed a file of texts into a store directory (streamed, resumable) or one safetensors file.

``--output DIR`` writes a store (shards plus a manifest; read it with ``ctxemb.open_store(DIR)``); it runs under
``accelerate launch --multi_gpu --num_processes N -m ctxemb extract ...`` (or ``torchrun``) with each process
embedding its share. ``--output FILE.safetensors`` embeds everything in memory and writes one file (read it
with ``ctxemb.export.load_extraction``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..export import Level, save_extraction
from ..layers import parse_layers
from ..mixing import MIX_MODES
from ..outputs import VECTOR_KINDS
from ..pooling import SENTENCE_POOLS, WORD_POOLS
from ..sources import INPUT_FORMATS, ON_ERROR, Problems, as_source
from ..store.distributed import launched_world_size, process_device
from ..store.layout import STORE_DTYPES
from ..store.writer import extract_to
from ..words import SPLITS

if TYPE_CHECKING:
    import torch

    from ..extractor import Extractor

logger = logging.getLogger("ctxemb")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    p = sub.add_parser("extract", help="embed texts from a file", description=__doc__)
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    p.add_argument("--layers", default="all", help="all, 0,3,-1, -4: or 2 (default: all)")
    p.add_argument("--input", required=True, type=Path, help="text file (one text per line), .jsonl, .csv, .parquet")
    p.add_argument("--format", choices=INPUT_FORMATS, default="auto", help="input format (default: from the suffix)")
    p.add_argument("--field", default="text", help="JSONL field or CSV/Parquet column of the texts (default: text)")
    p.add_argument("--id-field", default=None, help="field or column of the ids (default: line or row numbers)")
    p.add_argument("--output", required=True, type=Path, help="store directory, or a .safetensors file")
    p.add_argument("--on-error", choices=ON_ERROR, default="fail", help="an unreadable input line: fail or skip it")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default=None, help="compute dtype: float32 | bf16 | fp16 (default: the checkpoint's)")
    p.add_argument("--split", choices=SPLITS, default="punct", help="how texts split into words")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--vectors",
        default="word",
        help=f"comma list of {', '.join(VECTOR_KINDS)} (default: word); a .safetensors file takes word or sentence",
    )
    p.add_argument("--word-pool", choices=WORD_POOLS, default="mean", help="how tokens make a word (default: mean)")
    p.add_argument(
        "--sentence-pool", choices=SENTENCE_POOLS, default="mean", help="how tokens make a sentence (default: mean)"
    )
    for old in ("--level", "--pool"):  # replaced in 0.2; named in the error instead of argparse's bare refusal
        p.add_argument(old, default=None, help=argparse.SUPPRESS)
    store = p.add_argument_group("store directory output")
    store.add_argument("--mix", choices=MIX_MODES, default=None, help="store one mix of the layers")
    store.add_argument("--mix-weights", default=None, help="comma list of weights, one per layer, for --mix weighted")
    store.add_argument("--store-dtype", choices=STORE_DTYPES, default="float32", help="dtype on disk")
    store.add_argument("--shard-size", type=int, default=1000, help="texts per shard (default: 1000)")
    store.add_argument("--overwrite", action="store_true", help="delete an existing store there and start over")
    store.add_argument(
        "--verify", action="store_true", help="on resume, compare the checksums of the complete shards (reads them)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Embed the input file and write the output store or file."""
    if args.level is not None or args.pool is not None:
        raise ValueError(
            "--level and --pool were replaced by --vectors word|sentence and --word-pool / --sentence-pool "
            "(e.g. --vectors sentence --sentence-pool cls)"
        )
    vectors = [v.strip() for v in args.vectors.split(",") if v.strip()]
    unknown = [v for v in vectors if v not in VECTOR_KINDS]
    if unknown or not vectors:
        raise ValueError(f"--vectors {args.vectors!r}: choose from {', '.join(VECTOR_KINDS)}")
    if args.output.suffix not in ("", ".safetensors") and not args.output.is_dir():
        raise ValueError(
            f"--output {args.output}: ctxemb writes a .safetensors file or a store directory, not a "
            f"{args.output.suffix} file; name the directory without a suffix"
        )
    source = as_source(args.input, args.field, args.id_field, args.format)
    if args.output.suffix == ".safetensors":
        return _run_file(args, source, vectors)
    return _run_store(args, source, vectors)


def _extractor(args: argparse.Namespace, device: str | torch.device) -> Extractor:
    from ..extractor import Extractor

    return Extractor.from_pretrained(
        args.model, layers=parse_layers(args.layers), device=device, dtype=args.dtype, split=args.split
    )


def _run_file(args: argparse.Namespace, source: object, vectors: list[str]) -> int:
    """The whole input in memory, one safetensors file out (word or sentence vectors)."""
    store_only = [name for name in ("mix", "mix_weights") if getattr(args, name)]
    if store_only or args.overwrite or args.verify or args.store_dtype != "float32" or launched_world_size() > 1:
        raise ValueError(
            "--mix, --mix-weights, --store-dtype, --overwrite, --verify and multi-process launches need a store "
            "directory: give --output a path that does not end in .safetensors"
        )
    if len(vectors) != 1 or vectors[0] not in ("word", "sentence"):
        raise ValueError(
            f"a .safetensors file holds word or sentence vectors, not {','.join(vectors)}; write a store directory "
            "for token vectors or several kinds"
        )
    level: Level = "word" if vectors[0] == "word" else "sentence"
    pool = args.word_pool if level == "word" else args.sentence_pool
    problems = Problems(args.on_error)
    records = list(source.records(problems))  # type: ignore[attr-defined]
    texts = [record.text for record in records]
    if not texts:
        raise ValueError(f"{args.input}: no texts")
    extractor = _extractor(args, args.device)
    extractor.check(sentence_pool=pool if level == "sentence" else None)
    names = [f"text id {record.id!r}" for record in records]  # warnings name input ids
    results = extractor.embed(texts, progress=False if args.no_progress else None, names=names)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_extraction(args.output, results, level, pool, args.model, text_ids=[record.id for record in records])
    logger.info(
        "wrote %s: %d texts, %d words, layers %s, %s vectors (%s pool); load with ctxemb.export.load_extraction(path)",
        args.output,
        len(results),
        sum(len(r.words) for r in results),
        list(results[0].layers),
        level,
        pool,
    )
    return 0


def _run_store(args: argparse.Namespace, source: object, vectors: list[str]) -> int:
    """Stream the input into a store directory, shard by shard, in this process's share of the shards."""
    import torch

    weights = [float(w) for w in args.mix_weights.split(",")] if args.mix_weights else None
    device: str | torch.device = args.device
    if launched_world_size() > 1 and args.device in ("auto", "cuda"):
        device = process_device(cpu=not torch.cuda.is_available())
    extractor = _extractor(args, device)
    store = extract_to(
        extractor,
        args.output,
        source,
        vectors=vectors,  # type: ignore[arg-type]
        word_pool=args.word_pool,
        sentence_pool=args.sentence_pool,
        mix=args.mix,
        mix_weights=weights,
        dtype=args.store_dtype,
        shard_size=args.shard_size,
        on_error=args.on_error,
        overwrite=args.overwrite,
        verify=args.verify,
        progress=False if args.no_progress else None,
    )
    manifest = store.manifest
    logger.info(
        "wrote the store %s: %d texts, %d words, %d shards, layers %s, %s vectors, %s (%d input records skipped); "
        "read it with ctxemb.open_store(path)",
        args.output,
        len(store),
        manifest["words"],
        len(manifest["shards"]),
        list(store.layers),
        ", ".join(store.vectors),
        store.dtype.name,
        manifest["skipped"],
    )
    return 0
