"""The schema of the store's tables written by the conductor: their columns, in order,
and (for the segments table) each column's unit, definition and reference.

The segments table's own columns come first; the feature columns after them are
those of :mod:`features.registry`. :data:`REGISTRY` joins the two, and
``docs/FEATURES.md`` is generated from it::

    python -m speech.schema > docs/FEATURES.md
"""

from __future__ import annotations

from features.conditions import CONDITION_COLUMNS
from features.registry import _DE_JONG, _IPU, FeatureSpec, build_registry, render_markdown

__all__ = [
    "ERROR_COLUMNS",
    "RECORDING_COLUMNS",
    "REGISTRY",  # noqa: F822 (built on first access, module __getattr__)
    "SEGMENT_COLUMNS",
    "SEGMENT_TABLE",
]

_SEG = "speech.segmentation (segment_recording)"
_DE_LOOZE = (
    "De Looze, C. & Hirst, D. J. (2008). Detecting changes in key and range for "
    "the automatic modelling and coding of intonation. Speech Prosody 2008, 135-138; "
    "features.tracks.adapted_pitch_range"
)

#: The segments table's own columns, in order: (name, unit, definition, reference).
SEGMENT_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("recording_id", "id", "Recording the segment belongs to (recordings.csv).", ""),
    ("segment_id", "id", "Segment identifier, <recording_id>-<5-digit index> in time order.", ""),
    (
        "speaker_id",
        "id",
        "Voice of the segment: the profiled speaker's pseudonym, or INT1, "
        "INT2... for interviewers and other voices.",
        "",
    ),
    ("start_s", "s", "Start of the segment from the start of the recording.", _SEG),
    ("end_s", "s", "End of the segment from the start of the recording.", _SEG),
    ("duration_s", "s", "end_s - start_s.", _SEG),
    (
        "kind",
        "label",
        "'ipu' (inter-pausal unit of an interview) or 'utterance' (a read "
        "micro-task recording trimmed to speech).",
        _IPU,
    ),
    (
        "turn_id",
        "id",
        "Index of the turn within the recording: consecutive segments of one voice share it.",
        _SEG,
    ),
    (
        "text",
        "label",
        "Transcript words inside the segment, when the recording has a transcript; null otherwise.",
        "",
    ),
    (
        "method",
        "label",
        "How the voice was attributed: transcript, channel, cluster or single.",
        _SEG,
    ),
    (
        "confidence",
        "1",
        "Confidence of the voice attribution, in [0, 1], the mean over the segment's frames "
        "(frame centres in [start_s, end_s)): transcript, 1 where the speaker tiers cover "
        "the frame, 0 where it took a neighbour's label; channel (or one file per "
        "participant), the dominant channel's margin over the next / 6 dB (levels "
        "relative to each channel's own voice), 0 where a short stretch went back to the "
        "voice around it; cluster, the IPU's clustering confidence; 1 for a single voice.",
        _SEG,
    ),
    (
        "overlap_ratio",
        "ratio",
        "Share of the segment's frames where two voices speak at once, in [0, 1]: with a "
        "transcript of several voices, where two voices' intervals overlap; "
        "channel-per-voice recordings, two channels carrying their own voice (within 12 dB "
        "of the loudest, relative to each channel's speech level; cross-talk is not a voice); "
        "a mix of several voices, harmonic cancellation (the tracked period's comb filter "
        "leaves 0.08 more of the frame's energy than the recording's median), voted over "
        "0.3 s by the frames within 6 dB of the loudest in 0.5 s; 0 for a one-voice "
        "recording. Overlapped frames are left out of F0, voice quality and formants "
        "unless keep_overlap.",
        "de Cheveigné (1993), JASA 93(6), 3271-3290; features.overlap",
    ),
    (
        "n_nuclei",
        "count",
        "Syllable nuclei in [start_s, end_s): vowel-band intensity peaks "
        "(300-2500 Hz) of voiced speech with a 2 dB dip on each side.",
        _DE_JONG,
    ),
    (
        "f0_floor_hz",
        "Hz",
        "Pitch floor of the speaker-adapted second pitch pass for this "
        "segment's voice: 0.75 x the first quartile of a wide first pass (the configured floor "
        "when too few voiced frames).",
        _DE_LOOZE,
    ),
    (
        "f0_ceiling_hz",
        "Hz",
        "Pitch ceiling of the speaker-adapted second pitch pass: 1.5 x "
        "the third quartile of the first pass (the configured ceiling when too few voiced "
        "frames).",
        _DE_LOOZE,
    ),
)

#: Columns of the segments table before the features, in order.
SEGMENT_COLUMNS: tuple[str, ...] = tuple(name for name, *_ in SEGMENT_TABLE)
RECORDING_COLUMNS: tuple[str, ...] = (
    "recording_id", "speaker_id", "kind", "n_speakers", "duration_s", "sample_rate",
    "source_sample_rate", "num_channels", "status", "method", "n_segments", "speech_s",
    "warnings", *CONDITION_COLUMNS,
)  # fmt: skip
ERROR_COLUMNS: tuple[str, ...] = ("recording_id", "stage", "error", "message")

_CACHE: dict[str, tuple[FeatureSpec, ...]] = {}


def __getattr__(name: str):
    # REGISTRY is built on first access (it imports the spectral and voice modules).
    if name == "REGISTRY":
        if name not in _CACHE:
            _CACHE[name] = build_registry(table_columns=SEGMENT_TABLE)
        return _CACHE[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    print(render_markdown(__getattr__("REGISTRY")), end="")
