"""One recording -> speaker-attributed segments, in one pass.

Decode once; compute the frame tracks once over the whole recording (intensity,
Praat pitch); derive the inter-pausal units (IPUs), their speakers and their
syllable-nucleus counts from those tracks by vectorised reductions.

Speaker attribution, in order of preference:

1. ``transcript``: the transcript's speaker tiers (TextGrid, ELAN, VTT...), frame
   by frame: an IPU that spans a change of speaker is split there;
2. ``channel``: a channel map from recordings.csv (one voice per channel): each
   speech frame goes to the loudest channel's voice;
3. ``cluster``: unsupervised clustering of IPUs into ``n_speakers`` voices; the
   voice with the most speech is the profiled speaker (the interviewee), others
   are labelled ``INT1``, ``INT2``...;
4. ``single``: a one-voice recording.

Every segment records its ``method`` and a ``confidence`` in [0, 1].
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from corpora.audio import load_audio
from corpora.corpus import Recording
from corpora.transcripts import read_transcript
from features.activity import silero_activity, speech_intervals, voice_activity
from features.frames import time_to_frames
from features.nuclei import syllable_nuclei
from features.quality import diagnose
from features.speakers import attribute_speakers
from features.tracks import (
    VOWEL_BAND_HZ,
    adapted_pitch_range,
    intensity_db,
    pitch_on_spans,
    pitch_track,
    remove_dc,
)

SEGMENT_COLUMNS: tuple[str, ...] = (
    "recording_id", "segment_id", "speaker_id", "start_s", "end_s", "duration_s", "kind",
    "turn_id", "text", "method", "confidence", "n_nuclei", "f0_floor_hz", "f0_ceiling_hz",
)  # fmt: skip
RECORDING_COLUMNS: tuple[str, ...] = (
    "recording_id", "speaker_id", "kind", "n_speakers", "duration_s", "sample_rate",
    "source_sample_rate", "num_channels", "status", "method", "n_segments", "speech_s",
    "warnings",
)  # fmt: skip
ERROR_COLUMNS: tuple[str, ...] = ("recording_id", "stage", "error", "message")
ATTRIBUTION_METHODS: tuple[str, ...] = ("auto", "transcript", "channel", "cluster")

# A voice label that is safe to write out: a pseudonym, not a name from a Zoom export.
_PSEUDONYM = re.compile(r"^[A-Za-z]*\d+[A-Za-z0-9_-]*$|^[A-Z0-9_-]{1,12}$")


@dataclass(frozen=True)
class SegmentationConfig:
    """Segmentation settings (stored in the manifest; a change recomputes).

    Attributes
    ----------
    sample_rate : int
        Analysis rate (Hz); every recording is resampled to it once, at decoding.
    hop_s : float
        Frame hop of every track (s).
    min_pause_s : float
        Shortest silence that separates two IPUs (s); 0.2 s by convention.
    min_speech_s : float
        Shortest stretch of speech kept (s).
    utterance_pause_s : float
        In utterance recordings, a silence at least this long separates two
        read utterances (s); shorter pauses stay inside one utterance.
    vad : {"energy", "silero"}
        Voice-activity back end: intensity + voicing with hysteresis, or the
        silero neural model (``pip install speech-profile[vad]``) for noisy audio.
    pitch_floor_hz, pitch_ceiling_hz : float
        Pitch range of the first-pass Praat pitch track (Hz).
    attribution : {"auto", "transcript", "channel", "cluster"}
        ``auto`` takes the best source available (transcript, then channel map,
        then clustering); the others force one method, e.g. ``cluster`` to check
        clustering against transcripts a corpus has.
    """

    sample_rate: int = 16000
    hop_s: float = 0.01
    min_pause_s: float = 0.2
    min_speech_s: float = 0.1
    utterance_pause_s: float = 1.0
    vad: str = "energy"
    pitch_floor_hz: float = 60.0
    pitch_ceiling_hz: float = 500.0
    attribution: str = "auto"

    def __post_init__(self) -> None:
        if self.attribution not in ATTRIBUTION_METHODS:
            raise ValueError(f"unknown attribution {self.attribution!r}; use one of "
                             f"{', '.join(ATTRIBUTION_METHODS)}")
        if self.vad not in ("energy", "silero"):
            raise ValueError(f"unknown vad back end {self.vad!r}; use 'energy' or 'silero'")
        for name in ("sample_rate", "hop_s", "min_pause_s", "utterance_pause_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RecordingResult:
    """The rows one recording contributes to the store's tables, and (when asked
    for) its frame tracks on the common grid: ``f0_hz`` (speaker-adapted second
    pass), ``intensity_db``, ``voice`` (index into the voices, -1 outside speech)."""

    recording: pd.DataFrame
    segments: pd.DataFrame
    errors: pd.DataFrame
    tracks: dict | None = None


class _Stage:
    """Remembers which stage was running when something failed."""

    name = "decode"


def segment_recording(
    recording: Recording, config: SegmentationConfig, *, keep_tracks: bool = False
) -> RecordingResult:
    """Segment one recording. Never raises for a bad recording: a failure becomes
    a row of the ``errors`` table and the recording's status is ``"error"``.
    ``keep_tracks`` returns the frame tracks too (for evaluation and notebooks)."""
    stage = _Stage()
    row = {
        "recording_id": recording.recording_id, "speaker_id": recording.speaker_id,
        "kind": recording.kind, "n_speakers": recording.n_speakers, "duration_s": np.nan,
        "sample_rate": config.sample_rate, "source_sample_rate": None, "num_channels": None,
        "status": "ok", "method": None, "n_segments": 0, "speech_s": 0.0, "warnings": "",
    }  # fmt: skip
    tracks: dict | None = None
    try:
        segments, info, tracks = _segment(recording, config, stage)
        row.update(info)
        row["n_segments"] = len(segments)
        row["speech_s"] = float(segments["duration_s"].sum()) if len(segments) else 0.0
        if not len(segments) and row["status"] == "ok":
            row["status"] = "no_speech"
        errors = pd.DataFrame(columns=ERROR_COLUMNS)
    except Exception as e:  # one bad recording must never stop a batch
        segments = pd.DataFrame(columns=SEGMENT_COLUMNS)
        row["status"] = "error"
        errors = pd.DataFrame([{
            "recording_id": recording.recording_id, "stage": stage.name,
            "error": type(e).__name__, "message": str(e),
        }])  # fmt: skip
    return RecordingResult(pd.DataFrame([row], columns=RECORDING_COLUMNS), segments, errors,
                           tracks if keep_tracks else None)


def _segment(recording: Recording, config: SegmentationConfig, stage: _Stage):
    stage.name = "decode"
    multi = bool(recording.channels)
    y, sr = load_audio(recording.path, sr=config.sample_rate, mono=not multi)
    y = np.atleast_2d(y)
    info = recording.info()
    diagnostics = diagnose(y, sr)
    notes = diagnostics.warnings()
    out = {
        "duration_s": y.shape[1] / sr, "source_sample_rate": info.sample_rate,
        "num_channels": info.num_channels,
    }  # fmt: skip
    if diagnostics.silent:
        out.update(status="no_speech", warnings="; ".join(notes))
        return pd.DataFrame(columns=SEGMENT_COLUMNS), out, None

    stage.name = "tracks"
    live = [c for c in range(y.shape[0]) if c not in diagnostics.dead_channels]
    channels = np.stack([remove_dc(y[c], sr) for c in range(y.shape[0])])
    mix = channels[live].mean(axis=0)
    hop = config.hop_s
    intensity = intensity_db(mix, sr, hop_s=hop)
    f0, _ = pitch_track(mix, sr, hop_s=hop, floor_hz=config.pitch_floor_hz,
                        ceiling_hz=config.pitch_ceiling_hz)
    voiced = np.isfinite(f0)

    stage.name = "voice_activity"
    if config.vad == "silero":
        active = silero_activity(mix, sr, hop_s=hop, min_pause_s=config.min_pause_s,
                                 min_speech_s=config.min_speech_s)
    else:
        active = voice_activity(intensity, voiced, hop_s=hop, min_pause_s=config.min_pause_s,
                                min_speech_s=config.min_speech_s)
    active = active[: intensity.size]

    stage.name = "attribution"
    transcript = None
    forced = config.attribution
    if recording.transcript is not None and forced in ("auto", "transcript"):
        transcript = read_transcript(recording.transcript)
        if not (transcript["speaker"] != "").any():
            transcript = transcript.assign(speaker=recording.speaker_id)
    if forced == "transcript" and (transcript is None or not len(transcript)):
        raise ValueError("attribution 'transcript' asked for, but the recording has no "
                         "transcript with timed intervals")
    if forced == "channel" and not multi:
        raise ValueError("attribution 'channel' asked for, but recordings.csv gives no "
                         "channel map for this recording")
    if transcript is not None and len(transcript):
        method = "transcript"
        voices, labels, confidence = _labels_from_transcript(transcript, active, hop, notes)
    elif multi and forced in ("auto", "channel"):
        method = "channel"
        voices, labels, confidence = _labels_from_channels(recording, channels, live, sr, hop)
    elif recording.n_speakers > 1:
        method = "cluster"
        voices, labels, confidence = _labels_from_clusters(
            recording, mix, sr, active, f0, hop, recording.n_speakers
        )
    else:
        method = "single"
        voices = [recording.speaker_id]
        labels = np.where(active, 0, -1)
        confidence = np.ones(active.size)

    stage.name = "segments"
    segments = _segments_from_labels(labels, confidence, voices, hop, config, recording)
    segments["method"] = method
    stage.name = "pitch"
    f0 = _speaker_adapted_f0(mix, sr, f0, labels, segments, voices, config)
    stage.name = "nuclei"
    # Vowels carry the syllable peaks; liquids and taps barely dip in broadband intensity.
    vowel_band = intensity_db(mix, sr, hop_s=hop, band_hz=VOWEL_BAND_HZ)
    nuclei = syllable_nuclei(vowel_band, voiced, hop_s=hop, speech=active)
    if len(segments):
        starts, ends = segments["start_s"].to_numpy(), segments["end_s"].to_numpy()
        segments["n_nuclei"] = np.searchsorted(nuclei, ends) - np.searchsorted(nuclei, starts)
        if transcript is not None:
            segments["text"] = _texts(transcript, segments, voices)
    out.update(method=method, warnings="; ".join(notes))
    tracks = {"f0_hz": f0, "intensity_db": intensity, "voice": labels}
    return segments, out, tracks


def _speaker_adapted_f0(mix: np.ndarray, sr: int, first_pass: np.ndarray, labels: np.ndarray,
                        segments: pd.DataFrame, voices: list[str],
                        config: SegmentationConfig) -> np.ndarray:
    """Second pitch pass per voice, over that voice's segments only, with the range
    its first-pass quartiles give (the range is recorded on each segment)."""
    f0 = first_pass.copy()
    segments["f0_floor_hz"] = config.pitch_floor_hz
    segments["f0_ceiling_hz"] = config.pitch_ceiling_hz
    for k, voice in enumerate(voices):
        mine = (segments["speaker_id"] == voice).to_numpy()
        adapted = adapted_pitch_range(first_pass[labels == k]) if mine.any() else None
        if adapted is None:
            continue
        spans = segments.loc[mine, ["start_s", "end_s"]].to_numpy()
        second = pitch_on_spans(mix, sr, spans, hop_s=config.hop_s, floor_hz=adapted[0],
                                ceiling_hz=adapted[1])
        frames = labels == k
        f0[frames] = second[frames]
        segments.loc[mine, "f0_floor_hz"] = round(adapted[0], 1)
        segments.loc[mine, "f0_ceiling_hz"] = round(adapted[1], 1)
    return f0


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of runs of equal values."""
    if values.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    change = np.flatnonzero(np.diff(values) != 0) + 1
    return np.r_[0, change], np.r_[change, values.size]


def _interval_frames(start_s: np.ndarray, end_s: np.ndarray, n: int, hop: float) -> np.ndarray:
    """Boolean frame mask covered by the intervals (vectorised difference array)."""
    a = np.clip(time_to_frames(start_s, hop), 0, n)
    b = np.clip(time_to_frames(end_s, hop), 0, n)
    diff = np.zeros(n + 1, int)
    np.add.at(diff, a, 1)
    np.add.at(diff, b, -1)
    return np.cumsum(diff[:-1]) > 0


def _safe_voices(voices: list[str], notes: list[str]) -> list[str]:
    """Replace voice labels that could be real names by pseudonyms (V1, V2...)."""
    safe = []
    for k, voice in enumerate(voices):
        if _PSEUDONYM.match(voice):
            safe.append(voice)
        else:
            safe.append(f"V{k + 1}")
            notes.append(f"transcript voice {k + 1} has a label that is not a pseudonym; "
                         f"written as V{k + 1}")
    return safe


def _labels_from_transcript(transcript: pd.DataFrame, active: np.ndarray, hop: float,
                            notes: list[str]):
    n = active.size
    voices = sorted(set(transcript["speaker"]) - {""})
    labels = np.full(n, -1)
    for k, voice in enumerate(voices):
        rows = transcript[transcript["speaker"] == voice]
        # Words align tightest to speech; turns when there is no word tier.
        for level in ("words", "turns", "phones"):
            part = rows[rows["level"] == level]
            if len(part):
                break
        covered = _interval_frames(part["start_s"].to_numpy(), part["end_s"].to_numpy(), n, hop)
        labels[covered & (labels == -1)] = k
    said = labels.copy()
    # Speech frames just outside the transcript's intervals (VAD edges) take the label
    # of the nearest labelled frame inside the same stretch of speech.
    filled = _fill_within_runs(np.where(active, labels, -2), active)
    confidence = (filled == said).astype(float)
    labels = np.where(active, filled, -1)
    return _safe_voices(voices, notes), labels, confidence


def _fill_within_runs(labels: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Fill ``-1`` labels from the nearest labelled frame of the same active run
    (forward, then backward); frames labelled ``-2`` neither give nor take."""
    out = labels.copy()
    run_id = np.cumsum(np.r_[True, active[1:] != active[:-1]])
    idx = np.arange(out.size)
    for reverse in (False, True):
        o = out[::-1].copy() if reverse else out.copy()
        r = run_id[::-1] if reverse else run_id
        last = np.maximum.accumulate(np.where(o >= 0, idx, -1))  # last labelled so far
        src = np.maximum(last, 0)
        fill = (o == -1) & (last >= 0) & (r[src] == r)
        o[fill] = o[src][fill]
        out = o[::-1] if reverse else o
    return out


def _labels_from_channels(recording: Recording, channels: np.ndarray, live: list[int], sr: int,
                          hop: float):
    voices = [recording.channels[c] for c in sorted(recording.channels) if c in live]
    index = [c for c in sorted(recording.channels) if c in live]
    levels = np.stack([intensity_db(channels[c], sr, hop_s=hop) for c in index])
    n = levels.shape[1]
    active = np.zeros(n, bool)
    for row in levels:
        active |= voice_activity(row, None, hop_s=hop)
    loudest = np.argmax(levels, axis=0)
    ordered = np.sort(levels, axis=0)
    margin = ordered[-1] - ordered[-2] if len(index) > 1 else np.full(n, np.inf)
    # Cross-talk leaks a voice into the other channels some 10-30 dB down: 6 dB of
    # margin is a confident call.
    confidence = np.clip(margin / 6.0, 0.0, 1.0)
    return voices, np.where(active, loudest, -1), confidence


def _labels_from_clusters(recording: Recording, mix: np.ndarray, sr: int, active: np.ndarray,
                          f0: np.ndarray, hop: float, n_speakers: int):
    ipus = speech_intervals(active, hop_s=hop)
    labels = np.full(active.size, -1)
    confidence = np.zeros(active.size)
    if len(ipus) == 0:
        return [recording.speaker_id], labels, confidence
    ipu_labels, ipu_conf = attribute_speakers(mix, sr, ipus, n_speakers=n_speakers, f0_hz=f0,
                                              hop_s=hop)
    a = np.clip(time_to_frames(ipus[:, 0], hop), 0, active.size)
    b = np.clip(time_to_frames(ipus[:, 1], hop), 0, active.size)
    lengths = b - a
    frame_ipu = np.repeat(np.arange(len(ipus)), lengths)
    frames = np.repeat(a - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(lengths.sum())
    labels[frames] = ipu_labels[frame_ipu]
    confidence[frames] = ipu_conf[frame_ipu]
    # The voice with the most speech is the interviewee (label 0, by construction).
    voices = [recording.speaker_id, *(f"INT{k}" for k in range(1, n_speakers))]
    return voices, labels, confidence


def _segments_from_labels(labels: np.ndarray, confidence: np.ndarray, voices: list[str],
                          hop: float, config: SegmentationConfig,
                          recording: Recording) -> pd.DataFrame:
    """Runs of one voice -> segment rows (utterance recordings: merged at long pauses)."""
    starts, ends = _runs(labels)
    keep = labels[starts] >= 0
    starts, ends = starts[keep], ends[keep]
    voice = labels[starts]
    start_s = np.maximum(starts * hop - hop / 2, 0.0)
    end_s = ends * hop - hop / 2
    kind = "ipu"
    if recording.kind == "utterance":
        kind = "utterance"
        start_s, end_s, voice = _merge(start_s, end_s, voice, config.utterance_pause_s)
    long_enough = (end_s - start_s) >= config.min_speech_s
    start_s, end_s, voice = start_s[long_enough], end_s[long_enough], voice[long_enough]
    # Mean confidence per segment, vectorised over the frame ranges.
    cum = np.r_[0.0, np.cumsum(confidence)]
    a = np.clip(time_to_frames(start_s, hop), 0, labels.size)
    b = np.clip(time_to_frames(end_s, hop), 0, labels.size)
    conf = (cum[b] - cum[a]) / np.maximum(b - a, 1)
    turn = np.cumsum(np.r_[True, voice[1:] != voice[:-1]]) - 1 if len(voice) else voice
    rid = recording.recording_id
    return pd.DataFrame({
        "recording_id": rid,
        "segment_id": [f"{rid}-{i:05d}" for i in range(len(start_s))],
        "speaker_id": [voices[v] for v in voice],
        "start_s": np.round(start_s, 3), "end_s": np.round(end_s, 3),
        "duration_s": np.round(end_s - start_s, 3), "kind": kind,
        "turn_id": turn.astype(int), "text": pd.Series([None] * len(start_s), dtype="string"),
        "method": None, "confidence": np.round(conf, 3), "n_nuclei": 0,
        "f0_floor_hz": np.nan, "f0_ceiling_hz": np.nan,
    }, columns=SEGMENT_COLUMNS)  # fmt: skip


def _merge(start_s, end_s, voice, max_gap_s):
    """Merge consecutive runs of the same voice separated by less than ``max_gap_s``."""
    if len(start_s) == 0:
        return start_s, end_s, voice
    new = np.r_[True, (start_s[1:] - end_s[:-1] >= max_gap_s) | (voice[1:] != voice[:-1])]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], len(start_s)] - 1
    return start_s[first], end_s[last], voice[first]


def _texts(transcript: pd.DataFrame, segments: pd.DataFrame, voices: list[str]) -> list:
    """The transcript's words (or turn text) of each segment's voice inside it."""
    names = sorted(set(transcript["speaker"]) - {""})
    by_voice = dict(zip(voices, names, strict=False))
    texts: list[str | None] = [None] * len(segments)
    for voice, group in segments.groupby("speaker_id", sort=False):
        rows = transcript[transcript["speaker"] == by_voice.get(voice, voice)]
        for level in ("words", "turns"):
            part = rows[rows["level"] == level]
            if len(part):
                break
        else:
            continue
        mid = ((part["start_s"] + part["end_s"]) / 2).to_numpy()
        order = np.argsort(mid)
        mid, labels = mid[order], part["label"].to_numpy()[order]
        lo = np.searchsorted(mid, group["start_s"].to_numpy())
        hi = np.searchsorted(mid, group["end_s"].to_numpy())
        for position, i, j in zip(group.index, lo, hi, strict=True):
            if j > i:
                texts[segments.index.get_loc(position)] = " ".join(labels[i:j])
    return texts
