"""Overlapping speech in the segmenter: which frames are overlapped (the source
depends on how the voices were attributed), and the measures that leave them out.
The detection itself is :mod:`features.overlap`."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from corpora.corpus import Recording
from features.attribution import join_spans, spans_mask
from features.overlap import (
    channel_overlap,
    overlap_from_evidence,
    overlap_share,
    pool_spans,
    split_spans,
)
from features.voice import MEASURES as VOICE_MEASURES
from features.voice import voice_quality
from speech.pass_one import FrameTracks

__all__ = ["live_channels", "overlap_frames", "voice_quality_outside", "withdraw_overlapped"]

#: A vowel token with more than this share of its frames overlapped gets no formants.
VOWEL_OVERLAP_SHARE = 0.5
#: Stretches outside overlap shorter than this are not measured for voice quality (s).
MIN_STRETCH_S = 0.05


def live_channels(recording: Recording, levels: np.ndarray, dead: list[int]) -> list[int]:
    """The mapped channels that carry signal, in channel order."""
    return [c for c in sorted(recording.channels) if c not in dead and c < levels.shape[0]]


def overlap_frames(
    recording: Recording,
    tracks: FrameTracks,
    dead: list[int],
    active: np.ndarray,
    method: str,
    hop: float,
    voice_spans: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Frames where two voices speak at once: where two voices' transcript intervals
    (``voice_spans``, one array per voice) overlap when the transcript attributed
    several voices; from the channels when each carries one voice; else from the
    mix's double-voicing evidence (pass 1 computes it for recordings of several
    voices without a channel map); none otherwise. Always inside ``active``."""
    if method == "transcript" and voice_spans is not None and len(voice_spans) > 1:
        count = sum(spans_mask(spans, active.size, hop).astype(int) for spans in voice_spans)
        return (count >= 2) & active
    if method == "channel":
        levels = tracks.get("channel_levels")
        live = levels[live_channels(recording, levels, dead)]
        return channel_overlap(live, hop_s=hop, active=active)
    evidence = tracks.get("overlap_evidence")
    if evidence is None:
        return np.zeros(active.size, bool)
    return overlap_from_evidence(evidence, active, hop_s=hop, level_db=tracks.get("intensity"))


def withdraw_overlapped(
    vowels: pd.DataFrame | None, overlap: np.ndarray, hop: float
) -> pd.DataFrame | None:
    """Vowel tokens with more than :data:`VOWEL_OVERLAP_SHARE` of their frames
    overlapped keep their row, with qc ``overlap`` and no formants (the other
    voice's harmonics and resonances would pull them)."""
    if vowels is None or not len(vowels):
        return vowels
    share = overlap_share(overlap, vowels[["start_s", "end_s"]].to_numpy(), hop_s=hop)
    hit = np.nan_to_num(share) > VOWEL_OVERLAP_SHARE
    formants = [c for c in vowels.columns if re.fullmatch(r"[fb]\d(_\w+)?_hz", c)]
    vowels.loc[hit, [*formants, "ceiling_hz", "ceiling_error"]] = np.nan
    qc = vowels["qc"].astype(object).fillna("").to_numpy()
    vowels["qc"] = np.where(hit, np.where(qc == "", "overlap", qc + ";overlap"), qc)
    return vowels


def voice_quality_outside(
    audio: np.ndarray,
    sr: int,
    spans: np.ndarray,
    *,
    pitch_floor_hz: float,
    pitch_ceiling_hz: float,
    hop_s: float,
    engine: str,
    unmeasured: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Jitter, shimmer and HNR of each span (one voice's segments, in the chunk's
    times; :func:`features.voice.voice_quality` over the spans joined by
    :func:`features.attribution.join_spans`), on its stretches outside the
    ``unmeasured`` frames (on the chunk's frame grid) when given: each measure pooled
    over a span's stretches, weighted by their periods (HNR: by their durations);
    NaN (0 periods) for a span overlapped throughout."""
    n_spans, owner = len(spans), None
    if unmeasured is not None and unmeasured.any():
        spans, owner = split_spans(spans, unmeasured, hop_s=hop_s, min_s=MIN_STRETCH_S)
    measures = {m.name: np.full(len(spans), np.nan) for m in VOICE_MEASURES}
    measures["n_periods"] = np.zeros(len(spans), np.int64)
    if len(spans):
        joined, joined_spans = join_spans(audio, sr, spans)
        measures = voice_quality(
            joined,
            sr,
            joined_spans,
            pitch_floor_hz=pitch_floor_hz,
            pitch_ceiling_hz=pitch_ceiling_hz,
            engine=engine,
        )
    if owner is None:
        return measures
    periods = measures["n_periods"].astype(np.float64)
    durations = np.diff(spans, axis=1)[:, 0]
    pooled = {
        name: pool_spans(values, durations if name.startswith("hnr") else periods, owner, n_spans)
        for name, values in measures.items()
        if name != "n_periods"
    }
    pooled["n_periods"] = np.bincount(owner, weights=periods, minlength=n_spans).astype(np.int64)
    return pooled
