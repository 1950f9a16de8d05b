"""Vowel and /s/ tokens of a recording, from its aligned phones or, without an
alignment, from its syllable nuclei (unlabelled vowel tokens).

Labels are matched to the corpus vowel inventory after removing the marks that
aligners and IPA transcriptions add (stress digits of MFA/ARPABET, IPA stress
and length marks), so ``a1``, ``ˈa`` and ``aː`` are all /a/.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

TOKEN_COLUMNS = ("segment_id", "speaker_id", "start_s", "end_s", "phone", "position", "word")
#: Half-width (s) of an unlabelled vowel token around a syllable nucleus.
NUCLEUS_HALF_S = 0.04
_MARKS = "0123456789ˈˌːˑ'\"`"


def base_label(label: str) -> str:
    """``"ˈa"``, ``"a1"``, ``"aː"``, ``"A"`` -> ``"a"``: stress and length marks and
    combining diacritics removed, lower case."""
    decomposed = unicodedata.normalize("NFD", str(label).strip().lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.strip(_MARKS)


def assign_to_segments(phones: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Each phone (``speaker_id``, ``start_s``, ``end_s``) to the segment of its voice
    that holds its midpoint, as a ``segment_id`` column; phones in no segment are
    dropped."""
    parts = []
    for voice, group in segments.groupby("speaker_id", sort=False):
        mine = phones[phones["speaker_id"] == voice]
        if mine.empty:
            continue
        mid = ((mine["start_s"] + mine["end_s"]) / 2).to_numpy()
        order = np.argsort(group["start_s"].to_numpy())
        starts = group["start_s"].to_numpy()[order]
        ends = group["end_s"].to_numpy()[order]
        slot = np.searchsorted(starts, mid, side="right") - 1
        ok = slot >= 0
        ok[ok] &= mid[ok] <= ends[slot[ok]]
        parts.append(mine[ok].assign(segment_id=group["segment_id"].to_numpy()[order][slot[ok]]))
    if not parts:
        return pd.DataFrame(columns=[*phones.columns, "segment_id"])
    return pd.concat(parts, ignore_index=True)


def aligned_tokens(transcript: pd.DataFrame, segments: pd.DataFrame, vowels: tuple[str, ...],
                   sibilant: str = "s") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vowel and /s/ tokens from a transcript's phones tiers (its ``speaker`` column
    holding the voices as the segments name them).

    Returns
    -------
    vowel_tokens, s_tokens : DataFrame
        :data:`TOKEN_COLUMNS`; ``phone`` is the inventory vowel (or "s"),
        ``position`` is ``"coda"`` for an /s/ not followed, within its word and
        without a pause, by a vowel (Spanish resyllabifies a word-final /s/
        before a vowel into an onset: *los amigos* [lo.sa.mi.gos]), else ``"onset"``;
        ``word`` is the (lower-case) label of the words-tier interval of the same
        voice that holds the phone's midpoint, null without a words tier.
    """
    phones = transcript[transcript["level"] == "phones"].copy()
    if phones.empty:
        empty = pd.DataFrame(columns=TOKEN_COLUMNS)
        return empty, empty
    phones["speaker_id"] = phones["speaker"]
    phones["base"] = phones["label"].map(base_label)
    phones = phones.sort_values(["speaker_id", "start_s"]).reset_index(drop=True)
    same_voice = phones["speaker_id"].eq(phones["speaker_id"].shift(-1))
    touching = (phones["start_s"].shift(-1) - phones["end_s"]).abs() < 1e-3
    next_is_vowel = phones["base"].shift(-1).isin(vowels) & same_voice & touching
    phones["position"] = np.where(next_is_vowel, "onset", "coda")
    phones["word"] = _words_at(transcript, phones)
    phones = assign_to_segments(phones, segments)
    vowel_rows = phones[phones["base"].isin(vowels)].assign(phone=lambda d: d["base"])
    s_rows = phones[phones["base"] == sibilant].assign(phone=sibilant)
    return (vowel_rows[list(TOKEN_COLUMNS)].reset_index(drop=True),
            s_rows[list(TOKEN_COLUMNS)].reset_index(drop=True))


def _words_at(transcript: pd.DataFrame, phones: pd.DataFrame) -> pd.Series:
    """For each phone, the lower-case word of its voice whose interval holds its midpoint."""
    words = transcript[(transcript["level"] == "words")
                       & transcript["label"].astype("string").str.strip().ne("")]
    found = pd.Series(pd.NA, index=phones.index, dtype="string")
    for voice, mine in phones.groupby("speaker_id", sort=False):
        theirs = words[words["speaker"] == voice].sort_values("start_s")
        if theirs.empty:
            continue
        mid = ((mine["start_s"] + mine["end_s"]) / 2).to_numpy()
        slot = np.searchsorted(theirs["start_s"].to_numpy(), mid, side="right") - 1
        ok = slot >= 0
        ok[ok] &= mid[ok] <= theirs["end_s"].to_numpy()[slot[ok]]
        labels = theirs["label"].astype("string").str.strip().str.lower().to_numpy()
        found.loc[mine.index[ok]] = labels[slot[ok]]
    return found


def nucleus_tokens(nuclei_s: np.ndarray, segments: pd.DataFrame) -> pd.DataFrame:
    """Unlabelled vowel tokens: ``NUCLEUS_HALF_S`` around each syllable nucleus,
    clipped to its segment (``phone`` is null)."""
    if not len(segments) or not len(nuclei_s):
        return pd.DataFrame(columns=TOKEN_COLUMNS)
    order = np.argsort(segments["start_s"].to_numpy())
    starts = segments["start_s"].to_numpy()[order]
    ends = segments["end_s"].to_numpy()[order]
    slot = np.searchsorted(starts, nuclei_s, side="right") - 1
    ok = slot >= 0
    ok[ok] &= nuclei_s[ok] <= ends[slot[ok]]
    t, k = nuclei_s[ok], order[slot[ok]]
    return pd.DataFrame({
        "segment_id": segments["segment_id"].to_numpy()[k],
        "speaker_id": segments["speaker_id"].to_numpy()[k],
        "start_s": np.maximum(t - NUCLEUS_HALF_S, segments["start_s"].to_numpy()[k]),
        "end_s": np.minimum(t + NUCLEUS_HALF_S, segments["end_s"].to_numpy()[k]),
        "phone": pd.Series([None] * int(ok.sum()), dtype="string"),
        "position": None,
        "word": pd.Series([None] * int(ok.sum()), dtype="string"),
    })  # fmt: skip
