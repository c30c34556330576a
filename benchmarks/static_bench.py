"""Training time and throughput of each static method on gensim's text8 sample, against gensim's own word2vec.

Every round trains every method once, in the same order (so drift in machine load hits all of them alike);
the table gives the median over rounds of the fit time, corpus words per second of fit time (one pass's words,
whatever the number of epochs), and the ratio to gensim's ``Word2Vec`` on ``LineSentence`` with the same settings
(``ctxemb word2vec`` adds only the shared tokenisation on top of it). GloVe's time is split into building the
co-occurrence matrix and the median epoch.

Run: python benchmarks/static_bench.py [--rounds 3] [--dim 100] [--epochs 5] [--glove-epochs 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import zlib

import torch
from gensim.models import Word2Vec as GensimWord2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from ctxemb.static import LSA, PPMISVD, Corpus, FastText, GloVe, OneHot, Word2Vec

CORPUS = "head500.noblanks.cor"


def _hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def methods(args: argparse.Namespace) -> dict:
    """name -> a function that trains and returns the fitted object (or the gensim model)."""
    w2v = {"window": 5, "min_count": 5, "epochs": args.epochs, "seed": 0, "workers": args.workers}
    return {
        "gensim word2vec (reference)": lambda path: GensimWord2Vec(
            LineSentence(path), vector_size=args.dim, sg=1, hashfxn=_hash, **w2v
        ),
        "word2vec (skip-gram)": lambda path: Word2Vec(dim=args.dim, **w2v).fit(path),
        "word2vec (cbow)": lambda path: Word2Vec(dim=args.dim, architecture="cbow", **w2v).fit(path),
        "fasttext": lambda path: FastText(dim=args.dim, bucket=200_000, **w2v).fit(path),
        "ppmi-svd": lambda path: PPMISVD(dim=args.dim).fit(path),
        "lsa": lambda path: LSA(dim=args.dim).fit(path),
        "glove": lambda path: GloVe(dim=args.dim, epochs=args.glove_epochs, batch_size=args.glove_batch).fit(path),
        "glove, 1 torch thread": lambda path: GloVe(
            dim=args.dim, epochs=args.glove_epochs, batch_size=args.glove_batch, threads=1
        ).fit(path),
        "one-hot": lambda path: OneHot().fit(path),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5, help="word2vec and fastText epochs")
    parser.add_argument("--glove-epochs", type=int, default=5)
    parser.add_argument("--glove-batch", type=int, default=GloVe().batch_size)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=None, help="only these (the reference always runs)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    path = datapath(CORPUS)
    words = sum(len(t) for t in Corpus(path))
    times: dict[str, list[float]] = {}
    cooc: dict[str, list[float]] = {}
    epochs: dict[str, list[float]] = {}
    for round_ in range(args.rounds):
        for name, train in methods(args).items():
            if args.methods and name not in args.methods and name != "gensim word2vec (reference)":
                continue
            start = time.perf_counter()
            fitted = train(path)
            times.setdefault(name, []).append(time.perf_counter() - start)
            if isinstance(fitted, GloVe):
                cooc.setdefault(name, []).append(fitted.cooccurrence_seconds_)
                epochs.setdefault(name, []).append(statistics.median(fitted.epoch_seconds_))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)
    reference = statistics.median(times["gensim word2vec (reference)"])
    print(
        f"\n{CORPUS}: {words} words; dim {args.dim}; word2vec/fastText {args.epochs} epochs, {args.workers} worker(s);"
    )
    print(f"GloVe {args.glove_epochs} epochs, batch {args.glove_batch}; median of {args.rounds} round(s)\n")
    print(f"{'method':<28} {'seconds':>8} {'words/s':>9} {'x reference time':>17}")
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"{name:<28} {seconds:>8.1f} {words / seconds:>9.0f} {seconds / reference:>17.2f}")
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} intra-op threads by default")
    for name in cooc:
        seconds = statistics.median(cooc[name]), statistics.median(epochs[name])
        print(f"{name}: co-occurrence matrix {seconds[0]:.1f} s, then {seconds[1]:.1f} s per epoch")


if __name__ == "__main__":
    main()
