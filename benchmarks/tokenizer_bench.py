"""Time tokenizer training on gensim's ``head500.noblanks.cor`` (~330k words of text8): every kind, some families.

For each kind, three runs are interleaved over ``--rounds`` rounds and their medians reported:

- ``ctxemb list``: ``train_tokenizer(lines, kind, 8000)`` over the corpus as a list of lines;
- ``ctxemb file``: the same streamed from the file (``TextFile``), read twice for WordPiece/BPE;
- ``tokenizers``: the bare `tokenizers` trainer with the same normalizer/pre-tokenizer (no alphabet pass, no
  canonical ordering), the practical lower bound.

Then each ``--families`` entry (its own kind) through ``train_tokenizer(lines, family=...)``.

Usage: ``.venv/bin/python benchmarks/tokenizer_bench.py --rounds 3``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from gensim.test.utils import datapath
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from ctxemb.tokenization import KINDS, TextFile, train_tokenizer


def _bare(kind: str, lines: list[str], vocab_size: int) -> int:
    """The bare `tokenizers` trainer, set up as ``train_tokenizer`` without a family sets up its pipeline."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    elif kind == "bpe":
        tok = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=specials, end_of_word_suffix="</w>", show_progress=False
        )
    elif kind == "byte_bpe":
        tok = Tokenizer(models.BPE())
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
    else:
        tok = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=specials, unk_token="[UNK]", show_progress=False
        )
    tok.normalizer = normalizers.NFC()
    if kind == "byte_bpe":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    elif kind == "unigram":
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
    else:
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(lines, trainer)
    return tok.get_vocab_size()


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    size = run()
    return time.perf_counter() - start, size


def main() -> None:
    """Run the benchmark and print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--families", default="bert,roberta,deberta,xlm")
    args = parser.parse_args()

    path = datapath("head500.noblanks.cor")
    lines = TextFile(path)
    as_list = list(lines)
    words = sum(len(line.split()) for line in as_list)
    print(f"corpus: {path}: {len(as_list)} lines, {words:,} words, {os.path.getsize(path) / 1e6:.1f} MB")
    print(f"vocab_size {args.vocab_size}; {args.rounds} rounds, runs interleaved, medians; cores: {os.cpu_count()}")

    runs: dict[str, Callable[[str], Callable[[], int]]] = {
        "ctxemb list": lambda k: lambda: len(train_tokenizer(as_list, k, args.vocab_size)),
        "ctxemb file": lambda k: lambda: len(train_tokenizer(lines, k, args.vocab_size)),
        "tokenizers": lambda k: lambda: _bare(k, as_list, args.vocab_size),
    }
    kinds = args.kinds.split(",")
    times: dict[tuple[str, str], list[float]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for _ in range(args.rounds):
        for kind in kinds:
            for name, make in runs.items():
                seconds, size = _timed(make(kind))
                times.setdefault((kind, name), []).append(seconds)
                sizes[kind, name] = size
    print("\n| kind | run | seconds | vocabulary | words/s |\n|---|---|---:|---:|---:|")
    for kind in kinds:
        bare = statistics.median(times[kind, "tokenizers"])
        for name in runs:
            median = statistics.median(times[kind, name])
            ratio = f" ({median / bare:.2f}x bare)" if name != "tokenizers" else ""
            print(f"| {kind} | {name}{ratio} | {median:.2f} | {sizes[kind, name]:,} | {words / median:,.0f} |")

    families = [f for f in args.families.split(",") if f]
    if families:
        family_times: dict[str, list[float]] = {}
        family_sizes: dict[str, int] = {}
        for _ in range(args.rounds):
            for family in families:
                seconds, size = _timed(
                    lambda f=family: len(train_tokenizer(as_list, vocab_size=args.vocab_size, family=f))
                )
                family_times.setdefault(family, []).append(seconds)
                family_sizes[family] = size
        print("\n| family | seconds | vocabulary | words/s |\n|---|---:|---:|---:|")
        for family in families:
            median = statistics.median(family_times[family])
            print(f"| {family} | {median:.2f} | {family_sizes[family]:,} | {words / median:,.0f} |")


if __name__ == "__main__":
    main()
