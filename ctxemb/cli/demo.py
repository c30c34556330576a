"""``ctxemb demo``: does the model tell a river bank from a money bank, layer by layer?"""

from __future__ import annotations

import argparse

import numpy as np

SENTENCES: dict[str, list[str]] = {
    "river": [
        "They had a picnic on the grassy bank of the river.",
        "The canoe drifted toward the muddy bank after the storm.",
        "Fishermen lined the bank of the stream at dawn.",
        "Wildflowers grew along the steep bank of the creek.",
        "The otter slid down the bank into the cold water.",
    ],
    "money": [
        "She opened a savings account at the bank downtown.",
        "The bank approved his loan application on Friday.",
        "He withdrew cash from the bank before the trip.",
        "The central bank raised interest rates again.",
        "My bank charges a fee for every wire transfer.",
    ],
}
WORD = "bank"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    p = sub.add_parser("demo", help="per-layer sense separation of 'bank' (runs offline on MiniLM)")
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    p.add_argument("--device", default="auto")
    p.set_defaults(run=run)


def sense_table(vectors: np.ndarray, senses: list[str]) -> list[tuple[float, float, float]]:
    """Per layer: mean cosine within a sense, across senses, and leave-one-out 1-NN sense accuracy.

    Args:
        vectors: ``(n, layers, dim)``.
        senses: the sense of each of the ``n`` occurrences.
    """
    labels = np.array(senses)
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    rows = []
    for k in range(vectors.shape[1]):
        unit = vectors[:, k] / np.linalg.norm(vectors[:, k], axis=1, keepdims=True)
        cos = unit @ unit.T
        within = cos[same & off_diagonal].mean()
        across = cos[~same].mean()
        nearest = np.where(off_diagonal, cos, -np.inf).argmax(axis=1)
        rows.append((float(within), float(across), float((labels[nearest] == labels).mean())))
    return rows


def run(args: argparse.Namespace) -> int:
    """Embed every 'bank' occurrence and print the per-layer table."""
    from ..extractor import Extractor

    extractor = Extractor.from_pretrained(args.model, device=args.device)
    targets, senses = [], []
    for sense, sentences in SENTENCES.items():
        for sentence in sentences:
            start = sentence.lower().index(WORD)
            targets.append((sentence, (start, start + len(WORD))))
            senses.append(sense)
    vectors = extractor.embed_spans(targets, pool="mean")
    rows = sense_table(vectors, senses)
    print(f"Model: {args.model} ({extractor.num_layers} layers; layer 0 = embedding output)")
    print(f"{len(targets)} occurrences of '{WORD}': {len(SENTENCES['river'])} river, {len(SENTENCES['money'])} money")
    print()
    print("layer  within-sense cos  across-sense cos    gap  1-NN sense acc")
    for k, (within, across, accuracy) in zip(range(len(rows)), rows):
        print(f"{k:>5}  {within:>16.3f}  {across:>16.3f}  {within - across:>5.3f}  {accuracy:>14.0%}")
    best = int(np.argmax([w - a for w, a, _ in rows]))
    print()
    print(
        f"Layer 0 holds the word and its position but no context, so every '{WORD}' looks alike (gap "
        f"{rows[0][0] - rows[0][1]:.3f}). The gap between senses is widest at layer {best} "
        f"({rows[best][0] - rows[best][1]:.3f}): that is where this model separates the two meanings most."
    )
    return 0
