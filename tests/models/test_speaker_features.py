"""The speaker x feature matrix: normalised vowel means and chosen speaker measures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.speaker_features import (
    NORMALISED_VOWEL_MEANS,
    normalised_vowel_means,
    speaker_feature_matrix,
)

TARGETS = {"a": (700, 1300), "e": (450, 1850), "i": (280, 2250), "o": (460, 950), "u": (310, 780)}


def vowel_tokens(seed: int = 0, per_vowel: int = 6) -> pd.DataFrame:
    """Two speakers, the second with a vocal tract 20% shorter (formants x 1.2), and an
    interviewer; one flagged token per speaker with absurd formants."""
    rng = np.random.default_rng(seed)
    rows = []
    for speaker, scale in (("S1", 1.0), ("S2", 1.2), ("INT1", 1.1)):
        for vowel, (f1, f2) in TARGETS.items():
            for _ in range(per_vowel):
                rows.append({"speaker_id": speaker, "vowel": vowel, "qc": "",
                             "f1_hz": scale * f1 * np.exp(rng.normal(0, 0.03)),
                             "f2_hz": scale * f2 * np.exp(rng.normal(0, 0.03))})
        rows.append({"speaker_id": speaker, "vowel": "a", "qc": "merger",
                     "f1_hz": 5000.0, "f2_hz": 5100.0})
        rows.append({"speaker_id": speaker, "vowel": None, "qc": "", "f1_hz": 500.0,
                     "f2_hz": 1500.0})
    return pd.DataFrame(rows)


def test_lobanov_means_by_hand_and_size_free():
    tokens = vowel_tokens()
    means = normalised_vowel_means(tokens)
    assert means["speaker_id"].tolist() == ["INT1", "S1", "S2"]
    expected_columns = [f"f{k}_lobanov_{v}" for v in "aeiou" for k in (1, 2)]
    assert means.columns.tolist() == ["speaker_id", *expected_columns]
    clean = tokens[(tokens["qc"] == "") & tokens["vowel"].notna()]
    s1 = clean[clean["speaker_id"] == "S1"]
    z = (s1["f1_hz"] - s1["f1_hz"].mean()) / s1["f1_hz"].std(ddof=1)
    by_hand = z[s1["vowel"] == "i"].mean()
    assert means.loc[means["speaker_id"] == "S1", "f1_lobanov_i"].item() == pytest.approx(by_hand)
    # Lobanov removes the vocal-tract scale: the two speakers' means nearly coincide.
    a = means.set_index("speaker_id").loc["S1"].to_numpy(dtype=float)
    b = means.set_index("speaker_id").loc["S2"].to_numpy(dtype=float)
    assert np.max(np.abs(a - b)) < 0.15
    assert means.set_index("speaker_id").loc["S1", "f2_lobanov_i"] > 1.0


def test_min_tokens_gives_missing_not_noisy_means():
    tokens = vowel_tokens()
    few = tokens[~((tokens["speaker_id"] == "S2") & (tokens["vowel"] == "u"))
                 | (tokens.index % 7 == 0)]
    n_u = int(((few["speaker_id"] == "S2") & (few["vowel"] == "u") & (few["qc"] == "")).sum())
    assert 0 < n_u < 3
    means = normalised_vowel_means(few, min_tokens=3).set_index("speaker_id")
    assert np.isnan(means.loc["S2", "f1_lobanov_u"]) and np.isnan(means.loc["S2", "f2_lobanov_u"])
    assert np.isfinite(means.loc["S1", "f1_lobanov_u"])
    with pytest.raises(ValueError, match="normaliser"):
        normalised_vowel_means(tokens, normaliser="bogus")


def test_other_normalisers_name_their_columns():
    means = normalised_vowel_means(vowel_tokens(), normaliser="nearey1")
    assert "f1_nearey1_a" in means.columns


def test_feature_matrix_keeps_profiled_speakers_and_records_drops():
    speakers = pd.DataFrame({
        "speaker_id": ["S2", "S1"], "gender": ["F", "M"],
        "f0_median_st": [12.0, 3.0], "hnr_db": [15.0, 15.0],
        "vowel_reduction_index": [30.0, np.nan],
    })  # fmt: skip
    features = (NORMALISED_VOWEL_MEANS, "f0_median_st", "hnr_db", "vowel_reduction_index",
                "cpps_median_db")
    matrix = speaker_feature_matrix(speakers, vowel_tokens(), features=features)
    assert matrix["speaker_id"].tolist() == ["S2", "S1"]  # the speakers' order; no INT1
    assert "f1_lobanov_a" in matrix.columns and "f0_median_st" in matrix.columns
    assert matrix.attrs["dropped"] == {
        "hnr_db": "constant across speakers",
        "vowel_reduction_index": "constant across speakers",
        "cpps_median_db": "not a column of the speakers table",
    }  # fmt: skip
    assert "gender" not in matrix.columns
    no_vowels = speaker_feature_matrix(speakers, None, features=features)
    assert no_vowels.attrs["dropped"][NORMALISED_VOWEL_MEANS] == "the store has no vowels table"
    assert no_vowels.columns.tolist() == ["speaker_id", "f0_median_st"]
