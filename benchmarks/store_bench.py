"""Corpus-scale extraction: peak memory, throughput and disk use of the streaming store against an in-memory run.

Each run is a subprocess of its own, so that its peak resident memory (``ru_maxrss`` from ``os.wait4``) is its
own. Both keep the word vectors (mean pool) of every layer of MiniLM (7 layers, dim 384) in float16:

  (a) in memory: ``Extractor.embed`` on ``--baseline`` sentences, then ``word_vectors`` of every result, kept;
  (b) streaming: ``ctxemb.extract_to`` on ``--texts`` sentences (10x more) read from a text file, written to a
      store directory in shards of ``--shard-size`` texts.

Rounds alternate (a) and (b); the table gives medians. Throughput is words per second of embedding (model load
excluded). Because (b) runs ten times longer than (a), other load on the machine hits them differently, so the
throughput is also compared on equal work in one process: ``--throughput-rounds`` interleaved rounds of (a) and
of (b) on the same ``--baseline`` sentences. The streaming store is then opened and 1,000 random texts are read.
Both wall-clock and CPU time (``time.process_time``, this process's own, less sensitive to other load) are
given. ``--throughput-only`` runs the equal-work rounds alone. Torch runs ``--threads`` threads (default 1: on a
shared machine, one spinning thread per core makes timings depend on the neighbours' load far more than on the
code).

With ``--scaling 200,2000,20000`` only streaming runs are made, one per size, to show that the peak memory stops
growing once a shard is full (it depends on ``--shard-size``, not on the corpus).

Usage: python benchmarks/store_bench.py [--texts 20000] [--baseline 2000] [--rounds 3] [--throughput-rounds 5]
       [--shard-size 1000] [--threads 1] [--scaling SIZES] [--throughput-only]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of 5-60 words from gensim's bundled Lee corpus, shuffled, cycling through its ~2,500."""
    from gensim.test.utils import datapath

    text = open(datapath("lee_background.cor"), encoding="utf-8").read()
    pool = [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+", text) if 5 <= len(s.split()) <= 60]
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while len(out) < n:
        out.extend(pool[i] for i in rng.permutation(len(pool)))
    return out[:n]


def child(mode: str, corpus: Path, output: Path, shard_size: int, threads: int) -> None:
    """One measured run; prints a JSON line with its time and counts."""
    import torch

    from ctxemb import Extractor, extract_to

    torch.set_num_threads(threads)
    extractor = Extractor.from_pretrained("minilm", device="cpu")
    start, cpu = time.perf_counter(), time.process_time()
    if mode == "memory":
        texts = corpus.read_text(encoding="utf-8").splitlines()
        results = extractor.embed(texts)
        kept = [r.word_vectors("mean").astype(np.float16) for r in results]
        words, count = sum(k.shape[1] for k in kept), len(kept)
    else:
        store = extract_to(
            extractor, output, corpus, vectors=("word",), dtype="float16", shard_size=shard_size, overwrite=True
        )
        words, count = store.manifest["words"], len(store)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"mode": mode, "texts": count, "words": words, "seconds": seconds, "cpu": cpu}), flush=True)


def measure(mode: str, corpus: Path, output: Path, shard_size: int, threads: int) -> dict[str, float]:
    """Run :func:`child` in a subprocess; its result plus its own peak RSS in MiB."""
    command = [sys.executable, __file__, "--child", mode, "--corpus", str(corpus), "--output", str(output)]
    command += ["--shard-size", str(shard_size), "--threads", str(threads)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    out = process.stdout.read() if process.stdout else ""
    if status != 0:
        raise RuntimeError(f"{mode} run failed (status {status})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    result["words_per_s"] = result["words"] / result["seconds"]
    result["words_per_cpu_s"] = result["words"] / result["cpu"]
    print(
        f"  {mode:9s} {result['texts']:6d} texts  {result['seconds']:7.1f} s  {result['peak_mib']:7.0f} MiB", flush=True
    )
    return result


def equal_work(
    corpus: Path, output: Path, shard_size: int, rounds: int, threads: int
) -> tuple[list[float], list[float]]:
    """Interleaved rounds in one process on the same texts: (a) in memory, then (b) streamed; (b)/(a) words/s.

    Returns:
        The ratios on wall-clock time and on this process's CPU time (less sensitive to other load).
    """
    import torch

    from ctxemb import Extractor, extract_to

    torch.set_num_threads(threads)
    extractor = Extractor.from_pretrained("minilm", device="cpu")
    texts = corpus.read_text(encoding="utf-8").splitlines()
    ratios, cpu_ratios = [], []
    for _ in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        kept = [r.word_vectors("mean").astype(np.float16) for r in extractor.embed(texts)]
        memory, memory_cpu = time.perf_counter() - start, time.process_time() - cpu
        del kept
        start, cpu = time.perf_counter(), time.process_time()
        extract_to(extractor, output, corpus, vectors=("word",), dtype="float16", shard_size=shard_size, overwrite=True)
        stream, stream_cpu = time.perf_counter() - start, time.process_time() - cpu
        ratios.append(memory / stream)
        cpu_ratios.append(memory_cpu / stream_cpu)
        print(
            f"  equal work: in memory {memory:.1f} s ({memory_cpu:.1f} s CPU), "
            f"streamed {stream:.1f} s ({stream_cpu:.1f} s CPU)",
            flush=True,
        )
    return ratios, cpu_ratios


def report_equal_work(ratios: list[float], cpu_ratios: list[float], texts: int) -> None:
    """Print the equal-work throughput ratios (medians and ranges)."""
    print(
        f"- throughput (b) / (a) on equal work ({texts:,} texts, one process, {len(ratios)} interleaved rounds): "
        f"**{statistics.median(ratios):.2f}x** wall-clock median (range {min(ratios):.2f}-{max(ratios):.2f}), "
        f"**{statistics.median(cpu_ratios):.2f}x** on CPU time (range {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f})"
    )


def disk_and_access(store_dir: Path) -> dict[str, float]:
    """Bytes on disk per word-layer, open time, and the time to read 1,000 random texts' word vectors."""
    from ctxemb import open_store

    start = time.perf_counter()
    store = open_store(store_dir)
    opened = time.perf_counter() - start
    files = [p for p in store_dir.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    arrays = sum(p.stat().st_size for p in files if p.name == "arrays.safetensors")
    cells = store.manifest["words"] * len(store.layers)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    checksum = 0.0
    for i in rng.integers(0, len(store), 1000):
        checksum += float(np.asarray(store[int(i)].word_vectors, dtype=np.float32).sum())
    access = (time.perf_counter() - start) / 1000
    return {
        "texts": len(store),
        "words": store.manifest["words"],
        "layers": len(store.layers),
        "dim": int(store.arrays("word")[0].shape[-1]),
        "total_bytes": total,
        "bytes_per_word_layer": total / cells,
        "array_bytes_per_word_layer": arrays / cells,
        "open_ms": opened * 1000,
        "access_ms": access * 1000,
        "checksum": checksum,
    }


def scaling(sizes: list[int], shard_size: int, threads: int) -> None:
    """Stream corpora of several sizes (the first texts of one corpus), each in its own process; print peak RSS."""
    with tempfile.TemporaryDirectory(prefix="store_bench_") as tmp:
        root = Path(tmp)
        texts = sentences(max(sizes))
        rows = []
        for n in sizes:
            (root / "corpus.txt").write_text("\n".join(texts[:n]) + "\n", encoding="utf-8")
            rows.append(measure("stream", root / "corpus.txt", root / "store", shard_size, threads))
    print()
    print(f"| streamed texts (shard size {shard_size:,}) | words | peak RSS (MiB) | words/s |")
    print("|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {int(row['texts']):,} | {int(row['words']):,} | {row['peak_mib']:.0f} | {row['words_per_s']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--throughput-rounds", type=int, default=5)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--scaling", default=None, help="comma list of corpus sizes: streaming peak RSS only")
    parser.add_argument("--throughput-only", action="store_true", help="only the equal-work throughput rounds")
    parser.add_argument("--child", choices=("memory", "stream"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.corpus, args.output, args.shard_size, args.threads)
        return
    if args.scaling:
        scaling([int(n) for n in args.scaling.split(",")], args.shard_size, args.threads)
        return
    if args.throughput_only:
        with tempfile.TemporaryDirectory(prefix="store_bench_") as tmp:
            corpus = Path(tmp) / "small.txt"
            corpus.write_text("\n".join(sentences(args.baseline)) + "\n", encoding="utf-8")
            print(f"MiniLM, all 7 layers, word vectors (mean), float16; torch threads {args.threads}")
            ratios, cpu_ratios = equal_work(
                corpus, Path(tmp) / "store", args.shard_size, args.throughput_rounds, args.threads
            )
        print()
        report_equal_work(ratios, cpu_ratios, args.baseline)
        return

    with tempfile.TemporaryDirectory(prefix="store_bench_") as tmp:
        root = Path(tmp)
        texts = sentences(args.texts)
        (root / "big.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (root / "small.txt").write_text("\n".join(texts[: args.baseline]) + "\n", encoding="utf-8")
        print(f"MiniLM, all 7 layers, word vectors (mean), float16; torch threads {args.threads}")
        runs: dict[str, list[dict[str, float]]] = {"memory": [], "stream": []}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            runs["memory"].append(measure("memory", root / "small.txt", root / "unused", args.shard_size, args.threads))
            runs["stream"].append(measure("stream", root / "big.txt", root / "store", args.shard_size, args.threads))
        disk = disk_and_access(root / "store")
        ratios, cpu_ratios = equal_work(
            root / "small.txt", root / "small", args.shard_size, args.throughput_rounds, args.threads
        )

    def median(mode: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[mode])

    memory_peak, stream_peak = median("memory", "peak_mib"), median("stream", "peak_mib")
    memory_rate, stream_rate = median("memory", "words_per_s"), median("stream", "words_per_s")
    memory_cpu, stream_cpu = median("memory", "words_per_cpu_s"), median("stream", "words_per_cpu_s")
    print()
    print("| run | texts | words | peak RSS (MiB) | words/s | time (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, label in (("memory", "(a) in memory: embed + word_vectors"), ("stream", "(b) streaming: extract_to")):
        texts_n = int(runs[mode][0]["texts"])
        words_n = int(runs[mode][0]["words"])
        print(
            f"| {label} | {texts_n:,} | {words_n:,} | {median(mode, 'peak_mib'):.0f} | "
            f"{median(mode, 'words_per_s'):.0f} | {median(mode, 'seconds'):.1f} |"
        )
    print()
    print(f"- peak RSS (b) / (a): **{stream_peak / memory_peak:.2f}x** for {args.texts // args.baseline}x the texts")
    print(f"- throughput (b) / (a) in the runs above: {stream_rate / memory_rate:.2f}x (words/s, medians)")
    print(f"- throughput (b) / (a) on CPU time in the runs above: {stream_cpu / memory_cpu:.2f}x (medians)")
    report_equal_work(ratios, cpu_ratios, args.baseline)
    print(
        f"- disk: {disk['total_bytes'] / 2**20:.0f} MiB for {disk['words']:,} words x {disk['layers']} layers: "
        f"**{disk['bytes_per_word_layer']:.0f} bytes per word-layer** in all, "
        f"{disk['array_bytes_per_word_layer']:.0f} in the arrays files ({2 * disk['dim']} = {disk['dim']} x float16)"
    )
    print(
        f"- open_store on {disk['texts']:,} texts: {disk['open_ms']:.1f} ms; "
        f"a random text's word vectors: {disk['access_ms']:.2f} ms each (1,000 reads)"
    )


if __name__ == "__main__":
    main()
