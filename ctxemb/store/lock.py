"""One writer per store: an operating-system file lock held for a whole run, released when its process ends.

The lock is ``filelock``'s (``fcntl.flock`` on Unix, ``msvcrt.locking`` on Windows) on ``DIR/.lock``: the kernel
drops it when the holding process exits, so a run killed with SIGKILL never leaves a stale lock behind. (On a file
system without such locks, some network file systems, recent ``filelock`` versions fall back to a marker file with
a warning; a killed run can leave that one behind.) Beside it,
``DIR/.lock.holder`` names the holder (pid, host, start time) for the error a second writer gets; it is
information only, never what decides who holds the lock.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

LOCK = ".lock"
HOLDER = ".lock.holder"
#: Files of the lock in a store directory (a store's readers and emptiness checks ignore them).
LOCK_FILES = frozenset({LOCK, HOLDER})


class StoreLockedError(OSError):
    """Another process is writing the store."""


class StoreLock:
    """The exclusive write lock of a store directory.

    Args:
        directory: the store (must exist).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock: Any = None

    def acquire(self) -> None:
        """Take the lock without waiting.

        Raises:
            StoreLockedError: another process holds it (the message names the store and the holder's pid).
        """
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.directory / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise StoreLockedError(
                f"the store {self.directory} is being written by another process ({self.holder()}); wait for it to "
                "finish or stop it, then run again (a stopped or killed writer leaves no lock behind)"
            ) from None
        self._lock = lock
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        try:
            (self.directory / HOLDER).write_text(json.dumps(holder) + "\n", encoding="utf-8")
        except OSError:
            pass  # information only: a full disk must not stop a run that holds the lock

    def holder(self) -> str:
        """Who holds the lock, as recorded beside it (``"pid 123 on host"``), or that it is not known."""
        try:
            info = json.loads((self.directory / HOLDER).read_text(encoding="utf-8"))
            return f"pid {info['pid']} on {info['host']}, since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    def release(self) -> None:
        """Let the lock go (``filelock`` decides whether the lock file stays; the holder file is removed)."""
        if self._lock is not None:
            try:
                (self.directory / HOLDER).unlink(missing_ok=True)
            except OSError:
                pass
            self._lock.release()
            self._lock = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def raise_if_locked(directory: Path) -> None:
    """Raise :class:`StoreLockedError` if another run holds ``directory``'s lock (it may be writing its first files,
    before its manifest exists); otherwise return, holding nothing.
    """
    if not any((directory / name).exists() for name in LOCK_FILES):
        return
    probe = StoreLock(directory)
    probe.acquire()  # raises StoreLockedError while another run holds it
    probe.release()
