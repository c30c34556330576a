"""File modes: what ctxemb writes gets the permissions the user's umask gives, as ``open()`` would.

safetensors creates files readable by their owner only; a store or an extraction file is meant to be shared like
any other output, so each file ctxemb writes through it is given ``0o666 & ~umask``.
"""

from __future__ import annotations

import os
import threading

_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask: from ``/proc/self/status`` where there is one (Linux), else by setting it and putting it
    back under a lock (POSIX has no read-only call; another thread creating a file in that instant is not covered)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def as_umask_gives(path: str | os.PathLike[str]) -> None:
    """Give the file at ``path`` the mode a plain ``open(path, "w")`` would have: ``0o666 & ~umask``."""
    os.chmod(path, 0o666 & ~current_umask())
