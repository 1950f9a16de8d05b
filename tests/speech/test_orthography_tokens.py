"""Vowel tokens at nuclei labelled from the transcript's words (speech.tokens)."""

import numpy as np
import pandas as pd

from corpora.languages import rules_for
from speech.tokens import LABEL_COLUMNS, TOKEN_COLUMNS, nucleus_tokens, orthography_tokens

SEGMENTS = pd.DataFrame({"segment_id": ["r-00000", "r-00001"], "speaker_id": ["S01", "INT1"],
                         "start_s": [0.0, 2.0], "end_s": [1.5, 3.0]})


def transcript(rows):
    return pd.DataFrame(rows, columns=["speaker", "tier", "level", "start_s", "end_s", "label"])


def test_words_label_their_nuclei_and_leave_the_rest_unlabelled():
    # "casa" (stress on the first a) over two nuclei; a filler nucleus at 1.2 s outside
    # any word; the interviewer's "sí" in their own segment.
    nuclei = np.array([0.2, 0.5, 1.2, 2.5])
    levels = np.array([70.0, 64.0, 60.0, 68.0])
    words = transcript([("S01", "S01", "words", 0.1, 0.7, "Casa"),
                        ("INT1", "INT1", "words", 2.3, 2.7, "sí")])
    tokens = orthography_tokens(words, SEGMENTS, nuclei, levels, rules_for("es"))
    assert list(tokens.columns) == [*TOKEN_COLUMNS, *LABEL_COLUMNS]
    assert tokens["phone"].tolist()[:2] == ["a", "a"] and pd.isna(tokens["phone"].iloc[2])
    assert tokens["stress"].tolist()[:2] == [True, False]
    assert tokens["label_source"].tolist() == ["orthography", "orthography", "none",
                                               "orthography"]
    assert tokens["word"].tolist()[:2] == ["casa", "casa"]
    assert tokens["label_confidence"].iloc[:2].between(0.5, 1).all()
    assert tokens.loc[3, ["phone", "speaker_id"]].tolist() == ["i", "INT1"]


def test_numbers_in_digits_and_voices_without_segments_stay_unlabelled():
    nuclei = np.array([0.2, 0.5])
    words = transcript([("S01", "S01", "turns", 0.1, 0.7, "25"),
                        ("S09", "S09", "turns", 0.1, 0.7, "casa")])
    tokens = orthography_tokens(words, SEGMENTS, nuclei, np.array([70.0, 64.0]),
                                rules_for("es"))
    assert (tokens["label_source"] == "none").all() and tokens["phone"].isna().all()


def test_nucleus_tokens_take_the_given_spans_clipped_to_their_segment():
    nuclei = np.array([0.05, 0.5, 2.9])
    spans = np.array([[-0.05, 0.15], [0.4, 0.62], [2.8, 3.2]])
    tokens = nucleus_tokens(nuclei, SEGMENTS, spans)
    np.testing.assert_allclose(tokens[["start_s", "end_s"]].to_numpy(),
                               [[0.0, 0.15], [0.4, 0.62], [2.8, 3.0]])
    assert (tokens["label_source"] == "none").all()
    fixed = nucleus_tokens(nuclei, SEGMENTS)
    np.testing.assert_allclose(fixed["end_s"] - fixed["start_s"], [0.08, 0.08, 0.08])


def test_the_stressed_vowel_goes_to_the_long_nucleus_when_spans_are_known():
    # real-es MX1 "octubre": the vocoid between /b/ and the tap (50 ms) is the word's
    # loudest peak and lies where the letters put the stressed u; the u itself is
    # 140 ms long. Without spans the alignment sees level and timing only.
    nuclei = np.array([0.04, 0.35, 0.58, 0.65])
    levels = np.array([69.1, 66.1, 70.0, 68.8])
    half = np.array([0.05, 0.07, 0.025, 0.075])
    words = transcript([("S01", "S01", "words", 0.0, 1.0, "octubre")])
    plain = orthography_tokens(words, SEGMENTS, nuclei, levels, rules_for("es"))
    timed = orthography_tokens(words, SEGMENTS, nuclei, levels, rules_for("es"),
                               np.c_[nuclei - half, nuclei + half])
    assert plain["stress"].fillna(False).tolist() == [False, False, True, False]
    assert timed["stress"].fillna(False).tolist() == [False, True, False, False]
    assert timed.loc[1, "phone"] == "u"
