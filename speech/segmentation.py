"""One recording -> speaker-attributed segments, in one pass.

Decode once; compute the frame tracks once over the whole recording (intensity,
Praat pitch); derive the inter-pausal units (IPUs), their speakers and their
syllable-nucleus counts from those tracks by vectorised reductions.

Speaker attribution, in order of preference:

1. ``transcript``: the transcript's speaker tiers (TextGrid, ELAN, VTT...), frame
   by frame: an IPU that spans a change of speaker is split there;
2. ``channel``: a channel map from recordings.csv (one voice per channel, or one
   file per participant): each speech frame goes to the channel whose own voice
   dominates it (:func:`features.attribution.labels_from_channels`: levels relative
   to each channel's own voice, so a leaked voice is not counted as speech), and
   each voice's pitch, voice quality and tokens are measured on its own channel;
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

from corpora.corpus import Recording
from corpora.languages import rules_for
from corpora.transcripts import read_transcript
from features.activity import activity_from_probability, speech_intervals, voice_activity
from features.attribution import (
    labels_from_channels,
    labels_from_clusters,
    labels_from_spans,
    segments_from_labels,
)
from features.formants import band_limited_ceilings, default_ceilings
from features.functionals import hz_to_st, segment_functionals
from features.nuclei import nucleus_spans, syllable_nuclei
from features.overlap import overlap_share
from features.registry import track_quantity, unit_suffix
from features.rhythm import INTERVAL_COLUMNS, interval_metrics, segment_timing
from features.spectral import TRACKS as SPECTRAL_TRACKS
from features.tracks import ENGINES
from features.vowel_qc import mahalanobis_outliers
from speech.overlap import (
    live_channels,
    overlap_frames,
    withdraw_overlapped,
)
from speech.pass_one import FrameTracks, pass_one
from speech.pass_two import pass_two
from speech.schema import ERROR_COLUMNS, RECORDING_COLUMNS, SEGMENT_COLUMNS
from speech.tokens import (
    LABEL_COLUMNS,
    TOKEN_COLUMNS,
    aligned_tokens,
    assign_to_segments,
    interval_at,
    nucleus_tokens,
    orthography_tokens,
)

#: Vowel outlier flag: significance level and smallest speaker x vowel category tested.
OUTLIER_ALPHA = 0.001
OUTLIER_MIN_TOKENS = 15
#: Below this source rate (Hz) there is no band for /s/ (4-8 kHz).
NARROW_BAND_RATE_HZ = 16000
#: Spectral measures of an /s/ token (NaN when the source rate cannot carry them).
SIBILANT_MEASURES = ("cog_hz", "peak_hz", "sd_hz", "skewness", "kurtosis", "voiceless_ratio",
                     "intensity_rel_db", "floor_rel_db")

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
    language : str
        ISO 639-1 code of the corpus language (corpus.toml's ``language``): without
        a phone alignment, vowel tokens are labelled from the transcript's words by
        that language's spelling rules (:mod:`corpora.languages`; unlabelled when
        it has none).
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
        NumPy reimplementations batched over every frame, held to Praat by tests:
        :mod:`features.pitch` for the pitch passes and the voice report's pitch,
        :mod:`features.burg` for formants) or ``"praat"`` (Praat itself via
        Parselmouth, to reproduce Praat scripts exactly). Recorded in the store's
        manifest with the rest of the configuration.
    keep_text : bool
        Keep the transcript's words in the outputs (segment ``text``, token
        ``word``). Off by default: interviews with vulnerable workers name people
        and places, so the store carries only ``word_id``, a keyed hash that
        identifies a word across tokens (for by-word random effects) without
        spelling it.
    text_key : str
        Key of that hash (the store's own, see :mod:`speech.store`); not secret
        from whoever holds the store, so ``word_id`` is a pseudonym, not encryption.
    keep_overlap : bool
        Measure overlapped speech too. Off by default: frames where two voices
        speak at once (:mod:`features.overlap`; each segment's share is its
        ``overlap_ratio``) are left out of the F0 functionals, jitter, shimmer and
        HNR, and vowel tokens mostly inside them get no formants (qc ``overlap``):
        the other voice's harmonics would enter them.
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
    language: str = "es"
    token_voices: str = "profiled"
    formant_ceilings: int = 10
    engine: str = "vectorised"
    keep_text: bool = False
    text_key: str = ""
    keep_overlap: bool = False

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
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; use one of "
                             f"{', '.join(ENGINES)}")
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
    try:
        result = _segment(recording, config, stage, dict(genders or {}))
        segments = result.segments
        row.update(result.info)
        row["n_segments"] = len(segments)
        row["speech_s"] = float(segments["duration_s"].sum()) if len(segments) else 0.0
        if not len(segments) and row["status"] == "ok":
            row["status"] = "no_speech"
        errors = pd.DataFrame(columns=ERROR_COLUMNS)
    except Exception as e:  # one bad recording must never stop a batch
        result = _Segmented({}, pd.DataFrame(columns=SEGMENT_COLUMNS))
        row["status"] = "error"
        errors = pd.DataFrame([{
            "recording_id": recording.recording_id, "stage": stage.name,
            "error": type(e).__name__, "message": str(e),
        }])  # fmt: skip
    return RecordingResult(pd.DataFrame([row], columns=RECORDING_COLUMNS), result.segments,
                           errors, result.tracks if keep_tracks else None, result.vowels,
                           result.sibilants)


@dataclass
class _Segmented:
    """What :func:`_segment` gives :func:`segment_recording`: the recording's row
    fields, its segments and tokens, and its frame tracks."""

    info: dict
    segments: pd.DataFrame
    tracks: dict | None = None
    vowels: pd.DataFrame | None = None
    sibilants: pd.DataFrame | None = None


def _segment(recording: Recording, config: SegmentationConfig, stage: _Stage,
             genders: dict[str, str]) -> _Segmented:
    """Segment one recording, stage by stage (``stage.name`` says which is running):
    pass 1 (tracks), voice activity, attribution, segments, nuclei and tokens, pass 2
    (adapted pitch, voice quality, formants, /s/), then the segment features."""
    stage.name = "decode"
    info = recording.info()
    transcript = _transcript(recording, config)
    multi = bool(recording.channels) and config.attribution in ("auto", "channel")
    clustering = transcript is None and not multi and recording.n_speakers > 1

    stage.name = "tracks"
    diagnostics, tracks, whole, conditions = pass_one(recording, config, want_mfcc=clustering)
    notes = diagnostics.warnings()
    intensity = tracks.get("intensity")
    out = {
        "duration_s": info.duration_s, "source_sample_rate": info.sample_rate,
        "num_channels": info.num_channels,
    }  # fmt: skip
    if diagnostics.silent or intensity is None:
        out.update(status="no_speech", warnings="; ".join(notes))
        return _Segmented(out, pd.DataFrame(columns=SEGMENT_COLUMNS))
    f0, hop = tracks.get("f0"), config.hop_s
    voiced = np.isfinite(f0)

    stage.name = "voice_activity"
    if config.vad == "silero":
        active = activity_from_probability(tracks.get("silero"), hop_s=hop,
                                           min_pause_s=config.min_pause_s,
                                           min_speech_s=config.min_speech_s)
    else:
        active = voice_activity(intensity, voiced, hop_s=hop, min_pause_s=config.min_pause_s,
                                min_speech_s=config.min_speech_s,
                                silence=tracks.get("silence"))
    out.update(conditions.result(intensity, active, hop_s=hop))  # recordings table columns

    stage.name = "attribution"
    method, voices, labels, confidence, transcript = _attribute(
        recording, config, transcript, tracks, diagnostics.dead_channels, active, notes)

    stage.name = "segments"
    segments = _segments_table(labels, confidence, voices, config, recording)
    segments["method"] = method
    voice_spans = None if method != "transcript" else [
        _voice_spans(transcript[transcript["speaker"] == v], ("words", "turns")) for v in voices]
    overlap = overlap_frames(recording, tracks, diagnostics.dead_channels, active, method, hop,
                             voice_spans)
    segments["overlap_ratio"] = np.round(overlap_share(
        overlap, segments[["start_s", "end_s"]].to_numpy(), hop_s=hop), 3)
    unmeasured = None if config.keep_overlap or not overlap.any() else overlap
    stage.name = "nuclei"
    # Vowels carry the syllable peaks; liquids and taps barely dip in broadband intensity.
    nuclei = syllable_nuclei(tracks.get("vowel_band"), voiced, hop_s=hop, speech=active)
    if len(segments):
        starts, ends = segments["start_s"].to_numpy(), segments["end_s"].to_numpy()
        segments["n_nuclei"] = np.searchsorted(nuclei, ends) - np.searchsorted(nuclei, starts)
        if transcript is not None and config.keep_text:
            segments["text"] = _texts(transcript, segments)
    stage.name = "tokens"
    band = tracks.get("vowel_band")
    nuclei_db = band[np.clip(np.rint(nuclei / hop).astype(np.int64), 0, band.size - 1)]
    # A token is the nucleus's vowel on the contour, not a fixed width at its peak
    # (real-es MX1, stressed vowels by LDA: 0.697 -> 0.789; see the README).
    spans = nucleus_spans(band, nuclei, voiced, hop_s=hop)
    tokens = _tokens(transcript, segments, nuclei, nuclei_db, spans, config)
    stage.name = "pitch"
    # Voices attributed from their own channels (or files) are measured on them.
    own_channels = ({v: c for c, v in recording.channels.items() if v in voices}
                    if method == "channel" else None)
    f0, quality, vowels, sibilants = pass_two(recording, config, whole, f0, labels, segments,
                                               voices, tokens, genders, own_channels,
                                               unmeasured)
    if unmeasured is not None:
        f0 = np.where(unmeasured, np.nan, f0)
        vowels = withdraw_overlapped(vowels, unmeasured, hop)
    vowels, sibilants = _finish_tokens(vowels, sibilants, f0, recording, config, info, notes)
    if config.features and len(segments):
        stage.name = "features"
        segments = _add_features(segments, f0, intensity, tracks.get("spectral"),
                                 quality, config)
        segments = _add_intervals(segments, transcript, config)
    out.update(method=method, warnings="; ".join(notes))
    return _Segmented(out, segments, {"f0_hz": f0, "intensity_db": intensity, "voice": labels,
                                      "overlap": overlap}, vowels, sibilants)


def _transcript(recording: Recording, config: SegmentationConfig) -> pd.DataFrame | None:
    """The transcript's timed intervals when attribution may use them (one voice named
    after the recording's speaker when the transcript names none); checks that a
    forced attribution method has its source."""
    forced = config.attribution
    if forced == "channel" and not recording.channels:
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
    return transcript


def _attribute(recording: Recording, config: SegmentationConfig,
               transcript: pd.DataFrame | None, tracks: FrameTracks, dead: list[int],
               active: np.ndarray, notes: list[str]):
    """Voice labels per frame from the best source: the method, the voices, the
    labels and confidences (:mod:`features.attribution`), and the transcript with
    its voices named as they are written out."""
    hop = config.hop_s
    if transcript is not None:
        names = sorted(set(transcript["speaker"]) - {""})
        spans = [_voice_spans(transcript[transcript["speaker"] == name], ("words", "turns",
                                                                           "phones"))
                 for name in names]
        labels, confidence = labels_from_spans(spans, active, hop_s=hop)
        voices = _safe_voices(names, notes)
        # From here on the transcript names its voices as they are written out.
        transcript = transcript.assign(
            speaker=transcript["speaker"].map(dict(zip(names, voices, strict=True))))
        return "transcript", voices, labels, confidence, transcript
    if recording.channels and config.attribution in ("auto", "channel"):
        levels = tracks.get("channel_levels")
        index = live_channels(recording, levels, dead)
        labels, confidence = labels_from_channels(levels[index], hop_s=hop, active=active)
        return "channel", [recording.channels[c] for c in index], labels, confidence, None
    if recording.n_speakers > 1:
        labels, confidence = labels_from_clusters(
            tracks.get("mfcc"), tracks.get("level"), speech_intervals(active, hop_s=hop),
            active.size, n_speakers=recording.n_speakers, hop_s=hop, f0_hz=tracks.get("f0"))
        tracks.release("mfcc", "level")
        # The voice with the most speech is the interviewee (label 0, by construction).
        voices = [recording.speaker_id, *(f"INT{k}" for k in range(1, recording.n_speakers))]
        return "cluster", voices, labels, confidence, None
    return "single", [recording.speaker_id], np.where(active, 0, -1), np.ones(active.size), None


def _voice_spans(rows: pd.DataFrame, levels: tuple[str, ...]) -> np.ndarray:
    """(start_s, end_s) of one voice's intervals at the first of ``levels`` it has
    (words align tightest to speech; turns when there is no word tier)."""
    for level in levels:
        part = rows[rows["level"] == level]
        if len(part):
            break
    return part[["start_s", "end_s"]].to_numpy(dtype=np.float64)


def _segments_table(labels: np.ndarray, confidence: np.ndarray, voices: list[str],
                    config: SegmentationConfig, recording: Recording) -> pd.DataFrame:
    """Runs of one voice (:func:`features.attribution.segments_from_labels`) -> segment
    rows (utterance recordings: merged at pauses shorter than ``utterance_pause_s``)."""
    utterance = recording.kind == "utterance"
    start_s, end_s, voice, conf = segments_from_labels(
        labels, confidence, hop_s=config.hop_s, min_speech_s=config.min_speech_s,
        merge_gap_s=config.utterance_pause_s if utterance else None)
    turn = np.cumsum(np.r_[True, voice[1:] != voice[:-1]]) - 1 if len(voice) else voice
    rid = recording.recording_id
    return pd.DataFrame({
        "recording_id": rid,
        "segment_id": [f"{rid}-{i:05d}" for i in range(len(start_s))],
        "speaker_id": [voices[v] for v in voice],
        "start_s": np.round(start_s, 3), "end_s": np.round(end_s, 3),
        "duration_s": np.round(end_s - start_s, 3), "kind": "utterance" if utterance else "ipu",
        "turn_id": turn.astype(int), "text": pd.Series([None] * len(start_s), dtype="string"),
        "method": None, "confidence": np.round(conf, 3), "n_nuclei": 0,
        "f0_floor_hz": np.nan, "f0_ceiling_hz": np.nan,
    }, columns=SEGMENT_COLUMNS)  # fmt: skip


def _texts(transcript: pd.DataFrame, segments: pd.DataFrame) -> list:
    """The transcript's words (or turn text) of each segment's voice whose midpoints
    lie in it, in time order."""
    parts = []
    for voice in segments["speaker_id"].unique():
        rows = transcript[transcript["speaker"] == voice]
        for level in ("words", "turns"):
            if (rows["level"] == level).any():
                parts.append(rows[rows["level"] == level])
                break
    texts: list[str | None] = [None] * len(segments)
    if not parts:
        return texts
    words = pd.concat(parts)
    mid = ((words["start_s"] + words["end_s"]) / 2).to_numpy(dtype=np.float64)
    slot = interval_at(mid, segments, voices=words["speaker"].to_numpy(dtype=object),
                       closed="left")
    found = pd.DataFrame({"slot": slot, "mid": mid, "label": words["label"].to_numpy()})
    found = found[found["slot"] >= 0].sort_values(["slot", "mid"], kind="stable")
    for position, labels in found.groupby("slot", sort=False)["label"]:
        texts[position] = " ".join(labels)
    return texts


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
            nuclei_db: np.ndarray, spans: np.ndarray, config: SegmentationConfig,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Vowel and /s/ tokens: aligned phones when the transcript has them, else vowel
    tokens at the syllable nuclei, labelled from the words where the language has
    spelling rules (and no /s/ tokens)."""
    no_s = pd.DataFrame(columns=TOKEN_COLUMNS)
    if not config.features or not len(segments):
        return pd.DataFrame(columns=[*TOKEN_COLUMNS, *LABEL_COLUMNS]), no_s
    if transcript is not None and (transcript["level"] == "phones").any():
        return aligned_tokens(transcript, segments, config.vowels)
    rules = rules_for(config.language)
    if transcript is not None and rules is not None:
        tokens = orthography_tokens(transcript, segments, nuclei, nuclei_db, rules, spans)
        # Vowels outside the corpus inventory (a narrower one) stay unlabelled.
        outside = tokens["phone"].notna() & ~tokens["phone"].isin(config.vowels)
        tokens.loc[outside, ["phone", "stress", "label_confidence"]] = None
        tokens.loc[outside, "label_source"] = "none"
        return tokens, no_s
    return nucleus_tokens(nuclei, segments, spans), no_s


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


def _finish_tokens(vowels: pd.DataFrame | None, sibilants: pd.DataFrame | None,
                   f0: np.ndarray, recording: Recording, config: SegmentationConfig, info,
                   notes: list[str]) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The token tables as written: /s/ measures withdrawn below a 16 kHz source rate,
    ``word_id``, the outlier flag and each vowel's F0."""
    if info.sample_rate < NARROW_BAND_RATE_HZ:
        # [s] has its energy between 4 and 8 kHz: below a 16 kHz source rate there is
        # nothing to measure, and the classifier would call every /s/ aspirated.
        top = band_limited_ceilings(default_ceilings(None), info.sample_rate)[0].max()
        notes.append(f"source rate {info.sample_rate} Hz: /s/ (sibilant) measures unavailable; "
                     f"formant ceilings kept at or below {top:.0f} Hz")
        if sibilants is not None:
            sibilants[[c for c in SIBILANT_MEASURES if c in sibilants]] = np.nan
            sibilants["realisation"] = pd.Series(pd.NA, index=sibilants.index, dtype="string")
            sibilants["realisation_confidence"] = np.nan
    tables = []
    for table in (vowels, sibilants):
        if table is not None:
            table.insert(0, "recording_id", recording.recording_id)
            table = _word_ids(table, config)
        tables.append(table)
    vowels, sibilants = tables
    if vowels is not None and "vowel" in vowels and len(vowels):
        # Outliers within speaker x vowel (unlabelled nuclei have no category). Strict
        # settings: flagged tokens leave the speaker means, and in small categories a
        # looser cut would also remove genuinely reduced tokens (measured: 5.6 % of
        # synthetic tokens at alpha 0.01 and 8 tokens, none of them mis-tracked).
        flagged = mahalanobis_outliers(vowels["f1_hz"].to_numpy(), vowels["f2_hz"].to_numpy(),
                                       vowels[["speaker_id", "vowel"]], alpha=OUTLIER_ALPHA,
                                       min_tokens=OUTLIER_MIN_TOKENS)
        qc = vowels["qc"].astype(object).fillna("").to_numpy()
        vowels["qc"] = np.where(flagged, np.where(qc == "", "outlier", qc + ";outlier"), qc)
    if vowels is not None and len(vowels):
        vowels["f0_hz"] = _token_medians(f0, vowels["start_s"].to_numpy(),
                                         vowels["end_s"].to_numpy(), config.hop_s)
    return vowels, sibilants


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
