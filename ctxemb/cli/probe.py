"""``ctxemb probe``: analyses that probe a model; each sub-subcommand is a module listed in ``PROBES``."""

from __future__ import annotations

import argparse

from . import probe_polysemy, probe_pos

PROBES = (probe_polysemy, probe_pos)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``probe`` subcommand and every probe under it."""
    p = sub.add_parser("probe", help="probe a model (polysemy, ...)", description=__doc__)
    inner = p.add_subparsers(dest="probe", required=True, metavar="PROBE")
    for module in PROBES:
        module.register(inner)
