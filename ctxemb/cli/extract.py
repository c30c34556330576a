"""``ctxemb extract``: embed a file of texts and write word or sentence vectors to one safetensors file."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..export import save_extraction
from ..layers import parse_layers
from ..pooling import SENTENCE_POOLS, WORD_POOLS

logger = logging.getLogger("ctxemb")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    p = sub.add_parser("extract", help="embed texts from a file", description=__doc__)
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    p.add_argument("--layers", default="all", help="all, 0,3,-1, -4: or 2 (default: all)")
    p.add_argument("--level", choices=("word", "sentence"), default="word")
    p.add_argument(
        "--pool",
        default=None,
        help=f"word: {'|'.join(WORD_POOLS)} (default mean); sentence: {'|'.join(SENTENCE_POOLS)} (default mean)",
    )
    p.add_argument("--input", required=True, type=Path, help="text file (one text per line) or .jsonl")
    p.add_argument("--field", default="text", help="JSONL field holding the text (default: text)")
    p.add_argument("--output", required=True, type=Path, help="output .safetensors file")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default=None, help="float32 | bf16 | fp16 (default: the checkpoint's)")
    p.add_argument("--split", choices=("punct", "whitespace"), default="punct", help="how texts split into words")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def read_texts(path: Path, field: str = "text") -> list[str]:
    """Read one text per line, or the ``field`` of each line of a ``.jsonl`` file.

    Raises:
        ValueError: a line that is not UTF-8, not JSON, or lacks the field, naming the file and line.
    """
    texts = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise ValueError(f"{path}:{number}: not valid UTF-8 ({e.reason} at byte {e.start})") from None
            if path.suffix != ".jsonl":
                texts.append(line)
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{number}: not valid JSON ({e.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get(field), str):
                raise ValueError(f"{path}:{number}: no string field {field!r}")
            texts.append(record[field])
    return texts


def run(args: argparse.Namespace) -> int:
    """Embed the input file and write the output file."""
    from ..extractor import Extractor

    pool = args.pool or "mean"
    allowed = WORD_POOLS if args.level == "word" else SENTENCE_POOLS
    if pool not in allowed:
        raise ValueError(f"--pool {pool} is not a {args.level} pool; choose one of {', '.join(allowed)}")
    texts = read_texts(args.input, args.field)
    if not texts:
        raise ValueError(f"{args.input}: no texts")
    extractor = Extractor.from_pretrained(
        args.model, layers=parse_layers(args.layers), device=args.device, dtype=args.dtype, split=args.split
    )
    results = extractor.embed(texts, progress=not args.no_progress)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_extraction(args.output, results, args.level, pool, args.model)
    words = sum(len(r.words) for r in results)
    logger.info(
        "wrote %s: %d texts, %d words, layers %s, %s vectors (%s pool); load with ctxemb.export.load_extraction(path)",
        args.output,
        len(results),
        words,
        list(results[0].layers),
        args.level,
        pool,
    )
    return 0
