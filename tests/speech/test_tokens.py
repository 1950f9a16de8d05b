"""Specifications of the point-in-interval lookup behind token and text assignment
(speech.tokens.interval_at): one ``pandas.merge_asof``, equal to a brute-force search."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from speech.tokens import assign_to_segments, interval_at


def _brute_force(times, intervals, voices=None, closed="both"):
    found = []
    for k, t in enumerate(times):
        hits = [i for i, row in enumerate(intervals.itertuples())
                if row.start_s <= t and (t <= row.end_s if closed == "both" else t < row.end_s)
                and (voices is None or row.speaker_id == voices[k])]
        # The latest start wins (intervals of one voice do not overlap in practice).
        found.append(max(hits, key=lambda i: (intervals["start_s"].iloc[i], i)) if hits else -1)
    return np.array(found, dtype=np.int64)


def test_interval_at_closed_and_half_open_ends():
    intervals = pd.DataFrame({"start_s": [0.0, 1.0, 3.0], "end_s": [0.5, 2.0, 4.0]})
    times = np.array([0.0, 0.5, 0.7, 2.0, 1.5, 5.0, -1.0])
    assert interval_at(times, intervals).tolist() == [0, 0, -1, 1, 1, -1, -1]
    assert interval_at(times, intervals, closed="left").tolist() == [0, -1, -1, -1, 1, -1, -1]


def test_interval_at_looks_among_the_points_own_voice():
    intervals = pd.DataFrame({"start_s": [0.0, 0.0, 2.0], "end_s": [1.0, 3.0, 3.0],
                              "speaker_id": ["A", "B", "A"]})
    found = interval_at(np.array([0.5, 0.5, 2.5, 2.5, 1.5]), intervals,
                        voices=np.array(["A", "B", "A", "B", "A"], dtype=object))
    assert found.tolist() == [0, 1, 2, 1, -1]


def test_interval_at_empty_inputs():
    intervals = pd.DataFrame({"start_s": [0.0], "end_s": [1.0]})
    assert interval_at(np.zeros(0), intervals).size == 0
    assert interval_at(np.array([0.5]), intervals.iloc[:0]).tolist() == [-1]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 8), st.sampled_from("AB")),
                min_size=1, max_size=8),
       st.lists(st.tuples(st.integers(-2, 50), st.sampled_from("AB")), max_size=20))
def test_interval_at_equals_a_brute_force_search(spans, points):
    # One voice's intervals never overlap (segments are runs of one voice).
    rows, ends = [], {}
    for start, length, voice in sorted(spans):
        if start >= ends.get(voice, -1):
            rows.append((start / 10, (start + length) / 10, voice))
            ends[voice] = start + length
    intervals = pd.DataFrame(rows, columns=["start_s", "end_s", "speaker_id"])
    times = np.array([t / 10 for t, _ in points], dtype=np.float64)
    voices = np.array([v for _, v in points], dtype=object)
    for closed in ("both", "left"):
        np.testing.assert_array_equal(
            interval_at(times, intervals, voices=voices, closed=closed),
            _brute_force(times, intervals, voices, closed))


def test_assign_to_segments_keeps_phones_by_midpoint_and_voice():
    segments = pd.DataFrame({"segment_id": ["s0", "s1", "s2"], "speaker_id": ["B", "A", "A"],
                             "start_s": [0.0, 0.0, 2.0], "end_s": [1.0, 1.0, 3.0]})
    phones = pd.DataFrame({"speaker_id": ["A", "A", "B", "A"], "label": ["a", "s", "o", "e"],
                           "start_s": [0.1, 2.5, 0.2, 1.2], "end_s": [0.3, 2.7, 0.4, 1.4]})
    out = assign_to_segments(phones, segments)
    # Voices in the order the segments name them (B first), phones in their order.
    assert out["label"].tolist() == ["o", "a", "s"]
    assert out["segment_id"].tolist() == ["s0", "s1", "s2"]
