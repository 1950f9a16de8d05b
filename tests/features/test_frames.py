"""Specifications of the common frame grid (features.frames)."""

from __future__ import annotations

import numpy as np
import pytest

from features.frames import (
    HOP_S,
    frame_centres,
    frame_times,
    frames_to_time,
    n_frames,
    time_to_frames,
)


def test_librosa_center_convention():
    # 1 + n // hop: 1 s at 16 kHz and a 10 ms hop has frames at 0.00 .. 1.00 s.
    assert n_frames(16000, 16000, 0.01) == 101
    assert n_frames(15999, 16000, 0.01) == 100
    assert n_frames(1, 16000) == 1
    assert n_frames(0, 16000) == 0


def test_non_integer_hop_in_samples():
    # 10 ms at 22.05 kHz is 220.5 samples: counted in time, not in whole samples.
    assert n_frames(22050, 22050, 0.01) == 101
    assert n_frames(8000, 8000, 0.01) == 101


def test_times_and_frames_round_trip():
    t = frame_times(5)
    np.testing.assert_allclose(t, [0.0, 0.01, 0.02, 0.03, 0.04])
    np.testing.assert_array_equal(time_to_frames(t), np.arange(5))
    np.testing.assert_array_equal(time_to_frames([0.004, 0.006, 1.234]), [0, 1, 123])
    np.testing.assert_allclose(frames_to_time(np.array([0, 100])), [0.0, 100 * HOP_S])


def test_frame_centres_are_clipped_to_the_signal():
    c = frame_centres(n_frames(160, 16000), 16000, 160)
    np.testing.assert_array_equal(c, [0, 159])


@pytest.mark.parametrize("bad", [0.0, -0.01, np.nan])
def test_bad_hop_is_refused_with_its_value(bad):
    with pytest.raises(ValueError, match="hop_s"):
        n_frames(100, 16000, bad)


def test_merge_runs_bridges_short_gaps_and_splits_at_label_changes():
    from features.frames import merge_runs

    start = np.array([0.0, 1.1, 2.0, 4.0, 4.1])
    end = np.array([1.0, 1.9, 3.0, 4.05, 5.0])
    s, e, _ = merge_runs(start, end, max_gap_s=0.2)
    assert s.tolist() == [0.0, 4.0] and e.tolist() == [3.0, 5.0]  # the 1 s gap splits
    s, e, lab = merge_runs(start, end, np.array(["a", "b", "b", "b", "b"]), max_gap_s=0.2)
    assert s.tolist() == [0.0, 1.1, 4.0] and e.tolist() == [1.0, 3.0, 5.0]
    assert lab.tolist() == ["a", "b", "b"]
    assert merge_runs(np.empty(0), np.empty(0), max_gap_s=1)[0].size == 0
