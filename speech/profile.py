"""Profile one recording without a corpus: its segments, then per voice the
duration-weighted means of every feature (``speech-profile profile``).

The same segmentation and aggregation as a corpus extraction, on one file: voice ``V1``
is the one with most speech, the others ``V2``, ``V3``... (see ``docs/architecture.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from corpora.corpus import Recording
from speech.extract import aggregate_segments
from speech.segmentation import SegmentationConfig, segment_recording

__all__ = ["ProfileError", "RecordingProfile", "profile_recording"]


class ProfileError(ValueError):
    """A recording that cannot be profiled; ``title`` says so, the message says why."""

    def __init__(self, message: str, title: str = "Cannot profile:"):
        super().__init__(message)
        self.title = title


@dataclass(frozen=True)
class RecordingProfile:
    """Per-voice features of one recording.

    Attributes
    ----------
    file : str
        The file's name (no directory: outputs name no path).
    duration_s : float
        Its duration (s).
    voices : pd.DataFrame
        One row per voice (``speaker_id`` V1, V2...), the columns of
        :func:`speech.extract.aggregate_segments`.
    warnings : str
        What the segmentation noticed (empty when nothing).
    """

    file: str
    duration_s: float
    voices: pd.DataFrame
    warnings: str

    def as_dict(self) -> dict:
        """``{"file", "voices": [one record per voice], "warnings"}``, JSON-ready."""
        # pandas' JSON writer: NaN -> null, NumPy scalars -> numbers (10 significant digits).
        records = json.loads(self.voices.to_json(orient="records"))
        return {"file": self.file, "voices": records, "warnings": self.warnings}


def profile_recording(
    audio: str | Path, *, speakers: int = 1, config: SegmentationConfig | None = None
) -> RecordingProfile:
    """Segment one audio file and aggregate its features per voice.

    Parameters
    ----------
    audio : str or Path
        Any supported audio file.
    speakers : int
        Voices in it: 1 (an utterance) or more (an interview; the voices beyond
        the first are attributed by clustering).
    config : SegmentationConfig, optional
        Default: :class:`~speech.segmentation.SegmentationConfig` ``()``.

    Returns
    -------
    RecordingProfile

    Raises
    ------
    ProfileError
        The file is missing, fails to decode or segment (the message names the stage),
        or holds no speech.
    """
    audio = Path(audio)
    if not audio.is_file():
        raise ProfileError(f"{audio}: file not found")
    kind = "interview" if speakers > 1 else "utterance"
    result = segment_recording(Recording(audio.stem, audio, kind, "V1", speakers),
                               config or SegmentationConfig())
    warnings = result.recording["warnings"].item()
    if not result.errors.empty:
        row = result.errors.iloc[0]
        raise ProfileError(f"[{row['stage']}] {row['message']}", f"Cannot profile {audio}:")
    segments = result.segments
    if segments.empty:
        raise ProfileError(f"{audio}: no speech found ({warnings})")
    # The segmentation names the other voices of an interview INT1, INT2...: here V2, V3...
    segments = segments.assign(speaker_id=segments["speaker_id"].replace(
        {f"INT{k}": f"V{k + 1}" for k in range(1, speakers)}))
    return RecordingProfile(audio.name, float(result.recording["duration_s"].item()),
                            aggregate_segments(segments), warnings)
