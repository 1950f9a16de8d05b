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


def interval_at(times: np.ndarray, intervals: pd.DataFrame, *, voices: np.ndarray | None = None,
                closed: str = "both") -> np.ndarray:
    """Position (row number) in ``intervals`` of the interval that holds each time.

    ``intervals`` has ``start_s`` and ``end_s`` (and ``speaker_id`` when ``voices``
    is given: a time is then looked up among its own voice's intervals). The
    interval with the latest start at or before the time is taken (one
    ``pandas.merge_asof``), and kept when the time lies before its end: ``closed``
    ``"both"`` (``t <= end_s``) or ``"left"`` (``t < end_s``). -1 where none holds it.
    """
    times = np.asarray(times, dtype=np.float64)
    found = np.full(times.size, -1, dtype=np.int64)
    if not times.size or not len(intervals):
        return found
    by = {} if voices is None else {"by": "voice"}
    left = pd.DataFrame({"t": times, "point": np.arange(times.size)})
    right = pd.DataFrame({"start_s": intervals["start_s"].to_numpy(dtype=np.float64),
                          "end_s": intervals["end_s"].to_numpy(dtype=np.float64),
                          "slot": np.arange(len(intervals))})
    if voices is not None:
        left["voice"] = np.asarray(voices, dtype=object)
        right["voice"] = intervals["speaker_id"].to_numpy(dtype=object)
    matched = pd.merge_asof(left.sort_values("t", kind="stable"),
                            right.sort_values("start_s", kind="stable"), left_on="t",
                            right_on="start_s", direction="backward", **by)
    inside = (matched["t"] <= matched["end_s"]) if closed == "both" else (
        matched["t"] < matched["end_s"])
    found[matched["point"].to_numpy()[inside]] = matched["slot"].to_numpy()[inside].astype(
        np.int64)
    return found


def assign_to_segments(phones: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Each phone (``speaker_id``, ``start_s``, ``end_s``) to the segment of its voice
    that holds its midpoint, as a ``segment_id`` column; phones in no segment are
    dropped."""
    mid = ((phones["start_s"] + phones["end_s"]) / 2).to_numpy(dtype=np.float64)
    slot = interval_at(mid, segments, voices=phones["speaker_id"].to_numpy(dtype=object))
    ok = slot >= 0
    if not ok.any():
        return pd.DataFrame(columns=[*phones.columns, "segment_id"])
    found = phones[ok].assign(segment_id=segments["segment_id"].to_numpy()[slot[ok]])
    # Voices in the order the segments first name them, as the segments are grouped.
    rank = {voice: k for k, voice in enumerate(pd.unique(segments["speaker_id"]))}
    order = np.argsort(found["speaker_id"].map(rank).to_numpy(dtype=np.int64), kind="stable")
    return found.iloc[order].reset_index(drop=True)


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
    mid = ((phones["start_s"] + phones["end_s"]) / 2).to_numpy(dtype=np.float64)
    slot = interval_at(mid, words.rename(columns={"speaker": "speaker_id"}),
                       voices=phones["speaker_id"].to_numpy(dtype=object))
    ok = slot >= 0
    labels = words["label"].astype("string").str.strip().str.lower().to_numpy()
    found.loc[phones.index[ok]] = labels[slot[ok]]
    return found


def nucleus_tokens(nuclei_s: np.ndarray, segments: pd.DataFrame) -> pd.DataFrame:
    """Unlabelled vowel tokens: ``NUCLEUS_HALF_S`` around each syllable nucleus,
    clipped to its segment (``phone`` is null)."""
    if not len(segments) or not len(nuclei_s):
        return pd.DataFrame(columns=TOKEN_COLUMNS)
    slot = interval_at(nuclei_s, segments)
    ok = slot >= 0
    t, k = np.asarray(nuclei_s)[ok], slot[ok]
    return pd.DataFrame({
        "segment_id": segments["segment_id"].to_numpy()[k],
        "speaker_id": segments["speaker_id"].to_numpy()[k],
        "start_s": np.maximum(t - NUCLEUS_HALF_S, segments["start_s"].to_numpy()[k]),
        "end_s": np.minimum(t + NUCLEUS_HALF_S, segments["end_s"].to_numpy()[k]),
        "phone": pd.Series([None] * int(ok.sum()), dtype="string"),
        "position": None,
        "word": pd.Series([None] * int(ok.sum()), dtype="string"),
    })  # fmt: skip
