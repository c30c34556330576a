"""Static baselines against static vectors distilled from MiniLM, on one corpus and the same items.

Trains the one-hot floor, PPMI-SVD, word2vec (skip-gram) and GloVe on gensim's bundled text8 sample
(``head500.noblanks.cor``: 330k words, lowercased, Porter-stemmed), distils MiniLM on the same corpus (every layer
plus its input embeddings; only the words of the two similarity sets, a few occurrences each, to keep it to minutes
on a CPU), and scores everything on WordSim-353 and SimLex-999 (task words Porter-stemmed to match the corpus).

Run: python examples/static_vs_contextual.py [--occurrences 5] [--corpus FILE] [--output static-example]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from gensim.test.utils import datapath

import ctxemb
from ctxemb.static import PPMISVD, GloVe, OneHot, Word2Vec, distill, evaluate, load_task
from ctxemb.static.evaluation import key_function

TASKS = ("wordsim353", "simlex999")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--occurrences", type=int, default=5, help="occurrences averaged per distilled word")
    parser.add_argument("--max-words", type=int, default=24, help="words of context per piece of text")
    parser.add_argument("--dim", type=int, default=100, help="dimensions of the trained methods")
    parser.add_argument("--glove-epochs", type=int, default=10)
    parser.add_argument("--output", type=Path, default=Path("static-example"))
    parser.add_argument(
        "--corpus", type=Path, default=None, help="a stemmed corpus, one text per line (default: gensim's text8 sample)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    corpus = args.corpus or datapath("head500.noblanks.cor")

    trainers = {
        "one-hot": OneHot(),
        "ppmi-svd": PPMISVD(dim=args.dim),
        "word2vec": Word2Vec(dim=args.dim),
        "glove": GloVe(dim=args.dim, epochs=args.glove_epochs),
    }
    models: dict = {}
    for name, estimator in trainers.items():
        start = time.perf_counter()
        models[name] = estimator.fit(corpus).vectors_
        print(f"{name}: {len(models[name])} words, {time.perf_counter() - start:.0f} s")

    stem = key_function("porter")  # the corpus is stemmed: distil the stems of the task words
    words = sorted({stem(w) for task in TASKS for item in load_task(task).items for w in item[:2]})
    extractor = ctxemb.Extractor.from_pretrained(args.model)
    start = time.perf_counter()
    models["minilm"] = distill(
        extractor, corpus, "all", max_occurrences=args.occurrences, words=words, max_words=args.max_words
    )
    print(f"minilm: {len(models['minilm']['layer0'])} of {len(words)} task words, {time.perf_counter() - start:.0f} s")

    result = evaluate(models, TASKS, keys="porter")
    print()
    print(result.table())
    args.output.mkdir(parents=True, exist_ok=True)
    result.to_csv(args.output / "static_vs_contextual.csv")
    result.to_json(args.output / "static_vs_contextual.json")

    print()
    floor = result.row("one-hot", "wordsim353").score
    for name in ("ppmi-svd", "word2vec", "glove"):
        score = result.row(name, "wordsim353").score
        print(f"WordSim-353: {name} {score:.3f} {'beats' if score > floor else 'does NOT beat'} the one-hot floor")
    for task in TASKS:
        layers = [m for m in result.models if m.startswith("minilm/")]
        best = max(layers, key=lambda m: result.row(m, task).matched_score)
        ours, w2v = result.row(best, task).matched_score, result.row("word2vec", task).matched_score
        verdict = "beats" if ours > w2v else "does NOT beat"
        print(
            f"{task} (matched, {result.row(best, task).matched} pairs): best distilled {best} {ours:.3f} {verdict} "
            f"word2vec {w2v:.3f}"
        )


if __name__ == "__main__":
    main()
