"""GloVe's training speed against its thread setting: seconds per epoch for ``threads`` = torch's default, 1, 2, 4.

Interleaved rounds, medians, on gensim's bundled text8 sample; each fit counts the co-occurrences again (a few
seconds, the same for every setting), so the per-epoch figure is an upper bound. Run on the machine to check:

    python benchmarks/glove_threads_bench.py --rounds 3 --epochs 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from gensim.test.utils import datapath

from ctxemb.static import GloVe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--threads", default="default,1,2,4", help="comma list; 'default' leaves torch's setting")
    args = parser.parse_args()
    corpus = datapath("head500.noblanks.cor")
    settings = [None if t == "default" else int(t) for t in args.threads.split(",")]
    print(f"cores visible: {len(os.sched_getaffinity(0))}; torch default threads: {torch.get_num_threads()}")
    times: dict[int | None, list[float]] = {t: [] for t in settings}
    for _ in range(args.rounds):
        for threads in settings:
            start = time.perf_counter()
            GloVe(dim=args.dim, epochs=args.epochs, threads=threads, progress=False).fit(corpus)
            times[threads].append((time.perf_counter() - start) / args.epochs)
    base = statistics.median(times[settings[0]])
    print(f"{'threads':>8} {'s/epoch':>8} {'vs first':>9}   (each fit includes counting; medians of {args.rounds})")
    for threads in settings:
        t = statistics.median(times[threads])
        print(f"{'default' if threads is None else threads:>8} {t:8.2f} {t / base:9.2f}")


if __name__ == "__main__":
    main()
