"""/s/ tokens: multitaper spectral moments, intensity, voicing and realisation.

Two plain functions over a recording's samples and an ``(n, 2)`` array of /s/
token spans (start/end, seconds):

* :func:`sibilant_measures` measures every token at once: the four spectral
  moments and the spectral peak of a multitaper spectrum of the token's middle
  portion, its duration, the fraction of its frames without periodicity, and its
  intensity relative to the neighbouring vowel and to the recording's noise floor;
* :func:`classify_realisation` turns those measures into a realisation label,
  ``"s"`` (sibilant), ``"h"`` (aspiration) or ``"0"`` (deleted), with a confidence,
  by a short, documented rule whose thresholds come from the acoustics of the
  three realisations, not from training data.

Vectorisation: the token windows are gathered into one 2-D array, high-passed
with one zero-phase filter call, multiplied by the DPSS tapers and transformed
with one batched real FFT per distinct window length (all tokens longer than
``window_s`` share one length; shorter tokens are grouped by their length rounded
down to 2 ms). Intensities are differences of one cumulative sum of the squared
signal; the optional periodicity analysis is one batched FFT of the frames that
fall inside tokens. There is no Python loop over tokens or frames.

References
----------
Forrest, K., Weismer, G., Milenkovic, P. & Dougall, R. N. (1988). Statistical
analysis of word-initial voiceless obstruents: preliminary data. Journal of the
Acoustical Society of America 84(1), 115-123.
Jongman, A., Wayland, R. & Wong, S. (2000). Acoustic characteristics of English
fricatives. Journal of the Acoustical Society of America 108(3), 1252-1263.
Thomson, D. J. (1982). Spectrum estimation and harmonic analysis. Proceedings of
the IEEE 70(9), 1055-1096.
Reidy, P. F. (2013). An introduction to random processes for the spectral analysis
of speech data. Ohio State University Working Papers in Linguistics 60, 67-116.
Reidy, P. F. (2015). A comparison of spectral estimation methods for the analysis of
sibilant fricatives. Journal of the Acoustical Society of America 137(4), EL248-EL254.
Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency and
the harmonics-to-noise ratio of a sampled sound. Proceedings of the Institute of
Phonetic Sciences (Amsterdam) 17, 97-110.
Stevens, K. N. (1998). Acoustic Phonetics. MIT Press (ch. 7-8: fricatives, aspiration).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy.signal import butter, sosfiltfilt
from scipy.signal.windows import dpss

from features.frames import HOP_S, expand_ranges, n_frames, span_frames
from features.validation import check_signal, check_spans

__all__ = ["MEASURES", "classify_realisation", "sibilant_measures"]

#: Keys of the dict returned by :func:`sibilant_measures`, in order.
MEASURES: tuple[str, ...] = (
    "cog_hz",
    "peak_hz",
    "sd_hz",
    "skewness",
    "kurtosis",
    "duration_s",
    "voiceless_ratio",
    "intensity_rel_db",
    "floor_rel_db",
)

# Power added before taking logarithms (re full scale 1.0): -120 dB, below any
# 16-bit noise floor, so digital silence gives finite levels and no warnings.
_POWER_EPS = 1e-12
# Short tokens are grouped by their window length rounded down to this (s).
_LENGTH_QUANTUM_S = 0.002
# Fewer samples than this in a window: no spectrum (NaN moments).
_MIN_WINDOW_SAMPLES = 32
# Periodicity analysis (Boersma 1993): window (s), F0 search range (Hz), threshold.
_VOICING_WINDOW_S = 0.05
_VOICING_F0_RANGE_HZ = (60.0, 500.0)
_VOICING_THRESHOLD = 0.45
# Percentile of 10 ms frame powers taken as the recording's noise floor.
_FLOOR_PERCENTILE = 5.0


def _db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.asarray(power, dtype=np.float64) + _POWER_EPS)


def _span_power(cs: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Mean power of ``y[s:e]`` from ``cs = r_[0, cumsum(y**2)]``; NaN for empty spans."""
    n = np.maximum(e - s, 0)
    p = np.full(s.shape, np.nan)
    ok = n > 0
    p[ok] = (cs[e[ok]] - cs[s[ok]]) / n[ok]
    return np.maximum(p, 0.0)


def _gather(y: np.ndarray, start: np.ndarray, length: int) -> np.ndarray:
    """Rows ``y[start_i : start_i + length]``, zero outside the signal; shape (n, length)."""
    idx = start[:, None] + np.arange(length)[None, :]
    inside = (idx >= 0) & (idx < y.size)
    return np.where(inside, y[np.clip(idx, 0, max(y.size - 1, 0))] if y.size else 0.0, 0.0)


def _moments(power: np.ndarray, freqs: np.ndarray) -> dict[str, np.ndarray]:
    """Spectral moments of rows of ``power`` (shape (n, n_bins)) over ``freqs`` (Hz)."""
    n = power.shape[0]
    out = {k: np.full(n, np.nan) for k in ("cog_hz", "peak_hz", "sd_hz", "skewness", "kurtosis")}
    total = power.sum(axis=1)
    ok = total > 0
    if not ok.any() or freqs.size == 0:
        return out
    p = power[ok] / total[ok, None]
    cog = p @ freqs
    dev = freqs[None, :] - cog[:, None]
    var = np.sum(p * dev**2, axis=1)
    sd = np.sqrt(var)
    good = sd > 0
    skew = np.full(cog.shape, np.nan)
    kurt = np.full(cog.shape, np.nan)
    skew[good] = np.sum(p[good] * dev[good] ** 3, axis=1) / sd[good] ** 3
    kurt[good] = np.sum(p[good] * dev[good] ** 4, axis=1) / var[good] ** 2 - 3.0
    out["cog_hz"][ok] = cog
    out["peak_hz"][ok] = freqs[np.argmax(p, axis=1)]
    out["sd_hz"][ok] = sd
    out["skewness"][ok] = skew
    out["kurtosis"][ok] = kurt
    return out


def _voiceless_from_signal(
    y: np.ndarray, sr: float, k0: np.ndarray, k1: np.ndarray, hop_s: float, floor_power: float
) -> np.ndarray:
    """Fraction of frames ``k0 <= k < k1`` of each token without periodicity.

    A frame is periodic when the peak of its normalised autocorrelation (the
    autocorrelation of the Hann-windowed frame divided by that of the window,
    Boersma 1993) in the lag range of ``_VOICING_F0_RANGE_HZ`` reaches
    ``_VOICING_THRESHOLD`` and the frame is at least 10 dB above the noise floor.
    """
    counts = k1 - k0
    total = int(counts.sum())
    if total == 0:
        return np.full(k0.shape, np.nan)
    frames, tok = expand_ranges(k0, k1)
    w = round(_VOICING_WINDOW_S * sr)
    centres = np.rint(frames * hop_s * sr).astype(np.int64)
    x = _gather(y, centres - w // 2, w)
    x = x - x.mean(axis=1, keepdims=True)
    win = np.hanning(w + 2)[1:-1]
    nfft = scipy.fft.next_fast_len(2 * w, real=True)
    r = scipy.fft.irfft(np.abs(scipy.fft.rfft(x * win, nfft, axis=1)) ** 2, nfft, axis=1)
    rw = scipy.fft.irfft(np.abs(scipy.fft.rfft(win, nfft)) ** 2, nfft)
    lo = max(1, int(np.floor(sr / _VOICING_F0_RANGE_HZ[1])))
    hi = min(w - 1, int(np.ceil(sr / _VOICING_F0_RANGE_HZ[0])))
    energy = r[:, 0]
    loud = energy > 0
    rn = np.zeros((total, hi - lo + 1))
    rn[loud] = (r[loud, lo : hi + 1] / energy[loud, None]) / (rw[lo : hi + 1] / rw[0])[None, :]
    frame_power = np.mean(x**2, axis=1)
    periodic = (rn.max(axis=1) >= _VOICING_THRESHOLD) & (_db(frame_power) > _db(floor_power) + 10)
    unvoiced = np.bincount(tok, weights=(~periodic).astype(np.float64), minlength=k0.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, unvoiced / np.maximum(counts, 1), np.nan)


def sibilant_measures(
    y: np.ndarray,
    sr: float,
    tokens: np.ndarray,
    *,
    fmin_hz: float = 1000.0,
    fmax_hz: float = 11000.0,
    highpass_hz: float = 500.0,
    n_tapers: int = 8,
    nw: float = 4.0,
    window_s: float = 0.04,
    voiced: np.ndarray | None = None,
    hop_s: float = HOP_S,
    vowels: np.ndarray | None = None,
    context_s: float = 0.1,
    noise_floor_db: float | None = None,
) -> dict[str, np.ndarray]:
    """Spectral moments, duration, voicing and relative intensity of /s/ tokens.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal (any float scale; full scale 1.0 for ``floor_rel_db`` to be
        comparable across recordings is not required, levels are relative).
    sr : float
        Sample rate (Hz).
    tokens : np.ndarray, shape (n, 2)
        Token start and end times (s). Spans are clipped to the signal; a token
        with no sample inside it gets NaN for every measure but ``duration_s``.
    fmin_hz, fmax_hz : float
        Band of the spectral moments and peak (Hz): ``fmin_hz`` up to
        ``min(fmax_hz, sr / 2)``. The defaults are those of Jongman et al. (2000)
        for 22 kHz recordings, truncated at the Nyquist frequency of narrower ones.
    highpass_hz : float
        Cut-off of the 4th-order zero-phase Butterworth high-pass applied to the
        token windows before the spectrum (Hz); 0 disables it. It removes the
        voicing and low-frequency noise that would otherwise leak into the band.
    n_tapers : int
        Number of DPSS (Slepian) tapers, ``K``.
    nw : float
        Time-half-bandwidth product of the tapers, ``NW``; the multitaper spectrum
        has a resolution of ``2 * nw / window_s`` Hz (200 Hz for the defaults).
        ``K = 8``, ``NW = 4`` follow Reidy (2013, 2015).
    window_s : float
        Length of the analysis window centred on the token's midpoint (s). A token
        shorter than the window is analysed whole (its length rounded down to
        2 ms); one shorter than 32 samples has no spectrum (NaN moments).
    voiced : np.ndarray of bool, shape (n_frames,), optional
        Voicing mask on the common frame grid of :mod:`features.frames` (frame
        ``k`` centred at ``k * hop_s``), e.g. from the pitch track. Without it,
        periodicity is measured here on the frames inside the tokens (normalised
        autocorrelation >= 0.45 in the 60-500 Hz range, Boersma 1993).
    hop_s : float
        Hop of the frame grid (s).
    vowels : np.ndarray, shape (n, 2), optional
        The neighbouring vowel's span (s) for each token, the reference of
        ``intensity_rel_db``; a row of NaN falls back to the default reference,
        the ``context_s`` seconds before the token.
    context_s : float
        Length of the default intensity reference before each token (s).
    noise_floor_db : float, optional
        Mean power of the recording's background noise (dB re a full-scale
        power of 1), the reference of ``floor_rel_db``. By default the 5th
        percentile of the recording's 10 ms frame powers: right for any
        recording with pauses (and stop closures), wrong for an excerpt that is
        speech from end to end; pass it for such excerpts.

    Returns
    -------
    dict of str to np.ndarray, each shape (n,), float64
        ``cog_hz``, ``sd_hz``
            Centre of gravity (first moment) and standard deviation (square root
            of the second central moment) of the power spectrum taken as a
            distribution over frequency (Hz) (Forrest et al. 1988).
        ``skewness``, ``kurtosis``
            Third standardised moment and excess kurtosis (fourth standardised
            moment minus 3), dimensionless.
        ``peak_hz``
            Frequency of the spectral maximum in the band (Hz).
        ``duration_s``
            ``end - start`` (s).
        ``voiceless_ratio``
            Fraction of the frames centred inside the token that are not periodic
            (the frame nearest the midpoint for a token shorter than a hop).
        ``intensity_rel_db``
            Mean power of the token relative to that of the neighbouring vowel
            (dB); NaN when the reference span is empty.
        ``floor_rel_db``
            Mean power of the token relative to the noise floor of the recording,
            ``noise_floor_db`` (dB); about 0 dB for a token that holds nothing
            but background noise or silence.

    Notes
    -----
    The spectrum is Thomson's (1982) multitaper estimate: the mean of the
    periodograms of the window multiplied by each of the ``K`` first DPSS tapers
    (unit energy), zero-padded to at least 1024 points, one-sided. Moments use the
    linear power in the band, normalised to sum to one. Intensities are computed
    on the signal as given (no high-pass), over the whole token.

    Raises
    ------
    ValueError
        For a signal that is not 1-D and finite, spans not of shape (n, 2), a
        token whose end precedes its start or that is not finite, a ``voiced``
        mask not 1-D, or a band or taper setting that leaves nothing to measure.
    """
    x = check_signal(y, sr)
    sr = float(sr)
    tok = check_spans(tokens, name="tokens")
    n = tok.shape[0]
    nyq = sr / 2.0
    fhi = min(float(fmax_hz), nyq)
    if not 0 <= fmin_hz < fhi:
        raise ValueError(f"need 0 <= fmin_hz < min(fmax_hz, sr/2) = {fhi}, got fmin_hz={fmin_hz!r}")
    if not 0 <= highpass_hz < nyq:
        raise ValueError(f"highpass_hz must be in [0, sr/2), got {highpass_hz!r}")
    if int(n_tapers) < 1 or not nw > 0:
        raise ValueError(f"need n_tapers >= 1 and nw > 0, got {n_tapers!r}, {nw!r}")
    if not window_s > 0 or not context_s > 0:
        raise ValueError(f"window_s and context_s must be > 0, got {window_s!r}, {context_s!r}")

    out = {k: np.full(n, np.nan) for k in MEASURES}
    out["duration_s"] = tok[:, 1] - tok[:, 0]
    if n == 0:
        return out
    # Sample spans clipped to the signal.
    s = np.clip(np.rint(tok[:, 0] * sr).astype(np.int64), 0, x.size)
    e = np.clip(np.rint(tok[:, 1] * sr).astype(np.int64), 0, x.size)
    present = e > s
    floor_power = _noise_floor_power(x, sr, hop_s, noise_floor_db)
    out.update(_relative_intensities(x, sr, s, e, present, floor_power, vowels, context_s))
    out["voiceless_ratio"] = _voiceless_ratio(x, sr, s, e, present, floor_power, voiced, hop_s)
    todo, spectra = _middle_spectra(x, sr, s, e, present, fmin_hz=fmin_hz, fhi=fhi,
                                    highpass_hz=highpass_hz, n_tapers=int(n_tapers), nw=nw,
                                    window_s=window_s)
    if todo.any():
        for key, val in _moments(*spectra).items():
            out[key][todo] = val
    return out


def _noise_floor_power(x: np.ndarray, sr: float, hop_s: float,
                       noise_floor_db: float | None) -> float:
    """The reference of ``floor_rel_db``: the given level, or the 5th percentile of the
    signal's hop-long frame powers."""
    if noise_floor_db is None:
        hop_n = max(1, round(hop_s * sr))
        m = x.size // hop_n
        frame_p = np.mean(x[: m * hop_n].reshape(m, hop_n) ** 2, axis=1) if m else np.zeros(1)
        return float(np.percentile(frame_p, _FLOOR_PERCENTILE))
    if np.isfinite(noise_floor_db):
        return 10.0 ** (float(noise_floor_db) / 10.0)
    raise ValueError(f"noise_floor_db must be finite, got {noise_floor_db!r}")


def _relative_intensities(x: np.ndarray, sr: float, s: np.ndarray, e: np.ndarray,
                          present: np.ndarray, floor_power: float,
                          vowels: np.ndarray | None, context_s: float) -> dict[str, np.ndarray]:
    """``intensity_rel_db`` and ``floor_rel_db`` of the tokens' sample spans ``[s, e)``,
    from one cumulative sum of the signal's power."""
    cs = np.concatenate(([0.0], np.cumsum(x**2)))
    p_tok = _span_power(cs, s, e)
    ctx = round(context_s * sr)
    rs, re_ = np.clip(s - ctx, 0, x.size), s
    if vowels is not None:
        vw = check_spans(vowels, name="vowels", allow_missing=True)
        if vw.shape[0] != s.size:
            raise ValueError(f"vowels must have one row per token ({s.size}), got {vw.shape[0]}")
        own = np.all(np.isfinite(vw), axis=1)
        vs = np.clip(np.rint(np.where(own, vw[:, 0], 0) * sr).astype(np.int64), 0, x.size)
        ve = np.clip(np.rint(np.where(own, vw[:, 1], 0) * sr).astype(np.int64), 0, x.size)
        rs, re_ = np.where(own, vs, rs), np.where(own, ve, re_)
    p_ref = _span_power(cs, rs, re_)
    with np.errstate(invalid="ignore"):
        return {"intensity_rel_db": np.where(present, _db(p_tok) - _db(p_ref), np.nan),
                "floor_rel_db": np.where(present, _db(p_tok) - _db(floor_power), np.nan)}


def _voiceless_ratio(x: np.ndarray, sr: float, s: np.ndarray, e: np.ndarray,
                     present: np.ndarray, floor_power: float, voiced: np.ndarray | None,
                     hop_s: float) -> np.ndarray:
    """Fraction of the frames of each token (the frame nearest its midpoint when it
    holds no frame centre) that are not voiced, from ``voiced`` or the signal."""
    k0, k1 = span_frames(np.c_[s / sr, e / sr], n_frames(x.size, sr, hop_s), hop_s,
                         min_frames=1)
    k1 = np.where(present, k1, k0)
    if voiced is None:
        return _voiceless_from_signal(x, sr, k0, k1, hop_s, floor_power)
    v = np.asarray(voiced)
    if v.ndim != 1:
        raise ValueError(f"voiced must have shape (n_frames,), got {v.shape!r}")
    k0c, k1c = np.clip(k0, 0, v.size), np.clip(k1, 0, v.size)
    vcs = np.concatenate(([0], np.cumsum(~v.astype(bool))))
    cnt = k1c - k0c
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (vcs[k1c] - vcs[k0c]) / np.maximum(cnt, 1), np.nan)


def _middle_spectra(x: np.ndarray, sr: float, s: np.ndarray, e: np.ndarray,
                    present: np.ndarray, *, fmin_hz: float, fhi: float, highpass_hz: float,
                    n_tapers: int, nw: float, window_s: float):
    """Multitaper power spectra, in the band, of the window at each token's middle.

    Returns ``todo`` (tokens long enough to have a spectrum) and ``(spec, freqs)``:
    spectra (n_todo, n_band) and their frequencies (Hz)."""
    w_full = max(1, round(window_s * sr))
    quantum = max(1, round(_LENGTH_QUANTUM_S * sr))
    length = np.minimum(e - s, w_full)
    length = np.where(length < w_full, (length // quantum) * quantum, length)
    length = np.where(length >= max(_MIN_WINDOW_SAMPLES, n_tapers + 1), length, 0)
    todo = present & (length > 0)
    if not todo.any():
        return todo, None
    pad = max(64, round(0.01 * sr))
    centre = (s + e) // 2
    seg = _gather(x, centre[todo] - w_full // 2 - pad, w_full + 2 * pad)
    if highpass_hz > 0:
        sos = butter(4, highpass_hz, btype="highpass", fs=sr, output="sos")
        seg = sosfiltfilt(sos, seg, axis=1)
    nfft = max(1024, scipy.fft.next_fast_len(w_full, real=True))
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    band = (freqs >= fmin_hz) & (freqs <= fhi)
    spec = np.zeros((seg.shape[0], int(band.sum())))
    lens = length[todo]
    for m_len in np.unique(lens):  # one batched FFT per distinct window length
        rows = np.flatnonzero(lens == m_len)
        off = pad + (w_full - int(m_len)) // 2
        win = seg[rows, off : off + int(m_len)]
        k = min(n_tapers, int(m_len) - 1)
        tapers = dpss(int(m_len), min(nw, (int(m_len) - 1) / 2.0), Kmax=k)  # (K, M), unit energy
        ft = scipy.fft.rfft(win[:, None, :] * tapers[None, :, :], nfft, axis=-1)
        spec[rows] = np.mean(np.abs(ft[..., band]) ** 2, axis=1)
    return todo, (spec, freqs[band])


def classify_realisation(
    measures: dict[str, np.ndarray],
    *,
    cog_threshold_hz: float = 3500.0,
    cog_scale_oct: float = 0.5,
    min_floor_rel_db: float = 6.0,
    floor_scale_db: float = 2.0,
    vowel_like_rel_db: float = -4.0,
    intensity_scale_db: float = 3.0,
    voiced_ratio_max: float = 0.5,
    voicing_scale: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """Label each /s/ token ``"s"``, ``"h"`` or ``"0"`` (deleted), with a confidence.

    The rule, applied in order, follows the acoustics of the three realisations
    (Stevens 1998; Jongman et al. 2000):

    1. **"0", nothing there**: the token is less than ``min_floor_rel_db`` above
       the recording's noise floor (``floor_rel_db``), or has no measurable
       spectrum. Background noise alone measures 0 +/- 1 dB; 6 dB (four times
       the floor's power) marks energy of the token's own. An [h] is 10-15 dB
       below the vowels, so it clears 6 dB in recordings down to about 20 dB SNR.
    2. **"0", the vowel goes on**: the token is voiced (``voiceless_ratio`` at
       most ``voiced_ratio_max``), as loud as its vowel (``intensity_rel_db`` at
       least ``vowel_like_rel_db``) and its spectrum is vowel-like (CoG below the
       threshold of rule 3): no frication distinct from the neighbours. A
       sibilant is 6-10 dB and aspiration about 15 dB below the vowel, both
       voiceless.
    3. **"s" or "h"**: an alveolar sibilant is noise from a jet against the
       teeth, filtered by the short front cavity: its energy lies above 3-4 kHz
       and its CoG (1 kHz up to the band edge) is 4.5-7 kHz (Jongman et al. 2000).
       Aspiration is glottal noise filtered by the whole vocal tract, so its
       spectrum follows the formants of the neighbouring vowel and falls with
       frequency: its CoG is 1.5-2.5 kHz. ``cog_threshold_hz`` = 3.5 kHz is near
       the geometric mean of the two ranges: "s" above, "h" below.

    Parameters
    ----------
    measures : dict of str to np.ndarray, each shape (n,)
        The output of :func:`sibilant_measures` (``cog_hz``, ``floor_rel_db``,
        ``intensity_rel_db`` and ``voiceless_ratio`` are used; a NaN voicing or
        intensity ratio simply disables rule 2).
    cog_threshold_hz : float
        CoG separating "s" (above) from "h" (below) (Hz).
    cog_scale_oct : float
        Distance from the CoG threshold (octaves) at which the confidence of the
        s/h decision reaches tanh(1) = 0.76.
    min_floor_rel_db, floor_scale_db : float
        Threshold and confidence scale of rule 1 (dB).
    vowel_like_rel_db, intensity_scale_db : float
        Threshold and confidence scale of the intensity condition of rule 2 (dB).
    voiced_ratio_max, voicing_scale : float
        Threshold and confidence scale of the voicing condition of rule 2.

    Returns
    -------
    labels : np.ndarray, shape (n,), dtype "<U1"
        ``"s"``, ``"h"`` or ``"0"``.
    confidence : np.ndarray, shape (n,), float64 in [0, 1]
        ``tanh(margin / scale)`` of the decision that fixed the label, where the
        margin is the distance of the deciding measure from its threshold: 0 on
        a decision boundary, near 1 far from every boundary. For rule 2 and for
        "s"/"h" the smallest margin among the conditions checked counts.

    Raises
    ------
    ValueError
        When a required measure is missing or the arrays differ in shape.
    """
    need = ("cog_hz", "floor_rel_db", "intensity_rel_db", "voiceless_ratio")
    missing = [k for k in need if k not in measures]
    if missing:
        raise ValueError(f"measures lacks {missing!r}; pass the output of sibilant_measures")
    arr = {k: np.asarray(measures[k], dtype=np.float64) for k in need}
    shape = arr["cog_hz"].shape
    if any(a.shape != shape for a in arr.values()) or len(shape) != 1:
        shapes = [a.shape for a in arr.values()]
        raise ValueError(f"measures must be 1-D arrays of one shape, got {shapes!r}")
    cog, floor_rel = arr["cog_hz"], arr["floor_rel_db"]
    rel, unv = arr["intensity_rel_db"], arr["voiceless_ratio"]
    n = cog.size
    labels = np.full(n, "s", dtype="<U1")
    conf = np.zeros(n)
    if n == 0:
        return labels, conf

    def margin(value: np.ndarray, scale: float) -> np.ndarray:
        return np.tanh(np.abs(np.nan_to_num(value, nan=0.0)) / scale)

    # s/h by CoG (octaves from the threshold).
    ok = np.isfinite(cog) & (cog > 0)
    oct_ = np.zeros(n)
    oct_[ok] = np.log2(cog[ok] / cog_threshold_hz)
    labels[:] = np.where(oct_ >= 0, "s", "h")
    c_cog = margin(oct_, cog_scale_oct)
    c_floor = margin(floor_rel - min_floor_rel_db, floor_scale_db)
    conf[:] = np.minimum(c_cog, c_floor)

    # Rule 2: voiced, as loud as the vowel, vowel-like spectrum.
    with np.errstate(invalid="ignore"):
        loud = rel >= vowel_like_rel_db
        periodic = unv <= voiced_ratio_max
    cont = loud & periodic & (oct_ < 0) & ok
    c_cont = np.minimum.reduce(
        [
            margin(rel - vowel_like_rel_db, intensity_scale_db),
            margin(unv - voiced_ratio_max, voicing_scale),
            c_cog,
        ]
    )
    labels[cont] = "0"
    conf[cont] = c_cont[cont]

    # Rule 1: nothing above the noise floor (or nothing measurable).
    # A token with no measurable spectrum (or outside the signal) is "0" with no
    # confidence unless its level shows it is empty.
    labels[~ok] = "0"
    conf[~ok] = 0.0
    with np.errstate(invalid="ignore"):
        quiet = floor_rel < min_floor_rel_db
    labels[quiet] = "0"
    conf[quiet] = c_floor[quiet]
    return labels, np.clip(conf, 0.0, 1.0)
