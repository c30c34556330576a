"""How similar are two occurrences of a word, layer by layer? A short tour of the Python API.

Run: python examples/word_similarity_by_layer.py [--model minilm]
"""

from __future__ import annotations

import argparse

import numpy as np

import ctxemb


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two ``(layers, dim)`` arrays: ``(layers,)``."""
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="minilm")
    args = parser.parse_args()
    ext = ctxemb.Extractor.from_pretrained(args.model)
    pairs = {
        "same sense (light = not heavy)": ("The box was light enough to carry.", "Her bag felt light today."),
        "different sense (light = lamp)": ("The box was light enough to carry.", "Turn off the light, please."),
    }
    print(f"{'layer':>5}  " + "  ".join(f"{name:>32}" for name in pairs))
    vectors = {}
    for name, (first, second) in pairs.items():
        targets = [(text, (text.index("light"), text.index("light") + 5)) for text in (first, second)]
        v = ext.embed_spans(targets, pool="mean")  # (layers, 2, dim)
        vectors[name] = cosine(v[:, 0], v[:, 1])
    for k in range(ext.num_layers + 1):
        print(f"{k:>5}  " + "  ".join(f"{vectors[name][k]:>32.3f}" for name in pairs))
    # The same through whole-text results and a layer mix:
    result = ext.embed(["Turn off the light, please."])[0]
    mixed = ctxemb.mix(result.word_vectors("mean"), "mean")  # (words, dim)
    print(f"\n{len(result.words)} words {result.words}; mean over layers gives shape {mixed.shape}")


if __name__ == "__main__":
    main()
