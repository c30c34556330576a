from __future__ import annotations

import numpy as np
import pytest

from ctxemb.batching import best_window, plan_batches, window_starts


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


def test_best_window_maximises_two_sided_context():
    starts = window_starts(30, 10, 5)
    choice = best_window(30, starts, 10)
    for p in range(30):
        score = [min(p - a, a + 9 - p) if a <= p < a + 10 else -1 for a in starts]
        assert score[choice[p]] == max(score)
        assert choice[p] == score.index(max(score))  # ties go to the earlier window
