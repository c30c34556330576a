"""``ctxemb explore``: the explorer page, one self-contained HTML file that opens offline.

It runs the polysemy probe (as ``ctxemb probe polysemy``) and writes each word's occurrences in 2-D, layer by layer,
with a word picker and a layer slider, the per-layer metric curves with the static baselines, and the provenance.
Layer reports written by ``ctxemb geometry`` (``layers-MODEL.json``) add their curves and CKA heat maps.

Example: ``ctxemb explore --model minilm --data bundled --output explore.html``, then open ``explore.html``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..extras import require_extra
from .probe_polysemy import add_probe_arguments, run_probe

logger = logging.getLogger("ctxemb")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    p = sub.add_parser(
        "explore",
        help="an interactive page of the layers: occurrences in 2-D, metric curves (one offline HTML file)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    p.add_argument("--data", default="bundled", help="bundled | wic:DIR | wsd:XML,KEY | FILE.jsonl (default: bundled)")
    add_probe_arguments(p)
    p.add_argument(
        "--projection",
        choices=("pca", "umap", "tsne"),
        default="pca",
        help="2-D projection fitted per word and layer: pca (default), umap (needs umap-learn) or tsne",
    )
    p.add_argument(
        "--words",
        default=None,
        help="comma-separated words to show in the occurrence view (default: every word of the data)",
    )
    p.add_argument(
        "--geometry",
        action="append",
        type=Path,
        default=[],
        help="a layer report written by ctxemb geometry (layers-MODEL.json) to add; repeat for several",
    )
    p.add_argument("--title", default=None, help="the page title (default: names the model and the data)")
    p.add_argument("--output", type=Path, default=Path("explore.html"), help="the HTML file (default: explore.html)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the probe and write the page."""
    require_extra("analysis", "ctxemb explore")
    from ..analysis.explorer import write_page
    from ..analysis.explorer.projection import check_projection
    from ..analysis.geometry.report import LayerReport

    check_projection(args.projection)  # before any model runs
    if args.output.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"--output {args.output}: the page is one HTML file; give a name ending in .html")
    for path in args.geometry:
        if not path.is_file():
            raise ValueError(f"--geometry {path}: no such file (a layers-MODEL.json written by ctxemb geometry)")
    geometry = [LayerReport.from_json(path) for path in args.geometry]
    words = [w.strip() for w in args.words.split(",") if w.strip()] if args.words else None
    if words:  # before any model runs
        from ..analysis.polysemy import load_data

        present = {o.word for o in load_data(args.data).occurrences}
        missing = [w for w in words if w not in present]
        if missing:
            raise ValueError(f"--words: no occurrence of {', '.join(map(repr, missing))} in {args.data}")
    report = run_probe(args, args.data)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    page = write_page(
        args.output, polysemy=report, geometry=geometry, projection=args.projection, words=words, title=args.title
    )
    print(f"Explorer page of {args.model} on {report.data_name} ({report.description}): {page}")
    print("Open it in a browser; it needs no network and no server.")
    return 0
