"""Do a model's layers tell word senses apart? The polysemy probe from Python, with every post-processing.

Embeds the bundled probe set once, then scores every layer, the mean of the layers, a learnable-style scalar mix
(fixed weights favouring the upper layers), and the word2vec baselines, under each post-processing switch.

Run: python examples/polysemy_probe.py [--model minilm] [--output polysemy-example]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import ctxemb
from ctxemb.analysis.polysemy import POSTPROCESS, PolysemyProbe, default_static_vectors, load_bundled, prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--output", type=Path, default=Path("polysemy-example"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    ext = ctxemb.Extractor.from_pretrained(args.model)
    data = prepare(load_bundled())  # 728 sentences, 44 words, 91 senses, train/test splits, WiC-style pairs
    vectors, layers = PolysemyProbe().embed(ext, data)  # (layers, n, dim): embed once, probe many times
    upper = ctxemb.ScalarMix(len(layers), initial_weights=[float(k) for k in range(len(layers))])
    static = {"word2vec": default_static_vectors()}  # trained on gensim's text8 sample, cached
    args.output.mkdir(parents=True, exist_ok=True)
    for method in POSTPROCESS:
        probe = PolysemyProbe(mixes=("mean", upper), postprocess=method)
        report = probe.score(data, vectors, layers, static, model_name=args.model)
        print(f"\n== post-processing: {method} ==")
        print(report.table())
        report.to_csv(args.output / f"polysemy-{method}.csv")
        print(f"plot: {report.plot(args.output / f'polysemy-{method}.png')}")


if __name__ == "__main__":
    main()
