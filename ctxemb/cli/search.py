"""``ctxemb search``: the occurrences in a store nearest by cosine to each query's marked word, at one layer or a mix.

Each query is a sentence with its target in square brackets (``"he sat on the [bank] of the river"``). It is
embedded with the store's own model and settings (from its manifest); the index of that layer and vector kind is
built beside the store on first use (``STORE/indexes/``). Each hit is printed as its score, text id, word, span
and the sentence with the word in brackets; ``--html`` writes a keyword-in-context table as well.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..mixing import MIX_MODES, MixLike
from ..store.index import INDEX_METHODS
from ..store.selection import SEARCH_KINDS

logger = logging.getLogger("ctxemb")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    p = sub.add_parser("search", help="meaning search over a store", description=__doc__)
    p.add_argument("queries", nargs="+", metavar="QUERY", help='a sentence with the target marked: "the [bank] of"')
    p.add_argument("--store", required=True, type=Path, help="the store directory")
    p.add_argument(
        "--layer",
        default=None,
        help=f"a stored layer (6, -1) or a mix of the stored layers ({', '.join(MIX_MODES)}); "
        "default: the store's mix or its only layer",
    )
    p.add_argument("--mix-weights", default=None, help="comma list of weights, one per stored layer, for weighted")
    p.add_argument("--kind", choices=SEARCH_KINDS, default="word", help="word or token vectors (default: word)")
    p.add_argument("--top", type=int, default=10, help="hits per query (default: 10)")
    p.add_argument("--same-form", action="store_true", help="only occurrences of the same word form")
    p.add_argument("--exclude-own-text", action="store_true", help="leave out stored texts equal to the query's")
    p.add_argument("--index", choices=INDEX_METHODS, default="exact", help="exact (default), or faiss")
    p.add_argument("--faiss-factory", default="HNSW32", help="FAISS index_factory string (default: HNSW32)")
    p.add_argument("--rebuild", action="store_true", help="build the index again (after the store was rewritten)")
    p.add_argument("--model", default=None, help="the store's model, if its name in the manifest does not load")
    p.add_argument("--html", type=Path, default=None, help="also write a keyword-in-context table to this HTML file")
    p.add_argument("--clusters", type=int, default=None, help="group each query's hits into K clusters (--html)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def layer_option(layer: str | None, weights: str | None) -> int | MixLike | None:
    """``--layer`` and ``--mix-weights`` as the ``layer`` of :meth:`ctxemb.store.Store.search`.

    Raises:
        ValueError: weights without ``--layer weighted``, or a layer that is neither an integer nor a mix.
    """
    if weights is not None:
        if layer != "weighted":
            raise ValueError("--mix-weights goes with --layer weighted")
        return ("weighted", [float(w) for w in weights.split(",") if w.strip()])
    if layer is None:
        return None
    try:
        return int(layer)
    except ValueError:
        if layer not in MIX_MODES or layer == "weighted":
            raise ValueError(
                f"--layer {layer!r} is neither a layer number nor one of mean, sum, concat (weighted needs "
                "--mix-weights)"
            ) from None
        return layer


def run(args: argparse.Namespace) -> int:
    """Search the store for each query and print the hits (and write the concordance page)."""
    from ..store import open_store
    from ..store.concordance import cluster_hits, write_concordance
    from ..store.search import marked_target

    if args.top < 1:
        raise ValueError(f"--top must be at least 1, got {args.top}")
    if args.clusters is not None and (args.html is None or args.clusters < 1):
        raise ValueError("--clusters K (K >= 1) groups the hits of the --html page; pass --html too")
    targets = [marked_target(query) for query in args.queries]
    layer = layer_option(args.layer, args.mix_weights)
    store = open_store(args.store)
    progress = False if args.no_progress else None
    extractor = None
    if args.model is not None:
        from ..extractor import Extractor

        extractor = Extractor.from_pretrained(args.model)
    if args.rebuild:
        store.build_index(
            layer,
            args.kind,
            index=args.index,
            faiss_factory=args.faiss_factory,
            overwrite=True,
            progress=progress,
        )
    elif args.index == "faiss":
        store.build_index(layer, args.kind, index="faiss", faiss_factory=args.faiss_factory, progress=progress)
    results = store.search(
        targets,
        layer,
        kind=args.kind,
        top=args.top,
        same_form=args.same_form,
        exclude_query_text=args.exclude_own_text,
        index=args.index,
        extractor=extractor,
        progress=progress,
    )
    for i, ((text, (start, end)), hits) in enumerate(zip(targets, results), start=1):
        print(f"query {i}: {text[:start]}[{text[start:end]}]{text[end:]}")
        if not hits:
            print("  (no occurrence qualifies)")
        for hit in hits:
            s, e = hit.span
            marked = " ".join(f"{hit.text[:s]}[{hit.word}]{hit.text[e:]}".split())
            print(f"  {hit.score:.3f}\t{hit.id}\t{hit.word}\t{s}:{e}\t{marked}")
    if args.html is not None:
        clusters = None
        if args.clusters is not None:
            clusters = [cluster_hits(store, hits, layer, args.kind, args.clusters) for hits in results]
        filters = [
            name for flag, name in ((args.same_form, "same form"), (args.exclude_own_text, "own text left out")) if flag
        ]
        about = (
            f"store {args.store} ({store.manifest['settings']['model']['name']}), "
            f"{args.kind} vectors, layer {args.layer or 'of the store'}, {args.index} search, top {args.top}"
            + (f"; {', '.join(filters)}" if filters else "")
        )
        path = write_concordance(args.html, targets, results, clusters, about)
        logger.info("wrote %s", path)
    return 0
