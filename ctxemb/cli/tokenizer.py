"""``ctxemb tokenizer``: train a subword vocabulary on text files, or report how a tokenizer segments a corpus.

``ctxemb tokenizer train --kind wordpiece --vocab-size 8000 --family bert corpus.txt --output DIR`` writes a
tokenizer that ``AutoTokenizer.from_pretrained(DIR)`` loads. ``ctxemb tokenizer stats DIR corpus.txt`` prints
fertility (pieces per word), the share of words split, the unknown-token rate and the vocabulary used;
``--compare DIR2`` adds a second tokenizer and the overlap of the two vocabularies. Corpus files are UTF-8, one
text per line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..families import FAMILIES
from ..tokenization import KINDS, TextFile, save_tokenizer, stats, train_tokenizer, vocabulary_overlap
from ..words import SPLITS

_TRAINABLE = tuple(f.name for f in FAMILIES if f.subwords is not None)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``tokenizer`` subcommand with ``train`` and ``stats`` under it."""
    p = sub.add_parser("tokenizer", help="train a tokenizer or report its statistics", description=__doc__)
    inner = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    t = inner.add_parser(
        "train",
        help="train a subword vocabulary on text files",
        description="Train a WordPiece, BPE, byte-level BPE or Unigram vocabulary for a model family (its special "
        "tokens, their places, its normalisation and pre-tokenization) and save it as a transformers tokenizer.",
    )
    t.add_argument(
        "corpus",
        nargs="+",
        type=Path,
        help="corpus files: text (one text per line), or the text field of .jsonl/.csv/.parquet",
    )
    t.add_argument("--output", required=True, type=Path, help="directory to write the tokenizer to")
    t.add_argument("--kind", choices=KINDS, default=None, help="default: the family's own kind")
    t.add_argument("--family", choices=_TRAINABLE, default=None, help="the model family to build the tokenizer for")
    t.add_argument("--vocab-size", type=int, default=8000, help="vocabulary size, specials included (default: 8000)")
    t.add_argument("--min-frequency", type=int, default=2, help="least count of a merge (default: 2)")
    t.add_argument(
        "--lowercase", action=argparse.BooleanOptionalAction, default=None, help="default: the family's own setting"
    )
    t.add_argument("--special-token", action="append", default=[], help="an extra special token (repeatable)")
    t.add_argument("--limit-alphabet", type=int, default=None, help="keep this many characters (BPE, WordPiece)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    t.add_argument("--stats", action="store_true", help="also report the new tokenizer's statistics on the corpus")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(run=run_train)

    s = inner.add_parser(
        "stats",
        help="how a tokenizer segments a corpus",
        description="Fertility (pieces per word: mean and distribution), share of words split, unknown-token rate "
        "and vocabulary used, over the words ctxemb finds in the corpus; --compare adds a second tokenizer and the "
        "overlap of the two vocabularies.",
    )
    s.add_argument("tokenizer", help="tokenizer directory, hub id, or alias (minilm)")
    s.add_argument(
        "corpus",
        nargs="+",
        type=Path,
        help="corpus files: text (one text per line), or the text field of .jsonl/.csv/.parquet",
    )
    s.add_argument("--compare", default=None, help="a second tokenizer: its statistics and the vocabulary overlap")
    s.add_argument("--split", choices=SPLITS, default="punct", help="how texts split into words")
    s.add_argument("--lang", default=None, help="language for tokenizers that take one (XLM)")
    s.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(run=run_stats)


class _Reading(TextFile):
    """A :class:`TextFile` that shows a progress bar (in bytes) each time it is read."""

    def __init__(self, paths: list[Path], desc: str, progress: bool | None) -> None:
        super().__init__(paths)
        self.desc = desc
        self.progress = progress
        self.passes = 0

    def __iter__(self) -> Iterator[str]:
        if self.progress is False:
            yield from super().__iter__()
            return
        from ..progress import progress_bar

        self.passes += 1
        desc = self.desc if self.passes == 1 else f"{self.desc} (pass {self.passes})"
        bar = progress_bar(total=self.size(), unit="B", unit_scale=True, desc=desc, leave=False, progress=self.progress)
        with bar:
            for line in super().__iter__():
                bar.update(len(line.encode("utf-8")) + 1)
                yield line


def _check_files(paths: list[Path]) -> None:
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"corpus file {path} does not exist or is not a file")


def run_train(args: argparse.Namespace) -> int:
    """Train, save atomically, print a summary."""
    if args.kind is None and args.family is None:
        raise ValueError(f"give --kind ({', '.join(KINDS)}) or --family ({', '.join(_TRAINABLE)}), or both")
    _check_files(args.corpus)
    if args.output.exists() and not args.overwrite and (not args.output.is_dir() or any(args.output.iterdir())):
        raise FileExistsError(f"{args.output} exists and is not empty; pass --overwrite to replace it")
    corpus = _Reading(args.corpus, "reading corpus", False if args.no_progress else None)
    start = time.perf_counter()
    tokenizer = train_tokenizer(
        corpus,
        args.kind,
        args.vocab_size,
        family=args.family,
        min_frequency=args.min_frequency,
        lowercase=args.lowercase,
        special_tokens=args.special_token,
        limit_alphabet=args.limit_alphabet,
        show_progress=not args.no_progress and sys.stderr.isatty(),  # tokenizers draws its own bar: only where seen
    )
    seconds = time.perf_counter() - start
    save_tokenizer(tokenizer, args.output, overwrite=args.overwrite)
    kind = args.kind or next(f.subwords for f in FAMILIES if f.name == args.family)
    target = f"for {args.family} ({type(tokenizer).__name__})" if args.family else "(no family)"
    print(f"trained a {kind} vocabulary of {len(tokenizer):,} pieces {target} in {seconds:.1f} s")
    print(f"specials    {' '.join(tokenizer.all_special_tokens)}")
    print(f"example     {' '.join(tokenizer.convert_ids_to_tokens(tokenizer('Tokenizers split words.')['input_ids']))}")
    print(f"saved to    {args.output} ({', '.join(sorted(p.name for p in args.output.iterdir()))})")
    if len(tokenizer) < args.vocab_size:
        print(f"note        the corpus gave fewer pieces than --vocab-size {args.vocab_size}")
    if args.stats:
        figures = stats(tokenizer, _Reading(args.corpus, "counting", False if args.no_progress else None))
        print()
        print(dataclasses.replace(figures, name=str(args.output)).table())
    return 0


def _load(name: str) -> Any:
    from transformers import AutoTokenizer

    from ..loading import resolve_name

    return AutoTokenizer.from_pretrained(resolve_name(name))


def run_stats(args: argparse.Namespace) -> int:
    """Load the tokenizer(s), count over the corpus, print the summary (and the overlap)."""
    _check_files(args.corpus)
    names = [args.tokenizer, *([args.compare] if args.compare else [])]
    tokenizers = [_load(name) for name in names]
    results = []
    for name, tokenizer in zip(names, tokenizers):
        corpus = _Reading(args.corpus, f"tokenizing with {name}", False if args.no_progress else None)
        figures = stats(tokenizer, corpus, split=args.split, lang=args.lang)
        results.append(dataclasses.replace(figures, name=name))
    print("\n\n".join(r.table() for r in results))
    report: dict[str, Any] = {"corpus": [str(p) for p in args.corpus], "tokenizers": [r.to_dict() for r in results]}
    if args.compare:
        overlap = dataclasses.replace(vocabulary_overlap(*tokenizers), names=(names[0], names[1]))
        print("\nvocabulary overlap")
        print(overlap.table())
        report["overlap"] = {**dataclasses.asdict(overlap), "jaccard": overlap.jaccard}
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
