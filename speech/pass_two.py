"""Pass two of a recording's extraction: the work that needs the audio again.

One chunk of segments at a time (the whole recording at once when it is one
block), per voice over that voice's segments: the speaker-adapted second pitch
pass, jitter, shimmer and HNR with that range (outside overlapped frames), and the
formants and /s/ measures of the profiled voices' tokens. Pass one
(:mod:`speech.pass_one`) computed the frame tracks; :mod:`speech.segmentation`
conducts both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from corpora.corpus import Recording
from features.formants import band_limited_ceilings, default_ceilings, measure_vowels
from features.quality import live_mix
from features.sibilants import classify_realisation, sibilant_measures
from features.tracks import adapted_pitch_range, pitch_on_spans
from features.voice import MEASURES as VOICE_MEASURES
from speech.overlap import voice_quality_outside

if TYPE_CHECKING:
    from speech.segmentation import SegmentationConfig

__all__ = ["pass_two"]


def _measure_tokens(
    audio: np.ndarray,
    sr: int,
    offset_s: float,
    vowel_tokens: pd.DataFrame,
    s_tokens: pd.DataFrame,
    gender: str | None,
    *,
    n_ceilings: int = 10,
    source_rate: float | None = None,
    engine: str = "vectorised",
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Formants of one voice's vowel tokens (FastTrack ceiling per token, the candidates
    kept below the source's Nyquist frequency) and the spectral moments and realisation
    of its /s/ tokens, in one chunk of audio: the rows of each table (None when the
    voice has no such token)."""
    vowel_rows = sibilant_rows = None
    if len(vowel_tokens):
        spans = vowel_tokens[["start_s", "end_s"]].to_numpy() - offset_s
        ceilings, n_formants = band_limited_ceilings(
            default_ceilings(gender, n_ceilings), source_rate or sr
        )
        formants = measure_vowels(
            audio, sr, spans, ceilings_hz=ceilings, n_formants=n_formants, engine=engine
        )
        formants = formants.drop(columns=["start_s", "end_s"], errors="ignore")
        vowel_rows = pd.concat(
            [
                vowel_tokens.reset_index(drop=True)
                .drop(columns="position")
                .rename(columns={"phone": "vowel"}),
                formants.reset_index(drop=True),
            ],
            axis=1,
        )
    if len(s_tokens):
        spans = s_tokens[["start_s", "end_s"]].to_numpy() - offset_s
        values = sibilant_measures(audio, sr, spans)
        labels, confidence = classify_realisation(values)
        values = {k: v for k, v in values.items() if k != "duration_s"}
        sibilant_rows = (
            s_tokens.reset_index(drop=True)
            .drop(columns="phone")
            .assign(
                **values,
                duration_s=s_tokens["end_s"].to_numpy() - s_tokens["start_s"].to_numpy(),
                realisation=labels,
                realisation_confidence=confidence,
            )
        )
    return vowel_rows, sibilant_rows


def _chunks(segments: pd.DataFrame, max_s: float) -> list[np.ndarray]:
    """Group consecutive segments (by start) into chunks spanning at most ``max_s``."""
    order = np.argsort(segments["start_s"].to_numpy(), kind="stable")
    starts = segments["start_s"].to_numpy()[order]
    ends = segments["end_s"].to_numpy()[order]
    groups, first = [], 0
    for i in range(1, len(order) + 1):
        if i == len(order) or ends[i] - starts[first] > max_s:
            groups.append(order[first:i])
            first = i
    return groups


def _adapted_ranges(
    config: SegmentationConfig,
    first_pass: np.ndarray,
    labels: np.ndarray,
    segments: pd.DataFrame,
    voices: list[str],
) -> dict[str, tuple[float, float]]:
    """Each voice's adapted pitch range from its first-pass quartiles, recorded on its
    segments (the configured range where too few voiced frames)."""
    segments["f0_floor_hz"] = config.pitch_floor_hz
    segments["f0_ceiling_hz"] = config.pitch_ceiling_hz
    ranges = {}
    for k, voice in enumerate(voices):
        mine = (segments["speaker_id"] == voice).to_numpy()
        adapted = adapted_pitch_range(first_pass[labels == k]) if mine.any() else None
        if adapted is not None:
            ranges[voice] = adapted
            segments.loc[mine, "f0_floor_hz"] = round(adapted[0], 1)
            segments.loc[mine, "f0_ceiling_hz"] = round(adapted[1], 1)
    return ranges


def _chunk_audio(
    recording: Recording,
    config: SegmentationConfig,
    whole: np.ndarray | None,
    part: pd.DataFrame,
    duration_s: float,
    pad_s: float = 0.5,
    *,
    channels: bool = False,
):
    """The audio of a chunk of segments with ``pad_s`` around, from a frame boundary:
    ``(audio, first_frame, offset_s)``; ``audio`` is the live mix, or with
    ``channels`` every channel ``(n_channels, n)``."""
    sr, hop = config.sample_rate, config.hop_s
    hop_n = round(hop * sr)
    # The frame at or before the padded start: the chunk starts on the frame grid.
    first_frame = max(0, int((part["start_s"].min() - pad_s) / hop))
    offset_s = first_frame * hop_n / sr
    if whole is not None and not channels:
        return whole[first_frame * hop_n :], first_frame, offset_s
    if duration_s is None:
        duration_s = recording.info().duration_s
    end_s = part["end_s"].max() + pad_s
    raw, _ = recording.load(
        sr=sr, offset_s=offset_s, duration_s=min(end_s, duration_s) - offset_s, mono=False
    )
    raw = np.atleast_2d(raw)
    raw = raw - raw.mean(axis=1, keepdims=True)
    return (raw if channels else live_mix(raw)), first_frame, offset_s


def pass_two(
    recording: Recording,
    config: SegmentationConfig,
    whole: np.ndarray | None,
    first_pass: np.ndarray,
    labels: np.ndarray,
    segments: pd.DataFrame,
    voices: list[str],
    tokens: tuple[pd.DataFrame, pd.DataFrame],
    genders: dict[str, str],
    own_channels: dict[str, int] | None = None,
    unmeasured: np.ndarray | None = None,
):
    """The work that needs audio again, one chunk of segments at a time (the whole
    recording at once when it is one block), per voice over that voice's segments:
    the speaker-adapted second pitch pass, with the range its first-pass quartiles
    give (recorded on each segment), jitter, shimmer and HNR with that range, and
    the tokens of the profiled voices; voice quality outside the ``unmeasured`` frames
    (overlap). With ``own_channels`` (voice -> channel, when the voices were attributed
    from their channels or files) each voice is measured on its own channel, not on the
    mix that carries the other voices' leaks and overlaps. Returns
    ``(f0, quality, vowels, sibilants)``."""
    sr, hop = config.sample_rate, config.hop_s
    f0 = first_pass.copy()
    ranges = _adapted_ranges(config, first_pass, labels, segments, voices)
    quality = {m.name: np.full(len(segments), np.nan) for m in VOICE_MEASURES}
    parts: tuple[list, list] = ([], [])
    duration_s = recording.info().duration_s if whole is None else None
    source_rate = recording.info().sample_rate
    for chunk in _chunks(segments, config.block_s) if len(segments) else []:
        part = segments.iloc[chunk]
        audio, first_frame, offset_s = _chunk_audio(
            recording, config, whole, part, duration_s, channels=own_channels is not None
        )
        mix = live_mix(audio) if own_channels is not None else audio
        for k, voice in enumerate(voices):
            rows = np.flatnonzero((part["speaker_id"] == voice).to_numpy())
            if not len(rows):
                continue
            signal = audio[own_channels[voice]] if own_channels and voice in own_channels else mix
            spans = part.iloc[rows][["start_s", "end_s"]].to_numpy() - offset_s
            floor, ceiling = ranges.get(voice, (config.pitch_floor_hz, config.pitch_ceiling_hz))
            if voice in ranges:
                local = pitch_on_spans(
                    signal,
                    sr,
                    spans,
                    hop_s=hop,
                    pitch_floor_hz=floor,
                    pitch_ceiling_hz=ceiling,
                    engine=config.engine,
                )
                frames = np.arange(local.size) + first_frame
                inside = frames < f0.size
                frames, local = frames[inside], local[inside]
                mine = labels[frames] == k
                f0[frames[mine]] = local[mine]
            if not config.features:
                continue
            measures = voice_quality_outside(
                signal,
                sr,
                spans,
                pitch_floor_hz=floor,
                pitch_ceiling_hz=ceiling,
                hop_s=hop,
                engine=config.engine,
                unmeasured=None if unmeasured is None else unmeasured[first_frame:],
            )
            for name, values in measures.items():
                quality[name][chunk[rows]] = values
            if _measures_tokens(config, recording, voice, genders):
                ids = set(part["segment_id"].iloc[rows])
                vowel_tokens, s_tokens = (t[t["segment_id"].isin(ids)] for t in tokens)
                for found, rows_of in zip(
                    parts,
                    _measure_tokens(
                        signal,
                        sr,
                        offset_s,
                        vowel_tokens,
                        s_tokens,
                        genders.get(voice),
                        n_ceilings=config.formant_ceilings,
                        source_rate=source_rate,
                        engine=config.engine,
                    ),
                    strict=True,
                ):
                    if rows_of is not None:
                        found.append(rows_of)
    vowels, sibilants = (
        pd.concat(found, ignore_index=True)
        .sort_values("start_s", kind="stable")
        .reset_index(drop=True)
        if found
        else None
        for found in parts
    )
    return f0, quality, vowels, sibilants


def _measures_tokens(
    config: SegmentationConfig, recording: Recording, voice: str, genders: dict[str, str]
) -> bool:
    """Whether a voice's tokens are measured (``token_voices``: the profiled voices are
    the recording's speaker and any voice with a known gender)."""
    if config.token_voices == "none":
        return False
    return config.token_voices == "all" or voice == recording.speaker_id or voice in genders
