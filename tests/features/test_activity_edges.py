"""Specifications of the edge rules of voice-activity runs (features.activity_edges),
on frame masks with known answers."""

from __future__ import annotations

import numpy as np

from features.activity_edges import trim_runs


def test_trim_runs_keeps_the_span_between_kept_frames():
    mask = np.array([0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1], dtype=bool)
    keep = np.array([0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0], dtype=bool)
    np.testing.assert_array_equal(trim_runs(mask, keep), [0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(
        trim_runs(mask, keep, leading=False), [0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0]
    )
    assert not trim_runs(np.zeros(4, bool), np.ones(4, bool)).any()
