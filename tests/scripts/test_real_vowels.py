"""scripts/real_vowels.py on real Spanish speech (../shared/data/real-es): stressed vowels
labelled from orthography and recovered from F1/F2, beside a plain Praat baseline, and the
letter names classified without any transcript.

The issue's targets (MX1 >= 0.93, CO1 >= 0.85) are not reached; these tests hold the
levels measured last (README, "Vowels and coda /s/"), so that a change that loses ground
fails."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_ES = ROOT / ".." / "shared" / "data" / "real-es"
#: Measured: MX1 0.900 (80 tokens), CO1 0.827 (52), letters 13 of 13; floors 2-3 tokens
#: (one letter) below.
MX1_FLOOR, CO1_FLOOR, LETTERS_FLOOR = 0.87, 0.78, 0.92
spec = importlib.util.spec_from_file_location("real_vowels", ROOT / "scripts" / "real_vowels.py")
real_vowels = importlib.util.module_from_spec(spec)
spec.loader.exec_module(real_vowels)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    work = tmp_path_factory.mktemp("real-es")
    result, tokens = real_vowels.evaluate(REAL_ES, work, jobs=2)
    return work, result.set_index("speaker_id"), tokens


def test_stressed_vowels_are_recovered_from_orthography_labels(evaluated):
    _, result, tokens = evaluated
    assert set(tokens["label_source"]) == {"orthography"}
    assert tokens["stress"].all()
    # most words get their stressed vowel token
    assert (result["n_tokens"] / result["n_words"]).min() >= 0.85
    assert result.loc["MX1", "ours"] >= MX1_FLOOR
    assert result.loc["CO1", "ours"] >= CO1_FLOOR
    # better than plain Praat Burg at a fixed ceiling on the same tokens (measured
    # MX1 0.900 vs 0.775, CO1 0.827 vs 0.615)
    assert (result["ours"] >= result["praat_midpoint"] + 0.05).all()


def test_letter_names_fall_in_their_vowel_region_without_a_transcript(evaluated):
    work, _, tokens = evaluated
    letters = real_vowels.letters_label_free(REAL_ES, work, tokens, jobs=2)
    assert len(letters) == 13  # a e i o u be ce de ge ka pe cu te
    correct = letters["vowel"] == letters["predicted"]
    assert correct.mean() >= LETTERS_FLOOR
    # the front mid vowel of be, ce, de, ge, pe, te is never mistaken, nor is the
    # steady "a" (loudest before its first voiced frame) left without a nucleus
    assert correct[letters["vowel"] == "e"].all()
    assert letters["predicted"].notna().all()
