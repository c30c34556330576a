"""GloVe's learning rate: WordSim-353, SimLex-999 and the Google analogies after training at each rate.

The sweep behind ``GloVe(lr=...)``: gensim's text8 sample (``head500.noblanks.cor``, Porter-stemmed, so task
words are looked up by their stem), dim 50, 5 epochs, batches of 16,384 cells, the rest GloVe's defaults; the
final mean loss per cell is printed beside the scores. Run:

    python benchmarks/glove_lr_bench.py [--lrs 0.05,0.1,0.25,0.5,1,1.5,2] [--corpus FILE --keys lower]
"""

from __future__ import annotations

import argparse
import math
import time

from gensim.test.utils import datapath

from ctxemb.static import GloVe, evaluate

TASKS = ("wordsim353", "simlex999", "analogy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lrs", default="0.05,0.1,0.25,0.5,1,1.5,2", help="comma list of learning rates")
    parser.add_argument("--corpus", default=None, help="one text per line (default: gensim's text8 sample)")
    parser.add_argument("--keys", default="porter", choices=("lower", "exact", "porter"))
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16384)
    args = parser.parse_args()
    corpus = args.corpus or datapath("head500.noblanks.cor")
    print(f"corpus {corpus}; dim {args.dim}, {args.epochs} epochs, batch {args.batch_size}, keys {args.keys}")
    print(f"{'lr':>6} {'wordsim353':>11} {'simlex999':>10} {'analogy':>8} {'covered':>14} {'last loss':>10} {'s':>5}")
    for lr in (float(x) for x in args.lrs.split(",")):
        start = time.perf_counter()
        model = GloVe(dim=args.dim, epochs=args.epochs, lr=lr, batch_size=args.batch_size, progress=False)
        model.fit(corpus)
        seconds = time.perf_counter() - start
        loss = model.loss_history_[-1]
        if not math.isfinite(loss):
            print(f"{lr:>6g} {'diverged':>11} {'':>10} {'':>8} {'':>14} {loss:>10.4f} {seconds:>5.0f}")
            continue
        result = evaluate({"glove": model.vectors_}, TASKS, keys=args.keys)
        ws, sl, an = (result.row("glove", t) for t in TASKS)
        covered = f"{ws.covered}/{sl.covered}/{an.covered}"
        print(
            f"{lr:>6g} {ws.score:>11.3f} {sl.score:>10.3f} {an.score:>8.3f} {covered:>14} {loss:>10.4f} {seconds:>5.0f}"
        )


if __name__ == "__main__":
    main()
