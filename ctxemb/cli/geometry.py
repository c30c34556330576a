"""``ctxemb geometry``: per-layer geometry of one or more models over a corpus (anisotropy, self-similarity, MEV,
rogue dimensions, norms, CKA), written as tables and plots.

Example: ``ctxemb geometry --model minilm --corpus news.txt --metrics anisotropy,selfsim,mev,rogue,cka --output out``.
Give ``--model`` several times to compare models: one line per model in the curves, and CKA across models on the
same words.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..extras import require_extra
from ..layers import parse_layers

logger = logging.getLogger("ctxemb")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    from ..analysis.geometry.corpus import CONTEXT_SPLITS
    from ..analysis.geometry.layerwise import GEOMETRY_METRICS
    from ..analysis.geometry.sampling import KEEP, UNITS

    p = sub.add_parser(
        "geometry",
        aliases=["layers"],  # the name before 0.2, kept for one release
        help="per-layer anisotropy, self-similarity, MEV, rogue dimensions, CKA",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model", action="append", default=None, help="local directory, hub id, or alias; repeat to compare models"
    )
    p.add_argument(
        "--corpus",
        required=True,
        type=Path,
        help="corpus: text (one text per line), or the text field of .jsonl/.csv/.parquet",
    )
    p.add_argument("--split", choices=CONTEXT_SPLITS, default="line", help="a context is a line or a sentence")
    p.add_argument(
        "--metrics",
        default=",".join(GEOMETRY_METRICS),
        help=f"comma list of {', '.join(GEOMETRY_METRICS)} (default: all)",
    )
    p.add_argument("--layers", default="all", help="all, 0,3,-1, -4: or 2 (default: all)")
    p.add_argument("--units", choices=UNITS, default="words", help="words (tokens pooled) or single tokens")
    p.add_argument(
        "--word-pool",
        "--pool",
        dest="pool",
        choices=("first", "last", "mean", "max"),
        default="mean",
        help="tokens -> word (--pool before 0.2)",
    )
    p.add_argument("--specials", choices=KEEP, default="exclude", help="special tokens as units (--units tokens only)")
    p.add_argument("--punctuation", choices=KEEP, default="exclude", help="punctuation-only units")
    p.add_argument("--first", choices=KEEP, default="include", help="each text's first unit")
    p.add_argument("--samples", type=int, default=1000, help="random units, one from each of as many texts")
    p.add_argument("--min-contexts", type=int, default=5, help="texts a word must occur in for self-similarity/MEV")
    p.add_argument("--max-words", type=int, default=500, help="most words for self-similarity and MEV")
    p.add_argument("--cka-samples", type=int, default=4000, help="units compared by CKA")
    p.add_argument("--cka", choices=("biased", "debiased"), default="debiased", help="CKA estimator")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default=None, help="float32 | bf16 | fp16 (default: the checkpoint's)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--output", type=Path, default=Path("layer-analysis"), help="output directory")
    p.set_defaults(run=run)


def parse_metrics(spec: str) -> tuple[str, ...]:
    """``--metrics`` as a tuple of metric names (``all`` for every one)."""
    from ..analysis.geometry.layerwise import GEOMETRY_METRICS

    if spec.strip() == "all":
        return GEOMETRY_METRICS
    metrics = tuple(dict.fromkeys(m.strip() for m in spec.split(",") if m.strip()))
    for m in metrics:
        if m not in GEOMETRY_METRICS:
            raise ValueError(f"--metrics {m!r}: choose from {', '.join(GEOMETRY_METRICS)} or all")
    if not metrics:
        raise ValueError("--metrics is empty")
    return metrics


def run(args: argparse.Namespace) -> int:
    """Analyse every model, print the table, write CSV/JSON per model, the curves and the CKA heatmaps."""
    require_extra("analysis", "ctxemb geometry")  # its plots: say so before any model runs
    from ..analysis.geometry.compare import analyse_models, model_name, summary_table
    from ..analysis.geometry.corpus import read_corpus
    from ..analysis.geometry.layerwise import LayerGeometry
    from ..analysis.geometry.plots import plot_cka, plot_layer_curves

    models = args.model or ["minilm"]
    metrics = parse_metrics(args.metrics)
    geometry = LayerGeometry(
        metrics,  # type: ignore[arg-type]
        parse_layers(args.layers),
        units=args.units,
        pool=args.pool,
        specials=args.specials,
        punctuation=args.punctuation,
        first=args.first,
        samples=args.samples,
        min_contexts=args.min_contexts,
        max_words=args.max_words,
        cka_samples=args.cka_samples,
        cka=args.cka,
        seed=args.seed,
    )
    texts = read_corpus(args.corpus, args.split)
    reports = analyse_models(
        models,
        texts,
        geometry,
        source=args.corpus.name,
        device=args.device,
        dtype=args.dtype,
        progress=False if args.no_progress else None,
    )
    args.output.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for report in reports:
        stem = model_name(report.model).replace("/", "_")
        files[f"{report.model} (CSV)"] = report.to_csv(args.output / f"layers-{stem}.csv")
        files[f"{report.model} (JSON)"] = report.to_json(args.output / f"layers-{stem}.json")
    columns = [m for m in reports[0].metrics if m != "rogue_dim"] + ["rogue_dim"]
    table = summary_table(reports, columns)
    (args.output / "layers.md").write_text(f"{reports[0].describe()}\n\n{table}\n", encoding="utf-8")
    files["table (markdown)"] = args.output / "layers.md"
    files["curves"] = plot_layer_curves(reports, args.output / "layer_curves.png")
    if any(r.cka for r in reports):
        files["CKA heatmaps"] = plot_cka(reports, args.output / "cka.png")
    print(f"Layer analysis of {', '.join(r.model for r in reports)} on {args.corpus} ({len(texts)} texts)")
    print(f"Sample: {reports[0].describe()}\n")
    print(table)
    print()
    for what, path in files.items():
        print(f"{what}: {path}")
    return 0
