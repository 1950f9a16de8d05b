"""Frame tracks on the common grid: intensity and pitch.

Every function takes a mono signal ``y`` (shape ``(n_samples,)``) and its sample
rate ``sr`` and returns one value per frame of :mod:`features.frames`' grid
(frame ``k`` centred at ``k * hop_s``), so the tracks can be combined element
by element. Each recording costs one vectorised pass per track: an FFT
convolution for intensity, one pitch analysis (:mod:`features.pitch`, or one
Parselmouth call with ``engine="praat"``).

DC offset: both tracks start from :func:`remove_dc` (global mean removed; an
optional zero-phase Butterworth high-pass for rumble), and each analysis window
then subtracts its own weighted mean (Praat's "subtract mean"), so a constant
or slowly drifting offset changes neither intensity nor pitch.
"""

from __future__ import annotations

import numpy as np
import parselmouth
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, sosfiltfilt
from scipy.signal.windows import kaiser

from features.frames import HOP_S, expand_ranges, frame_times, n_frames
from features.pitch import pitch_ac
from features.validation import check_signal, check_spans

__all__ = [
    "ENGINES",
    "INTENSITY_FLOOR_DB",
    "VOWEL_BAND_HZ",
    "adapted_pitch_range",
    "as_mono",
    "intensity_db",
    "pitch_on_spans",
    "pitch_track",
    "remove_dc",
]

#: Intensity reported for digital silence (dB re full scale): the 1e-10 power floor
#: (librosa's ``power_to_db`` ``amin``).
INTENSITY_FLOOR_DB = -100.0

#: Band (Hz) of the vowel-band intensity used for syllable nuclei: F1-F2 region.
VOWEL_BAND_HZ = (300.0, 2500.0)

#: Measurement engines: "vectorised" (:mod:`features.pitch`, Praat's algorithms on all
#: frames at once; the default) and "praat" (Praat itself, through Parselmouth).
ENGINES = ("vectorised", "praat")

# Praat's intensity window: Kaiser with beta = 2 pi^2 + 0.5 ("Kaiser-20").
_PRAAT_KAISER_BETA = 2 * np.pi**2 + 0.5


def as_mono(y: np.ndarray, sr: float) -> np.ndarray:
    """Validate a mono signal and return it as a contiguous float64 array: the same
    as :func:`features.validation.check_signal` (kept for its callers)."""
    return check_signal(y, sr)


def remove_dc(y: np.ndarray, sr: float, *, highpass_hz: float | None = None) -> np.ndarray:
    """Remove a DC offset and sub-sonic energy.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr : float
        Sample rate (Hz).
    highpass_hz : float or None
        Cut-off (Hz) of a zero-phase (``sosfiltfilt``) 2nd-order Butterworth
        high-pass applied after subtracting the mean; None subtracts the mean
        only. 40 Hz suits speech (below any voice F0; the default pitch floor
        is 60 Hz).

    Returns
    -------
    np.ndarray, shape (n_samples,), float64
    """
    x = as_mono(y, sr)
    if x.size == 0:
        return x
    x = x - x.mean()
    if highpass_hz is None or not 0 < highpass_hz < sr / 2:
        return x
    sos = butter(2, highpass_hz, btype="highpass", fs=sr, output="sos")
    # sosfiltfilt needs a signal longer than its padding (3 * (2 * n_sections + 1)).
    pad = min(x.size - 1, 3 * (2 * sos.shape[0] + 1))
    if pad < 1:
        return x
    return sosfiltfilt(sos, x, padlen=pad)


def _band_pass(x: np.ndarray, sr: float, band_hz: tuple[float, float]) -> np.ndarray:
    lo, hi = (float(f) for f in band_hz)
    if not 0 < lo < hi:
        raise ValueError(f"band_hz must be (low, high) with 0 < low < high, got {band_hz!r}")
    hi = min(hi, 0.45 * sr)
    if lo >= hi:
        raise ValueError(f"band_hz {band_hz!r} lies above the Nyquist frequency of sr={sr!r}")
    sos = butter(4, [lo, hi], btype="bandpass", fs=sr, output="sos")
    pad = min(x.size - 1, 3 * (2 * sos.shape[0] + 1))
    return sosfiltfilt(sos, x, padlen=pad) if pad >= 1 else x


def _window_sums(x: np.ndarray, w: np.ndarray, centres: np.ndarray, step: int | None):
    """Window-weighted sums of ``x`` and ``x**2`` around each centre (zero outside x).

    ``w`` has odd length ``2 * half + 1``; ``centres`` are sample indices in
    ``[0, x.size]``. With a whole-sample hop ``step`` the frames are a strided
    view (one matrix-vector product); otherwise they are gathered in blocks.
    """
    half = w.size // 2
    xp = np.pad(x, (half, half + 2))
    out = np.empty((2, centres.size))
    if step is not None:
        frames = sliding_window_view(xp, w.size)[::step][: centres.size]
        out[0] = frames @ w
        frames = sliding_window_view(xp * xp, w.size)[::step][: centres.size]
        out[1] = frames @ w
        return out
    view = sliding_window_view(xp, w.size)
    block = max(1, 2**22 // w.size)
    for i in range(0, centres.size, block):  # blocks of frames, not frames
        frames = view[centres[i : i + block]]
        out[0, i : i + block] = frames @ w
        out[1, i : i + block] = (frames * frames) @ w
    return out


def intensity_db(
    y: np.ndarray,
    sr: float,
    *,
    hop_s: float = HOP_S,
    window_s: float = 0.064,
    band_hz: tuple[float, float] | None = None,
    highpass_hz: float | None = None,
) -> np.ndarray:
    """Praat-style intensity contour in dB re full scale, optionally in one band.

    The variance of the signal weighted by a Kaiser window (beta = 2 pi^2 + 0.5,
    Praat's "Kaiser-20"; effective duration about ``window_s / 2``) centred on
    each frame: ``10 log10(sum w x^2 / sum w - (sum w x / sum w)^2)``. Subtracting
    the window's own weighted mean (Praat's "subtract mean") makes the contour
    immune to a DC offset. Near the signal edges the sums run over the samples
    that exist (the weights are renormalised), so a short signal is not biased
    down. A full-scale sine reads -3 dB.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal.
    sr : float
        Sample rate (Hz).
    hop_s : float
        Frame hop (s); the grid of :mod:`features.frames`.
    window_s : float
        Physical window length (s). 0.064 s is Praat's window for its default
        minimum pitch of 100 Hz (``6.4 / minimum_pitch``): long enough to flatten
        the pitch-period ripple of voices above ~100 Hz, short enough (about
        32 ms effective) to place a speech onset within ~20 ms.
    band_hz : (float, float) or None
        If given, the signal is first band-passed (zero-phase 4th-order
        Butterworth, ``sosfiltfilt``) to ``(low, high)`` Hz; the upper edge is
        capped below the Nyquist frequency. :data:`VOWEL_BAND_HZ` (300-2500 Hz,
        the F1/F2 region) gives the contour for :func:`features.nuclei.syllable_nuclei`:
        vowels stand out and sonorant consonants dip (Mermelstein 1975).
    highpass_hz : float or None
        Optional high-pass before measuring (see :func:`remove_dc`), for rumble;
        None (default) relies on the per-window mean subtraction.

    Returns
    -------
    np.ndarray, shape (n_frames,), float64
        Intensity (dB re a full-scale square wave), floored at
        :data:`INTENSITY_FLOOR_DB` (digital silence).

    References
    ----------
    Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual page
    "Sound: To Intensity..." (window, weighting, mean subtraction, Kaiser-20).
    Mermelstein, P. (1975). Automatic segmentation of speech into syllabic
    units. Journal of the Acoustical Society of America 58(4), 880-883 (band
    energy for syllable nuclei).
    """
    x = remove_dc(y, sr, highpass_hz=highpass_hz)
    n = n_frames(x.size, sr, hop_s)
    if n == 0:
        return np.empty(0, dtype=np.float64)
    if band_hz is not None:
        x = _band_pass(x, sr, band_hz)
    half = max(1, round(float(window_s) * float(sr) / 2))
    w = kaiser(2 * half + 1, _PRAAT_KAISER_BETA)
    hop_n = float(hop_s) * float(sr)
    step = round(hop_n) if abs(hop_n - round(hop_n)) < 1e-6 else None
    centres = np.rint(frame_times(n, hop_s) * sr).astype(np.int64)
    sx, sxx = _window_sums(x, w, centres, step)
    # Weight of the window that falls inside the signal at each centre.
    cw = np.concatenate([[0.0], np.cumsum(w)])
    lo = np.clip(half - centres, 0, w.size)
    hi = np.clip(half + x.size - centres, 0, w.size)
    mass = np.maximum(cw[hi] - cw[lo], 1e-12)
    mean = sx / mass
    power = np.maximum(sxx / mass - mean * mean, 0.0)
    return 10.0 * np.log10(np.maximum(power, 10 ** (INTENSITY_FLOOR_DB / 10)))


def pitch_track(
    y: np.ndarray,
    sr: float,
    *,
    hop_s: float = HOP_S,
    pitch_floor_hz: float = 60.0,
    pitch_ceiling_hz: float = 500.0,
    method: str = "ac",
    voicing_threshold: float = 0.45,
    silence_threshold: float = 0.03,
    highpass_hz: float | None = None,
    engine: str = "vectorised",
) -> tuple[np.ndarray, np.ndarray]:
    """F0 contour and voicing strength by Praat's autocorrelation method.

    One analysis over the whole recording (time step ``hop_s``): Praat's "To
    Pitch (ac)" computed by :func:`features.pitch.pitch_ac` on all frames at once
    (``engine="vectorised"``) or by Praat itself through Parselmouth
    (``engine="praat"``: ``Sound.to_pitch_ac`` or ``to_pitch_cc``). The analysis
    frames (first at ``x1``) are mapped onto the common grid by nearest frame.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal.
    sr : float
        Sample rate (Hz).
    hop_s : float
        Frame hop (s).
    pitch_floor_hz, pitch_ceiling_hz : float
        Pitch range (Hz). The analysis window is ``3 / pitch_floor_hz`` (50 ms at 60 Hz).
    method : {"ac", "cc"}
        Praat's autocorrelation (recommended for intonation) or cross-correlation.
    voicing_threshold, silence_threshold : float
        Praat's voicing and silence thresholds (its defaults).
    highpass_hz : float or None
        Optional high-pass before measuring (see :func:`remove_dc`); the global
        mean is always removed and Praat subtracts each window's local mean.
    engine : {"vectorised", "praat"}
        Who computes Praat's analysis (see :data:`ENGINES`); the two agree on
        the voicing of every frame of the test recordings and on F0 within 0.05%
        (tests/features/test_pitch.py). ``method="cc"`` needs ``"praat"``.

    Returns
    -------
    f0_hz : np.ndarray, shape (n_frames,), float64
        F0 (Hz) of the path Praat selects; NaN where unvoiced, outside Praat's
        frames, or for a signal shorter than one analysis window.
    strength : np.ndarray, shape (n_frames,), float64
        Voicing strength in [0, 1]: the highest normalised autocorrelation among
        the frame's voiced candidates (0 where there is none), whether or not
        the frame ends up voiced. The vectorised engine leaves out the candidates
        of frames too quiet to be voiced on any path (strength 0 there).

    References
    ----------
    Boersma, P. (1993). Accurate short-term analysis of the fundamental
    frequency and the harmonics-to-noise ratio of a sampled sound. Proceedings
    of the Institute of Phonetic Sciences 17, 97-110.
    """
    if method not in ("ac", "cc"):
        raise ValueError(f"method must be 'ac' or 'cc', got {method!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if method == "cc" and engine != "praat":
        raise ValueError("method='cc' is computed by Praat only: pass engine='praat'")
    if not 0 < pitch_floor_hz < pitch_ceiling_hz:
        raise ValueError(
            f"need 0 < pitch_floor_hz < pitch_ceiling_hz, got pitch_floor_hz={pitch_floor_hz!r}, "
            f"pitch_ceiling_hz={pitch_ceiling_hz!r}"
        )
    x = remove_dc(y, sr, highpass_hz=highpass_hz)
    n = n_frames(x.size, sr, hop_s)
    f0 = np.full(n, np.nan)
    strength = np.zeros(n)
    # Praat refuses a sound shorter than 3 periods of the floor; digital silence has no pitch.
    if n == 0 or x.size / sr < 3.0 / pitch_floor_hz + 1.0 / sr or not np.any(x):
        return f0, strength
    if engine == "vectorised":
        # Single precision for the FFT stage: F0 to 6e-7 of double's, some 1.2x faster.
        track = pitch_ac(x, float(sr), time_step_s=hop_s, pitch_floor_hz=pitch_floor_hz,
                         pitch_ceiling_hz=pitch_ceiling_hz, voicing_threshold=voicing_threshold,
                         silence_threshold=silence_threshold, dtype=np.float32)
        selected, x1, dx, nx = track.selected_frequency, track.x1, track.dx, track.n_frames
        cand_strength = np.where(track.frequency > 0, track.strength, 0.0).max(axis=0)
    else:
        sound = parselmouth.Sound(x, sampling_frequency=float(sr))
        to_pitch = sound.to_pitch_ac if method == "ac" else sound.to_pitch_cc
        pitch = to_pitch(
            time_step=hop_s,
            pitch_floor=pitch_floor_hz,
            pitch_ceiling=pitch_ceiling_hz,
            voicing_threshold=voicing_threshold,
            silence_threshold=silence_threshold,
        )
        selected, x1, dx, nx = (pitch.selected_array["frequency"], pitch.x1, pitch.dx,
                                pitch.nx)
        cand = pitch.to_array()  # (max_n_candidates, nx) of (frequency, strength)
        cand_strength = np.where(cand["frequency"] > 0, cand["strength"], 0.0).max(axis=0)
    idx = np.rint((frame_times(n, hop_s) - x1) / dx).astype(np.int64)
    inside = (idx >= 0) & (idx < nx)
    src = idx[inside]
    f0[inside] = np.where(selected[src] > 0, selected[src], np.nan)
    strength[inside] = np.clip(cand_strength[src], 0.0, 1.0)
    return f0, strength


def adapted_pitch_range(
    f0_hz: np.ndarray,
    *,
    floor_factor: float = 0.75,
    ceiling_factor: float = 1.5,
    min_frames: int = 50,
    limits_hz: tuple[float, float] = (50.0, 700.0),
) -> tuple[float, float] | None:
    """A speaker's pitch range from a first-pass F0 track: ``0.75 q1`` to ``1.5 q3``.

    Phoneticians set Praat's range per speaker by hand; this is the automatic
    version of De Looze & Hirst (2008): the first and third quartiles of a wide
    first pass, widened by ``floor_factor`` and ``ceiling_factor``. Octave errors
    of the first pass sit in the tails and barely move the quartiles.

    Parameters
    ----------
    f0_hz : np.ndarray
        First-pass F0 (Hz) of one speaker's frames; NaN where unvoiced.
    floor_factor, ceiling_factor : float
        Multipliers of the first and third quartiles.
    min_frames : int
        Fewer voiced frames than this give ``None`` (keep the first pass).
    limits_hz : tuple of float
        The range is clipped to these bounds (Hz).

    Returns
    -------
    (pitch_floor_hz, pitch_ceiling_hz) or None

    References
    ----------
    De Looze, C. & Hirst, D. (2008). Detecting changes in key and range for the
    automatic modelling and coding of intonation. Speech Prosody 2008, 135-138.
    Hirst, D. (2011). The analysis by synthesis of speech melody. Journal of
    Speech Sciences 1(1), 55-83.
    """
    voiced = np.asarray(f0_hz, dtype=np.float64)
    voiced = voiced[np.isfinite(voiced)]
    if voiced.size < min_frames:
        return None
    q1, q3 = np.percentile(voiced, [25, 75])
    floor = float(np.clip(floor_factor * q1, *limits_hz))
    ceiling = float(np.clip(ceiling_factor * q3, *limits_hz))
    return (floor, ceiling) if ceiling > floor * 1.5 else None


def pitch_on_spans(
    y: np.ndarray,
    sr: float,
    spans: np.ndarray,
    *,
    hop_s: float = HOP_S,
    pitch_floor_hz: float = 60.0,
    pitch_ceiling_hz: float = 500.0,
    pad_s: float = 0.1,
    **pitch_kwargs,
) -> np.ndarray:
    """F0 over some stretches of a recording only, in one pitch analysis.

    The stretches (padded by ``pad_s``, merged where they touch) are cut on frame
    boundaries and concatenated, so that the concatenated signal's frame grid
    maps one to one onto the recording's; one :func:`pitch_track` runs over
    them. Joins fall in the padding (pauses), so the analysis windows near a
    join see silence, as they would in the recording. This is how a second,
    speaker-adapted pass costs one pass over that speaker's speech, not one
    over the whole recording per speaker.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr : float
    spans : np.ndarray, shape (n, 2)
        Start and end (s) of the stretches.
    hop_s, pitch_floor_hz, pitch_ceiling_hz, **pitch_kwargs
        As :func:`pitch_track`.
    pad_s : float
        Context added on each side of each stretch (s).

    Returns
    -------
    np.ndarray, shape (n_frames,)
        F0 (Hz) on the recording's grid; NaN outside the stretches and where
        unvoiced.
    """
    n = n_frames(len(y), sr, hop_s)
    f0 = np.full(n, np.nan)
    spans = check_spans(spans)
    hop_n = float(hop_s) * float(sr)
    if n == 0 or len(spans) == 0 or abs(hop_n - round(hop_n)) > 1e-6:
        if len(spans) and n:
            raise ValueError(f"pitch_on_spans needs a whole number of samples per hop, "
                             f"got {hop_n!r}")
        return f0
    hop_n = round(hop_n)
    # Frame k covers samples [k*hop - hop/2, k*hop + hop/2): cut on those edges.
    first = np.clip(np.floor((spans[:, 0] - pad_s) / hop_s + 0.5).astype(np.int64), 0, n)
    last = np.clip(np.ceil((spans[:, 1] + pad_s) / hop_s + 0.5).astype(np.int64), 0, n)
    order = np.argsort(first)
    first, last = first[order], last[order]
    # Merge overlapping or touching spans.
    reach = np.maximum.accumulate(last)
    new = np.r_[True, first[1:] > reach[:-1]]
    starts = first[new]
    ends = np.maximum.reduceat(last, np.flatnonzero(new))
    lengths = ends - starts
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if not len(starts):
        return f0
    frames, _ = expand_ranges(starts, starts + lengths)
    # Samples of frame k: k*hop - hop//2 ... ; frame 0 starts half a hop early (zero pad).
    x = np.concatenate([np.zeros(hop_n // 2, dtype=np.float64), np.asarray(y, np.float64),
                        np.zeros(hop_n, dtype=np.float64)])
    sample_starts = frames * hop_n  # in the padded signal, frame k starts at k*hop
    pieces = x[(sample_starts[:, None] + np.arange(hop_n)[None, :]).ravel()]
    # Drop the half hop in front again so frame 0 of ``pieces`` is centred at 0.
    joined_f0, _ = pitch_track(pieces[hop_n // 2 :], sr, hop_s=hop_s, pitch_floor_hz=pitch_floor_hz,
                               pitch_ceiling_hz=pitch_ceiling_hz, **pitch_kwargs)
    m = min(joined_f0.size, frames.size)
    f0[frames[:m]] = joined_f0[:m]
    return f0
