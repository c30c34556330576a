"""Where do an encoder and a decoder LLM tell word senses apart? Both, layer by layer, on the bundled polysemy set.

Runs the polysemy probe (PolysemyProbe) on a BERT-style encoder and a decoder LLM and prints one table with the
layers side by side at the same relative depth (layer / number of blocks), since the two seldom have as many
layers. Each column is a probe metric: 1-NN sense accuracy, the gap between within-sense and across-sense cosine,
and WiC-style same-sense accuracy, with the mean-centred vectors (the decoder's common direction is large).

Any checkpoint works for either side (a local directory or a hub id: Llama, Qwen, Gemma, Pythia, OPT ...). Offline,
with no decoder LLM at hand, ``--decoder tiny-llama`` builds a tiny random Llama with a Llama-style tokenizer trained on
the bundled corpus; its numbers are those of random weights, useful for running the script, not for reading it. Rows
are relative depths: a model with half as many layers leaves every other row of its columns empty.

Run: python examples/encoder_vs_decoder.py [--encoder minilm] [--decoder ./Qwen2.5-0.5B] [--metrics ...]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import ctxemb
from ctxemb.analysis.polysemy import PolysemyProbe, load_bundled, prepare

METRICS = ("knn_accuracy", "sense_gap", "wic_accuracy")


def load(name: str, cache: Path) -> ctxemb.Extractor:
    """A checkpoint by name or path; ``tiny-<family>`` is built offline (random weights)."""
    if name.startswith("tiny-"):
        from ctxemb.testing import tiny_checkpoint

        return ctxemb.Extractor.from_pretrained(tiny_checkpoint(name[5:], cache / name), device="cpu")
    return ctxemb.Extractor.from_pretrained(name, dtype="bf16" if name not in ("minilm",) else None)


def by_depth(report, metrics: tuple[str, ...]) -> dict[float, dict[str, float]]:
    """``{relative depth: {metric: value}}`` for the layers of one report."""
    rows: dict[float, dict[str, float]] = {}
    for metric in metrics:
        layers, values = report.layer_values(metric)
        for layer, value in zip(layers, values):
            rows.setdefault(layer / max(layers), {})[metric] = value
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="minilm", help="an encoder checkpoint (default: the bundled MiniLM)")
    parser.add_argument("--decoder", default="tiny-llama", help="a decoder LLM checkpoint (default: a tiny Llama)")
    parser.add_argument("--metrics", default=",".join(METRICS), help="probe metrics to show (comma list)")
    parser.add_argument("--cache", type=Path, default=Path("tiny-checkpoints"), help="where tiny-* models go")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    metrics = tuple(args.metrics.split(","))

    data = prepare(load_bundled())  # 728 sentences, 44 words, 91 senses
    probe = PolysemyProbe(postprocess="center")
    columns = {}
    for side, name in (("encoder", args.encoder), ("decoder", args.decoder)):
        ext = load(name, args.cache)
        print(f"{side}: {name} ({ext.family.name}, {ext.num_layers} blocks)")
        report = probe.run(ext, data, model_name=name, progress=False)
        columns[side] = by_depth(report, metrics)

    depths = sorted({d for side in columns.values() for d in side})
    heading = " | ".join(f"{side} {metric}" for side in columns for metric in metrics)
    print(f"\n| depth | {heading} |")
    print("|---:|" + "---:|" * (len(columns) * len(metrics)))
    for depth in depths:
        cells = [
            f"{columns[side][depth][m]:.3f}" if depth in columns[side] and m in columns[side][depth] else ""
            for side in columns
            for m in metrics
        ]
        print(f"| {depth:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
