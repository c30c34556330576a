"""``ctxemb probe polysemy``: do a word's senses separate, layer by layer, against static baselines?"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..extras import require_extra
from ..layers import parse_layers
from ..pooling import WORD_POOLS

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from ..analysis.polysemy import PolysemyReport

logger = logging.getLogger("ctxemb")

MIXES = ("mean", "sum", "concat")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-subcommand."""
    p = sub.add_parser("polysemy", help="sense separation per layer vs static baselines", description=__doc__)
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    p.add_argument("--data", default="bundled", help="bundled | wic:DIR | wsd:XML,KEY | FILE.jsonl (default: bundled)")
    add_probe_arguments(p)
    p.add_argument("--output", type=Path, default=Path("polysemy-probe"), help="output directory")
    p.set_defaults(run=run)


def add_probe_arguments(p: argparse.ArgumentParser) -> None:
    """The options shared by ``probe polysemy`` and ``demo``."""
    from ..analysis.polysemy.postprocess import POSTPROCESS
    from ..analysis.polysemy.probes import CLUSTER_METHODS

    p.add_argument("--layers", default="all", help="all, 0,3,-1, -4: or 2 (default: all)")
    p.add_argument("--mix", default="mean", help=f"comma-separated mixes of the layers: {', '.join(MIXES)}, or none")
    p.add_argument(
        "--word-pool",
        "--pool",
        dest="pool",
        choices=WORD_POOLS,
        default="mean",
        help="how a word of several tokens becomes one vector (--pool before 0.2)",
    )
    p.add_argument("--postprocess", choices=POSTPROCESS, default="none", help="applied before cosine")
    p.add_argument("--cluster", choices=CLUSTER_METHODS, default="agglomerative")
    p.add_argument(
        "--static",
        default="word2vec",
        help="static baselines: word2vec (trained on gensim's text8 sample, cached), none, or comma-separated "
        "vectors files (word2vec .txt/.bin, GloVe, fastText .vec/.bin)",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="also load gensim .kv pickles in --static (UNSAFE: a crafted pickle runs code; only for your own files)",
    )
    p.add_argument("--window", type=int, default=5, help="context words on each side for the static context baseline")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default=None, help="float32 | bf16 | fp16 (default: the checkpoint's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def load_static(
    spec: str, cache: Path | None = None, allow_pickle: bool = False, progress: bool | None = None
) -> dict[str, KeyedVectors]:
    """Static models by name from ``--static``: ``word2vec``, ``none`` or vectors files (no pickle unless allowed)."""
    from ..analysis.polysemy import default_static_vectors
    from ..static.io import load_vectors

    if spec == "none":
        return {}
    models = {}
    for item in spec.split(","):
        if item == "word2vec":
            models["word2vec"] = default_static_vectors(cache, progress=progress)
            continue
        path = Path(item)
        if not path.is_file():
            raise ValueError(f"--static {item!r}: not 'word2vec', 'none' or an existing vectors file")
        models[path.stem] = load_vectors(path, allow_pickle=allow_pickle)
    return models


def parse_mixes(spec: str) -> tuple[str, ...]:
    """``--mix`` as a tuple of mix modes."""
    if spec == "none":
        return ()
    mixes = tuple(m.strip() for m in spec.split(",") if m.strip())
    for m in mixes:
        if m not in MIXES:
            raise ValueError(f"--mix {m!r}: choose from {', '.join(MIXES)} or none")
    return mixes


def probe(args: argparse.Namespace, data_spec: str, output: Path) -> tuple[PolysemyReport, dict[str, Path]]:
    """Load the data and the models, run the probe, write CSV, JSON and the plot into ``output``."""
    report = run_probe(args, data_spec)
    output.mkdir(parents=True, exist_ok=True)
    files = {
        "table (CSV)": report.to_csv(output / "polysemy.csv"),
        "table (JSON)": report.to_json(output / "polysemy.json"),
        "plot": report.plot(output / "polysemy.png"),
    }
    return report, files


def run_probe(args: argparse.Namespace, data_spec: str) -> PolysemyReport:
    """Load the data and the models and run the probe (the options of :func:`add_probe_arguments`)."""
    require_extra("analysis", f"ctxemb {args.command}")  # clustering and the plot: say so before any model runs
    logger.info("polysemy probe of %s on the %s probe set", args.model, data_spec)  # before the slow imports
    from ..analysis.polysemy import PolysemyProbe, load_data
    from ..extractor import Extractor

    prober = PolysemyProbe(
        layers=parse_layers(args.layers),
        mixes=parse_mixes(args.mix),
        pool=args.pool,
        postprocess=args.postprocess,
        cluster=args.cluster,
        window=args.window,
    )
    data = load_data(data_spec)
    progress = False if args.no_progress else None
    static = load_static(args.static, allow_pickle=args.allow_pickle, progress=progress)
    logger.info("loading %s", args.model)
    extractor = Extractor.from_pretrained(args.model, device=args.device, dtype=args.dtype)
    name = Path(args.model).name or args.model
    return prober.run(extractor, data, static, model_name=name, progress=progress)


def print_report(report: PolysemyReport, files: dict[str, Path]) -> None:
    """Print the table, the skipped words and where the files are."""
    print(report.table())
    if report.skipped_words:
        print(f"\nSkipped from the sense metrics (one sense only): {', '.join(report.skipped_words)}")
    print()
    for what, path in files.items():
        print(f"{what}: {path}")


def run(args: argparse.Namespace) -> int:
    """Run the probe and print the table."""
    report, files = probe(args, args.data, args.output)
    print(f"Polysemy probe: model {args.model}, data {report.data_name}, post-processing {args.postprocess}\n")
    print_report(report, files)
    return 0
