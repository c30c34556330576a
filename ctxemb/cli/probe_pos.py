"""``ctxemb probe pos``: a linear probe per layer on word labels from a CoNLL-U file (UPOS by default), with a
control task (selectivity, Hewitt & Liang 2019) and a scalar-mix probe over all layers (Tenney et al. 2019).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..extras import require_extra
from ..layers import parse_layers
from ..pooling import WORD_POOLS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the sub-subcommand."""
    from ..analysis.conllu import FIELDS

    p = sub.add_parser(
        "pos",
        aliases=["layers"],  # the name before 0.2, kept for one release
        help="linear probe per layer on CoNLL-U labels (UPOS by default), control task, scalar mix",
    )
    p.description = __doc__
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    p.add_argument("--conllu", required=True, type=Path, help="a CoNLL-U file (Universal Dependencies format)")
    p.add_argument("--field", choices=FIELDS, default="upos", help="the word label to probe (default: upos)")
    p.add_argument("--layers", default="all", help="all, 0,3,-1, -4: or 2 (default: all)")
    p.add_argument(
        "--word-pool", "--pool", dest="pool", choices=[w for w in WORD_POOLS if w != "first_last"], default="mean"
    )
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of whole sentences")
    p.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    p.add_argument("--control", choices=("types", "none"), default="types", help="control task for selectivity")
    p.add_argument("--mix", choices=("scalar", "none"), default="scalar", help="scalar-mix probe over the layers")
    p.add_argument("--mix-iter", type=int, default=200, help="most L-BFGS iterations of the scalar-mix probe")
    p.add_argument("--max-sentences", type=int, default=None, help="use the first N sentences only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default=None, help="float32 | bf16 | fp16 (default: the checkpoint's)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--output", type=Path, default=Path("layer-probe"), help="output directory")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Read the CoNLL-U file, embed its words, probe every layer, print the table and write JSON, markdown, PNG."""
    require_extra("analysis", "ctxemb probe pos")  # before any model runs
    from ..analysis.conllu import read_conllu
    from ..analysis.geometry.compare import model_name
    from ..analysis.geometry.plots import plot_probe
    from ..analysis.probing import LayerProbe, word_features
    from ..extractor import Extractor

    sentences = read_conllu(args.conllu)
    if args.max_sentences is not None:
        if args.max_sentences < 1:
            raise ValueError(f"--max-sentences {args.max_sentences}: must be at least 1")
        sentences = sentences[: args.max_sentences]
    probe = LayerProbe(
        folds=args.folds, C=args.C, control=args.control, mix=args.mix, mix_iter=args.mix_iter, seed=args.seed
    )
    extractor = Extractor.from_pretrained(args.model, device=args.device, dtype=args.dtype)
    progress = False if args.no_progress else None
    features, labels, types, groups, layers = word_features(
        extractor, sentences, args.field, layers=parse_layers(args.layers), pool=args.pool, progress=progress
    )
    probe.fit(features, labels, types=types, groups=groups, layers=layers, progress=progress)
    name = model_name(args.model)
    heading = (
        f"{args.field.upper()} probe: {name} on {args.conllu.name} ({len(sentences)} sentences, {len(labels)} words)"
    )
    args.output.mkdir(parents=True, exist_ok=True)
    result = {"model": name, "conllu": str(args.conllu), "field": args.field, **probe.to_dict()}
    files = {
        "JSON": args.output / "probe.json",
        "table (markdown)": args.output / "probe.md",
        "plot": args.output / "probe.png",
    }
    files["JSON"].write_text(json.dumps(result, indent=1), encoding="utf-8")
    files["table (markdown)"].write_text(f"{heading}\n\n{probe.table()}\n", encoding="utf-8")
    plot_probe(probe, files["plot"], title=heading)
    print(heading + "\n")
    print(probe.table())
    if args.mix == "scalar":
        weights = ", ".join(f"{k}: {w:.2f}" for k, w in zip(probe.layers_, probe.mix_weights_))
        print(f"\nScalar-mix weights ({weights}); centre of gravity {probe.centre_of_gravity_:.2f}")
        per_fold = ", ".join(f"{c:.2f}" for c in probe.mix_weights_folds_ @ np.asarray(probe.layers_, dtype=float))
        print(f"Centre of gravity in each fold: {per_fold}")
    print()
    for what, path in files.items():
        print(f"{what}: {path}")
    return 0
