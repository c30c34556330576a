"""``ctxemb demo``: the polysemy probe on MiniLM with the bundled probe set, with static baselines, and its
explorer page (``explore.html``: each word's occurrences layer by layer)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .probe_polysemy import add_probe_arguments, print_report, probe


def register(sub: argparse._SubParsersAction) -> None:
    """Add the subcommand."""
    p = sub.add_parser(
        "demo", help="do MiniLM's layers separate word senses? (bundled probe set, offline)", description=__doc__
    )
    p.add_argument("--model", default="minilm", help="local directory, hub id, or alias (default: minilm)")
    add_probe_arguments(p)
    p.add_argument("--output", type=Path, default=Path("ctxemb-demo"), help="output directory (default: ctxemb-demo)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the probe on the bundled set and explain the table."""
    report, files = probe(args, "bundled", args.output)
    files["explorer page (open in a browser)"] = report.to_html(args.output / "explore.html")
    print(f"Do the layers of {args.model} tell word senses apart? {report.description}.")
    print("Each row is a layer (0 = embedding output), a mix of layers, a static baseline or the most frequent sense;")
    print("within/across: mean cosine between occurrences of a word in the same / different senses; gap = within -")
    print("across; 1-NN: leave-one-out nearest-neighbour sense accuracy; centroid: nearest train-sense centroid on the")
    print("test split; ARI/NMI: clustering into k senses; WiC: same-sense pairs by a tuned cosine threshold.\n")
    print_report(report, files)
    layers, knn = report.layer_values("knn_accuracy")
    if layers:
        best = layers[max(range(len(knn)), key=knn.__getitem__)]
        baselines = {
            f"{representation} ({model})": report.value("knn_accuracy", representation, model)
            for model, representation in report.representations()
            if not representation.startswith(("layer", "mix"))
        }
        strongest = max(baselines.items(), key=lambda kv: -math.inf if math.isnan(kv[1]) else kv[1], default=None)
        print(
            f"\nLayer {layers[0]} holds the word without its context, so it scores {knn[0]:.0%} 1-NN accuracy "
            f"(most frequent sense: {report.value('knn_accuracy', 'most frequent sense'):.0%}). "
            f"The best layer is {best} ({max(knn):.0%})"
            + (f"; the strongest baseline, {strongest[0]}, reaches {strongest[1]:.0%}." if strongest else ".")
        )
    return 0
