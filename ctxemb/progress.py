"""Progress bars, one convention everywhere: ``progress=None`` (the default) shows a bar where someone watches.

``None`` follows tqdm's own rule (``disable=None``): a bar in a terminal or a notebook, none where the output is not
a terminal (pipes, log files, tests), and only once the work has taken a second (``delay``), so quick calls stay
quiet. ``True`` always shows one, ``False`` never.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

#: Delay before a bar appears when ``progress=None``, in seconds.
AUTO_DELAY = 1.0


def progress_bar(iterable: Iterable[T] | None = None, *, progress: bool | None, **options: Any) -> tqdm[T]:
    """A tqdm bar over ``iterable`` (or a manual one: ``total=``, ``update``), shown as ``progress`` says.

    Args:
        iterable: what to iterate over, or ``None`` for a bar updated by hand.
        progress: ``None`` (where someone watches, after a second), ``True`` (always) or ``False`` (never).
        options: tqdm's options (``total``, ``unit``, ``desc`` ...).
    """
    if progress is None:
        options.setdefault("delay", AUTO_DELAY)
        return tqdm(iterable, disable=None, **options)
    return tqdm(iterable, disable=not progress, **options)
