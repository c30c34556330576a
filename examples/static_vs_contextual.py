"""Static baselines against static vectors distilled from MiniLM, on one corpus and the same items.

Trains the one-hot floor, PPMI-SVD, word2vec (skip-gram) and GloVe on the Wikipedia sample that gensim bundles
(206 articles, turned into 446k words of plain text, as written: not stemmed) or any corpus given, distils MiniLM
two ways on the same corpus and scores everything on WordSim-353 and SimLex-999:

- ``minilm/...``: each task word's mean vector over its first few occurrences in the same corpus, per layer, plus
  its input embeddings (Bommasani et al. 2020); only the task words that occur in the corpus get one;
- ``minilm-alone/...``: each task word embedded alone, as a one-word text (model2vec's vocabulary distillation,
  before its PCA): no corpus needed, so every task word gets one.

Every score is printed with its coverage; ``matched`` scores every model on the items all of them cover. A stemmed
corpus such as gensim's text8 sample takes ``--keys porter`` (task words are then looked up, and distilled, by their
Porter stem).

Run: python examples/static_vs_contextual.py [--corpus FILE] [--keys lower|porter] [--occurrences 5]
"""

from __future__ import annotations

import argparse
import bz2
import logging
import re
import time
from pathlib import Path

from gensim.test.utils import datapath

import ctxemb
from ctxemb.static import PPMISVD, GloVe, OneHot, Word2Vec, distill, evaluate, load_task
from ctxemb.static.evaluation import key_function
from ctxemb.static.report import Evaluation

TASKS = ("wordsim353", "simlex999")
WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"  # in gensim's test data


def wikipedia_text(path: Path) -> Path:
    """gensim's bundled Wikipedia sample as plain text, one paragraph (of 10 words or more) per line.

    gensim's own wiki reader does the work: ``extract_pages`` for the articles (redirects skipped) and
    ``filter_wiki`` for the markup; the bold and italic quotes it leaves are removed here. Written once, to ``path``.
    """
    if path.is_file():
        return path
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    lines = []
    with bz2.open(datapath(WIKI)) as dump:
        for _, text, _ in extract_pages(dump, filter_namespaces=("0",)):
            if text.lower().startswith("#redirect"):
                continue
            for paragraph in filter_wiki(text).split("\n"):
                words = re.sub(r"'{2,}", "", paragraph).split()
                if len(words) >= 10:
                    lines.append(" ".join(words))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--occurrences", type=int, default=5, help="occurrences averaged per distilled word")
    parser.add_argument("--max-words", type=int, default=24, help="words of context per piece of text")
    parser.add_argument("--dim", type=int, default=100, help="dimensions of the trained methods")
    parser.add_argument("--glove-epochs", type=int, default=10)
    parser.add_argument("--output", type=Path, default=Path("static-example"))
    parser.add_argument(
        "--corpus", type=Path, default=None, help="one text per line (default: gensim's Wikipedia sample, as text)"
    )
    parser.add_argument(
        "--keys", choices=("lower", "porter"), default="lower", help="porter for a Porter-stemmed corpus"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    corpus = args.corpus or wikipedia_text(args.output / "wikipedia.txt")
    print(f"corpus: {corpus}")

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

    spell = key_function(args.keys)  # distil the task words as the corpus spells them
    words = sorted({spell(w) for task in TASKS for item in load_task(task).items for w in item[:2]})
    extractor = ctxemb.Extractor.from_pretrained(args.model)
    start = time.perf_counter()
    models["minilm"] = distill(
        extractor, corpus, "all", max_occurrences=args.occurrences, words=words, max_words=args.max_words
    )
    print(
        f"minilm in context: {len(models['minilm']['layer0'])} of {len(words)} task words occur in the corpus, "
        f"{time.perf_counter() - start:.0f} s"
    )
    start = time.perf_counter()
    models["minilm-alone"] = distill(extractor, None, "all", contexts=None, words=words, input_layer=False)
    print(f"minilm alone: {len(models['minilm-alone']['layer0'])} task words, {time.perf_counter() - start:.0f} s")

    result = evaluate(models, TASKS, keys=args.keys)
    print()
    print(result.table())
    args.output.mkdir(parents=True, exist_ok=True)
    result.to_csv(args.output / "static_vs_contextual.csv")
    result.to_json(args.output / "static_vs_contextual.json")
    print()
    print(summary(result))


def summary(result: Evaluation) -> str:
    """Per task, the best distilled layer of each kind beside the trained methods: on the items every model
    covers (``matched``), and on each model's own items (``own``, with how many it covers)."""
    lines = []
    for task in TASKS:
        in_context = [m for m in result.models if m.startswith("minilm/layer")]
        alone = [m for m in result.models if m.startswith("minilm-alone/")]
        best_ctx = max(in_context, key=lambda m: result.row(m, task).matched_score)
        best_alone = max(alone, key=lambda m: result.row(m, task).matched_score)
        rows = [(f"{best_ctx} (best in context)", best_ctx), (f"{best_alone} (best alone)", best_alone)]
        rows += [(m, m) for m in ("ppmi-svd", "word2vec", "glove")] + [("one-hot (the floor)", "one-hot")]
        lines.append(f"{task:<36} {'matched':>8} {'own':>7} {'items':>6}")
        for label, name in rows:
            row = result.row(name, task)
            lines.append(f"{label:<36} {row.matched_score:>8.3f} {row.score:>7.3f} {row.covered:>6}")
        first = result.row("one-hot", task)
        lines.append(
            f"matched: the {first.matched} of {first.total} items every model covers; best layers picked on them"
        )
        lines.append("")
    return "\n".join(lines).rstrip("\n")


if __name__ == "__main__":
    main()
