"""Vowel formants and coda /s/ through extract, against the synthetic truth."""

import numpy as np
import pandas as pd
import pytest

from corpora.corpus import read_corpus
from speech.extract import extract
from speech.store import Store


@pytest.fixture(scope="module")
def extracted(synthetic_corpus, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("vowels") / "store")
    extract(read_corpus(synthetic_corpus), store, jobs=2)
    truth = pd.read_csv(synthetic_corpus / "truth" / "tokens.csv")
    # Only the profiled speakers' tokens are measured (interviewers are never modelled).
    profiled = pd.read_csv(synthetic_corpus / "speakers.csv")["speaker_id"]
    return store, truth[truth["speaker_id"].isin(profiled)]


def test_vowel_formants_match_the_planted_targets(extracted):
    store, truth = extracted
    vowels = store.read_table("vowels")
    assert {"vowel", "f1_hz", "f2_hz", "b1_hz", "f1_20_hz", "f1_80_hz", "ceiling_hz",
            "ceiling_error", "qc", "f0_hz", "duration_s"} <= set(vowels.columns)
    planted = truth[truth["is_vowel"].astype(bool)]
    both = vowels.merge(planted, on=["recording_id", "speaker_id", "start_s"],
                        suffixes=("", "_true"))
    assert len(both) == len(planted)  # every aligned vowel is measured
    assert (both["vowel"] == both["phone"]).all()
    long = both[both["end_s"] - both["start_s"] >= 0.05]
    for k in (1, 2):  # issue criterion: median |relative error| <= 4% on vowels >= 50 ms
        error = (long[f"f{k}_hz"] / long[f"f{k}_hz_true"] - 1).abs()
        assert error.median() <= 0.04, (k, error.median())
    assert vowels["ceiling_hz"].between(4000, 6500).all()


def test_coda_s_realisations_match_the_planted_ones(extracted):
    store, truth = extracted
    sibilants = store.read_table("sibilants")
    planted = truth[truth["phone"] == "s"]
    both = sibilants.merge(planted, on=["recording_id", "speaker_id", "start_s"],
                           suffixes=("", "_true"))
    assert len(both) == len(planted)
    assert (both["realisation"] == both["realisation_true"]).mean() >= 0.9
    assert both["cog_hz"][both["realisation"] == "s"].median() > 4000


def test_speakers_table_summarises_vowels_and_s(extracted, synthetic_corpus):
    store, _ = extracted
    speakers = store.read_table("speakers")
    for column in ("n_vowel_tokens", "vowel_polygon_area", "vowel_fcr",
                   "vowel_reduction_index", "coda_s_aspirated_ratio", "n_coda_s"):
        assert column in speakers
    assert (speakers["n_vowel_tokens"] > 50).all()
    assert np.isfinite(speakers["vowel_reduction_index"]).all()
