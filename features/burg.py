"""Praat's "To Formant (burg)..." in NumPy, batched over frames and ceilings.

The analysis is Praat's (``fon/Sound_to_Formant.cpp``), step by step:

1. resample to twice the formant ceiling (Praat: brick-wall FFT low-pass at the new
   Nyquist frequency, then sinc interpolation; here: the same band limit, applied
   as one exact band-limited FFT resampling onto Praat's sample grid, whose first
   sample is centred in the signal's time domain);
2. pre-emphasis ``y[i] -= exp(-2 pi F dt) y[i-1]`` from ``F`` = 50 Hz;
3. Praat's frame grid (frames centred in the signal, ``time_step_s`` apart) and
   Gaussian window ``(exp(-48 (i - mid)^2 / (n + 1)^2) - e^-12) / (1 - e^-12)``
   of twice the window length; frames whose samples are all zero get no formants;
4. Burg's LPC of order ``2 * n_formants`` (Praat's ``VECburg``, Anderson in
   Childers 1978), computed with Vos's (2013) fast recursion: the same
   reflection coefficients from each frame's autocorrelation and its first and
   last samples, so the loop runs over the order (10), every frame at once;
5. roots of the prediction polynomial as eigenvalues of its companion matrix
   (batched), Newton-polished as Praat does, reflected into the unit circle; within
   runs of consecutive frames only every 8th frame needs the eigenvalues, the
   others start Newton from the previous frame's roots (eigenvalues again where
   that does not give ten distinct roots), which is cheaper and finds the same roots;
6. a root of angle ``f`` (Hz) with ``50 <= f <= Nyquist - 50`` is a formant of
   bandwidth ``-ln(|z|^2) * Nyquist / pi``; formants sorted by frequency.

The library choice: Burg LPC, formant roots and Praat's grid are nowhere in
NumPy/SciPy/librosa in a batched form (``librosa.lpc`` is one signal at a time and
has no roots or Praat framing), so this module writes them by hand.

References
----------
Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Sources
``fon/Sound_to_Formant.cpp``, ``dwsys/NUM2.cpp`` (``VECburg``), ``dwsys/Roots.cpp``,
``fon/Sound.cpp`` (``Sound_resample``).
Anderson, N. (1978). On the calculation of filter coefficients for maximum entropy
spectral analysis. In Childers (ed.), *Modern Spectrum Analysis*, IEEE Press, 252-255.
Vos, K. (2013). A fast implementation of Burg's method. Technical note, opus-codec.org.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.fft

__all__ = ["BurgFrames", "burg_lpc", "formants_burg", "lpc_formants", "lpc_roots",
           "praat_resample"]

#: Praat's safety margin (Hz): roots closer than this to 0 or to Nyquist are no formants.
SAFETY_MARGIN_HZ = 50.0
_PAD = 1000  # Praat's zero padding on each side for the FFT low-pass ("antiTurnAround")
_CHUNK = 4096  # frames per batch: keeps the frame matrix within a few MB


@dataclass(frozen=True)
class BurgFrames:
    """Formants of one Burg analysis (one ceiling), frames on the last axis.

    Attributes
    ----------
    times_s : np.ndarray, shape (n_frames,)
        Frame centres (s, time of the analysed signal), Praat's grid.
    freqs_hz : np.ndarray, shape (n_formants, n_frames)
        Formant frequencies (Hz), increasing; NaN where a frame has fewer formants.
    bandwidths_hz : np.ndarray, shape (n_formants, n_frames)
    max_formant_hz : float
        The ceiling (Hz); the signal was analysed at twice this rate.
    """

    times_s: np.ndarray
    freqs_hz: np.ndarray
    bandwidths_hz: np.ndarray
    max_formant_hz: float


def _ratio(new_sr: float, sr: float, n: int) -> Fraction:
    """``new_sr / sr`` as a fraction whose error drifts < 1e-6 sample over ``n`` samples."""
    exact = new_sr / sr
    for max_den in (1 << 10, 1 << 14, 1 << 18, 1 << 22):
        frac = Fraction(exact).limit_denominator(max_den)
        if abs(float(frac) - exact) * (n + 2 * _PAD) < 1e-6:
            return frac
    return Fraction(exact).limit_denominator(1 << 22)


def praat_resample(
    y: np.ndarray, sr: float, new_sr: float, *, spectrum: tuple[int, np.ndarray] | None = None
) -> tuple[np.ndarray, float]:
    """Band-limited resampling onto Praat's ``Sound_resample`` grid.

    Praat zeroes every FFT bin at or above the new Nyquist frequency, then
    interpolates with a windowed sinc (depth 50). Here the band-limited signal is
    evaluated exactly (an inverse FFT at the new rate, with the fractional start
    offset as a phase ramp): the ideal interpolator that Praat's sinc approximates.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Signal at ``sr``; time domain ``[0, n_samples / sr]``.
    sr, new_sr : float
        Old and new sample rates (Hz); ``new_sr < sr`` (or equal: a copy).
    spectrum : (int, np.ndarray), optional
        ``(L, rfft(padded y, L))`` from an earlier call with the same ``y`` (reused
        when ``L`` suits this ratio).

    Returns
    -------
    np.ndarray, shape (round(n_samples * new_sr / sr),)
        The resampled signal.
    float
        Time (s) of its first sample, Praat's ``x1``: the samples are centred in
        the original time domain.
    """
    n = y.size
    if abs(new_sr / sr - 1.0) < 1e-6:
        return y.copy(), 0.5 / sr
    if new_sr > sr:
        raise ValueError(f"new_sr must not exceed sr ({sr} Hz), got {new_sr!r}")
    n_new = int(np.floor(n / sr * new_sr + 0.5))
    x1_new = 0.5 * (n / sr - (n_new - 1) / new_sr)
    frac = _ratio(new_sr, sr, n)
    p, q = frac.numerator, frac.denominator
    if spectrum is not None and spectrum[0] % q == 0:
        size, spec = spectrum
    else:
        size = q * scipy.fft.next_fast_len(-(-(n + 2 * _PAD) // q), real=True)
        spec = scipy.fft.rfft(np.concatenate([np.zeros(_PAD), y]), size)
    size_new = size // q * p
    keep = (size_new + 1) // 2  # bins strictly below the new Nyquist frequency
    # Sample j of the new grid sits at padded-input position eps + j * sr / new_sr.
    eps = ((x1_new - 0.5 / sr) * sr + _PAD) * new_sr / sr
    k = np.arange(keep)
    shifted = spec[:keep] * np.exp(2j * np.pi * k * (eps % 1.0) / size_new)
    out = scipy.fft.irfft(shifted, size_new) * (size_new / size)
    start = int(np.floor(eps))
    return out[start : start + n_new], x1_new


def _gaussian_window(n: int) -> np.ndarray:
    """Praat's Gaussian window of ``n`` samples (edges at e^-12, rescaled to 0)."""
    i = np.arange(1, n + 1, dtype=np.float64)
    mid = 0.5 * (n + 1)
    edge = np.exp(-12.0)
    return (np.exp(-48.0 * (i - mid) ** 2 / (n + 1) ** 2) - edge) / (1.0 - edge)


def burg_lpc(frames: np.ndarray, order: int) -> np.ndarray:
    """Burg LPC of every frame at once (Praat's ``VECburg``).

    Parameters
    ----------
    frames : np.ndarray, shape (n_frames, n_samples)
        Windowed frames, ``n_samples > order``.
    order : int
        Number of prediction coefficients.

    Returns
    -------
    np.ndarray, shape (n_frames, order + 1)
        Prediction-error filter ``[1, a_1, ..., a_order]`` (``e[n] = sum a_j x[n-j]``,
        Praat's coefficients negated). Praat stops a frame whose error energy vanishes
        (``denum <= 0``); its remaining coefficients stay 0 here too.

    Notes
    -----
    Vos's (2013) recursion: from the autocorrelation ``c_0..c_order`` and the first
    and last ``order + 1`` samples, each order costs O(order) per frame, the same
    reflection coefficients as the sample-by-sample recursion up to rounding.
    """
    x = np.asarray(frames, dtype=np.float64)
    n_fr, n = x.shape
    m = int(order)
    c = np.empty((n_fr, m + 1))
    for j in range(m + 1):
        c[:, j] = np.einsum("ij,ij->i", x[:, : n - j], x[:, j:])
    head = np.ascontiguousarray(x[:, : m + 1])
    tail = np.ascontiguousarray(x[:, ::-1][:, : m + 1])  # tail[:, j] = x[n - 1 - j]
    a = np.zeros((n_fr, m + 1))
    a[:, 0] = 1.0
    g = np.zeros((n_fr, m + 2))
    g[:, 0] = 2.0 * c[:, 0] - head[:, 0] ** 2 - tail[:, 0] ** 2
    g[:, 1] = 2.0 * c[:, 1]
    r = np.zeros((n_fr, m + 1))
    r[:, 0] = 2.0 * c[:, 1]
    stopped = np.zeros(n_fr, dtype=bool)
    for i in range(m):
        num = np.einsum("ij,ij->i", a[:, : i + 2], g[:, i + 1 :: -1][:, : i + 2])
        den = np.einsum("ij,ij->i", a[:, : i + 2], g[:, : i + 2])
        stopped |= ~(den > 0.0)
        k = np.where(stopped, 0.0, -num / np.where(stopped, 1.0, den))
        a[:, : i + 2] = a[:, : i + 2] + k[:, None] * a[:, i + 1 :: -1][:, : i + 2]
        if i == m - 1:
            break
        o = i + 1  # the order just reached
        r_new = np.empty_like(r[:, : o + 1])
        r_new[:, 0] = 2.0 * c[:, o + 1]
        r_new[:, 1:] = (r[:, :o] - head[:, :o] * head[:, o : o + 1]
                        - tail[:, :o] * tail[:, o : o + 1])
        r[:, : o + 1] = r_new
        head_rev = head[:, o::-1]
        tail_rev = tail[:, o::-1]
        s_head = np.einsum("ij,ij->i", head_rev, a[:, : o + 1])
        s_tail = np.einsum("ij,ij->i", tail_rev, a[:, : o + 1])
        delta = -head_rev * s_head[:, None] - tail_rev * s_tail[:, None]
        g_new = g[:, : o + 1] + k[:, None] * g[:, o::-1] + delta
        g[:, o + 1] = np.einsum("ij,ij->i", r[:, : o + 1], a[:, : o + 1])
        g[:, : o + 1] = g_new
    return a


def _polish(roots: np.ndarray, coef: np.ndarray, n_iter: int = 2) -> np.ndarray:
    """Newton-polish roots (n_frames, m) of monic polynomials ``coef`` (n_frames, m + 1),
    keeping each root's best iterate (Praat's ``Roots_Polynomial_polish``)."""
    best = roots.copy()
    best_abs = np.full(roots.shape, np.inf)
    z = roots.copy()
    for _ in range(n_iter + 1):
        p = np.broadcast_to(coef[:, :1], z.shape).astype(np.complex128)
        dp = np.zeros_like(z)
        for j in range(1, coef.shape[1]):
            dp = dp * z + p
            p = p * z + coef[:, j : j + 1]
        mag = np.abs(p)
        better = mag < best_abs
        best = np.where(better, z, best)
        best_abs = np.where(better, mag, best_abs)
        ok = better & (dp != 0)
        z = np.where(ok, z - p / np.where(ok, dp, 1.0), z)
    return best


def _eig_roots(coef: np.ndarray) -> np.ndarray:
    """Roots of monic polynomials (n, m + 1): companion eigenvalues, Newton-polished."""
    n, m1 = coef.shape
    m = m1 - 1
    comp = np.zeros((n, m, m))
    comp[:, 0, :] = -coef[:, 1:]
    comp[:, np.arange(1, m), np.arange(m - 1)] = 1.0
    return _polish(np.linalg.eigvals(comp).astype(np.complex128), coef)


def _newton(z: np.ndarray, coef: np.ndarray, max_iter: int = 8
            ) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method for every root of every row from starts ``z`` (n, m), each row
    until its steps fall below 1e-10; returns the roots and whether each row converged
    to ``m`` distinct roots (else they are not trusted: two starts may reach one root)."""
    n, m = z.shape
    z = z.copy()
    done = np.zeros(n, dtype=bool)
    active = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(max_iter):
            za, ca = z[active], coef[active]
            p = np.ones_like(za)
            dp = np.zeros_like(za)
            for j in range(1, ca.shape[1]):
                dp = dp * za + p
                p = p * za + ca[:, j : j + 1]
            step = p / dp
            z[active] = za - step
            small = np.all(np.abs(step) <= 1e-10 * np.maximum(np.abs(za), 1.0), axis=1)
            done[active[small]] = True
            active = active[~small]
            if active.size == 0:
                break
    ok = np.flatnonzero(done)
    if ok.size:
        zo = z[ok]
        upper = np.triu_indices(m, 1)
        gaps = np.abs(zo[:, upper[0]] - zo[:, upper[1]])
        done[ok] = np.min(gaps, axis=1) > 1e-6
    return z, done


def lpc_roots(coef: np.ndarray, follows: np.ndarray | None = None, *, every: int = 8
              ) -> np.ndarray:
    """Roots of every frame's prediction polynomial ``z^m + a_1 z^(m-1) + ... + a_m``.

    Companion-matrix eigenvalues (LAPACK, one matrix at a time) cost most of the
    analysis, so within runs of consecutive frames (``follows[i]``: frame ``i``
    comes 1 step after frame ``i - 1``) only every ``every``-th frame is solved
    that way; the next frames start Newton's method from their predecessor's
    roots (5 ms earlier), all runs at once. A frame whose iterations do not
    converge to ``m`` distinct roots falls back to the eigenvalues, so the roots
    are the same either way (to rounding).

    Parameters
    ----------
    coef : np.ndarray, shape (n_frames, m + 1)
        ``[1, a_1, ..., a_m]`` per frame.
    follows : np.ndarray of bool, shape (n_frames,), optional
        None: every frame is solved by eigenvalues.

    Returns
    -------
    np.ndarray, shape (n_frames, m), complex
    """
    n = coef.shape[0]
    if follows is None or n == 0:
        return _eig_roots(coef)
    index = np.arange(n)
    run_start = np.maximum.accumulate(np.where(np.asarray(follows, dtype=bool), 0, index))
    pos = (index - run_start) % every
    roots = np.empty((n, coef.shape[1] - 1), dtype=np.complex128)
    anchor = np.flatnonzero(pos == 0)
    roots[anchor] = _eig_roots(coef[anchor])
    for step in range(1, every):
        cur = np.flatnonzero(pos == step)
        if cur.size == 0:
            break
        z, ok = _newton(roots[cur - 1], coef[cur])
        roots[cur[ok]] = z[ok]
        if not ok.all():
            roots[cur[~ok]] = _eig_roots(coef[cur[~ok]])
    return roots


def lpc_formants(
    coef: np.ndarray, sr: float, *, n_formants: int = 5, margin_hz: float = SAFETY_MARGIN_HZ,
    follows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Formant frequencies and bandwidths from prediction-error filters (Praat's rule).

    Parameters
    ----------
    coef : np.ndarray, shape (n_frames, order + 1)
        ``[1, a_1, ..., a_order]`` per frame (:func:`burg_lpc`).
    sr : float
        Sample rate (Hz) the filters were estimated at.
    n_formants : int
        Formants kept per frame (the lowest ones).
    margin_hz : float
        Roots below this or above Nyquist minus this are dropped.
    follows : np.ndarray of bool, shape (n_frames,), optional
        Which frames continue the previous one (see :func:`lpc_roots`).

    Returns
    -------
    freqs_hz, bandwidths_hz : np.ndarray, shape (n_formants, n_frames)
        Increasing frequencies; NaN where a frame has fewer formants.
    """
    n_fr, m1 = coef.shape
    out_f = np.full((n_formants, n_fr), np.nan)
    out_b = np.full((n_formants, n_fr), np.nan)
    if n_fr == 0 or m1 < 2:
        return out_f, out_b
    roots = lpc_roots(coef, follows)
    mag = np.abs(roots)
    roots = np.where(mag > 1.0, 1.0 / np.conj(np.where(mag > 1.0, roots, 1.0)), roots)
    nyquist = 0.5 * sr
    freq = np.abs(np.angle(roots)) * nyquist / np.pi
    with np.errstate(divide="ignore"):
        bw = -np.log(np.abs(roots) ** 2) * nyquist / np.pi
    valid = (roots.imag >= 0) & (freq >= margin_hz) & (freq <= nyquist - margin_hz)
    key = np.where(valid, freq, np.inf)
    order = np.argsort(key, axis=1)[:, :n_formants]
    f_sorted = np.take_along_axis(key, order, axis=1)
    b_sorted = np.take_along_axis(bw, order, axis=1)
    found = np.isfinite(f_sorted)
    k = min(n_formants, order.shape[1])
    out_f[:k] = np.where(found, f_sorted, np.nan).T
    out_b[:k] = np.where(found, b_sorted, np.nan).T
    return out_f, out_b


def _frame_grid(n: int, sr: float, window_s: float, time_step_s: float, x1: float):
    """Praat's frame centres and sample ranges for a signal of ``n`` samples at ``sr``.

    Returns frame times (s), first sample (0-based) and length of each frame, and the
    window length in samples (``Sound_to_Formant_any_inplace``).
    """
    dx = 1.0 / sr
    duration = n * dx
    dt_window = 2.0 * window_s
    n_frames = 1 + int(np.floor((duration - dt_window) / time_step_s))
    n_window = int(np.floor(dt_window / dx))
    half = n_window // 2
    t1 = x1 + 0.5 * (duration - dx - (n_frames - 1) * time_step_s)
    if n_frames < 1:  # shorter than one window: one frame over everything
        n_frames, t1, n_window = 1, x1 + 0.5 * duration, n
    times = t1 + np.arange(n_frames) * time_step_s
    left = np.floor((times - x1) / dx).astype(np.int64) + 1  # Praat's 1-based low index
    start = np.maximum(left + 1 - half, 1)
    end = np.minimum(left + half, n)
    return times, start - 1, end - start + 1, n_window


def formants_burg(
    y: np.ndarray,
    sr: float,
    ceilings_hz: np.ndarray | float,
    *,
    n_formants: int = 5,
    window_s: float = 0.025,
    time_step_s: float = 0.005,
    pre_emphasis_hz: float = 50.0,
    spans_s: np.ndarray | None = None,
) -> list[BurgFrames]:
    """Praat's "To Formant (burg)..." for several ceilings, every frame batched.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal; time 0 is its first sample's left edge (as a Praat Sound).
    sr : float
        Sample rate (Hz).
    ceilings_hz : float or array_like, shape (n_ceilings,)
        "Maximum formant" (Hz) of each analysis, below ``sr / 2`` (or equal: no
        resampling); the signal is resampled to twice each.
    n_formants : int
        Praat's "maximum number of formants": LPC order ``2 * n_formants``.
    window_s : float
        Praat's window length (s); the Gaussian window is twice as long.
    time_step_s : float
        Frame step (s).
    pre_emphasis_hz : float
        Pre-emphasis from this frequency (Hz).
    spans_s : np.ndarray, shape (n, 2), optional
        Only frames whose centre lies in one of these (start, end) spans (s) are
        analysed; the others are NaN (the grid is Praat's full grid either way).

    Returns
    -------
    list of BurgFrames, one per ceiling
        ``freqs_hz``/``bandwidths_hz`` of shape (n_formants, n_frames).

    References
    ----------
    Boersma & Weenink, Praat, ``Sound_to_Formant.cpp``; Vos (2013) for the recursion.
    """
    x = np.ascontiguousarray(y, dtype=np.float64)
    ceilings = np.atleast_1d(np.asarray(ceilings_hz, dtype=np.float64))
    if x.ndim != 1:
        raise ValueError(f"y must be mono, shape (n_samples,), got {x.shape!r}")
    if np.any(~np.isfinite(ceilings) | (ceilings <= 0) | (ceilings > sr / 2 * (1 + 1e-12))):
        raise ValueError(f"ceilings_hz must lie in (0, {sr / 2}] Hz, got {ceilings.tolist()!r}")
    order = round(2 * n_formants)
    spectrum = None
    results = []
    for ceiling in ceilings:
        new_sr = 2.0 * ceiling
        if abs(new_sr / sr - 1.0) < 1e-12:
            new_sr = float(sr)
        if spectrum is None and new_sr != sr:  # one forward FFT serves every ceiling
            dens = [_ratio(2.0 * c, sr, x.size).denominator for c in ceilings
                    if abs(2.0 * c / sr - 1.0) >= 1e-12]
            lcm = int(np.lcm.reduce(dens))
            if lcm <= 1 << 16:
                size = lcm * scipy.fft.next_fast_len(-(-(x.size + 2 * _PAD) // lcm), real=True)
                spectrum = (size, scipy.fft.rfft(np.r_[np.zeros(_PAD), x], size))
        z, x1 = praat_resample(x, sr, new_sr, spectrum=spectrum)
        alpha = np.exp(-2.0 * np.pi * pre_emphasis_hz / new_sr)
        z[1:] -= alpha * z[:-1].copy()
        times, start, length, n_window = _frame_grid(z.size, new_sr, window_s, time_step_s, x1)
        if n_window < order + 1:
            raise ValueError(f"window_s={window_s} s is too short for {order} LPC "
                             f"coefficients at {new_sr} Hz")
        freqs = np.full((n_formants, times.size), np.nan)
        bws = np.full((n_formants, times.size), np.nan)
        wanted = np.ones(times.size, dtype=bool)
        if spans_s is not None:
            sp = np.asarray(spans_s, dtype=np.float64).reshape(-1, 2)
            lo = np.searchsorted(times, sp[:, 0], side="left")
            hi = np.searchsorted(times, sp[:, 1], side="right")
            cover = np.zeros(times.size + 1, dtype=np.int64)
            np.add.at(cover, lo, 1)
            np.add.at(cover, hi, -1)
            wanted = np.cumsum(cover)[:-1] > 0
        window = _gaussian_window(n_window)
        for n_len in np.unique(length[wanted]):
            idx = np.flatnonzero(wanted & (length == n_len))
            view = np.lib.stride_tricks.sliding_window_view(z, int(n_len))
            for lo_i in range(0, idx.size, _CHUNK):
                sel = idx[lo_i : lo_i + _CHUNK]
                frames = view[start[sel]] * window[:n_len]
                alive = frames.any(axis=1)  # Burg cannot stand all zeroes
                if not alive.all():
                    frames = frames[alive]
                kept = sel[alive]
                f_hz, b_hz = lpc_formants(burg_lpc(frames, order), new_sr,
                                          n_formants=n_formants,
                                          follows=np.r_[False, np.diff(kept) == 1])
                freqs[:, sel[alive]] = f_hz
                bws[:, sel[alive]] = b_hz
        results.append(BurgFrames(times, freqs, bws, float(ceiling)))
    return results
