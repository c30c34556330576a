"""A scope with fewer CPU threads, for training loops that run faster without intra-op parallelism."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Limit BLAS (threadpoolctl) and torch intra-op threads inside the block, then restore them.

    Args:
        threads: the limit; ``None`` changes nothing.
    """
    if threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)
