"""The figures of Praat's Voice report that come from its pitch analysis.

Praat's "Voice report" prints a "Mean harmonics-to-noise ratio" that is not the
Harmonicity object's mean (:func:`features.voice.voice_quality`'s ``hnr_db``) but
the mean strength of the pitch analysis that places the glottal pulses, in dB,
averaged with interpolation between frames. This module computes that pitch
analysis once per recording (:func:`_report_pitch`, either engine) and the
report's mean over each segment (:func:`_report_hnr_means`), vectorised over
segments; :func:`features.voice.voice_quality` returns it as ``hnr_report_db``.

References
----------
Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual page "Voice";
sources ``VoiceAnalysis.cpp`` (``Pitch_getMeanStrength``) and ``Sampled.cpp``
(``Sampled_getMean``, interpolated).
Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency and
the harmonics-to-noise ratio of a sampled sound. Proceedings of the Institute of
Phonetic Sciences 17, 97-110.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import parselmouth

from features.pitch import pitch_ac

__all__: list[str] = []


@dataclass(frozen=True)
class _ReportPitch:
    """The voice report's pitch: the chosen candidates' frequency (Hz, 0 where
    unvoiced) and strength per frame (shape (nx,), frame ``i`` at ``x1 + i dx``; the
    analysis spans ``[xmin, xmax]``, frames at or above ``ceiling`` Hz are unvoiced),
    and for Praat's engine its Pitch object, which places the pulses."""

    frequency: np.ndarray
    strength: np.ndarray
    x1: float
    dx: float
    xmin: float
    xmax: float
    ceiling: float
    pitch: parselmouth.Pitch | None = None


def _report_pitch(
    sound: parselmouth.Sound | None,
    x: np.ndarray,
    sr: float,
    floor_hz: float,
    ceiling_hz: float,
    engine: str,
) -> _ReportPitch:
    """Praat's "To Pitch" with default settings (time step ``0.75 / floor_hz``), by
    either engine (``sound``: ``x`` as a Praat Sound, needed for Praat's)."""
    if engine == "praat":
        pitch = sound.to_pitch_ac(pitch_floor=floor_hz, pitch_ceiling=ceiling_hz)
        sel = pitch.selected_array
        return _ReportPitch(
            sel["frequency"].astype(np.float64),
            sel["strength"].astype(np.float64),
            float(pitch.x1),
            float(pitch.dx),
            float(pitch.xmin),
            float(pitch.xmax),
            float(pitch.ceiling),
            pitch,
        )
    track = pitch_ac(x, sr, pitch_floor_hz=floor_hz, pitch_ceiling_hz=ceiling_hz)
    return _ReportPitch(
        track.selected_frequency,
        track.selected_strength,
        track.x1,
        track.dx,
        0.0,
        x.size / sr,
        track.pitch_ceiling_hz,
    )


def _report_hnr_means(
    pitch: _ReportPitch,
    pitch_ceiling_hz: float,
    start: np.ndarray,
    end: np.ndarray,
    proper: np.ndarray,
) -> np.ndarray:
    """The voice report's "Mean harmonics-to-noise ratio" of each ``[start, end]``.

    Praat's ``Pitch_getMeanStrength`` in dB: each frame whose chosen candidate lies in
    (0, ceiling) has ``10 log10(r / (1 - r))`` of its strength ``r`` (clipped to
    +-150 dB), the others are undefined; the mean is ``Sampled_getMean`` with
    interpolation: the area under the piecewise-linear curve through the defined
    frames, over the stretch of time where it is defined, with Praat's corrections
    within the first and last half frame. Shape (n,), NaN where nothing is defined.
    """
    r, f = pitch.strength, pitch.frequency
    with np.errstate(divide="ignore", invalid="ignore"):
        db = np.where(
            r <= 1e-15, -150.0, np.where(r > 1.0 - 1e-15, 150.0, 10.0 * np.log10(r / (1.0 - r)))
        )
    v = np.where((f > 0) & (f < pitch_ceiling_hz), db, np.nan)
    nx, x1, dx = v.size, float(pitch.x1), float(pitch.dx)
    out = np.full(start.shape, np.nan)
    if nx == 0:
        return out
    # 1-based frame values with undefined (NaN) guards at 0 and nx + 1.
    vv = np.concatenate(([np.nan], v, [np.nan]))
    defined = np.isfinite(vv)
    csum = np.concatenate(([0.0], np.cumsum(np.where(defined, vv, 0.0))))
    ccount = np.concatenate(([0.0], np.cumsum(defined)))
    xmin = np.maximum(start, float(pitch.xmin))
    xmax = np.minimum(end, float(pitch.xmax))
    ok = proper & (xmax > xmin)
    imin = np.maximum(np.ceil((xmin - x1) / dx).astype(np.int64) + 1, 1)
    imax = np.minimum(np.floor((xmax - x1) / dx).astype(np.int64) + 1, nx)
    some = imax >= imin
    lo, hi = np.clip(imin, 0, nx + 1), np.clip(imax, 0, nx + 1)
    total = np.where(some, csum[np.maximum(hi, lo - 1) + 1] - csum[lo], 0.0)
    span = np.where(some, ccount[np.maximum(hi, lo - 1) + 1] - ccount[lo], 0.0)

    def at(i):
        return vv[np.clip(i, 0, nx + 1)]

    left_edge, right_edge = x1 - 0.5 * dx, x1 - 0.5 * dx + nx * dx
    # The first and the last sampling interval: the sums above count half a frame of
    # constant value beyond the edge frames; Praat replaces it by the part of the
    # interval inside the range, interpolated towards the neighbour outside.
    for phase, inner, outer, fix in (
        ((x1 + (imin - 1) * dx - xmin) / dx, at(imin), at(imin - 1), some & (xmin > left_edge)),
        ((xmax - (x1 + (imax - 1) * dx)) / dx, at(imax), at(imax + 1), some & (xmax < right_edge)),
    ):
        d_span, d_total = _edge_correction(phase, inner, outer)
        span += np.where(fix, d_span, 0.0)
        total += np.where(fix, d_total, 0.0)
    # No frame centre inside: the mean of the interpolated curve between the two
    # neighbouring frames, over the part of it that is defined.
    none = ~some & (imin == imax + 1)
    left, right = at(imax), at(imin)
    p1 = (xmin - (x1 + (imax - 1) * dx)) / dx
    p2 = (xmax - (x1 + (imax - 1) * dx)) / dx
    ld, rd = np.isfinite(left), np.isfinite(right)
    l0, r0 = np.nan_to_num(left), np.nan_to_num(right)
    both = none & ld & rd
    only_l = none & ld & ~rd & (p1 < 0.5)
    only_r = none & ~ld & rd & (p2 > 0.5)
    p2_l, p1_r = np.minimum(p2, 0.5), np.maximum(p1, 0.5)
    span += (
        np.where(both, p2 - p1, 0.0)
        + np.where(only_l, p2_l - p1, 0.0)
        + np.where(only_r, p2 - p1_r, 0.0)
    )
    total += (
        np.where(both, (p2 - p1) * (l0 + 0.5 * (p1 + p2) * (r0 - l0)), 0.0)
        + np.where(only_l, (p2_l - p1) * l0, 0.0)
        + np.where(only_r, (p2 - p1_r) * r0, 0.0)
    )
    good = ok & (span > 0)
    out[good] = total[good] / span[good]
    return out


def _edge_correction(
    phase: np.ndarray, inner: np.ndarray, outer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Praat's correction of an interpolated mean within an edge sampling interval.

    ``phase``: the fraction of the interval between the edge frame's centre and the
    range's end; ``inner``, ``outer``: the edge frame's value and its neighbour's
    outside the range (NaN: undefined). Returns the changes to the defined span
    (frames) and to the sum.
    """
    i_ok, o_ok = np.isfinite(inner), np.isfinite(outer)
    i0, o0 = np.nan_to_num(inner), np.nan_to_num(outer)
    both = i_ok & o_ok
    only_inner = i_ok & ~o_ok
    only_outer = ~i_ok & o_ok & (phase > 0.5)
    half = np.minimum(phase, 0.5)
    d_span = (
        np.where(i_ok, -0.5, 0.0)
        + np.where(both, phase, 0.0)
        + np.where(only_inner, half, 0.0)
        + np.where(only_outer, phase - 0.5, 0.0)
    )
    d_total = (
        np.where(i_ok, -0.5 * i0, 0.0)
        + np.where(both, phase * (i0 + 0.5 * phase * (o0 - i0)), 0.0)
        + np.where(only_inner, half * i0, 0.0)
        + np.where(only_outer, (phase - 0.5) * o0, 0.0)
    )
    return d_span, d_total
