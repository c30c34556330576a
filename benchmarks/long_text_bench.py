"""Peak memory of one very long text: how far the process grows beyond the result it returns.

A text of ``--kib`` KiB (corpus sentences repeated) is embedded by MiniLM with every layer kept, in a fresh
process, and the script prints the result's size (``hidden``: layers x pieces x dim float32), the process's peak
resident memory (``ru_maxrss``) before and after embedding, and their ratio. A long text runs as overlapping
windows; what matters is how much more than the result the process holds while it stitches them.

Usage: python benchmarks/long_text_bench.py [--kib 256] [--layers all]
"""

from __future__ import annotations

import argparse
import resource
import time

from ctxemb import Extractor
from ctxemb.layers import parse_layers
from ctxemb.testing import corpus_path


def peak_mib() -> float:
    """The process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=256, help="text size in KiB")
    parser.add_argument("--layers", default="all")
    args = parser.parse_args()
    sentences = corpus_path().read_text(encoding="utf-8").split("\n")
    text, i = "", 0
    while len(text) < args.kib * 1024:
        text += sentences[i % len(sentences)] + " "
        i += 1
    ext = Extractor.from_pretrained("minilm", device="cpu", layers=parse_layers(args.layers))
    ext.embed(["warm-up"])
    before = peak_mib()
    start = time.perf_counter()
    result = ext.embed([text])[0]
    seconds = time.perf_counter() - start
    after = peak_mib()
    size = result.hidden.nbytes / 2**20
    print(
        f"| {args.kib} KiB | {len(result.words):,} words | {len(result.tokens):,} pieces | {size:,.0f} MiB | "
        f"{before:,.0f} MiB | {after:,.0f} MiB | {(after - before) / size:.2f} | {seconds:.0f} s |"
    )


if __name__ == "__main__":
    main()
