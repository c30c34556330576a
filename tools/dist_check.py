"""Build the wheel and sdist, check them, install the wheel without extras into a fresh venv and use it.

Run by ``make dist-check`` (and by ``.ci/run``). Steps, each of which must pass:

1. ``python -m build`` writes ``dist/ctxemb-*.whl`` and ``dist/ctxemb-*.tar.gz`` into a scratch directory;
2. ``twine check --strict`` on both (metadata, and the README renders on a package index);
3. a fresh venv gets ``torch==2.13.0`` (the CPU wheel these machines have) and the wheel, no extras;
4. in it: ``ctxemb --help`` and ``ctxemb --version`` work, ``import ctxemb`` imports no optional library, one text
   is embedded with a tiny checkpoint, and ``import ctxemb.static`` fails naming ``pip install 'ctxemb[static]'``;
5. prints the venv's installed size and the median ``import ctxemb`` / ``ctxemb --help`` times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EMBED = """
import sys, tempfile
import ctxemb
from ctxemb.testing import tiny_checkpoint
path = tiny_checkpoint("bert", tempfile.mkdtemp())
ext = ctxemb.Extractor.from_pretrained(path, device="cpu")
vectors = ext.embed(["The installed wheel embeds a text."])[0].vectors("word")
assert vectors.shape == (4, 7, 32), vectors.shape  # (layers, words, dim): 3 blocks + embeddings
optional = [m for m in ("matplotlib", "gensim", "sklearn", "datasets", "bokeh") if m in sys.modules]
assert not optional, optional
print("embedded:", tuple(vectors.shape))
"""

MISSING_EXTRA = """
try:
    import ctxemb.static
except ImportError as error:
    assert "pip install 'ctxemb[static]'" in str(error), error
    print("missing extra named:", error)
else:
    raise SystemExit("ctxemb.static imported without the static extra")
"""


def run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], check=True, text=True, **kwargs)  # type: ignore[call-overload]


def median_seconds(command: list[str], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extras", default="", help="install the wheel with these extras, e.g. 'all' (default none)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ctxemb-dist-"))
    try:
        dist = scratch / "dist"
        run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
        wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
        assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
        run(sys.executable, "-m", "twine", "check", "--strict", wheels[0], sdists[0])
        venv = scratch / "venv"
        run(sys.executable, "-m", "venv", venv)
        python = venv / "bin" / "python"
        run(python, "-m", "pip", "install", "-q", "torch==2.13.0")
        spec = f"ctxemb[{args.extras}] @ {wheels[0].as_uri()}" if args.extras else str(wheels[0])
        run(python, "-m", "pip", "install", "-q", spec)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        run(venv / "bin" / "ctxemb", "--help", env=env, stdout=subprocess.DEVNULL)
        run(venv / "bin" / "ctxemb", "--version", env=env)
        workdir = scratch / "work"  # not the repository: the installed package must be the one imported
        workdir.mkdir()
        run(python, "-c", EMBED, env=env, cwd=workdir)
        if not args.extras:
            run(python, "-c", MISSING_EXTRA, env=env, cwd=workdir)
        site = next((venv / "lib").glob("python*/site-packages"))
        print(f"\ninstalled size (site-packages, torch included): {size_mib(site):,.0f} MiB")
        torch_dir = site / "torch"
        print(f"  of which torch: {size_mib(torch_dir):,.0f} MiB")
        print(f"import ctxemb: {median_seconds([str(python), '-c', 'import ctxemb']):.3f} s (median of 5)")
        print(f"ctxemb --help: {median_seconds([str(venv / 'bin' / 'ctxemb'), '--help']):.3f} s (median of 5)")
        print("\ndist-check passed")
        return 0
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
