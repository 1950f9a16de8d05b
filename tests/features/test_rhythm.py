"""Specifications of timing and rhythm measures (features.rhythm), on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.rhythm import (
    INTERVAL_COLUMNS,
    SPEAKER_TIMING_COLUMNS,
    count_events,
    interval_metrics,
    segment_timing,
    speaker_timing,
)

VOWELS = {"a", "e", "i", "o", "u"}


def phones(seq, group="g1"):
    """Contiguous phones from (label, duration) pairs."""
    labels, durs = zip(*seq, strict=True)
    ends = np.cumsum(durs)
    return pd.DataFrame(
        {"segment_id": group, "start_s": ends - np.array(durs), "end_s": ends, "label": labels}
    )


def test_npvi_of_alternating_durations():
    # V intervals 1,2,1,2 s: each pair |1-2| / 1.5 = 2/3, nPVI = 100 * 2/3.
    p = phones([("a", 1), ("t", 0.1), ("e", 2), ("t", 0.1), ("i", 1), ("t", 0.1), ("o", 2)])
    m = interval_metrics(p, vowels=VOWELS).iloc[0]
    assert m["npvi_v"] == pytest.approx(200 / 3)
    assert m["rpvi_c_s"] == pytest.approx(0.0)
    assert m["n_v_intervals"] == 4 and m["n_c_intervals"] == 3


def test_vocalic_pct_and_deltas_of_known_sequence():
    # "pasta": p a s t a -> C(0.05) V(0.10) C(0.08 + 0.06 = 0.14, merged) V(0.20)
    p = phones([("p", 0.05), ("a", 0.10), ("s", 0.08), ("t", 0.06), ("a", 0.20)])
    m = interval_metrics(p, vowels=VOWELS).iloc[0]
    assert m["vocalic_pct"] == pytest.approx(100 * 0.30 / 0.49)
    assert m["delta_v_s"] == pytest.approx(np.std([0.10, 0.20], ddof=1))
    assert m["delta_c_s"] == pytest.approx(np.std([0.05, 0.14], ddof=1))
    assert m["varco_v"] == pytest.approx(100 * np.std([0.10, 0.20], ddof=1) / 0.15)
    assert m["varco_c"] == pytest.approx(100 * np.std([0.05, 0.14], ddof=1) / 0.095)
    assert m["rpvi_c_s"] == pytest.approx(0.09)
    assert m["npvi_v"] == pytest.approx(100 * 0.10 / 0.15)


def test_consecutive_vowels_merge_and_pauses_break():
    # a.e merge into one V interval (0.3); the pause splits V intervals and PVI pairs.
    p = phones([("a", 0.1), ("e", 0.2), ("sil", 0.5), ("o", 0.1), ("t", 0.1), ("u", 0.3)])
    m = interval_metrics(p, vowels=VOWELS).iloc[0]
    assert m["n_v_intervals"] == 3  # (a e) | o, u
    assert m["npvi_v"] == pytest.approx(100 * 0.2 / 0.2)  # only the pair (o, u)
    assert m["vocalic_pct"] == pytest.approx(100 * 0.7 / 0.8)


def test_gap_between_phones_is_a_pause_and_groups_are_separate():
    p = pd.concat(
        [phones([("a", 0.1), ("t", 0.1)], "g1"), phones([("a", 0.3)], "g2")], ignore_index=True
    )
    p.loc[p.index[-1], ["start_s", "end_s"]] = [5.0, 5.3]
    gap = phones([("a", 0.1)], "g3")
    late = gap.assign(start_s=1.0, end_s=1.2)  # a gap: two V intervals, not one
    m = interval_metrics(pd.concat([p, gap, late]), vowels=VOWELS).set_index("segment_id")
    assert list(m.columns) == list(INTERVAL_COLUMNS)
    assert m.loc["g1", "vocalic_pct"] == pytest.approx(50.0)
    assert m.loc["g2", "n_v_intervals"] == 1 and np.isnan(m.loc["g2", "delta_v_s"])
    assert m.loc["g3", "n_v_intervals"] == 2
    assert np.isnan(m.loc["g3", "npvi_v"])  # the two are in different stretches


def test_count_events_half_open():
    np.testing.assert_array_equal(
        count_events([0.5, 1.0, 1.5], [0.0, 1.0, 0.0], [1.0, 2.0, 2.0]), [1, 2, 3]
    )


def test_segment_timing():
    voiced = np.zeros(300, bool)
    voiced[10:60] = True  # 0.10 .. 0.59 s
    out = segment_timing([0.0, 1.0], [1.0, 1.5], nuclei_s=[0.2, 0.4, 1.1], voiced=voiced)
    np.testing.assert_allclose(out["articulation_rate_syll_s"], [2.0, 2.0])
    np.testing.assert_allclose(out["voiced_ratio"], [0.5, 0.0])
    with pytest.raises(ValueError, match="exactly one"):
        segment_timing([0.0], [1.0])


def test_speaker_timing_by_hand():
    seg = pd.DataFrame({
        "recording_id": ["r1"] * 5,
        "speaker_id": ["A", "A", "B", "A", "A"],
        "start_s": [0.0, 1.5, 3.0, 4.0, 4.5],
        "end_s": [1.0, 2.5, 3.8, 4.5, 6.0],
        "n_nuclei": [4, 5, 3, 2, 6],
    })  # fmt: skip
    out = speaker_timing(seg).set_index("speaker_id")
    assert list(out.columns) == ["recording_id", *SPEAKER_TIMING_COLUMNS]
    a = out.loc["A"]
    # A: pause 1.0-1.5 (0.5 s); B in between is a turn change; 4.5 touches 4.5: no pause.
    assert a["n_pauses"] == 1
    assert a["phonation_time_s"] == pytest.approx(1.0 + 1.0 + 0.5 + 1.5)
    assert a["speaking_time_s"] == pytest.approx(4.5)
    assert a["speech_rate_syll_s"] == pytest.approx(17 / 4.5)
    assert a["articulation_rate_syll_s"] == pytest.approx(17 / 4.0)
    assert a["pause_rate_per_min"] == pytest.approx(60 / 4.5)
    assert a["pause_duration_mean_s"] == pytest.approx(0.5)
    assert a["ipu_duration_median_s"] == pytest.approx(1.0)
    assert a["ipu_duration_sd_s"] == pytest.approx(np.std([1.0, 1.0, 0.5, 1.5], ddof=1))
    b = out.loc["B"]
    assert b["n_pauses"] == 0 and np.isnan(b["pause_duration_mean_s"])
    assert b["speech_rate_syll_s"] == pytest.approx(3 / 0.8)
    assert out["speech_rate_syll_s"].dtype == np.float64
