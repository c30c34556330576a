"""Start-up: wall and CPU time of ``import ctxemb`` and ``ctxemb --help``, and the heavy modules each imports.

Each case runs in a fresh interpreter, ``--rounds`` times, interleaved with the same case on a baseline checkout
when ``--baseline DIR`` is given (a ``git worktree`` of an older commit, run with this venv); medians.

    python benchmarks/startup_bench.py --rounds 7 --baseline /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "tokenizers", "numpy", "datasets", "pyarrow", "sklearn", "scipy", "gensim",
         "matplotlib")  # fmt: skip
CASES = {
    "import ctxemb": "import ctxemb",
    "ctxemb --help": "from ctxemb.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    "ctxemb extract --help": "from ctxemb.cli import main\ntry:\n    main(['extract', '--help'])\n"
    "except SystemExit:\n    pass",
}
REPORT = "\nimport json, resource, sys\nu = resource.getrusage(resource.RUSAGE_SELF)\n"
REPORT += f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
REPORT += "print(json.dumps({'cpu': u.ru_utime + u.ru_stime, 'heavy': heavy}))"


def measure(code: str, root: Path) -> tuple[float, float, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, info["cpu"], info["heavy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None, help="an older checkout to compare with")
    args = parser.parse_args()
    roots = {"this": ROOT} | ({"baseline": args.baseline} if args.baseline else {})
    results: dict[tuple[str, str], list[tuple[float, float, list[str]]]] = {}
    for _ in range(args.rounds):
        for case, code in CASES.items():
            for label, root in roots.items():
                results.setdefault((case, label), []).append(measure(code, root))
    print(f"{'case':24} {'checkout':9} {'wall s':>7} {'cpu s':>6} {'vs base':>8}  heavy modules imported")
    for case in CASES:
        base = None
        for label in reversed(roots):  # baseline first
            runs = results[(case, label)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            base = cpu if label == "baseline" else base
            ratio = f"{cpu / base:.2f}x" if base and label != "baseline" else ""
            print(f"{case:24} {label:9} {wall:7.2f} {cpu:6.2f} {ratio:>8}  {', '.join(runs[-1][2]) or '-'}")


if __name__ == "__main__":
    main()
