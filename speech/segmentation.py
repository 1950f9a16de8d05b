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

import hashlib
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from corpora.audio import iter_blocks, load_audio
from corpora.corpus import Recording
from corpora.transcripts import read_transcript
from features.activity import (
    activity_from_probability,
    digital_silence,
    silero_probability,
    speech_intervals,
    voice_activity,
)
from features.formants import band_limited_ceilings, default_ceilings, measure_vowels
from features.frames import merge_runs, n_frames, time_to_frames
from features.functionals import hz_to_st, segment_functionals
from features.nuclei import syllable_nuclei
from features.quality import DEAD_CHANNEL_DBFS, DiagnosticsAccumulator
from features.registry import track_quantity, unit_suffix
from features.rhythm import INTERVAL_COLUMNS, interval_metrics, segment_timing
from features.sibilants import classify_realisation, sibilant_measures
from features.speakers import cluster_speakers, embeddings_from_frames, voice_frames
from features.spectral import TRACKS as SPECTRAL_TRACKS
from features.spectral import spectral_tracks
from features.tracks import (
    VOWEL_BAND_HZ,
    adapted_pitch_range,
    intensity_db,
    pitch_on_spans,
    pitch_track,
)
from features.voice import MEASURES as VOICE_MEASURES
from features.voice import voice_quality
from features.vowel_qc import mahalanobis_outliers
from speech.tokens import TOKEN_COLUMNS, aligned_tokens, assign_to_segments, nucleus_tokens

#: Vowel outlier flag: significance level and smallest speaker x vowel category tested.
OUTLIER_ALPHA = 0.001
OUTLIER_MIN_TOKENS = 15
#: Block (s) of the spectral analysis inside each pass-1 block: the result does not
#: depend on it (to float32 rounding); its transient STFT frames do (some 90 MB less
#: at 10 s than at 60 s), and 10 s blocks stay in cache (20-40 % faster, measured).
SPECTRAL_BLOCK_S = 10.0
#: Below this source rate (Hz) there is no band for /s/ (4-8 kHz).
NARROW_BAND_RATE_HZ = 16000
#: Spectral measures of an /s/ token (NaN when the source rate cannot carry them).
SIBILANT_MEASURES = ("cog_hz", "peak_hz", "sd_hz", "skewness", "kurtosis", "voiceless_ratio",
                     "intensity_rel_db", "floor_rel_db")

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
    vowels : tuple of str
        Vowel labels of the phones tiers (corpus.toml's inventory), for the
        interval rhythm metrics (%V, deltaC, nPVI...).
    features : bool
        Measure the acoustic features of every segment (functionals of F0,
        intensity and spectral tracks, voice quality, timing); ``False`` gives
        the segmentation alone.
    block_s, context_s : float
        Long recordings are analysed in blocks of ``block_s`` seconds with
        ``context_s`` of audio on each side (memory stays bounded; the frame
        tracks equal those of one pass over the whole recording).
    attribution : {"auto", "transcript", "channel", "cluster"}
        ``auto`` takes the best source available (transcript, then channel map,
        then clustering); the others force one method, e.g. ``cluster`` to check
        clustering against transcripts a corpus has.
    token_voices : {"profiled", "all", "none"}
        Whose vowel and /s/ tokens are measured: the profiled speakers' (the
        recording's speaker and any voice with a known gender), every voice's,
        interviewers' included, or nobody's (segment features only, as `bench`
        times the feature core). Interviewers are never modelled, and formant
        analysis is the costliest stage, so "profiled" is the default.
    formant_ceilings : int
        Candidate formant ceilings per voice for Fast Track's choice (>= 2, evenly
        spaced over the gender's range, see :func:`features.formants.default_ceilings`).
        Each costs one Burg analysis of the voice's vowel stretches, so the vowel
        stage's time is proportional to it. 10 (222 Hz steps) is the default; on the
        synthetic corpus 3 ceilings measure as accurately (see the README), but real
        voices, whose formant spaces the gender ranges fit less well, have not been
        checked.
    engine : {"vectorised", "praat"}
        Measurement engine of the Praat algorithms: ``"vectorised"`` (the default:
        NumPy reimplementations batched over every frame, held to Praat by tests,
        e.g. :mod:`features.burg`) or ``"praat"`` (Praat itself via Parselmouth).
        Recorded in the store's manifest with the rest of the configuration.
    keep_text : bool
        Keep the transcript's words in the outputs (segment ``text``, token
        ``word``). Off by default: interviews with vulnerable workers name people
        and places, so the store carries only ``word_id``, a keyed hash that
        identifies a word across tokens (for by-word random effects) without
        spelling it.
    text_key : str
        Key of that hash (the store's own, see :mod:`speech.store`); not secret
        from whoever holds the store, so ``word_id`` is a pseudonym, not encryption.
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
    block_s: float = 60.0
    context_s: float = 1.0
    features: bool = True
    vowels: tuple[str, ...] = ("a", "e", "i", "o", "u")
    token_voices: str = "profiled"
    formant_ceilings: int = 10
    engine: str = "vectorised"
    keep_text: bool = False
    text_key: str = ""

    def __post_init__(self) -> None:
        if self.attribution not in ATTRIBUTION_METHODS:
            raise ValueError(f"unknown attribution {self.attribution!r}; use one of "
                             f"{', '.join(ATTRIBUTION_METHODS)}")
        if self.token_voices not in ("profiled", "all", "none"):
            raise ValueError(f"unknown token_voices {self.token_voices!r}; use 'profiled', "
                             "'all' or 'none'")
        if isinstance(self.formant_ceilings, bool) or not isinstance(
                self.formant_ceilings, int | np.integer) or self.formant_ceilings < 2:
            raise ValueError(f"formant_ceilings must be a whole number >= 2, got "
                             f"{self.formant_ceilings!r}")
        if self.engine not in ("vectorised", "praat"):
            raise ValueError(f"unknown engine {self.engine!r}; use 'vectorised' or 'praat'")
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
    vowels: pd.DataFrame | None = None
    sibilants: pd.DataFrame | None = None


class _Stage:
    """Remembers which stage was running when something failed."""

    name = "decode"


def segment_recording(
    recording: Recording, config: SegmentationConfig, *, keep_tracks: bool = False,
    genders: Mapping[str, str] | None = None,
) -> RecordingResult:
    """Segment one recording. Never raises for a bad recording: a failure becomes
    a row of the ``errors`` table and the recording's status is ``"error"``.
    ``keep_tracks`` returns the frame tracks too (for evaluation and notebooks);
    ``genders`` (voice -> "F"/"M") sets each voice's candidate formant ceilings."""
    stage = _Stage()
    row = {
        "recording_id": recording.recording_id, "speaker_id": recording.speaker_id,
        "kind": recording.kind, "n_speakers": recording.n_speakers, "duration_s": np.nan,
        "sample_rate": config.sample_rate, "source_sample_rate": None, "num_channels": None,
        "status": "ok", "method": None, "n_segments": 0, "speech_s": 0.0, "warnings": "",
    }  # fmt: skip
    tracks: dict | None = None
    measured: dict = {}
    try:
        segments, info, tracks = _segment(recording, config, stage, dict(genders or {}),
                                          measured)
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
                           tracks if keep_tracks else None, measured.get("vowels"),
                           measured.get("sibilants"))


class _Tracks:
    """Frame tracks of a whole recording, written block by block (pass 1) into arrays
    allocated once for the frames the recording's duration announces.

    Gathering blocks in lists and concatenating them would hold every track twice
    at the end (a 3-hour recording has 1.08 M frames: 22 spectral tracks and 19
    MFCCs in float32 are 170 MB, doubled). Pages of an ``np.empty`` array that are
    never written are never resident, so a generous estimate costs nothing; a
    recording that decodes longer than announced (a container's estimated duration)
    grows its arrays by half each time, so that the copies stay few.
    """

    def __init__(self, n_frames: int) -> None:
        self.capacity = max(1, int(n_frames))
        self._arrays: dict[str, np.ndarray] = {}
        self._axis: dict[str, int] = {}
        self._filled: dict[str, int] = {}

    def add(self, name: str, values: np.ndarray | None, axis: int = -1) -> None:
        """Append ``values`` (frames along ``axis``) to track ``name``."""
        if values is None:
            return
        values = np.asarray(values)
        axis = axis % values.ndim
        n, start = values.shape[axis], self._filled.get(name, 0)
        buffer = self._arrays.get(name)
        if buffer is None or start + n > buffer.shape[axis]:
            shape = list(values.shape)
            shape[axis] = max(self.capacity, start + n if buffer is None
                              else (start + n) * 3 // 2)
            grown = np.empty(shape, dtype=values.dtype)
            if buffer is not None:
                grown[self._index(axis, grown.ndim, 0, start)] = buffer[
                    self._index(axis, grown.ndim, 0, start)]
            self._arrays[name], self._axis[name], buffer = grown, axis, grown
        buffer[self._index(axis, buffer.ndim, start, start + n)] = values
        self._filled[name] = start + n

    def get(self, name: str) -> np.ndarray | None:
        """The frames written so far (a view, frames along the axis they were added on)."""
        buffer = self._arrays.get(name)
        if buffer is None:
            return None
        axis = self._axis[name]
        return buffer[self._index(axis, buffer.ndim, 0, self._filled[name])]

    def release(self, *names: str) -> None:
        """Drop tracks no longer needed (their memory returns once no view is left)."""
        for name in names:
            self._arrays.pop(name, None)

    @staticmethod
    def _index(axis: int, ndim: int, start: int, stop: int) -> tuple:
        index = [slice(None)] * ndim
        index[axis] = slice(start, stop)
        return tuple(index)


def _blocks_with_context(recording: Recording, config: SegmentationConfig):
    """Frame-aligned blocks of the recording with ``context_s`` of audio on each side.

    Yields ``(audio (n_channels, n), left, core)``: ``audio[:, left:left + core]`` is
    the block proper; its first sample is a multiple of the hop, so frame ``m`` of a
    track computed on ``audio`` is global frame ``first + m - left / hop``.
    """
    sr, hop_n = config.sample_rate, round(config.hop_s * config.sample_rate)
    block_s = max(hop_n, round(config.block_s * sr) // hop_n * hop_n) / sr
    context = round(config.context_s * sr) // hop_n * hop_n
    blocks = iter_blocks(recording.path, block_s=block_s, sr=sr, mono=False)
    previous = None
    current = next(blocks, None)
    while current is not None:
        current = np.atleast_2d(current)
        upcoming = next(blocks, None)
        upcoming = None if upcoming is None else np.atleast_2d(upcoming)
        left = previous if previous is not None else current[:, :0]
        right = upcoming[:, :context] if upcoming is not None else current[:, :0]
        yield np.concatenate([left, current, right], axis=1), left.shape[1], current.shape[1]
        previous = current[:, -context:] if context else current[:, :0]
        current = upcoming


def _live_mix(audio: np.ndarray) -> np.ndarray:
    """Mean of the channels that carry signal (a dead channel would halve the level)."""
    live = np.mean(audio**2, axis=1) > 10 ** (DEAD_CHANNEL_DBFS / 10)
    return audio[live].mean(axis=0) if live.any() else audio.mean(axis=0)


def _pass_one(recording: Recording, config: SegmentationConfig, want_mfcc: bool):
    """Stream the recording once: diagnostics and every frame track, block by block."""
    sr, hop = config.sample_rate, config.hop_s
    hop_n = round(hop * sr)
    diagnostics = DiagnosticsAccumulator()
    # Frames the duration announces, plus a second of slack for resampling round-off
    # (an estimated or missing duration only costs the arrays a regrowth).
    duration_s = recording.info().duration_s
    announced = duration_s if np.isfinite(duration_s) and duration_s > 0 else config.block_s
    tracks = _Tracks(n_frames(int(np.ceil(announced * sr)), sr, hop) + int(1 / hop))
    whole = None  # the mix, kept when the recording is a single block (pass 2 reuses it)
    for index, (audio, left, core) in enumerate(_blocks_with_context(recording, config)):
        diagnostics.update(audio[:, left : left + core])
        skip = left // hop_n
        is_last = audio.shape[1] == left + core
        keep = slice(skip, skip + (1 + core // hop_n if is_last else core // hop_n))
        # Before the mean is removed: digital silence is exact zeros in the file.
        tracks.add("silence", digital_silence(_live_mix(audio), sr, hop_s=hop)[keep])
        audio = audio - audio.mean(axis=1, keepdims=True)
        mix = _live_mix(audio)
        tracks.add("intensity", intensity_db(mix, sr, hop_s=hop)[keep])
        tracks.add("vowel_band", intensity_db(mix, sr, hop_s=hop, band_hz=VOWEL_BAND_HZ)[keep])
        f0, _ = pitch_track(mix, sr, hop_s=hop, floor_hz=config.pitch_floor_hz,
                            ceiling_hz=config.pitch_ceiling_hz)
        tracks.add("f0", f0[keep])
        if recording.channels:
            tracks.add("channel_levels", np.stack(
                [intensity_db(audio[c], sr, hop_s=hop)[keep] for c in range(audio.shape[0])]))
        power = None
        if config.features:
            # H1-H2 and H1-A3 take the first-pass F0: harmonic peaks are searched
            # within +-10% of it, which an adapted range would not move. One 25 ms
            # STFT serves the spectral tracks and the clustering's MFCCs.
            spectral, power = spectral_tracks(mix, sr, hop_s=hop, f0_hz=f0,
                                              block_s=SPECTRAL_BLOCK_S, return_power=True)
            tracks.add("spectral", np.stack([spectral[t.name][keep] for t in SPECTRAL_TRACKS])
                       .astype(np.float32))
        if want_mfcc:
            mfcc, level = voice_frames(mix, sr, hop_s=hop,
                                       power=power if power is not None and power.shape[0]
                                       == 1 + mix.size // hop_n else None)
            tracks.add("mfcc", mfcc[keep], axis=0)
            tracks.add("level", level[keep])
        del power
        if config.vad == "silero":
            tracks.add("silero", silero_probability(mix, sr, hop_s=hop)[keep])
        whole = mix if index == 0 and is_last else None
    return diagnostics.result(sr), tracks, whole


def _segment(recording: Recording, config: SegmentationConfig, stage: _Stage,
             genders: dict[str, str], measured: dict):
    stage.name = "decode"
    info = recording.info()
    multi = bool(recording.channels)
    forced = config.attribution
    if forced == "channel" and not multi:
        raise ValueError("attribution 'channel' asked for, but recordings.csv gives no "
                         "channel map for this recording")
    transcript = None
    if recording.transcript is not None and forced in ("auto", "transcript"):
        transcript = read_transcript(recording.transcript)
        if not (transcript["speaker"] != "").any():
            transcript = transcript.assign(speaker=recording.speaker_id)
        if not len(transcript):
            transcript = None
    if forced == "transcript" and transcript is None:
        raise ValueError("attribution 'transcript' asked for, but the recording has no "
                         "transcript with timed intervals")
    clustering = (transcript is None and not (multi and forced in ("auto", "channel"))
                  and recording.n_speakers > 1)

    stage.name = "tracks"
    diagnostics, tracks, whole = _pass_one(recording, config, want_mfcc=clustering)
    notes = diagnostics.warnings()
    intensity = tracks.get("intensity")
    out = {
        "duration_s": info.duration_s, "source_sample_rate": info.sample_rate,
        "num_channels": info.num_channels,
    }  # fmt: skip
    if diagnostics.silent or intensity is None:
        out.update(status="no_speech", warnings="; ".join(notes))
        return pd.DataFrame(columns=SEGMENT_COLUMNS), out, None
    f0 = tracks.get("f0")
    voiced = np.isfinite(f0)
    hop = config.hop_s

    stage.name = "voice_activity"
    if config.vad == "silero":
        active = activity_from_probability(tracks.get("silero"), hop_s=hop,
                                           min_pause_s=config.min_pause_s,
                                           min_speech_s=config.min_speech_s)
    else:
        active = voice_activity(intensity, voiced, hop_s=hop, min_pause_s=config.min_pause_s,
                                min_speech_s=config.min_speech_s,
                                silence=tracks.get("silence"))

    stage.name = "attribution"
    if transcript is not None:
        method = "transcript"
        voices, labels, confidence = _labels_from_transcript(transcript, active, hop, notes)
        # From here on the transcript names its voices as they are written out.
        names = sorted(set(transcript["speaker"]) - {""})
        transcript = transcript.assign(
            speaker=transcript["speaker"].map(dict(zip(names, voices, strict=True))))
    elif multi and forced in ("auto", "channel"):
        method = "channel"
        voices, labels, confidence = _labels_from_channels(
            recording, tracks.get("channel_levels"), diagnostics.dead_channels, hop
        )
    elif clustering:
        method = "cluster"
        voices, labels, confidence = _labels_from_clusters(
            recording, tracks.get("mfcc"), tracks.get("level"), active, f0, hop
        )
        tracks.release("mfcc", "level")
    else:
        method = "single"
        voices = [recording.speaker_id]
        labels = np.where(active, 0, -1)
        confidence = np.ones(active.size)

    stage.name = "segments"
    segments = _segments_from_labels(labels, confidence, voices, hop, config, recording)
    segments["method"] = method
    stage.name = "nuclei"
    # Vowels carry the syllable peaks; liquids and taps barely dip in broadband intensity.
    nuclei = syllable_nuclei(tracks.get("vowel_band"), voiced, hop_s=hop, speech=active)
    if len(segments):
        starts, ends = segments["start_s"].to_numpy(), segments["end_s"].to_numpy()
        segments["n_nuclei"] = np.searchsorted(nuclei, ends) - np.searchsorted(nuclei, starts)
        if transcript is not None and config.keep_text:
            segments["text"] = _texts(transcript, segments)
    stage.name = "tokens"
    tokens = _tokens(transcript, segments, nuclei, config)
    stage.name = "pitch"
    f0, quality = _pass_two(recording, config, whole, f0, labels, segments, voices, tokens,
                            genders, measured)
    if info.sample_rate < NARROW_BAND_RATE_HZ:
        # [s] has its energy between 4 and 8 kHz: below a 16 kHz source rate there is
        # nothing to measure, and the classifier would call every /s/ aspirated.
        top = band_limited_ceilings(default_ceilings(None), info.sample_rate)[0].max()
        notes.append(f"source rate {info.sample_rate} Hz: /s/ (sibilant) measures unavailable; "
                     f"formant ceilings kept at or below {top:.0f} Hz")
        if "sibilants" in measured:
            sib = measured["sibilants"]
            sib[[c for c in SIBILANT_MEASURES if c in sib]] = np.nan
            sib["realisation"] = pd.Series(pd.NA, index=sib.index, dtype="string")
            sib["realisation_confidence"] = np.nan
    for table in ("vowels", "sibilants"):
        if table in measured:
            measured[table].insert(0, "recording_id", recording.recording_id)
            measured[table] = _word_ids(measured[table], config)
    if "vowels" in measured and "vowel" in measured["vowels"] and len(measured["vowels"]):
        # Outliers within speaker x vowel (unlabelled nuclei have no category). Strict
        # settings: flagged tokens leave the speaker means, and in small categories a
        # looser cut would also remove genuinely reduced tokens (measured: 5.6 % of
        # synthetic tokens at alpha 0.01 and 8 tokens, none of them mis-tracked).
        v = measured["vowels"]
        flagged = mahalanobis_outliers(v["f1_hz"].to_numpy(), v["f2_hz"].to_numpy(),
                                       v[["speaker_id", "vowel"]], alpha=OUTLIER_ALPHA,
                                       min_tokens=OUTLIER_MIN_TOKENS)
        qc = v["qc"].astype(object).fillna("").to_numpy()
        v["qc"] = np.where(flagged, np.where(qc == "", "outlier", qc + ";outlier"), qc)
    if "vowels" in measured and len(measured["vowels"]):
        v = measured["vowels"]
        v["f0_hz"] = _token_medians(f0, v["start_s"].to_numpy(), v["end_s"].to_numpy(), hop)
    if config.features and len(segments):
        stage.name = "features"
        segments = _add_features(segments, f0, intensity, tracks.get("spectral"),
                                 quality, config)
        segments = _add_intervals(segments, transcript, config)
    out.update(method=method, warnings="; ".join(notes))
    return segments, out, {"f0_hz": f0, "intensity_db": intensity, "voice": labels}


def _add_intervals(segments: pd.DataFrame, transcript: pd.DataFrame | None,
                   config: SegmentationConfig) -> pd.DataFrame:
    """Vocalic/consonantal interval metrics from the transcript's phones (each phone
    to the segment of its voice that holds its midpoint); NaN without phones."""
    columns = list(INTERVAL_COLUMNS)
    if transcript is None or not (transcript["level"] == "phones").any():
        return segments.assign(**{c: np.nan for c in columns})
    phones = transcript[transcript["level"] == "phones"].rename(columns={"speaker": "speaker_id"})
    assigned = assign_to_segments(phones, segments)
    metrics = interval_metrics(assigned, vowels=set(config.vowels)).set_index("segment_id")
    return segments.merge(metrics[columns], left_on="segment_id", right_index=True, how="left")


def _add_features(segments: pd.DataFrame, f0: np.ndarray, intensity: np.ndarray,
                  spectral: np.ndarray | None, quality: dict[str, np.ndarray],
                  config: SegmentationConfig) -> pd.DataFrame:
    """Functionals of every frame track, voice quality and timing, per segment
    (vectorised reductions over the recording's tracks: no analysis per segment)."""
    hop = config.hop_s
    spans = segments[["start_s", "end_s"]].to_numpy()
    named = {"f0": hz_to_st(f0), "intensity": intensity}
    units = {"f0": "st", "intensity": "db"}
    if spectral is not None:
        for row, info in zip(spectral, SPECTRAL_TRACKS, strict=True):
            quantity = track_quantity(info.name, info.unit)
            named[quantity] = row
            units[quantity] = unit_suffix(info.unit)
    # One track at a time: the frame expansion behind the medians and percentiles
    # covers every speech frame, and doing all tracks at once would hold them all.
    columns: dict[str, np.ndarray] = {}
    for quantity, track in named.items():
        columns.update(segment_functionals({quantity: np.asarray(track, dtype=np.float64)},
                                           spans, units={quantity: units[quantity]}, hop_s=hop))
    columns.update(quality)
    timing = segment_timing(spans[:, 0], spans[:, 1], n_nuclei=segments["n_nuclei"].to_numpy(),
                            voiced=np.isfinite(f0), hop_s=hop)
    columns.update(timing)
    return pd.concat([segments, pd.DataFrame(columns, index=segments.index)], axis=1)


def _tokens(transcript: pd.DataFrame | None, segments: pd.DataFrame, nuclei: np.ndarray,
            config: SegmentationConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vowel and /s/ tokens: aligned phones when the transcript has them, else
    unlabelled vowel tokens at the syllable nuclei (and no /s/ tokens)."""
    if not config.features or not len(segments):
        return pd.DataFrame(columns=TOKEN_COLUMNS), pd.DataFrame(columns=TOKEN_COLUMNS)
    if transcript is not None and (transcript["level"] == "phones").any():
        return aligned_tokens(transcript, segments, config.vowels)
    return nucleus_tokens(nuclei, segments), pd.DataFrame(columns=TOKEN_COLUMNS)


def word_id(words: pd.Series, key: str) -> pd.Series:
    """Keyed BLAKE2b hash (16 hex digits) of each word: equal words, equal ids; null
    stays null."""
    secret = key.encode()[:64]
    unique = {w: hashlib.blake2b(w.encode(), key=secret, digest_size=8).hexdigest()
              for w in words.dropna().unique()}
    return words.map(unique).astype("string")


def _word_ids(tokens: pd.DataFrame, config: SegmentationConfig) -> pd.DataFrame:
    """``word`` -> ``word_id`` (and ``word`` itself only with ``keep_text``)."""
    if "word" not in tokens:
        return tokens
    words = tokens["word"].astype("string")
    position = tokens.columns.get_loc("word")
    tokens.insert(position, "word_id", word_id(words, config.text_key))
    return tokens if config.keep_text else tokens.drop(columns="word")


def _token_medians(track: np.ndarray, start_s: np.ndarray, end_s: np.ndarray,
                   hop: float) -> np.ndarray:
    """Median of a track's finite values over each token's frames (NaN when none)."""
    spans = np.stack([start_s, end_s], axis=1)
    if not len(spans):
        return np.zeros(0)
    return segment_functionals({"x": track}, spans, hop_s=hop, functionals=("median",))[
        "x_median"]


def _measure_tokens(audio: np.ndarray, sr: int, offset_s: float, vowel_tokens: pd.DataFrame,
                    s_tokens: pd.DataFrame, gender: str | None, measured: dict, *,
                    n_ceilings: int = 10, source_rate: float | None = None,
                    engine: str = "vectorised") -> None:
    """Formants of one voice's vowel tokens (FastTrack ceiling per token, the candidates
    kept below the source's Nyquist frequency) and the spectral moments and realisation
    of its /s/ tokens, in one chunk of audio."""
    if len(vowel_tokens):
        spans = vowel_tokens[["start_s", "end_s"]].to_numpy() - offset_s
        ceilings, n_formants = band_limited_ceilings(
            default_ceilings(gender, n_ceilings), source_rate or sr)
        formants = measure_vowels(audio, sr, spans, ceilings_hz=ceilings, n_formants=n_formants,
                                  engine=engine)
        formants = formants.drop(columns=["start_s", "end_s"], errors="ignore")
        rows = pd.concat([vowel_tokens.reset_index(drop=True).drop(columns="position")
                          .rename(columns={"phone": "vowel"}), formants.reset_index(drop=True)],
                         axis=1)
        measured.setdefault("vowel_parts", []).append(rows)
    if len(s_tokens):
        spans = s_tokens[["start_s", "end_s"]].to_numpy() - offset_s
        values = sibilant_measures(audio, sr, spans)
        labels, confidence = classify_realisation(values)
        values = {k: v for k, v in values.items() if k != "duration_s"}
        rows = s_tokens.reset_index(drop=True).drop(columns="phone").assign(
            **values, duration_s=s_tokens["end_s"].to_numpy() - s_tokens["start_s"].to_numpy(),
            realisation=labels, realisation_confidence=confidence)
        measured.setdefault("sibilant_parts", []).append(rows)


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


def _pass_two(recording: Recording, config: SegmentationConfig, whole: np.ndarray | None,
              first_pass: np.ndarray, labels: np.ndarray, segments: pd.DataFrame,
              voices: list[str], tokens: tuple[pd.DataFrame, pd.DataFrame],
              genders: dict[str, str], measured: dict,
              ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The work that needs audio again, one chunk of segments at a time (the whole
    recording at once when it is one block), per voice over that voice's segments:
    the speaker-adapted second pitch pass, with the range its first-pass quartiles
    give (recorded on each segment), and jitter, shimmer and HNR with that range."""
    sr, hop = config.sample_rate, config.hop_s
    hop_n = round(hop * sr)
    f0 = first_pass.copy()
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
    quality = {m.name: np.full(len(segments), np.nan) for m in VOICE_MEASURES}
    if not len(segments):
        return f0, quality
    pad_s = 0.5
    duration_s = recording.info().duration_s if whole is None else None
    source_rate = recording.info().sample_rate
    for chunk in _chunks(segments, config.block_s):
        part = segments.iloc[chunk]
        first_frame = max(0, int((part["start_s"].min() - pad_s) / hop))
        offset_s = first_frame * hop_n / sr
        if whole is not None:
            audio = whole[first_frame * hop_n :]
        else:
            end_s = part["end_s"].max() + pad_s
            raw, _ = load_audio(recording.path, sr=sr, offset_s=offset_s,
                                duration_s=min(end_s, duration_s) - offset_s,
                                mono=False)
            raw = np.atleast_2d(raw)
            audio = _live_mix(raw - raw.mean(axis=1, keepdims=True))
        for k, voice in enumerate(voices):
            rows = np.flatnonzero((part["speaker_id"] == voice).to_numpy())
            if not len(rows):
                continue
            spans = part.iloc[rows][["start_s", "end_s"]].to_numpy() - offset_s
            floor, ceiling = ranges.get(voice, (config.pitch_floor_hz, config.pitch_ceiling_hz))
            if voice in ranges:
                local = pitch_on_spans(audio, sr, spans, hop_s=hop, floor_hz=floor,
                                       ceiling_hz=ceiling)
                frames = np.arange(local.size) + first_frame
                inside = frames < f0.size
                frames, local = frames[inside], local[inside]
                mine = labels[frames] == k
                f0[frames[mine]] = local[mine]
            if config.features:
                joined, joined_spans = _join_spans(audio, sr, spans)
                measures = voice_quality(joined, sr, joined_spans, f0_floor_hz=floor,
                                         f0_ceiling_hz=ceiling)
                for name, values in measures.items():
                    quality[name][chunk[rows]] = values
                if config.token_voices == "none" or not (
                        config.token_voices == "all" or voice == recording.speaker_id
                        or voice in genders):
                    continue
                ids = set(part["segment_id"].iloc[rows])
                vowel_tokens, s_tokens = (t[t["segment_id"].isin(ids)] for t in tokens)
                _measure_tokens(audio, sr, offset_s, vowel_tokens, s_tokens, genders.get(voice),
                                measured, n_ceilings=config.formant_ceilings,
                                source_rate=source_rate, engine=config.engine)
    for name in ("vowels", "sibilants"):
        parts = measured.pop(name[:-1] + "_parts" if name == "vowels" else "sibilant_parts",
                             None)
        if parts:
            measured[name] = pd.concat(parts, ignore_index=True).sort_values(
                "start_s", kind="stable").reset_index(drop=True)
    return f0, quality


def _join_spans(audio: np.ndarray, sr: int, spans: np.ndarray, *, pad_s: float = 0.1,
                gap_s: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """One voice's stretches, each with ``pad_s`` of context, joined with ``gap_s`` of
    silence: one Praat analysis then covers that voice's speech, and no period or
    analysis window runs from one stretch into the next. Returns the joined signal
    and the stretches' times in it."""
    pad, gap = round(pad_s * sr), round(gap_s * sr)
    starts = np.clip(np.round(spans[:, 0] * sr).astype(np.int64), 0, audio.size)
    ends = np.clip(np.round(spans[:, 1] * sr).astype(np.int64), 0, audio.size)
    lo, hi = np.clip(starts - pad, 0, audio.size), np.clip(ends + pad, 0, audio.size)
    pieces, times, position = [], [], 0
    silence = np.zeros(gap, dtype=audio.dtype)
    for a, b, s, e in zip(lo, hi, starts, ends, strict=True):
        pieces += [audio[a:b], silence]
        times.append((position + s - a, position + e - a))
        position += b - a + gap
    return np.concatenate(pieces), np.asarray(times, dtype=np.float64).reshape(-1, 2) / sr


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


def _labels_from_channels(recording: Recording, levels: np.ndarray, dead: list[int],
                          hop: float):
    """Each speech frame to the loudest live channel's voice. ``levels``: per-channel
    intensity (n_channels, n_frames) from pass 1."""
    index = [c for c in sorted(recording.channels) if c not in dead and c < levels.shape[0]]
    voices = [recording.channels[c] for c in index]
    levels = levels[index]
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


def _labels_from_clusters(recording: Recording, mfcc: np.ndarray, level: np.ndarray,
                          active: np.ndarray, f0: np.ndarray, hop: float):
    """Cluster the IPUs into ``n_speakers`` voices from pass-1 MFCC frames."""
    n_speakers = recording.n_speakers
    ipus = speech_intervals(active, hop_s=hop)
    labels = np.full(active.size, -1)
    confidence = np.zeros(active.size)
    if len(ipus) == 0:
        return [recording.speaker_id], labels, confidence
    embeddings = embeddings_from_frames(mfcc, level, ipus, hop_s=hop, f0_hz=f0)
    ipu_labels, ipu_conf = cluster_speakers(embeddings, n_speakers=n_speakers,
                                            durations_s=ipus[:, 1] - ipus[:, 0])
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
        start_s, end_s, voice = merge_runs(start_s, end_s, voice,
                                           max_gap_s=config.utterance_pause_s)
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


def _texts(transcript: pd.DataFrame, segments: pd.DataFrame) -> list:
    """The transcript's words (or turn text) of each segment's voice inside it."""
    texts: list[str | None] = [None] * len(segments)
    for voice, group in segments.groupby("speaker_id", sort=False):
        rows = transcript[transcript["speaker"] == voice]
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
