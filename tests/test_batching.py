from __future__ import annotations

import numpy as np
import pytest

from ctxemb.batching import plan_batches, window_shares, window_starts


def test_plan_batches_respects_budget_and_cap():
    lengths = np.array([5, 300, 17, 0, 64, 64, 3, 120])
    batches = plan_batches(lengths, max_tokens=256, max_batch=3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == [0, 1, 2, 4, 5, 6, 7]  # the empty sequence is not run
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * lengths[batch].max() <= 256
    assert [lengths[b].max() for b in batches] == sorted((lengths[b].max() for b in batches), reverse=True)


def test_plan_batches_rejects_zero_budget():
    with pytest.raises(ValueError):
        plan_batches(np.array([3]), 0, 4)


def test_windows_cover_evenly():
    starts = window_starts(1000, 254, 127)
    assert starts[0] == 0 and starts[-1] == 1000 - 254
    assert np.diff(starts).max() <= 127
    assert window_starts(100, 254, 127).tolist() == [0]


@pytest.mark.parametrize(
    ("n", "size", "stride"), [(30, 10, 5), (1000, 254, 190), (31, 10, 10), (517, 7, 1), (64, 9, 4)]
)
def test_each_piece_comes_from_the_window_with_most_two_sided_context(n, size, stride):
    starts = window_starts(n, size, stride)
    bounds = window_shares(n, starts, size)
    assert bounds[0] == 0 and bounds[-1] == n and (np.diff(bounds) >= 0).all()
    choice = np.repeat(np.arange(len(starts)), np.diff(bounds))
    for p in range(n):
        score = [min(p - a, a + size - 1 - p) if a <= p < a + size else -1 for a in starts.tolist()]
        assert score[choice[p]] == max(score) >= 0
        assert choice[p] == score.index(max(score))  # ties go to the earlier window
