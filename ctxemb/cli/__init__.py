"""The ``ctxemb`` command: the root only registers subcommands and dispatches."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ..extras import MissingExtraError
from . import demo, explore, extract, geometry, probe, search, static, store, tokenizer

SUBCOMMANDS = (extract, store, search, demo, probe, tokenizer, geometry, static, explore)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from .. import __version__

    parser = argparse.ArgumentParser(prog="ctxemb", description="Per-layer contextual word embeddings.")
    parser.add_argument("--version", action="version", version=f"ctxemb {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the logs of transformers, gensim and others")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def layer_values_attached(argv: Sequence[str]) -> list[str]:
    """``--layers -4:`` as ``--layers=-4:``: argparse reads a value that starts with ``-`` as an option of its own
    (``expected one argument``), and layer selections often do (``-1``, ``-4:``, ``-2,-1``)."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        if items[i] == "--layers" and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"--layers={items[i + 1]}")
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(layer_values_attached(sys.argv[1:] if argv is None else argv))
    # ctxemb's own messages at INFO; other libraries' (gensim's training logs, say) only from WARNING unless -v
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("ctxemb").setLevel(logging.INFO)
    if not args.verbose:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, OSError, MissingExtraError) as error:
        print(f"ctxemb {args.command}: error: {error}", file=sys.stderr)
        return 2
