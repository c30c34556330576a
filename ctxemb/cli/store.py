"""``ctxemb store``: look after a store directory. ``ctxemb store verify DIR`` checks every shard's files."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger("ctxemb")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``store`` subcommand and its actions."""
    p = sub.add_parser("store", help="check a store directory", description=__doc__)
    inner = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    v = inner.add_parser(
        "verify",
        help="check every shard: files present, sizes and SHA-256 checksums as written, headers and row counts",
        description="Check every shard of a store: its files are present, have the sizes and SHA-256 checksums "
        "recorded when they were written, and their headers, tables and row counts agree with the manifest. "
        "Exit status 1 lists each problem; a run started again over the store rewrites damaged shards.",
    )
    v.add_argument("directory", type=Path, help="the store directory")
    v.add_argument("--quick", action="store_true", help="sizes and headers only, no checksums (reads no data)")
    v.set_defaults(run=verify)


def verify(args: argparse.Namespace) -> int:
    """Print each problem of the store, or that it is sound; exit status 1 when there are problems."""
    from ..store import open_store

    store = open_store(args.directory, partial=True)
    problems = store.verify(deep=not args.quick)
    for line in problems:
        print(line, file=sys.stderr)
    shards = len(store.manifest.get("shards", [])) or "the complete"
    if problems:
        logger.info("%s: %d problem(s) in %s shards", args.directory, len(problems), shards)
        return 1
    logger.info("%s: sound (%s shards, %d texts checked)", args.directory, shards, len(store))
    return 0
