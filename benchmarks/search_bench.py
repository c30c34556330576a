"""Meaning search over a store: index build time and peak memory against store size, and query latency.

Stores of ``--sizes`` texts (default 1,000, 10,000 and 100,000 sentences of gensim's Lee corpus, repeated: the
~2,500 sentences of ``lee_background.cor`` cycled in shuffled order, as in ``store_bench.py``) hold MiniLM's word
vectors (mean pool) of layer ``--layer`` only (default 6, the last), float16 on disk, shards of 1,000 texts; they
are made once under ``--root`` and kept there (extraction is measured by ``store_bench.py``, not here).

For each store, in a subprocess of its own (peak RSS: ``VmHWM`` of ``/proc/self/status`` at its end):

- **build**: ``store.build_index(layer)`` from scratch (``overwrite=True``), wall-clock and CPU time, peak RSS; a
  second subprocess that only imports ctxemb and opens the store gives the baseline RSS of the interpreter;
- **query**: MiniLM loaded once (not timed), then ``store.search`` on 1, 10 and 100 query occurrences (a word in
  the middle of a stored sentence; ``--rounds`` rounds, medians), and the exact scan alone
  (:func:`ctxemb.store.nearest.exact` on the query vectors, without embedding them).

Torch runs one thread (``--threads``), as in the other benchmarks of this shared machine.

Usage: python benchmarks/search_bench.py [--sizes 1000,10000,100000] [--root DIR] [--layer 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_bench import sentences


def make_store(root: Path, n: int, layer: int, threads: int) -> Path:
    """The store of ``n`` texts under ``root`` (extracted once; a complete one is reused)."""
    from ctxemb.store.manifest import read_manifest

    directory = root / f"store-{n}"
    manifest = read_manifest(directory) if directory.is_dir() else None
    if manifest is not None and manifest.get("status") == "complete":
        return directory
    import torch

    from ctxemb import Extractor, extract_to

    torch.set_num_threads(threads)
    corpus = root / f"lee-{n}.txt"
    corpus.write_text("\n".join(sentences(n)) + "\n", encoding="utf-8")
    extractor = Extractor.from_pretrained("minilm", device="cpu")
    start = time.perf_counter()
    extract_to(extractor, directory, corpus, vectors=("word",), layers=[layer], dtype="float16", shard_size=1000)
    print(f"  made {directory} in {time.perf_counter() - start:.0f} s", flush=True)
    return directory


def child_build(store_dir: Path, layer: int) -> None:
    from ctxemb import open_store

    store = open_store(store_dir)
    start, cpu = time.perf_counter(), time.process_time()
    index = store.build_index(layer, overwrite=True, progress=False)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    files = sum(p.stat().st_size for p in index.directory.iterdir())
    result = {"texts": len(store), "rows": index.info["rows"], "seconds": seconds, "cpu": cpu, "bytes": files}
    print(json.dumps({**result, "peak_mib": peak_mib()}), flush=True)


def child_baseline(store_dir: Path) -> None:
    import pyarrow.compute  # noqa: F401  (what the build imports: the shards' tables are Arrow)

    from ctxemb import open_store
    from ctxemb.store import index, nearest, search  # noqa: F401

    open_store(store_dir)
    print(json.dumps({"peak_mib": peak_mib()}), flush=True)


def peak_mib() -> float:
    """This process's peak resident memory (``VmHWM``: since its own start, unlike ``ru_maxrss``, which keeps the
    size of the process that forked it before the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_query(store_dir: Path, layer: int, rounds: int, threads: int) -> None:
    import numpy as np
    import torch

    from ctxemb import Extractor, open_store
    from ctxemb.store.nearest import exact
    from ctxemb.store.search import query_vectors
    from ctxemb.store.selection import select

    torch.set_num_threads(threads)
    store = open_store(store_dir)
    extractor = Extractor.from_pretrained("minilm", device="cpu")
    rng = np.random.default_rng(0)
    targets = []
    for i in rng.choice(len(store), 100, replace=False):
        text = store[int(i)]
        start, end = (int(x) for x in text.word_spans[len(text.words) // 2])
        targets.append((text.text, (start, end)))
    store.search(targets[:1], layer, extractor=extractor, progress=False)  # warm: index mapped, model run once
    index = store.build_index(layer)
    selection = select(store, layer, "word")
    out = {}
    for n in (1, 10, 100):
        total, scan = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            store.search(targets[:n], layer, top=10, extractor=extractor, progress=False)
            total.append(time.perf_counter() - start)
            queries = query_vectors(store, selection, extractor, targets[:n], progress=False)
            start = time.perf_counter()
            exact(index.vectors, index.forms, queries, 10, [np.zeros(0, np.int64)] * n)
            scan.append(time.perf_counter() - start)
        out[str(n)] = {"search": statistics.median(total), "scan": statistics.median(scan)}
    print(json.dumps(out), flush=True)


def run_child(*args: str) -> dict:
    """Run this script as a child; its JSON result."""
    done = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--root", type=Path, default=Path("/tmp/ctxemb-search-bench"))
    parser.add_argument("--layer", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", choices=("build", "baseline", "query"), help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "build":
        return child_build(args.store, args.layer)
    if args.child == "baseline":
        return child_baseline(args.store)
    if args.child == "query":
        return child_query(args.store, args.layer, args.rounds, args.threads)
    args.root.mkdir(parents=True, exist_ok=True)
    sizes = [int(n) for n in args.sizes.split(",")]
    print(f"MiniLM layer {args.layer}, word vectors (mean), float16 stores; torch threads {args.threads}", flush=True)
    rows = []
    for n in sizes:
        store = make_store(args.root, n, args.layer, args.threads)
        common = ["--store", str(store), "--layer", str(args.layer)]
        build = run_child("--child", "build", *common)
        peak, baseline = build["peak_mib"], run_child("--child", "baseline", *common)["peak_mib"]
        timing = ["--rounds", str(args.rounds), "--threads", str(args.threads)]
        latency = run_child("--child", "query", *common, *timing)
        rows.append((n, build, peak, baseline, latency))
        print(f"  {n:,} texts: build {build['seconds']:.1f} s, peak RSS {peak:.0f} MiB", flush=True)
    print()
    print("| texts | word rows | index (MiB) | build (s) | build CPU (s) | peak RSS (MiB) | baseline RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, build, peak, baseline, _ in rows:
        print(
            f"| {n:,} | {build['rows']:,} | {build['bytes'] / 2**20:.0f} | {build['seconds']:.1f} | "
            f"{build['cpu']:.1f} | {peak:.0f} | {baseline:.0f} |"
        )
    print()
    print("| texts | 1 query: search / scan (s) | 10 queries | 100 queries |")
    print("|---:|---:|---:|---:|")
    for n, *_, latency in rows:
        cells = [f"{latency[k]['search']:.2f} / {latency[k]['scan']:.2f}" for k in ("1", "10", "100")]
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    by_size = {n: peak for n, _, peak, _, _ in rows}
    if 10_000 in by_size and 100_000 in by_size:
        print(f"\n- peak build RSS 100k / 10k: **{by_size[100_000] / by_size[10_000]:.2f}x** (target <= 1.3x)")


if __name__ == "__main__":
    main()
