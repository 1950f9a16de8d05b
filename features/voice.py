"""Voice quality per segment: jitter, shimmer and HNR as Praat defines them.

One pitch analysis, one pulse train and one harmonicity track per recording, then
NumPy per segment:

1. one glottal-pulse train for the whole recording (Praat's "Sound: To
   PointProcess (periodic, cc)...", which is "To Pitch" (the autocorrelation
   method, default settings) then "Sound & Pitch: To PointProcess (cc)": "cc"
   names how pulses are placed, not the pitch method). With ``engine="vectorised"``
   (the default) the pitch is :func:`features.pitch.pitch_ac` and the pulses are
   placed by :func:`features.pulses.glottal_pulses`, Praat's algorithm in NumPy;
   with ``engine="praat"`` Praat does both through Parselmouth;
2. one harmonicity track for the whole recording: Praat's "Sound: To Harmonicity
   (cc)...", computed by :func:`features.harmonicity.harmonicity_cc` (all frames
   in one batched FFT) or, with ``hnr_method="praat"``, by Praat itself;
3. per segment, the measures of Praat's "PointProcess: Get jitter (...)",
   "Sound & PointProcess: Get shimmer (...)" and "Harmonicity: Get mean...",
   reproduced formula for formula. Every per-period quantity (period validity,
   period differences, the Hann-windowed amplitude of each pulse) depends on the
   pulses alone, not on the segment, so it is computed once for the recording and
   each segment reads sums over its range of pulses from cumulative sums: no
   Python loop over segments or pulses.

Praat's rules reproduced here (Praat 6.1 sources, ``VoiceAnalysis.cpp``,
``PointProcess.cpp``, ``AmplitudeTier.cpp``, ``Harmonicity.cpp``):

* A segment ``[start, end]`` holds the pulses with ``start <= t <= end``; its
  ``N`` intervals between consecutive pulses are its candidate periods.
* Jitter: each run of consecutive periods (2 for local, 3 for RAP, 5 for PPQ5)
  counts when every period lies in ``[period_floor, period_ceiling]`` and every
  two neighbours differ by a factor of at most ``max_period_factor``. The
  measure is the mean over counted runs of ``|p_i - p_{i+1}|`` (local), of
  ``|p_mid - mean(run)|`` (RAP, PPQ5), divided by the mean period.
* Mean period (and ``n_periods``): the segment's intervals that Praat's
  ``PointProcess_isPeriod`` accepts: within the period range and not differing
  by more than ``max_period_factor`` from *both* of its neighbours (neighbours
  outside the segment count).
* Shimmer: the amplitude of pulse ``t_i`` whose two adjacent periods ``p1``
  (before) and ``p2`` (after) count as a jitter pair is the RMS of the signal
  under an asymmetric Hann window spanning ``[t_i - 0.2 p1, t_i + 0.2 p2]``
  ("To AmplitudeTier (period)"); only pulses strictly inside the segment get
  one. Consecutive amplitudes (of this thinned sequence) count when their time
  difference lies in the period range and their ratio is at most
  ``max_amplitude_factor``; local shimmer is the mean absolute difference over
  counted pairs divided by the mean amplitude, local dB the mean
  ``|20 log10(a_{i+1} / a_i)|``, APQ3/APQ5 the mean ``|a_mid - mean(run)|`` over
  counted runs of 3/5 divided by the mean amplitude. Praat's mean amplitude
  averages all the segment's amplitudes *but the last* (its loop stops one
  short); so does this one, to agree with it.
* HNR: the mean of the Harmonicity frames whose centres lie in the segment,
  leaving out frames at -200 dB (silent or unvoiced).
* The Voice report's HNR (``hnr_report_db``): the mean strength of the pitch
  analysis that places the pulses, in dB, computed by :mod:`features.voice_report`.

A measure with nothing to average is NaN. Segments with ``end <= start`` are
NaN (where Praat would silently measure the whole recording).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import parselmouth
from parselmouth.praat import call

from features.harmonicity import UNVOICED_HNR_DB, harmonicity_cc
from features.pulses import glottal_pulses
from features.tracks import ENGINES, as_mono
from features.validation import check_spans
from features.voice_report import _report_hnr_means, _report_pitch

__all__ = ["MEASURES", "UNVOICED_HNR_DB", "Measure", "voice_quality"]

_PRAAT_MANUAL = (
    "Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual pages "
    '"Voice 2. Jitter" and "Voice 3. Shimmer"; Farrús, M., Hernando, J. & Ejarque, P. '
    "(2007). Jitter and shimmer measurements for speaker recognition. Interspeech 2007, "
    "778-781."
)
_HNR_REFERENCE = (
    "Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency and "
    "the harmonics-to-noise ratio of a sampled sound. Proceedings of the Institute of "
    'Phonetic Sciences 17, 97-110; Praat manual "Harmonicity: Get mean...".'
)


@dataclass(frozen=True)
class Measure:
    """Registry entry of one segment-level voice-quality measure.

    Attributes
    ----------
    name : str
        Column name (with its unit suffix).
    unit : str
        Unit of the values ("%", "dB", "count").
    definition : str
        What is measured, in one or two sentences.
    reference : str
        Where the formula comes from.
    """

    name: str
    unit: str
    definition: str
    reference: str


#: The measures :func:`voice_quality` returns, in its key order.
MEASURES: tuple[Measure, ...] = (
    Measure(
        "jitter_local_pct",
        "%",
        "Mean absolute difference between consecutive glottal periods, divided by the "
        "mean period (Praat's jitter (local)).",
        _PRAAT_MANUAL,
    ),
    Measure(
        "jitter_rap_pct",
        "%",
        "Relative average perturbation: mean absolute difference between a period and "
        "the average of it and its two neighbours, divided by the mean period.",
        _PRAAT_MANUAL,
    ),
    Measure(
        "jitter_ppq5_pct",
        "%",
        "Five-point period perturbation quotient: mean absolute difference between a "
        "period and the average of it and its four closest neighbours, divided by the "
        "mean period.",
        _PRAAT_MANUAL,
    ),
    Measure(
        "shimmer_local_pct",
        "%",
        "Mean absolute difference between the amplitudes of consecutive periods, divided "
        "by the mean amplitude (Praat's shimmer (local)).",
        _PRAAT_MANUAL,
    ),
    Measure(
        "shimmer_local_db",
        "dB",
        "Mean absolute base-10 logarithm of the ratio of the amplitudes of consecutive "
        "periods, times 20 (Praat's shimmer (local, dB)).",
        _PRAAT_MANUAL,
    ),
    Measure(
        "shimmer_apq3_pct",
        "%",
        "Three-point amplitude perturbation quotient: mean absolute difference between "
        "the amplitude of a period and the average of it and its two neighbours, divided "
        "by the mean amplitude.",
        _PRAAT_MANUAL,
    ),
    Measure(
        "shimmer_apq5_pct",
        "%",
        "Five-point amplitude perturbation quotient: as APQ3 with the four closest neighbours.",
        _PRAAT_MANUAL,
    ),
    Measure(
        "hnr_db",
        "dB",
        "Mean harmonics-to-noise ratio of the voiced frames of the segment, from Praat's "
        "cross-correlation Harmonicity (frames at -200 dB, unvoiced, left out).",
        _HNR_REFERENCE,
    ),
    Measure(
        "hnr_report_db",
        "dB",
        "Mean harmonics-to-noise ratio of the voiced frames of the pitch analysis that "
        "places the pulses, 10 log10(r / (1 - r)) of each frame's autocorrelation r, "
        "averaged over the segment with linear interpolation between frames: the figure "
        "Praat's Voice report prints as 'Mean harmonics-to-noise ratio'.",
        'Praat manual "Voice"; sources VoiceAnalysis.cpp (Pitch_getMeanStrength) and '
        "Sampled.cpp (Sampled_getMean, interpolated); " + _HNR_REFERENCE,
    ),
    Measure(
        "n_periods",
        "count",
        "Number of glottal periods in the segment that Praat counts as periods (within "
        "the period range and not too different from both neighbours): the denominator "
        "of the mean period.",
        'Praat manual "PointProcess: Get mean period..."',
    ),
)

# Cap on the (pulses x samples) matrix of the amplitude windows, per block.
_BLOCK_ELEMENTS = 2**20


def _range_sums(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of ``values[lo:hi]`` for each pair of bounds (0 where ``hi <= lo``).

    ``values``: shape (m,), float; ``lo``, ``hi``: shape (n,), int, any values
    (clipped to ``[0, m]``). Returns shape (n,), float64.
    """
    c = np.concatenate(([0.0], np.cumsum(values, dtype=np.float64)))
    m = values.size
    lo_c = np.clip(lo, 0, m)
    hi_c = np.clip(hi, 0, m)
    return np.where(hi_c > lo_c, c[hi_c] - c[np.minimum(lo_c, hi_c)], 0.0)


def _runs_ok(ok: np.ndarray, width: int) -> np.ndarray:
    """``out[k] = ok[k] & ok[k+1] & ... & ok[k+width-1]``; shape ``(max(m - width + 1, 0),)``."""
    m = ok.size - width + 1
    if m <= 0:
        return np.zeros(0, dtype=bool)
    out = ok[:m].copy()
    for j in range(1, width):  # width <= 5: a loop over offsets, not over data
        out &= ok[j : j + m]
    return out


def _ratio_ok(a: np.ndarray, factor: float) -> np.ndarray:
    """Neighbour ratio test ``max(a_k, a_k+1) / min(...) <= factor``; shape (m - 1,)."""
    a1, a2 = a[:-1], a[1:]
    hi, lo = np.maximum(a1, a2), np.minimum(a1, a2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (lo > 0) & (hi / np.where(lo > 0, lo, 1.0) <= factor)


def _perturbation(
    x: np.ndarray, elem_ok: np.ndarray, step_ok: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Perturbation terms of every run of ``width`` consecutive values of ``x``.

    For run ``k`` (``x[k:k+width]``) the term is ``|x[k+1] - x[k]|`` for
    ``width == 2`` and ``|x[k + width // 2] - mean(run)|`` otherwise; the run
    counts when every element passes ``elem_ok`` and every consecutive step
    passes ``step_ok`` (shape ``(m - 1,)``). Returns (terms, counts), shape
    ``(max(m - width + 1, 0),)``.
    """
    m = x.size - width + 1
    if m <= 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    ok = _runs_ok(elem_ok, width) & _runs_ok(step_ok, width - 1)
    if width == 2:
        term = np.abs(x[1:] - x[:-1])
    else:
        run_mean = sum(x[j : j + m] for j in range(width)) / width
        term = np.abs(x[width // 2 : width // 2 + m] - run_mean)
    return np.where(ok, term, 0.0), ok


def _hann_rms(
    x: np.ndarray, x1: float, dx: float, tmid: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """RMS of ``x`` under an asymmetric Hann window around each time (Praat's amplitude).

    The window spans ``[tmid - left, tmid + right]`` (s) with the half-widths
    ``left`` before and ``right`` after ``tmid``; sample ``i`` lies at
    ``x1 + i dx``. ``sqrt(sum (w x)^2 / sum w^2)`` over the samples in the span;
    NaN when fewer than 3 samples fall in it. All arrays shape (m,); returns (m,).
    """
    out = np.full(tmid.size, np.nan)
    if tmid.size == 0:
        return out
    # Praat's Sampled_getWindowSamples: ceil / floor of the span ends on the sample grid.
    i0 = np.maximum(np.ceil((tmid - left - x1) / dx), 0).astype(np.int64)
    i1 = np.minimum(np.floor((tmid + right - x1) / dx), x.size - 1).astype(np.int64)
    n = i1 - i0 + 1
    width = int(max(n.max(), 1))
    block = max(1, _BLOCK_ELEMENTS // width)
    offsets = np.arange(width)
    for b in range(0, tmid.size, block):  # blocks of pulses, not pulses
        sl = slice(b, b + block)
        idx = i0[sl, None] + offsets
        inside = offsets < n[sl, None]
        t = x1 + np.minimum(idx, x.size - 1) * dx
        tm = tmid[sl, None]
        half = np.where(t < tm, left[sl, None], right[sl, None])
        w = np.where(inside, 0.5 + 0.5 * np.cos(np.pi * (t - tm) / half), 0.0)
        v = w * x[np.minimum(idx, x.size - 1)]
        with np.errstate(divide="ignore", invalid="ignore"):
            rms = np.sqrt(np.sum(v * v, axis=1) / np.sum(w * w, axis=1))
        out[sl] = np.where(n[sl] >= 3, rms, np.nan)
    return out


def voice_quality(
    y: np.ndarray,
    sr: float,
    segments: np.ndarray,
    *,
    pitch_floor_hz: float = 75.0,
    pitch_ceiling_hz: float = 600.0,
    period_floor_s: float = 0.0001,
    period_ceiling_s: float = 0.02,
    max_period_factor: float = 1.3,
    max_amplitude_factor: float = 1.6,
    hnr_time_step_s: float = 0.01,
    hnr_silence_threshold: float = 0.1,
    hnr_periods_per_window: float = 1.0,
    hnr_method: str = "numpy",
    engine: str = "vectorised",
) -> dict[str, np.ndarray]:
    """Jitter, shimmer and HNR of each segment, as Praat's voice report computes them.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal, measured as it is (no DC removal or filtering, as in Praat).
    sr : float
        Sample rate (Hz).
    segments : np.ndarray, shape (n, 2)
        Start and end (s) of each segment; ``end >= start``. Segments may overlap
        and may extend beyond the signal.
    pitch_floor_hz, pitch_ceiling_hz : float
        Pitch range (Hz) of the pulse detection ("To PointProcess (periodic, cc)");
        the floor is also the minimum pitch of the Harmonicity analysis.
    period_floor_s, period_ceiling_s : float
        Shortest and longest interval (s) counted as a period (Praat's defaults:
        0.0001 and 0.02).
    max_period_factor : float
        Largest ratio (>= 1) of consecutive periods counted (Praat: 1.3).
    max_amplitude_factor : float
        Largest ratio (>= 1) of consecutive amplitudes counted (Praat: 1.6).
    hnr_time_step_s, hnr_silence_threshold, hnr_periods_per_window : float
        Arguments of "To Harmonicity (cc)" (Praat's defaults: 0.01, 0.1, 1.0).
    hnr_method : {"numpy", "praat"}
        ``"numpy"`` (default): :func:`features.harmonicity.harmonicity_cc`, Praat's
        analysis with the correlations of all frames from one batched FFT (3-20x
        faster; frame HNRs within a few hundredths of a dB of Praat's, see its tests);
        ``"praat"``: Praat's own "To Harmonicity (cc)" through Parselmouth.
    engine : {"vectorised", "praat"}
        Who computes the pitch analysis that places the pulses and gives the
        report's HNR, and places the pulses: :func:`features.pitch.pitch_ac` and
        :func:`features.pulses.glottal_pulses` (default: no Praat call unless
        ``hnr_method="praat"``), or Praat's "To Pitch" and "Sound & Pitch: To
        PointProcess (cc)".

    Returns
    -------
    dict of str to np.ndarray, each shape (n,)
        ``jitter_local_pct``, ``jitter_rap_pct``, ``jitter_ppq5_pct``,
        ``shimmer_local_pct``, ``shimmer_apq3_pct``, ``shimmer_apq5_pct`` (%),
        ``shimmer_local_db`` and ``hnr_db`` (dB), float64, NaN where Praat's value
        is undefined (too few periods, unvoiced, outside the signal, ``end ==
        start``); ``n_periods`` (int64), the number of intervals counted as
        periods. Keys in :data:`MEASURES` order. A recording too short for Praat
        (three periods of ``pitch_floor_hz``, or ``hnr_periods_per_window + 1``) or
        digitally silent gives NaN and 0 throughout.

    Raises
    ------
    ValueError
        For an invalid signal, segment array or parameter (the value is quoted).

    Notes
    -----
    Praat returns jitter and shimmer as fractions; here they are percentages
    (x 100), as in its voice report. Jitter and shimmer agree with
    ``parselmouth.praat.call`` on the same stretches to floating-point precision, HNR
    too with ``hnr_method="praat"``; the default HNR agrees to about 0.1 dB (see
    the tests).

    References
    ----------
    Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual pages
    "PointProcess: Get jitter (local)...", "... (rap)...", "... (ppq5)...",
    "Sound & PointProcess: Get shimmer (local)...", "... (local_dB)...",
    "... (apq3)...", "... (apq5)...", "Harmonicity: Get mean...".
    Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency
    and the harmonics-to-noise ratio of a sampled sound. Proceedings of the
    Institute of Phonetic Sciences 17, 97-110.
    Farrús, M., Hernando, J. & Ejarque, P. (2007). Jitter and shimmer
    measurements for speaker recognition. Interspeech 2007, 778-781.
    """
    x = as_mono(y, sr)
    seg = check_spans(segments, name="segments")
    _check_settings(
        (pitch_floor_hz, pitch_ceiling_hz),
        (period_floor_s, period_ceiling_s),
        {"max_period_factor": max_period_factor, "max_amplitude_factor": max_amplitude_factor},
        {"hnr_time_step_s": hnr_time_step_s, "hnr_periods_per_window": hnr_periods_per_window},
        engine,
        hnr_method,
    )
    n_seg = seg.shape[0]
    out: dict[str, np.ndarray] = {m.name: np.full(n_seg, np.nan) for m in MEASURES}
    out["n_periods"] = np.zeros(n_seg, dtype=np.int64)
    # Praat refuses a sound shorter than 3 periods of the pitch floor (pulses) or than
    # periods_per_window + 1 periods (Harmonicity).
    min_s = max(3.0, hnr_periods_per_window + 1.0) / pitch_floor_hz + 1.0 / sr
    if n_seg == 0 or x.size / sr < min_s or not np.any(x):
        return out

    # Praat's "To PointProcess (periodic, cc)" is "To Pitch" (autocorrelation, default
    # settings) then "Sound & Pitch: To PointProcess (cc)": done in two steps here, the
    # pulses are the same and the pitch's strengths give the voice report's HNR.
    sound = (
        parselmouth.Sound(x, sampling_frequency=float(sr))
        if engine == "praat" or hnr_method == "praat"
        else None
    )
    report = _report_pitch(sound, x, sr, float(pitch_floor_hz), float(pitch_ceiling_hz), engine)
    if report.pitch is not None:
        pulses = call([sound, report.pitch], "To PointProcess (cc)")
        n_points = int(call(pulses, "Get number of points"))
        t = call(pulses, "To Matrix").values[0] if n_points else np.zeros(0)
    else:
        t = glottal_pulses(
            x, sr, report.frequency, x1=report.x1, dx=report.dx, pitch_ceiling_hz=report.ceiling
        )
    hnr_args = (
        float(hnr_time_step_s),
        float(pitch_floor_hz),
        float(hnr_silence_threshold),
        float(hnr_periods_per_window),
    )
    if hnr_method == "praat":
        harmonicity = call(sound, "To Harmonicity (cc)", *hnr_args)
        hnr = harmonicity.values[0]
        hnr_x1, hnr_dx = float(harmonicity.x1), float(harmonicity.dx)
    else:
        times, hnr = harmonicity_cc(
            x,
            sr,
            time_step_s=hnr_args[0],
            pitch_floor_hz=hnr_args[1],
            silence_threshold=hnr_args[2],
            periods_per_window=hnr_args[3],
        )
        hnr_x1, hnr_dx = (float(times[0]) if times.size else 0.0), hnr_args[0]

    start, end = seg[:, 0], seg[:, 1]
    proper = end > start
    out["hnr_db"] = _hnr_means(hnr, hnr_x1, hnr_dx, start, end, proper)
    out["hnr_report_db"] = _report_hnr_means(report, float(pitch_ceiling_hz), start, end, proper)
    # Pulses in [start, end] (Praat's getWindowPoints): indices imin..imax inclusive.
    imin = np.searchsorted(t, start, side="left")
    imax = np.where(proper, np.searchsorted(t, end, side="right") - 1, imin - 1)
    periods = (float(period_floor_s), float(period_ceiling_s))
    out.update(_jitter(t, imin, imax, periods, float(max_period_factor)))
    out.update(
        _shimmer(x, float(sr), t, imin, imax, periods, float(max_period_factor),
                 float(max_amplitude_factor))
    )  # fmt: skip
    return out


def _check_settings(
    pitch_range: tuple[float, float],
    period_range: tuple[float, float],
    factors: dict[str, float],
    positives: dict[str, float],
    engine: str,
    hnr_method: str,
) -> None:
    """Raise ValueError, quoting the value, for an invalid :func:`voice_quality` setting."""
    if not 0 < pitch_range[0] < pitch_range[1]:
        raise ValueError(
            f"need 0 < pitch_floor_hz < pitch_ceiling_hz, got {pitch_range[0]!r}, "
            f"{pitch_range[1]!r}"
        )
    if not 0 < period_range[0] < period_range[1]:
        raise ValueError(
            "need 0 < period_floor_s < period_ceiling_s, "
            f"got {period_range[0]!r}, {period_range[1]!r}"
        )
    for name, value in positives.items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if hnr_method not in ("numpy", "praat"):
        raise ValueError(f"hnr_method must be 'numpy' or 'praat', got {hnr_method!r}")
    for name, value in factors.items():
        if not (np.isfinite(value) and value >= 1.0):
            raise ValueError(f"{name} must be a finite ratio >= 1, got {value!r}")


def _jitter(
    t: np.ndarray,
    imin: np.ndarray,
    imax: np.ndarray,
    periods: tuple[float, float],
    max_period_factor: float,
) -> dict[str, np.ndarray]:
    """Jitter measures and period counts of segments holding pulses ``t[imin..imax]``.

    ``t``: pulse times (s), shape (m,), increasing; ``imin``, ``imax``: shape (n,),
    inclusive pulse index ranges (``imax < imin`` when a segment holds none).
    Returns the three ``jitter_*_pct`` arrays (float64, NaN where undefined) and
    ``n_periods`` (int64), each shape (n,).
    """
    f = max_period_factor
    n_per = imax - imin  # intervals between the segment's pulses (<= 0: none)
    p = np.diff(t)  # p[j] = t[j+1] - t[j]: interval j joins pulses j and j+1
    in_range = (p >= periods[0]) & (p <= periods[1])
    ratio_ok = _ratio_ok(p, f)  # ratio_ok[j]: intervals j and j+1 within the factor

    # PointProcess_isPeriod: in range, and not too different from *both* neighbours
    # (neighbours outside the segment count).
    too_diff = (p[1:] > p[:-1] * f) | (p[1:] < p[:-1] / f)  # interval j vs j+1
    prev_bad = np.concatenate(([False], too_diff))
    next_bad = np.concatenate((too_diff, [False]))
    is_period = in_range & ~(prev_bad & next_bad)
    n_counted = _range_sums(is_period.astype(np.float64), imin, imax)
    total = _range_sums(np.where(is_period, p, 0.0), imin, imax)
    mean_period = np.divide(total, n_counted, out=np.full(total.shape, np.nan), where=n_counted > 0)
    out = {"n_periods": np.where(n_per > 0, n_counted, 0).astype(np.int64)}

    # Runs of 2, 3, 5 periods starting at interval k, imin <= k <= imax - width.
    for name, width in (("jitter_local_pct", 2), ("jitter_rap_pct", 3), ("jitter_ppq5_pct", 5)):
        term, ok = _perturbation(p, in_range, ratio_ok, width)
        num = _range_sums(term, imin, imax - width + 1)
        cnt = _range_sums(ok.astype(np.float64), imin, imax - width + 1)
        valid = (n_per >= width) & (cnt > 0) & (mean_period > 0)
        ratio = np.divide(num, cnt * mean_period, out=np.full(num.shape, np.nan), where=valid)
        out[name] = 100.0 * ratio
    return out


def _shimmer(
    x: np.ndarray,
    sr: float,
    t: np.ndarray,
    imin: np.ndarray,
    imax: np.ndarray,
    periods: tuple[float, float],
    max_period_factor: float,
    max_amplitude_factor: float,
) -> dict[str, np.ndarray]:
    """Shimmer measures of segments holding pulses ``t[imin..imax]`` (see :func:`_jitter`).

    ``x``: the signal, shape (n_samples,), sample ``i`` at ``(i + 0.5) / sr`` s (as
    Praat's Sound). Returns the
    ``shimmer_*`` arrays, float64, shape (n,), NaN where undefined.
    """
    p = np.diff(t)
    in_range = (p >= periods[0]) & (p <= periods[1])
    # Pulse k + 1 gets an amplitude when intervals k and k + 1 form a counted pair.
    pair_ok = _runs_ok(in_range, 2) & _ratio_ok(p, max_period_factor)
    has_amp = np.flatnonzero(pair_ok) + 1
    amp = _hann_rms(x, 0.5 / sr, 1.0 / sr, t[has_amp], 0.2 * p[has_amp - 1], 0.2 * p[has_amp])
    keep = np.isfinite(amp) & (amp > 0)
    q, a = has_amp[keep], amp[keep]  # the amplitude sequence, the same for every segment
    # A segment's amplitudes: pulses strictly inside it, a[qa:qb].
    qa = np.searchsorted(q, imin + 1, side="left")
    qb = np.maximum(np.searchsorted(q, imax - 1, side="right"), qa)
    dt = np.diff(t[q])
    step_ok = (dt >= periods[0]) & (dt <= periods[1]) & _ratio_ok(a, max_amplitude_factor)
    # Praat's mean amplitude leaves out the segment's last amplitude.
    n_amp = np.maximum(qb - 1 - qa, 0).astype(np.float64)
    amp_sum = _range_sums(a, qa, qb - 1)
    mean_amp = np.divide(amp_sum, n_amp, out=np.full(amp_sum.shape, np.nan), where=n_amp > 0)
    db = 20.0 * np.log10(a)  # a > 0
    n_per = imax - imin
    out = {}
    all_ok = np.ones(a.size, dtype=bool)
    for name, width, values, relative in (
        ("shimmer_local_pct", 2, a, True),
        ("shimmer_local_db", 2, db, False),
        ("shimmer_apq3_pct", 3, a, True),
        ("shimmer_apq5_pct", 5, a, True),
    ):
        term, ok = _perturbation(values, all_ok, step_ok, width)
        num = _range_sums(term, qa, qb - width + 1)
        cnt = _range_sums(ok.astype(np.float64), qa, qb - width + 1)
        valid = (n_per >= 2) & (cnt > 0) & (mean_amp > 0)
        den = cnt * mean_amp if relative else cnt
        ratio = np.divide(num, den, out=np.full(num.shape, np.nan), where=valid)
        out[name] = 100.0 * ratio if relative else ratio
    return out


def _hnr_means(
    h: np.ndarray, x1: float, dx: float, start: np.ndarray, end: np.ndarray, proper: np.ndarray
) -> np.ndarray:
    """Praat's "Harmonicity: Get mean" over each ``[start, end]`` of the frame values ``h``
    (centres ``x1 + i dx``, s); shape (n,), NaN if unvoiced."""
    # Sampled_getWindowSamples: frames whose centre x1 + i dx lies in [start, end].
    lo = np.ceil((start - x1) / dx)
    hi = np.floor((end - x1) / dx) + 1
    lo = np.clip(lo, 0, h.size).astype(np.int64)
    hi = np.clip(hi, 0, h.size).astype(np.int64)
    voiced = h != UNVOICED_HNR_DB
    total = _range_sums(np.where(voiced, h, 0.0), lo, hi)
    count = _range_sums(voiced.astype(np.float64), lo, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(proper & (count > 0), total / count, np.nan)
