"""File modes: what ctxemb writes gets the permissions the user's umask gives, as ``open()`` would.

safetensors (and ``tempfile``) create files readable by their owner only; a store or an extraction file is meant to
be shared like any other output, so each file ctxemb writes through them is given ``0o666 & ~umask``.
"""

from __future__ import annotations

import os
import threading

_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back, under a lock: there is no read-only call)."""
    with _LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def as_umask_gives(path: str | os.PathLike[str]) -> None:
    """Give the file at ``path`` the mode a plain ``open(path, "w")`` would have: ``0o666 & ~umask``."""
    os.chmod(path, 0o666 & ~current_umask())
