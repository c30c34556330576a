"""Extraction speed on MiniLM: ctxemb against the raw forward pass and a naive Hugging Face loop.

Prints pieces/s (medians over interleaved rounds) and the ratios:
  (a) raw model forward on length-sorted batches, no hidden states kept, best batch shape found: the limit;
  (b) naive loop: input order, batch 32, output_hidden_states=True, word_ids() grouping in Python, mean pool;
  (c) ctxemb: Extractor.embed + word_vectors("mean") for every layer;
  and ctxemb with layers=[1] against layers="all".
A second corpus makes 1% of the texts longer than 512 pieces (the naive loop truncates them; ctxemb windows).

Usage: python benchmarks/extract_bench.py [--rounds 3] [--texts 2000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from gensim.test.utils import datapath

from ctxemb import Extractor
from ctxemb.batching import window_starts


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of 5-60 words from gensim's bundled Lee corpus, in shuffled order."""
    text = open(datapath("lee_background.cor"), encoding="utf-8").read()
    pool = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 5 <= len(s.split()) <= 60]
    rng = np.random.default_rng(seed)
    return [pool[i] for i in rng.permutation(len(pool))[:n]]


def with_long_texts(texts: list[str], share: float = 0.01, seed: int = 1) -> list[str]:
    """Replace ``share`` of the texts by texts of ~700 pieces (30 sentences joined)."""
    rng = np.random.default_rng(seed)
    out = list(texts)
    for i in rng.choice(len(texts), size=max(1, int(share * len(texts))), replace=False):
        out[i] = " ".join(texts[j] for j in rng.choice(len(texts), size=30, replace=False))
    return out


def truncated(ext: Extractor, texts: list[str]) -> list[list[int]]:
    """Piece ids of each text, cut at the model window."""
    return ext.tokenizer(texts, truncation=True, max_length=ext.window)["input_ids"]


def windowed(ext: Extractor, texts: list[str]) -> list[list[int]]:
    """The sequences ctxemb runs: each text, or its windows (same sizes and stride as ctxemb's defaults)."""
    out = []
    for ids in ext.tokenizer(texts)["input_ids"]:
        size = ext.window - 2
        if len(ids) <= ext.window:
            out.append(ids)
            continue
        content = ids[1:-1]
        for a in window_starts(len(content), size, 3 * size // 4):
            out.append([ids[0], *content[a : a + size], ids[-1]])
    return out


def raw_forward(ext: Extractor, ids: list[list[int]], max_tokens: int, max_batch: int) -> None:
    """The practical limit: length-sorted batches through the model, nothing kept."""
    tok = ext.tokenizer
    lengths = np.array([len(x) for x in ids])
    order = np.argsort(-lengths, kind="stable")
    i = 0
    with torch.inference_mode():
        while i < len(order):
            size = max(1, min(max_batch, max_tokens // int(lengths[order[i]])))
            batch = tok.pad({"input_ids": [ids[j] for j in order[i : i + size]]}, return_tensors="pt")
            ext.model(**batch)
            i += size


def naive_loop(ext: Extractor, texts: list[str]) -> None:
    """What people write by hand: input order, fixed batch, all hidden states, Python word grouping."""
    tok, model = ext.tokenizer, ext.model
    with torch.inference_mode():
        for i in range(0, len(texts), 32):
            enc = tok(texts[i : i + 32], padding=True, truncation=True, max_length=512, return_tensors="pt")
            states = torch.stack(model(**enc, output_hidden_states=True).hidden_states)  # (layers, B, T, dim)
            for row in range(states.shape[1]):
                groups: dict[int, list[int]] = {}
                for position, word in enumerate(enc.word_ids(row)):
                    if word is not None:
                        groups.setdefault(word, []).append(position)
                [states[:, row, positions].mean(dim=1).numpy() for positions in groups.values()]


def ctxemb_words(ext: Extractor, texts: list[str], layers="all") -> None:
    for result in ext.embed(texts, layers=layers):
        result.word_vectors("mean")


def timed(fn, cpu: list[float] | None = None) -> float:
    """Wall seconds of ``fn()``; its process CPU seconds (all threads) are appended to ``cpu`` if given."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


# Batch shapes (token budget, most texts per batch) tried for the raw forward; the fastest is its limit.
SHAPES = [(4096, 32), (2048, 16), (8192, 64), (8192, 256), (16384, 64), (16384, 256)]


def best_shape(forward: Callable[[int, int], None]) -> tuple[int, int]:
    """The batch shape of :data:`SHAPES` under which ``forward(max_tokens, max_batch)`` runs fastest."""
    forward(*SHAPES[0])  # warm-up
    return min(SHAPES, key=lambda shape: timed(lambda: forward(*shape)))


def measure(ext: Extractor, texts: list[str], rounds: int, label: str) -> dict[str, float]:
    pieces = sum(len(x) for x in ext.tokenizer(texts)["input_ids"])
    cut, windows = truncated(ext, texts), windowed(ext, texts)
    trial = cut[: len(cut) // 4]
    best = best_shape(lambda max_tokens, max_batch: raw_forward(ext, trial, max_tokens, max_batch))
    ext.max_tokens, ext.max_batch = best
    runs = {
        "a raw forward": lambda: raw_forward(ext, cut, *best),
        "c ctxemb words, all layers": lambda: ctxemb_words(ext, texts),
        "b naive HF loop": lambda: naive_loop(ext, texts),
        "d ctxemb words, layers=[1]": lambda: ctxemb_words(ext, texts, layers=[1]),
    }
    if len(windows) > len(cut):
        runs["a' raw forward over ctxemb's windows"] = lambda: raw_forward(ext, windows, *best)
    times: dict[str, list[float]] = {k: [] for k in runs}
    pair, others = list(runs)[:2], list(runs)[2:]
    for r in range(rounds):
        # a and c back to back, in alternating order; the other runs after them, rotated
        keys = (pair if r % 2 == 0 else pair[::-1]) + others[r % len(others) :] + others[: r % len(others)]
        for k in keys:
            times[k].append(timed(runs[k]))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\n### {label}: {len(texts)} texts, {pieces} pieces; best raw batch shape: "
        f"max_tokens={best[0]}, max_batch={best[1]}; {rounds} rounds, medians\n"
    )
    print("| run | seconds | pieces/s |")
    print("|---|---:|---:|")
    for k, t in med.items():
        print(f"| {k} | {t:.2f} | {pieces / t:,.0f} |")
    a, c, b, d = (med[k] for k in list(runs)[:4])
    print(
        f"\n(c)/(a) speed = {a / c:.2f} (target >= 0.85); (c)/(b) speed = {b / c:.2f} (target >= 1.5); "
        f"time layers=[1] / all = {d / c:.2f} (target <= 0.4)"
    )
    # The same ratio round by round (a and c run back to back, so a slow spell tends to hit both): its spread
    # shows how much the machine's noise moves the medians above.
    per_round = [ta / tc for ta, tc in zip(times["a raw forward"], times["c ctxemb words, all layers"])]
    print(f"(c)/(a) per round: {' '.join(f'{x:.2f}' for x in per_round)}; median {statistics.median(per_round):.2f}")
    if len(runs) > 4:
        same_work = med[list(runs)[4]]
        print(f"(c)/(a') speed = {same_work / c:.2f}: ctxemb against the raw forward over the same windows")
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    torch.manual_seed(0)
    ext = Extractor.from_pretrained("minilm", device="cpu")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    texts = sentences(args.texts)
    measure(ext, texts, args.rounds, "Corpus 1: sentences of 5-60 words")
    measure(ext, with_long_texts(texts), args.rounds, "Corpus 2: the same with 1% of texts > 512 pieces")


if __name__ == "__main__":
    main()
