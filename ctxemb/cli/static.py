"""``ctxemb static``: train static baselines, distil static vectors from a contextual model, evaluate them.

``ctxemb static train --method glove --corpus FILE --dim 300 --output vecs.txt`` trains one method;
``ctxemb static distill --model minilm --corpus FILE --layers all --output DIR`` writes one vectors file per layer
(``input.txt``, ``layer0.txt``, ...); ``ctxemb static eval VECTORS... --tasks wordsim353 simlex999 analogy`` scores
files and directories of them side by side, coverage-matched, and prints the table.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..layers import layer_of, parse_layers
from ..pooling import WORD_POOLS
from ..progress import progress_bar

if TYPE_CHECKING:
    from ..static.base import StaticModel

logger = logging.getLogger("ctxemb")

METHODS = ("ppmi-svd", "lsa", "word2vec", "cbow", "fasttext", "glove", "onehot")
FILE_FORMATS = ("auto", "word2vec", "word2vec-binary", "glove")
VECTOR_SUFFIXES = (".txt", ".vec", ".bin")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``static`` subcommand with ``train``, ``distill`` and ``eval`` under it."""
    p = sub.add_parser("static", help="static word vectors: train, distil, evaluate", description=__doc__)
    inner = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    t = inner.add_parser("train", help="train a static baseline on a corpus file")
    t.add_argument("--method", choices=METHODS, required=True, help="word2vec is skip-gram, cbow its CBOW variant")
    t.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="corpus: text (one text per line), or the text field of .jsonl/.csv/.parquet",
    )
    t.add_argument("--output", type=Path, required=True, help="vectors file (.bin: word2vec binary)")
    t.add_argument("--format", choices=FILE_FORMATS, default="auto", help="file format (default: from the suffix)")
    t.add_argument("--dim", type=int, default=None, help="dimensions (default: the method's own)")
    for name, kind, text in (
        ("--window", int, "largest word-context distance"),
        ("--epochs", int, "passes over the corpus or the co-occurrences"),
        ("--min-count", int, "keep words seen at least this often (default 5)"),
        ("--max-vocab", int, "keep at most this many words"),
        ("--seed", int, "random seed (default 0)"),
        ("--workers", int, "training threads (word2vec, fastText)"),
        ("--threads", int, "torch threads (GloVe; default 1, the fastest measured)"),
    ):
        t.add_argument(name, type=kind, default=None, help=text)
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(run=run_train)

    d = inner.add_parser("distill", help="average a contextual model's word vectors over a corpus, per layer")
    d.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    d.add_argument(
        "--corpus",
        type=Path,
        required=True,
        help="corpus: text (one text per line), or the text field of .jsonl/.csv/.parquet",
    )
    d.add_argument("--layers", default="all", help="all, 0,3,-1, -4: or 2 (default: all)")
    d.add_argument("--output", type=Path, required=True, help="directory for input.txt, layer0.txt, ...")
    d.add_argument("--format", choices=FILE_FORMATS, default="auto", help="file format (default: word2vec text)")
    d.add_argument("--max-occurrences", type=int, default=100, help="occurrences averaged per word (default 100)")
    d.add_argument("--min-count", type=int, default=1, help="distil words seen at least this often (default 1)")
    d.add_argument("--words", type=Path, default=None, help="distil only these words (a file, one word a line)")
    d.add_argument(
        "--word-pool",
        "--pool",
        dest="pool",
        choices=WORD_POOLS,
        default="mean",
        help="tokens -> word (default mean; --pool before 0.2)",
    )
    d.add_argument("--max-words", type=int, default=64, help="words of context per piece of text (default 64)")
    d.add_argument("--no-input", action="store_true", help="skip the input-embedding baseline")
    d.add_argument("--device", default="auto")
    d.add_argument("--no-progress", action="store_true")
    d.set_defaults(run=run_distill)

    e = inner.add_parser("eval", help="score vectors files side by side, coverage-matched")
    e.add_argument("vectors", nargs="+", type=Path, help="vectors files, or directories of them (scored per file)")
    e.add_argument("--tasks", nargs="+", default=["wordsim353", "simlex999", "analogy"], help="names or files")
    e.add_argument("--keys", choices=("lower", "exact", "porter"), default="lower", help="how task words are looked up")
    e.add_argument(
        "--oov",
        choices=("skip", "ngrams"),
        default="skip",
        help="fastText words with only n-gram vectors: not covered (skip, as gensim) or covered (ngrams)",
    )
    e.add_argument("--restrict-vocab", type=int, default=300_000, help="only the most frequent words count")
    e.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load gensim's own pickle-based files (unsafe for files you did not make: unpickling runs code)",
    )
    e.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    e.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    e.add_argument("--no-progress", action="store_true")
    e.set_defaults(run=run_eval)


def _estimator(args: argparse.Namespace) -> StaticModel:
    from .. import static

    classes: dict[str, type[StaticModel]] = {
        "ppmi-svd": static.PPMISVD,
        "lsa": static.LSA,
        "word2vec": static.Word2Vec,
        "cbow": static.Word2Vec,
        "fasttext": static.FastText,
        "glove": static.GloVe,
        "onehot": static.OneHot,
    }
    cls = classes[args.method]
    accepted = inspect.signature(cls).parameters
    options: dict[str, Any] = {"progress": False if args.no_progress else None}
    if args.method == "cbow":
        options["architecture"] = "cbow"
    for name in ("dim", "window", "epochs", "min_count", "max_vocab", "seed", "workers", "threads"):
        value = getattr(args, name)
        if value is None:
            continue
        if name not in accepted:
            raise ValueError(f"--{name.replace('_', '-')} does not apply to --method {args.method}")
        options[name] = value
    return cls(**options)


def run_train(args: argparse.Namespace) -> int:
    """Train one method on the corpus file and write its vectors."""
    from ..static import save_vectors

    estimator = _estimator(args)
    start = time.perf_counter()
    estimator.fit(args.corpus)
    seconds = time.perf_counter() - start
    vectors = estimator.vectors_
    save_vectors(vectors, args.output, args.format)
    print(f"{args.method}: {len(vectors)} words x {vectors.vector_size} dims in {seconds:.1f} s -> {args.output}")
    return 0


def run_distill(args: argparse.Namespace) -> int:
    """Distil the model's layers over the corpus file and write one vectors file per layer."""
    from ..extractor import Extractor
    from ..static import distill, save_vectors

    words = None
    if args.words is not None:
        words = [w.strip() for w in args.words.read_text(encoding="utf-8").splitlines() if w.strip()]
    extractor = Extractor.from_pretrained(args.model, device=args.device)
    out = distill(
        extractor,
        args.corpus,
        parse_layers(args.layers),
        max_occurrences=args.max_occurrences,
        words=words,
        min_count=args.min_count,
        pool=args.pool,
        max_words=args.max_words,
        input_layer=not args.no_input,
        progress=False if args.no_progress else None,
    )
    suffix = ".bin" if args.format == "word2vec-binary" else ".txt"
    for name, vectors in out.items():
        save_vectors(vectors, args.output / f"{name}{suffix}", args.format)
    first = next(iter(out.values()))
    print(f"{len(out)} vectors files ({len(first)} words x {first.vector_size} dims) -> {args.output}")
    return 0


def _vector_files(paths: list[Path]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in VECTOR_SUFFIXES)
            if not found:
                raise FileNotFoundError(f"directory {path} holds no vectors file ({', '.join(VECTOR_SUFFIXES)})")
            files.update({f"{path.name}/{p.stem}": p for p in _layer_order(found)})
        elif path.is_file():
            files[path.stem if path.stem not in files else str(path)] = path
        else:
            raise FileNotFoundError(f"vectors file {path} does not exist")
    return files


def _layer_order(files: list[Path]) -> list[Path]:
    """``input`` first, then ``layer2`` before ``layer10``, then the rest by name."""

    def key(p: Path) -> tuple:
        if p.stem == "input":
            return (0, 0, "")
        if layer_of(p.stem) is not None:
            return (1, layer_of(p.stem), "")
        return (2, 0, p.stem)

    return sorted(files, key=key)


def run_eval(args: argparse.Namespace) -> int:
    """Load every vectors file, score them on the tasks and print the table."""
    from ..static import evaluate, load_vectors

    files = _vector_files(args.vectors)
    models = {}
    shown = False if args.no_progress else None
    for name, path in progress_bar(files.items(), desc="loading", unit="file", progress=shown):
        models[name] = load_vectors(path, allow_pickle=args.allow_pickle)
    result = evaluate(models, args.tasks, keys=args.keys, oov=args.oov, restrict_vocab=args.restrict_vocab)
    print(result.table())
    if args.csv is not None:
        result.to_csv(args.csv)
    if args.json is not None:
        result.to_json(args.json)
    return 0
