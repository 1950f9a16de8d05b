"""Specifications of speaker-level aggregation (models.aggregate): duration-weighted,
NaN-aware means, with the counts that stand behind them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.aggregate import aggregate_speakers


@pytest.fixture
def segments():
    return pd.DataFrame({
        "speaker_id": ["S01", "S01", "S01", "S02", "INT1"],
        "duration_s": [1.0, 3.0, 2.0, 0.5, 4.0],
        "f0_median_st": [10.0, 14.0, np.nan, 2.0, 5.0],
        "voiced_ratio": [0.5, 0.7, 0.9, np.nan, 0.6],
    })  # fmt: skip


def test_duration_weighted_means_by_hand(segments):
    out = aggregate_speakers(segments, features=["f0_median_st", "voiced_ratio"])
    s01 = out.set_index("speaker_id").loc["S01"]
    # The NaN segment (2 s) neither contributes nor dilutes: (1*10 + 3*14) / 4 = 13.
    assert s01["f0_median_st"] == pytest.approx(13.0)
    assert s01["voiced_ratio"] == pytest.approx((0.5 * 1 + 0.7 * 3 + 0.9 * 2) / 6)
    assert s01["n_segments"] == 3 and s01["speech_s"] == pytest.approx(6.0)
    assert s01["f0_median_st_n"] == 2 and s01["voiced_ratio_n"] == 3
    assert list(out.columns) == [
        "speaker_id",
        "n_segments",
        "speech_s",
        "f0_median_st",
        "f0_median_st_n",
        "voiced_ratio",
        "voiced_ratio_n",
    ]
    assert list(out["speaker_id"]) == ["INT1", "S01", "S02"]


def test_all_nan_gives_nan_and_zero_count(segments):
    s02 = aggregate_speakers(segments, features=["voiced_ratio"]).set_index("speaker_id")
    assert np.isnan(s02.loc["S02", "voiced_ratio"]) and s02.loc["S02", "voiced_ratio_n"] == 0


def test_dtypes_stay_numeric_with_arrow_strings_and_nullable_values(segments):
    seg = segments.astype({"speaker_id": "string[pyarrow]", "f0_median_st": "Float64"})
    out = aggregate_speakers(seg, features=["f0_median_st"])
    assert out["f0_median_st"].dtype == np.float64
    assert out["speech_s"].dtype == np.float64
    assert out["n_segments"].dtype == np.int64 and out["f0_median_st_n"].dtype == np.int64


def test_unweighted_means(segments):
    out = aggregate_speakers(segments, features=["f0_median_st"], weight=None)
    assert out.set_index("speaker_id").loc["S01", "f0_median_st"] == pytest.approx(12.0)


def test_join_with_profiles(segments):
    profiles = pd.DataFrame(
        {
            "speaker_id": ["S01", "S02", "S03"],
            "age": [31, 45, 24],
            "education": ["bachelor", "master_phd", "secondary"],
        }
    )
    out = aggregate_speakers(segments, features=["f0_median_st"], profiles=profiles)
    assert list(out["speaker_id"]) == ["S01", "S02", "S03"]  # interviewers left out
    s03 = out.set_index("speaker_id").loc["S03"]
    assert s03["n_segments"] == 0 and s03["speech_s"] == 0.0 and np.isnan(s03["f0_median_st"])
    assert out.set_index("speaker_id").loc["S02", "age"] == 45
    assert out["n_segments"].dtype == np.int64


def test_bad_input_is_refused(segments):
    with pytest.raises(ValueError, match="lacks columns"):
        aggregate_speakers(segments, features=["hnr_db"])
    with pytest.raises(ValueError, match=">= 0"):
        aggregate_speakers(segments.assign(duration_s=-1.0), features=["f0_median_st"])
    with pytest.raises(ValueError, match="numeric"):
        aggregate_speakers(segments.assign(x="a"), features=["x"])
    dup = pd.DataFrame({"speaker_id": ["S01", "S01"]})
    with pytest.raises(ValueError, match="duplicated"):
        aggregate_speakers(segments, features=["f0_median_st"], profiles=dup)
