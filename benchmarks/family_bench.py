"""Extraction speed per family: ctxemb against each family's raw forward pass, on the tiny checkpoints.

For every family's tiny checkpoint (``ctxemb.testing.tiny_checkpoint``) and, with ``--size small``, a randomly
initialised model of MiniLM's size (hidden 384, 6 layers, 12 heads; ``ctxemb.testing.tiny_config``) with the
same tokenizer, prints pieces/s (medians over interleaved rounds) of
  (a) the raw model forward on length-sorted batches of pre-tokenized ids, nothing kept, under the batch shape
      that makes it fastest (as in the core benchmark, ``extract_bench.py``), and
  (c) ctxemb under that same batch shape: ``Extractor.embed`` + ``word_vectors("mean")`` for every layer
      (tokenization included),
and the ratio (c)/(a). The raw forward starts from piece ids; ctxemb starts from text. Both run the same
sequences: each family gets the first ``--texts`` sentences that fit its window (the tiny checkpoints have 128
positions; windowing long texts is measured by the core benchmark's second corpus). Two more columns time
tokenization alone (the tokenizer's Rust backend, or the Python tokenizer where there is none) and the ratio an
extractor would reach if tokenizing were all it added: on the tiny models (hidden 32) that alone comes near or
below 0.8. "Cores busy in (a)" is the raw forward's process CPU time over its wall time: at 2.0 on this 2-core
machine no core is left idle for tokenizing beside the forward pass. The small size shows the ratio where the
model does real work.

Usage: python benchmarks/family_bench.py [--rounds 3] [--texts 1000] [--size tiny|small] [--families bert,gpt2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
from extract_bench import best_shape, sentences, timed
from transformers import AutoModel

from ctxemb import Extractor
from ctxemb.encoding import encode
from ctxemb.families import pad_id
from ctxemb.testing import SUPPORTED_FAMILIES, tiny_checkpoint, tiny_config

SMALL = {"hidden": 384, "layers": 6, "heads": 12}


def raw_forward(ext: Extractor, ids: list[np.ndarray], max_tokens: int, max_batch: int) -> None:
    """Length-sorted batches of the same ids ctxemb runs, padded under a mask; nothing kept."""
    family = ext.family
    lengths = np.array([len(x) for x in ids])
    order = np.argsort(-lengths, kind="stable")
    fill = pad_id(ext.tokenizer, family)
    i = 0
    with torch.inference_mode():
        while i < len(order):
            size = max(1, min(max_batch, max_tokens // int(lengths[order[i]])))
            rows = [ids[j] for j in order[i : i + size]]
            width = max(len(r) for r in rows)
            batch = np.full((len(rows), width), fill, dtype=np.int64)
            mask = np.zeros_like(batch)
            for r, seq in enumerate(rows):
                begin = width - len(seq) if family.padding_side == "left" else 0
                batch[r, begin : begin + len(seq)] = seq
                mask[r, begin : begin + len(seq)] = 1
            ext.model(
                input_ids=torch.from_numpy(batch), attention_mask=torch.from_numpy(mask), **dict(family.model_kwargs)
            )
            i += size


def tokenize_only(ext: Extractor, texts: list[str]) -> None:
    """Tokenization alone, the cheapest way the model's tokenizer offers (the Rust backend when there is one)."""
    backend = getattr(ext.tokenizer, "backend_tokenizer", None)
    if backend is not None:
        backend.encode_batch(texts)
    else:
        ext.tokenizer(texts)


def ctxemb_words(ext: Extractor, texts: list[str]) -> None:
    for result in ext.embed(texts):
        result.word_vectors("mean")


def load(family: str, size: str, root: Path) -> Extractor:
    directory = tiny_checkpoint(family, root / family)
    if size == "tiny":
        return Extractor.from_pretrained(directory, device="cpu")
    ext = Extractor.from_pretrained(directory, device="cpu")
    config = tiny_config(family, ext.tokenizer, **SMALL)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModel.from_config(config).eval()
    return Extractor(model, ext.tokenizer, max_tokens=ext.max_tokens, max_batch=ext.max_batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--size", choices=("tiny", "small"), default="tiny")
    parser.add_argument("--families", default=",".join(SUPPORTED_FAMILIES))
    args = parser.parse_args()
    pool = sentences(args.texts + args.texts // 5)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.texts} texts; {args.rounds} rounds")
    print(
        f"\n| family ({args.size}) | pieces | (a) raw forward pieces/s | (c) ctxemb pieces/s | (c)/(a) "
        "| tokenizing alone, share of (a)'s time | (a)/((a) + tokenizing) | cores busy in (a) | batch shape |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families.split(","):
            ext = load(family, args.size, Path(tmp))
            fits = [(t, e.ids) for t, e in zip(pool, encode(ext.tokenizer, pool)) if len(e.ids) <= (ext.window or 1e9)]
            if len(fits) < args.texts:
                raise SystemExit(f"{family}: only {len(fits)} of {len(pool)} sentences fit the window")
            texts, ids = (list(x) for x in zip(*fits[: args.texts]))
            pieces = sum(len(x) for x in ids)
            trial = ids[: len(ids) // 4]
            ext.max_tokens, ext.max_batch = best_shape(lambda m, b, ext=ext, trial=trial: raw_forward(ext, trial, m, b))
            runs = {
                "a": lambda ext=ext, ids=ids: raw_forward(ext, ids, ext.max_tokens, ext.max_batch),
                "c": lambda ext=ext, texts=texts: ctxemb_words(ext, texts),
                "t": lambda ext=ext, texts=texts: tokenize_only(ext, texts),
            }
            times: dict[str, list[float]] = {k: [] for k in runs}
            cpu: dict[str, list[float]] = {k: [] for k in runs}
            for r in range(args.rounds):
                for k in list(runs)[r % 3 :] + list(runs)[: r % 3]:
                    times[k].append(timed(runs[k], cpu[k]))
            a, c, t = (statistics.median(times[k]) for k in "act")
            busy = statistics.median(x / y for x, y in zip(cpu["a"], times["a"]))
            print(
                f"| {family} | {pieces} | {pieces / a:,.0f} | {pieces / c:,.0f} | {a / c:.2f} | {t / a:.2f} "
                f"| {a / (a + t):.2f} | {busy:.2f} | {ext.max_tokens}/{ext.max_batch} |"
            )


if __name__ == "__main__":
    main()
