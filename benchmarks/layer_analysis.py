"""Layer analysis over several models: per-layer geometry and CKA on a corpus, and a POS probe per layer.

For each model (default: MiniLM and the tiny checkpoint of every family, built offline with
``ctxemb.testing.tiny_checkpoint``; any local directory with ``--models``), on one corpus (default: gensim's
``lee_background.cor``, split into sentences), with ONE sample shared by all models (same seed, same word units):

- anisotropy, self-similarity, intra-text similarity, MEV (with anisotropy-adjusted values), norms, rogue
  dimensions (``ctxemb.analysis.LayerGeometry``), and layer x layer linear CKA within each model and against the
  first model on the same words;
- with ``--conllu`` (default: the small hand-tagged fixture of the tests), a UPOS probe per layer with the control
  task and the scalar-mix probe (``ctxemb.analysis.LayerProbe``).

Writes into ``--output``: ``layer_analysis.md`` (tables, sample description, timings), one JSON report per
model, ``layer_curves.png`` (one line per model), ``cka_<model>.png`` for the first model, ``cka_all.png`` (every
model's own matrix) and ``cka_cross.png`` (every model against the first), and ``probe_<model>.png``.

Usage: python benchmarks/layer_analysis.py [--models minilm,/path/to/model] [--no-tiny] [--corpus FILE]
       [--split sentence] [--samples 1000] [--output out/layer_analysis]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ctxemb.analysis import LayerGeometry, LayerProbe, read_conllu, read_corpus, word_features
from ctxemb.analysis.geometry.compare import analyse_models, model_name, summary_table
from ctxemb.analysis.geometry.plots import plot_cka, plot_layer_curves, plot_probe
from ctxemb.testing import SUPPORTED_FAMILIES, tiny_checkpoint

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "en_fixture.conllu"
TABLE_METRICS = (
    "anisotropy",
    "selfsim",
    "selfsim_adj",
    "intrasim_adj",
    "mev",
    "mev_adj",
    "norm_mean",
    "rogue_top1",
    "rogue_dim",
    "anisotropy_std",
)


def default_corpus() -> Path:
    """gensim's ``lee_background.cor`` (about 60k words of news), bundled with its wheel."""
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor"))


def model_list(args: argparse.Namespace) -> list[str]:
    """The models to run: ``--models`` then, unless ``--no-tiny``, every family's tiny checkpoint."""
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.no_tiny:
        root = Path(args.tiny_dir)
        models += [str(tiny_checkpoint(family, root / f"tiny-{family}")) for family in SUPPORTED_FAMILIES]
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="minilm", help="comma list of models (default: minilm)")
    parser.add_argument("--no-tiny", action="store_true", help="skip the tiny checkpoints of every family")
    parser.add_argument("--tiny-dir", default="out/tiny-checkpoints", help="where the tiny checkpoints are built")
    parser.add_argument("--corpus", type=Path, default=None, help="plain text, one text per line (default: lee)")
    parser.add_argument("--split", choices=("line", "sentence"), default="sentence")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--cka-samples", type=int, default=4000)
    parser.add_argument("--max-words", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--conllu", default=str(FIXTURE), help="CoNLL-U file for the UPOS probe, or 'none'")
    parser.add_argument("--output", type=Path, default=Path("out/layer_analysis"))
    args = parser.parse_args()

    corpus = args.corpus or default_corpus()
    args.output.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    models = model_list(args)
    names = [model_name(m).removeprefix("tiny-") for m in models]
    texts = read_corpus(corpus, args.split)
    geometry = LayerGeometry(
        samples=args.samples, cka_samples=args.cka_samples, max_words=args.max_words, seed=args.seed
    )

    timings: dict[str, float] = {}
    reports = analyse_models(
        models, texts, geometry, source=corpus.name, names=names, device="cpu", timings=timings, progress=True
    )

    for report in reports:
        report.to_json(args.output / f"layers-{report.model}.json")
    files = [plot_layer_curves(reports, args.output / "layer_curves.png", title=f"Layer geometry on {corpus.name}")]
    files.append(plot_cka(reports[:1], args.output / f"cka_{reports[0].model}.png", names=["within"]))
    if len(reports) > 1:
        files.append(plot_cka(reports, args.output / "cka_all.png", names=["within"]))
        cross = plot_cka(
            reports[1:], args.output / "cka_cross.png", names=[f"vs {names[0]}"], title=f"Linear CKA against {names[0]}"
        )
        files.append(cross)

    probe_lines: list[str] = []
    if args.conllu != "none":
        from ctxemb import Extractor

        sentences = read_conllu(args.conllu)
        for model, name in zip(models, names):
            start = time.perf_counter()
            extractor = Extractor.from_pretrained(model, device="cpu")
            features, labels, types, groups, layers = word_features(extractor, sentences, "upos")
            probe = LayerProbe(folds=5).fit(features, labels, types=types, groups=groups, layers=layers)
            seconds = time.perf_counter() - start
            (args.output / f"probe-{name}.json").write_text(json.dumps(probe.to_dict(), indent=1), encoding="utf-8")
            files.append(plot_probe(probe, args.output / f"probe_{name}.png", title=f"UPOS probe: {name}"))
            weights = ", ".join(f"{w:.2f}" for w in probe.mix_weights_)
            probe_lines += [
                f"#### {name} ({len(labels)} words, {len(sentences)} sentences, {seconds:.1f} s)",
                "",
                probe.table(),
                "",
                f"Scalar-mix weights by layer: {weights}; centre of gravity {probe.centre_of_gravity_:.2f}; "
                f"in each fold: {', '.join(f'{c:.2f}' for c in probe.mix_weights_folds_ @ np.asarray(layers, float))}.",
                "",
            ]

    total = sum(timings.values())
    lines = [
        f"Corpus: {corpus.name} split by {args.split}: {len(texts)} texts. Sample: {reports[0].describe()}",
        f"Machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, CPU.",
        "",
        "Run time per model (load, tokenize, sample, embed, every metric, CKA within and against the first model): "
        + ", ".join(f"{n} {s:.1f} s" for n, s in timings.items())
        + f"; total {total:.1f} s.",
        "",
        summary_table(reports, TABLE_METRICS),
        "",
        *probe_lines,
    ]
    (args.output / "layer_analysis.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    for path in [args.output / "layer_analysis.md", *files]:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
