"""Vowel and /s/ tokens of a recording, from its aligned phones or, without an
alignment, from its syllable nuclei: labelled from the transcript's words
(orthography) where the corpus language has spelling rules, else unlabelled.

Vowel tokens carry :data:`LABEL_COLUMNS`: ``stress`` (the word's stressed syllable;
null when unknown), ``label_source`` (``phones``, ``orthography`` or ``none``) and
``label_confidence`` (1 for a phone label, the alignment's posterior probability for
an orthography label, null when unlabelled).

Labels are matched to the corpus vowel inventory after removing the marks that
aligners and IPA transcriptions add (stress digits of MFA/ARPABET, IPA stress
and length marks), so ``a1``, ``ˈa`` and ``aː`` are all /a/.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from corpora.languages import UnreadableText, WordRules, text_nuclei, text_words
from features.vowel_alignment import align_vowels

TOKEN_COLUMNS = ("segment_id", "speaker_id", "start_s", "end_s", "phone", "position", "word")
#: Half-width (s) of an unlabelled vowel token around a syllable nucleus.
NUCLEUS_HALF_S = 0.04
_MARKS = "0123456789ˈˌːˑ'\"`"
#: Label columns of vowel tokens (after TOKEN_COLUMNS).
LABEL_COLUMNS = ("stress", "label_source", "label_confidence")
#: Orthography labels with a lower posterior stay unlabelled (``label_source`` none).
MIN_LABEL_CONFIDENCE = 0.5


def phone_stress(label: str) -> bool | None:
    """Stress marked on a phone label: MFA/ARPABET digit 1 or 2 or IPA ˈ -> True, digit 0
    -> False, no mark -> None."""
    text = str(label).strip()
    if "ˈ" in text or text[-1:] in ("1", "2"):
        return True
    return False if text[-1:] == "0" else None


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
    vowel_rows = phones[phones["base"].isin(vowels)].assign(
        phone=lambda d: d["base"],
        stress=lambda d: pd.array(d["label"].map(phone_stress).tolist(), dtype="boolean"),
        label_source="phones", label_confidence=1.0)
    s_rows = phones[phones["base"] == sibilant].assign(phone=sibilant)
    return (vowel_rows[[*TOKEN_COLUMNS, *LABEL_COLUMNS]].reset_index(drop=True),
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


def _segment_slots(times_s: np.ndarray, segments: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Which times lie in a segment (bool mask) and the row of that segment (for the
    times inside)."""
    slot = interval_at(np.asarray(times_s, dtype=np.float64), segments)
    ok = slot >= 0
    return ok, slot[ok]


def nucleus_tokens(nuclei_s: np.ndarray, segments: pd.DataFrame,
                   spans: np.ndarray | None = None) -> pd.DataFrame:
    """Unlabelled vowel tokens at the syllable nuclei, clipped to their segment
    (``phone`` is null): each nucleus's vowel span (``spans``, shape (n_nuclei, 2),
    from :func:`features.nuclei.nucleus_spans`), or ``NUCLEUS_HALF_S`` around it."""
    if not len(segments) or not len(nuclei_s):
        return pd.DataFrame(columns=[*TOKEN_COLUMNS, *LABEL_COLUMNS])
    ok, k = _segment_slots(nuclei_s, segments)
    t = nuclei_s[ok]
    n = int(ok.sum())
    if spans is None:
        lo, hi = t - NUCLEUS_HALF_S, t + NUCLEUS_HALF_S
    else:
        lo, hi = np.asarray(spans, dtype=np.float64)[ok].T
    return pd.DataFrame({
        "segment_id": segments["segment_id"].to_numpy()[k],
        "speaker_id": segments["speaker_id"].to_numpy()[k],
        "start_s": np.maximum(lo, segments["start_s"].to_numpy()[k]),
        "end_s": np.minimum(hi, segments["end_s"].to_numpy()[k]),
        "phone": pd.Series([None] * n, dtype="string"),
        "position": None,
        "word": pd.Series([None] * n, dtype="string"),
        "stress": pd.array([None] * n, dtype="boolean"),
        "label_source": "none",
        "label_confidence": np.full(n, np.nan),
    })  # fmt: skip


def _text_intervals(transcript: pd.DataFrame) -> pd.DataFrame:
    """Each voice's transcribed intervals: its words tier when it has one (word
    timing narrows the alignment), else its turns."""
    text = transcript[transcript["level"].isin(("words", "turns"))
                      & transcript["label"].astype("string").str.strip().ne("")]
    has_words = set(text.loc[text["level"] == "words", "speaker"])
    keep = np.where(text["speaker"].isin(has_words), text["level"] == "words",
                    text["level"] == "turns")
    return text[keep].sort_values(["speaker", "start_s"]).reset_index(drop=True)


def _speech_time(times_s: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Seconds of speech (inside the sorted, disjoint ``spans``, shape (k, 2)) before
    each time."""
    before = np.r_[0.0, np.cumsum(spans[:, 1] - spans[:, 0])]
    k = np.searchsorted(spans[:, 0], times_s, side="right")  # spans started by t
    inside = np.clip(times_s - spans[np.maximum(k - 1, 0), 0], 0,
                     spans[np.maximum(k - 1, 0), 1] - spans[np.maximum(k - 1, 0), 0])
    return before[np.maximum(k - 1, 0)] + np.where(k > 0, inside, 0.0)


def _interval_labels(interval: pd.Series, nuclei_s: np.ndarray, nuclei_db: np.ndarray,
                     rules: WordRules, speech: np.ndarray, durations_s: np.ndarray | None = None,
                     ) -> list[tuple[float, str, bool, float, str]]:
    """(nucleus time, vowel, stressed, confidence, word) of the nuclei of one
    transcribed interval that its expected vowels were aligned to. Nucleus positions
    count speech time only (``speech``: the voice's segments, sorted): a turn's
    pauses and a file's leading silence would otherwise shift every expected vowel."""
    start, end = float(interval["start_s"]), float(interval["end_s"])
    lo, hi = np.searchsorted(nuclei_s, [start, end], side="left")
    if hi <= lo or end <= start:
        return []
    edges = _speech_time(np.array([start, end]), speech)
    if edges[1] <= edges[0]:
        return []
    try:
        expected = text_nuclei(str(interval["label"]), rules)
    except UnreadableText:
        return []  # a number's syllables are unknown: its nuclei stay unlabelled
    if not expected:
        return []
    times = nuclei_s[lo:hi]
    assigned, confidence = align_vowels(
        np.array([e.position for e in expected]), np.array([e.stressed for e in expected]),
        np.clip((_speech_time(times, speech) - edges[0]) / (edges[1] - edges[0]), 0, 1),
        nuclei_db[lo:hi], nucleus_duration_s=None if durations_s is None else durations_s[lo:hi])
    words = text_words(str(interval["label"]))
    return [(float(times[j]), e.vowel, e.stressed, float(c), words[e.word].lower())
            for e, j, c in zip(expected, assigned, confidence, strict=True)
            if j >= 0 and c >= MIN_LABEL_CONFIDENCE]


def orthography_tokens(transcript: pd.DataFrame, segments: pd.DataFrame, nuclei_s: np.ndarray,
                       nuclei_db: np.ndarray, rules: WordRules,
                       spans: np.ndarray | None = None) -> pd.DataFrame:
    """Vowel tokens at the syllable nuclei, labelled from the transcript's words.

    Every nucleus in a segment is a token (as :func:`nucleus_tokens`); within each
    transcribed interval of a voice (words tier, else turns), the vowels its text
    spells (:func:`corpora.languages.text_nuclei`) are aligned to the interval's
    nuclei (:func:`features.vowel_alignment.align_vowels`), and a nucleus that an
    expected vowel was aligned to with posterior >= :data:`MIN_LABEL_CONFIDENCE`
    and that lies in a segment of the same voice takes its vowel and stress
    (``label_source`` "orthography"). Other nuclei stay unlabelled.

    Parameters
    ----------
    nuclei_s, nuclei_db : np.ndarray, shape (n_nuclei,)
        Nucleus times (s, increasing) and their vowel-band intensity (dB).
    rules : callable
        The language's word rules (:func:`corpora.languages.rules_for`).
    spans : np.ndarray, shape (n_nuclei, 2), optional
        Each nucleus's vowel span (see :func:`nucleus_tokens`).
    """
    tokens = nucleus_tokens(nuclei_s, segments, spans)
    if tokens.empty or transcript is None:
        return tokens
    # The span's length is a stress cue in the alignment (align_vowels).
    durations = None if spans is None else np.ptp(np.asarray(spans, dtype=np.float64), axis=1)
    labelled = []
    spans = {voice: np.sort(mine[["start_s", "end_s"]].to_numpy(dtype=np.float64), axis=0)
             for voice, mine in segments.groupby("speaker_id", sort=False)}
    for _, interval in _text_intervals(transcript).iterrows():
        speech = spans.get(interval["speaker"])
        if speech is None:
            continue  # a voice without segments has no nuclei tokens
        for row in _interval_labels(interval, nuclei_s, nuclei_db, rules, speech, durations):
            labelled.append((interval["speaker"], *row))
    if not labelled:
        return tokens
    found = pd.DataFrame(labelled, columns=["speaker_id", "nucleus_s", "phone", "stress",
                                            "label_confidence", "word"])
    ok, _ = _segment_slots(nuclei_s, segments)
    key = pd.DataFrame({"speaker_id": tokens["speaker_id"].to_numpy(), "nucleus_s": nuclei_s[ok]})
    hit = key.merge(found, on=["speaker_id", "nucleus_s"], how="left")
    mine = hit["phone"].notna().to_numpy()
    tokens["phone"] = hit["phone"].astype("string").to_numpy()
    tokens["stress"] = pd.array(hit["stress"].tolist(), dtype="boolean")
    tokens["label_source"] = np.where(mine, "orthography", "none")
    tokens["label_confidence"] = hit["label_confidence"].to_numpy(dtype=np.float64)
    tokens["word"] = hit["word"].astype("string").to_numpy()
    return tokens
