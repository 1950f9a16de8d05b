"""Praat's own values beside the default engine's, for the agreement checks.

The tests (``tests/features/test_pulses.py``, ``test_voice.py``,
``test_harmonicity.py``) and ``scripts/pulse_agreement.py`` compare the NumPy
engine with Praat (through Parselmouth) on the same recordings: the same sources,
the same Praat commands at the voice report's settings, the same matching rule and
the same reading of the issue's 5% criterion. They are defined once, here.

References
----------
Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual pages
"Sound & Pitch: To PointProcess (cc)", "Sound: To Harmonicity (cc)...",
"Harmonicity: Get mean...".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import parselmouth
import soundfile as sf
from parselmouth.praat import call

from features.pitch import pitch_ac
from features.pulses import glottal_pulses

__all__ = [
    "ALSA_DIR",
    "HNR_FLOOR_DB",
    "MATCH_TOL_S",
    "REAL_ES_DIR",
    "alsa_recordings",
    "count_matched",
    "hnr_relative_difference",
    "own_pulses",
    "praat_hnr_means",
    "praat_pulses",
    "pulses_from_pitch",
    "read_mono",
    "real_es_recordings",
    "voiced_stretches",
]

#: Debian's alsa-utils test recordings: spoken channel names, 48 kHz ("Noise" left out).
ALSA_DIR = Path("/usr/share/sounds/alsa")
#: Real Spanish words by two speakers (MX1 16 kHz, CO1 8 kHz), beside the clone.
REAL_ES_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real-es" / "audio"
#: A pulse of one engine matches one of the other's within this time (s).
MATCH_TOL_S = 1e-4
#: The 5% criterion on HNR is relative to Praat's value in dB, but never to less
#: than this (dB): near 0 dB a relative difference means nothing, so a value within
#: 1 dB of 0 must be within 0.05 dB of Praat's.
HNR_FLOOR_DB = 1.0


def alsa_recordings() -> list[Path]:
    """The ALSA test recordings present on this machine, sorted (may be empty)."""
    return sorted(p for p in ALSA_DIR.glob("*.wav") if p.stem != "Noise")


def real_es_recordings(speaker: str) -> list[Path]:
    """One real-es speaker's recordings (``"MX1"`` or ``"CO1"``), sorted (may be empty)."""
    return sorted((REAL_ES_DIR / speaker).glob("*.flac"))


def read_mono(path: Path) -> tuple[np.ndarray, float]:
    """The first channel of ``path`` as float64, and its sample rate (Hz)."""
    y, sr = sf.read(path, dtype="float64")
    return (y if y.ndim == 1 else y[:, 0]), float(sr)


def praat_pulses(
    y: np.ndarray, sr: float, floor_hz: float = 75.0, ceiling_hz: float = 600.0
) -> tuple[np.ndarray, parselmouth.Pitch, parselmouth.Data]:
    """Praat's "To Pitch (ac)" then "To PointProcess (cc)": pulse times (s), shape
    (n,), with the Pitch that placed them and the PointProcess itself."""
    sound = parselmouth.Sound(y, sampling_frequency=float(sr))
    pitch = sound.to_pitch_ac(pitch_floor=floor_hz, pitch_ceiling=ceiling_hz)
    points = call([sound, pitch], "To PointProcess (cc)")
    n = int(call(points, "Get number of points"))
    return (call(points, "To Matrix").values[0] if n else np.zeros(0)), pitch, points


def pulses_from_pitch(y: np.ndarray, sr: float, pitch: parselmouth.Pitch) -> np.ndarray:
    """:func:`features.pulses.glottal_pulses` given Praat's own pitch: shape (n,) s."""
    return glottal_pulses(
        y,
        sr,
        pitch.selected_array["frequency"],
        x1=pitch.x1,
        dx=pitch.dx,
        pitch_ceiling_hz=pitch.ceiling,
    )


def own_pulses(
    y: np.ndarray, sr: float, floor_hz: float = 75.0, ceiling_hz: float = 600.0
) -> np.ndarray:
    """The default engine end to end: :func:`features.pitch.pitch_ac` then
    :func:`features.pulses.glottal_pulses`; shape (n,) s."""
    track = pitch_ac(y, sr, pitch_floor_hz=floor_hz, pitch_ceiling_hz=ceiling_hz)
    return glottal_pulses(
        y,
        sr,
        track.selected_frequency,
        x1=track.x1,
        dx=track.dx,
        pitch_ceiling_hz=track.pitch_ceiling_hz,
    )


def count_matched(a: np.ndarray, b: np.ndarray, tol_s: float = MATCH_TOL_S) -> int:
    """How many times of ``a`` have a time of ``b`` (sorted) within ``tol_s``."""
    if a.size == 0 or b.size == 0:
        return 0
    i = np.searchsorted(b, a)
    after = np.abs(a - b[np.minimum(i, b.size - 1)])
    before = np.abs(a - b[np.maximum(i - 1, 0)])
    return int(np.sum(np.minimum(after, before) <= tol_s))


def voiced_stretches(
    y: np.ndarray,
    sr: float,
    min_s: float = 0.1,
    floor_hz: float = 75.0,
    ceiling_hz: float = 600.0,
) -> np.ndarray:
    """Runs of voiced 10 ms frames of Praat's cc pitch lasting ``min_s`` or more, from
    the first voiced frame's centre to the last's: shape (n, 2) s."""
    pitch = parselmouth.Sound(y, sampling_frequency=float(sr)).to_pitch_cc(
        time_step=0.01, pitch_floor=floor_hz, pitch_ceiling=ceiling_hz
    )
    voiced = np.concatenate(([0], (pitch.selected_array["frequency"] > 0).astype(int), [0]))
    edges = np.flatnonzero(np.diff(voiced))
    times = pitch.xs()
    runs = [(times[a], times[b - 1]) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return np.array([r for r in runs if r[1] - r[0] >= min_s]).reshape(-1, 2)


def praat_hnr_means(
    y: np.ndarray, sr: float, segments: np.ndarray, floor_hz: float = 75.0
) -> np.ndarray:
    """Praat's "To Harmonicity (cc)" (0.01 s, ``floor_hz``, 0.1, 1 period) then "Get
    mean" over each segment: shape (n,) dB, NaN where Praat's is undefined."""
    sound = parselmouth.Sound(y, sampling_frequency=float(sr))
    harmonicity = call(sound, "To Harmonicity (cc)", 0.01, floor_hz, 0.1, 1.0)
    return np.array([call(harmonicity, "Get mean", a, b) for a, b in segments], dtype=float)


def hnr_relative_difference(ours: np.ndarray, praat: np.ndarray) -> np.ndarray:
    """``|ours - praat| / max(|praat|, HNR_FLOOR_DB)``: the issue's 5% criterion on
    HNR (dB), well defined near 0 dB; NaN where either is NaN."""
    ours, praat = np.asarray(ours, dtype=float), np.asarray(praat, dtype=float)
    return np.abs(ours - praat) / np.maximum(np.abs(praat), HNR_FLOOR_DB)
