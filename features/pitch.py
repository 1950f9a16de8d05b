"""Praat's autocorrelation pitch ("Sound: To Pitch (ac)..."), vectorised over frames.

Boersma's (1993) method as Praat 6.1 computes it (``Sound_to_Pitch.cpp``,
``Pitch.cpp``'s path finder, ``NUMinterpol.cpp``), batched over every frame of a
recording instead of one frame at a time:

1. the frame grid of ``Sampled_shortTermAnalysis`` (as many frames of the
   window ``periods_per_window / pitch_floor_hz`` as fit, centred in the signal);
2. per frame, the local mean (one longest period either side) is subtracted,
   a Hann window applied, and the autocorrelation taken from the power
   spectrum: one batched real FFT for a block of frames; dividing by the
   window's own autocorrelation gives Praat's normalised ``r(lag)``;
3. candidates are the local maxima of ``r`` above ``voicing_threshold / 2``
   (array operations over all frames); each is placed by maximising Praat's
   depth-70 windowed-sinc interpolation of ``r`` within one lag either side
   (Praat runs Brent's method per candidate; here matrix products evaluate the
   interpolant of all candidates on a 1/4-lag grid, then on a 1/32-lag grid
   around the best point, and a parabola through the best three gives the
   maximum);
4. Praat's Viterbi path (octave cost, octave-jump cost, voiced/unvoiced cost,
   silence threshold) is the only sequential part. It is cut at frames whose
   only possible choice is "unvoiced" (too quiet for any candidate to win), and
   the independent stretches are run side by side.

Written by hand because no library implements Praat's pitch as Praat does
(praatfan-rust reimplements it frame by frame; ENGINES.md measured it).

References
----------
Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency
and the harmonics-to-noise ratio of a sampled sound. Proceedings of the
Institute of Phonetic Sciences 17, 97-110.
Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual page
"Sound: To Pitch (ac)..."; sources fon/Sound_to_Pitch.cpp, fon/Pitch.cpp,
sys/NUMinterpol.cpp (praat/praat on GitHub).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sp_fft

__all__ = ["Pitch", "pitch_ac", "short_term_grid"]

# Praat's depths of the sinc interpolation: 30 for a candidate's first strength,
# 70 (NUM_PEAK_INTERPOLATE_SINC70) when the maximum is refined.
_SINC_DEPTH_FIRST = 30
_SINC_DEPTH_REFINE = 70
# The refinement's grids: 1/_COARSE lag, then 2 _FINE + 1 points 1/(2 _COARSE _FINE)
# lag apart around the best coarse point.
_COARSE = 4
_FINE = 4
# Elements of the (frames x FFT length) block handled at once.
_BLOCK_ELEMENTS = 2**20


@dataclass(frozen=True)
class Pitch:
    """A pitch analysis: every frame's candidates and the path through them.

    Arrays hold frames on the last axis, as Parselmouth's ``Pitch.to_array()``.

    Attributes
    ----------
    x1 : float
        Time (s) of the centre of frame 0.
    dx : float
        Time step (s).
    pitch_ceiling_hz : float
        Pitch ceiling (Hz): a candidate at or above it counts as unvoiced.
    frequency : np.ndarray, shape (max_candidates, n_frames)
        Candidate frequencies (Hz); slot 0 is the unvoiced candidate (0 Hz),
        unused slots are NaN. Voiced candidates are in increasing lag order.
    strength : np.ndarray, shape (max_candidates, n_frames)
        Candidate strengths (normalised autocorrelation, <= 1); NaN unused.
    intensity : np.ndarray, shape (n_frames,)
        Local peak relative to the global peak, in [0, 1] (Praat's frame intensity).
    selected : np.ndarray, shape (n_frames,), int
        Slot of the candidate on the best path.
    """

    x1: float
    dx: float
    pitch_ceiling_hz: float
    frequency: np.ndarray
    strength: np.ndarray
    intensity: np.ndarray
    selected: np.ndarray

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.intensity.size)

    @property
    def times(self) -> np.ndarray:
        """Frame centres (s), shape (n_frames,)."""
        return self.x1 + self.dx * np.arange(self.n_frames)

    @property
    def selected_frequency(self) -> np.ndarray:
        """Frequency (Hz) of the chosen candidate, 0 where unvoiced, shape (n_frames,)."""
        cols = np.arange(self.n_frames)
        f = self.frequency[self.selected, cols] if self.n_frames else np.zeros(0)
        return np.where((f > 0) & (f < self.pitch_ceiling_hz), f, 0.0)

    @property
    def selected_strength(self) -> np.ndarray:
        """Strength of the chosen candidate, shape (n_frames,) (0 where unvoiced)."""
        cols = np.arange(self.n_frames)
        return self.strength[self.selected, cols] if self.n_frames else np.zeros(0)

    @property
    def f0_hz(self) -> np.ndarray:
        """F0 (Hz) of the path, NaN where unvoiced, shape (n_frames,)."""
        f = self.selected_frequency
        return np.where(f > 0, f, np.nan)


def short_term_grid(n_samples: int, sr: float, window_s: float, time_step_s: float
                    ) -> tuple[int, float]:
    """Praat's ``Sampled_shortTermAnalysis``: frame count and first frame centre (s).

    As many windows of ``window_s`` as fit in the signal, ``time_step_s`` apart,
    centred as a group on the signal (whose first sample lies at ``0.5 / sr``).
    Returns ``(0, nan)`` when not even one window fits.
    """
    # Praat's own order of floating-point operations (frame counts at a boundary).
    dx = 1.0 / sr
    duration = dx * n_samples
    if window_s > duration:
        return 0, float("nan")
    n = int(np.floor((duration - window_s) / time_step_s)) + 1
    x1 = 0.5 * dx
    mid = x1 - 0.5 * dx + 0.5 * duration
    return n, mid - 0.5 * (n * time_step_s) + 0.5 * time_step_s


def _sinc_weights(u: np.ndarray, taps: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Weights of Praat's windowed-sinc interpolation (``NUM_interpolate_sinc``).

    The interpolant at position ``u`` is ``sum_m y[m] w(u, m)`` over integer taps
    ``m``; with ``l = floor(u)`` the taps are ``l - depth + 1 .. l + depth``, each
    weighted ``sinc(d) * (1 + cos(pi d / (d0 + depth))) / 2`` where ``d`` is its
    distance from ``u`` and ``d0`` that of the nearest tap on its side. At an
    integer ``u`` the interpolant is the sample itself.

    ``u``: positions, any shape ``S``; ``taps``: shape (M,); ``depth``: ints
    broadcastable to ``S``. Returns shape ``S + (M,)``.
    """
    u = np.asarray(u, dtype=np.float64)[..., None]
    depth = np.asarray(depth)[..., None]
    low = np.floor(u)
    frac = u - low
    left = taps <= low
    dist = np.where(left, u - taps, taps - u)
    near = np.where(left, frac, 1.0 - frac)
    k = np.where(left, low - taps, taps - low - 1)  # 0 for the nearest tap of a side
    w = np.sinc(dist) * (0.5 + 0.5 * np.cos(np.pi * dist / (near + depth)))
    w = np.where(k < depth, w, 0.0)
    return np.where(frac == 0.0, (taps == low).astype(np.float64), w)


def _window_autocorrelation(window: np.ndarray, n_fft: int) -> np.ndarray:
    """Autocorrelation of the window, normalised to 1 at lag 0; shape (n_fft // 2 + 1,)."""
    spec = np.abs(sp_fft.rfft(window, n_fft)) ** 2
    ac = sp_fft.dct(spec, type=1)
    return ac / ac[0]


@dataclass(frozen=True)
class _Setup:
    """The per-analysis constants of Sound_to_Pitch (in samples)."""

    n_window: int  # nsamp_window (even)
    half_window: int  # halfnsamp_window
    n_period: int  # nsamp_period: samples in the longest period
    half_period: int
    max_lag: int  # maximumLag
    max_interp_lag: int  # brent_ixmax
    n_fft: int
    window: np.ndarray
    window_r: np.ndarray


def _setup(sr: float, pitch_floor_hz: float, periods_per_window: float) -> _Setup:
    dx = 1.0 / sr
    n_period = int(np.floor(1.0 / dx / pitch_floor_hz))
    dt_window = periods_per_window / pitch_floor_hz
    half_window = int(np.floor(dt_window / dx)) // 2 - 1
    if half_window < 2:
        raise ValueError(f"analysis window too short: pitch_floor_hz={pitch_floor_hz!r} "
                         f"at sr={sr!r}")
    n_window = 2 * half_window
    max_lag = min(int(np.floor(n_window / periods_per_window)) + 2, n_window)
    # Praat pads to a power of two >= 1.5 windows; any length >= window + the largest
    # lag read (half a window) gives the same, alias-free, autocorrelation. A multiple
    # of 4 whose half is 2^a 3^b 5^c keeps both the FFT and the DCT-I below fast.
    n_fft = 4 * sp_fft.next_fast_len(-(-(n_window + n_window // 2 + 1) // 4))
    window = 0.5 - 0.5 * np.cos(np.arange(1, n_window + 1) * 2 * np.pi / (n_window + 1))
    return _Setup(n_window, half_window, n_period, n_period // 2 + 1, max_lag,
                  int(np.floor(n_window * 0.5)), n_fft, window,
                  _window_autocorrelation(window, n_fft))


def _frame_correlations(x: np.ndarray, left: np.ndarray, s: _Setup,
                        global_peak: float, min_intensity: float, dtype: type = np.float64,
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised autocorrelations and intensities of frames whose left centre
    sample is ``left`` (shape (m,)), in ascending order.

    Only frames at or above ``min_intensity`` get an autocorrelation (the
    others can only be unvoiced). ``dtype``: of the windowed frames, their FFT and
    the DCT. Returns the intensities, shape (m,), the rows analysed, shape (a,),
    and ``r`` for them (float64), shape (a, max_interp_lag + 1)."""
    lo, hi = left + 1 - s.n_period, left + s.n_period + 1
    # Sums over the block's own stretch of x: no running sum of the whole signal
    # (one more float64 copy of it) is kept.
    first = int(lo[0]) if lo.size else 0
    cs = np.concatenate(([0.0], np.cumsum(x[first : int(hi[-1]) if hi.size else first])))
    local_mean = (cs[hi - first] - cs[lo - first]) / (2 * s.n_period)
    start = left + 1 - s.half_window
    view = sliding_window_view(x, s.n_window)
    # The local peak looks half a longest period either side of the centre.
    a = max(0, s.half_window - s.half_period)
    b = min(s.n_window, s.half_window + s.half_period)
    middle = (view[start, a:b] - local_mean[:, None]) * s.window[a:b]
    peak = np.abs(middle).max(axis=1)
    intensity = np.minimum(peak / global_peak, 1.0)
    rows = np.flatnonzero((peak > 0.0) & (intensity >= min_intensity))
    padded = np.zeros((rows.size, s.n_fft), dtype=dtype)  # zero padding written once, in place
    frames = padded[:, : s.n_window]
    frames[:] = view[start[rows]]
    frames -= local_mean[rows, None]
    frames *= s.window
    spec = sp_fft.rfft(padded, axis=1, overwrite_x=True)
    power = spec.real**2 + spec.imag**2
    # The power spectrum is real and even: its inverse FFT is a DCT-I (times a
    # constant that the normalisation by lag 0 removes), with no complex copy.
    ac = sp_fft.dct(power, type=1, axis=1, overwrite_x=True)[:, : s.max_interp_lag + 1]
    r = ac / (ac[:, :1] * s.window_r[: s.max_interp_lag + 1])
    return intensity, rows, r


def _refine_grids() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The evaluation points of :func:`_refine` (in lags from the integer peak):
    coarse, shape (9,), 1/4 lag apart over [-1, 1]; fine, shape (9, 9), 1/32 lag
    apart around each coarse point; and the taps they read, shape (143,)."""
    coarse = np.arange(-_COARSE, _COARSE + 1) / _COARSE
    fine = coarse[:, None] + np.arange(-_FINE, _FINE + 1) / (_COARSE * 2 * _FINE)
    return coarse, fine, np.arange(-_SINC_DEPTH_REFINE - 1, _SINC_DEPTH_REFINE + 2)


def _refine_weights() -> tuple[np.ndarray, np.ndarray]:
    """Depth-70 interpolation weights at the coarse and fine points of
    :func:`_refine_grids`: shapes (143, 9) and (9, 143, 9)."""
    coarse, fine, taps = _refine_grids()
    w_coarse = _sinc_weights(coarse, taps, np.full(coarse.shape, _SINC_DEPTH_REFINE)).T
    w_fine = _sinc_weights(fine, taps, np.full(fine.shape, _SINC_DEPTH_REFINE))
    return w_coarse, np.swapaxes(w_fine, 1, 2)


def _refine(r: np.ndarray, rows: np.ndarray, lags: np.ndarray, s: _Setup,
            weights: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Lag and value of the maximum of the depth-70 sinc interpolant of ``r[row]``
    within one lag of each integer peak ``lags`` (Praat's NUMimproveMaximum, which
    runs Brent's method). Here: the interpolant on a 1/4-lag grid, then on a
    1/32-lag grid around the best point, then the vertex of the parabola through
    the best three (lag within ~1e-5 lags, value within ~1e-9 of the maximum).
    ``weights``: :func:`_refine_weights`. Returns (lag, value), each shape (n,)."""
    coarse, fine, taps = _refine_grids()
    w_coarse, w_fine = weights
    b = s.max_interp_lag
    # r is symmetric: r[-k] = r[k]; beyond +-b the interpolation never reaches.
    neigh = r[rows[:, None], np.minimum(np.abs(lags[:, None] + taps), b)]
    # Praat clips the depth to the samples available on either side of floor(x).
    def depth(u: np.ndarray, lag: np.ndarray) -> np.ndarray:  # u: (m, g), lag: (m,)
        low = lag[:, None] + np.floor(u)
        return np.minimum(_SINC_DEPTH_REFINE, np.minimum(low + b + 1, b - low)).astype(int)

    full = (lags - 2 + b + 1 >= _SINC_DEPTH_REFINE) & (b - (lags + 1) >= _SINC_DEPTH_REFINE)
    part = np.flatnonzero(~full)
    values = neigh @ w_coarse
    if part.size:
        u = np.broadcast_to(coarse, (part.size, coarse.size))
        w = _sinc_weights(u, taps, np.maximum(depth(u, lags[part]), 1))
        values[part] = np.einsum("nm,ngm->ng", neigh[part], w)
    best = np.argmax(values, axis=1)
    values = np.empty((lags.size, fine.shape[1]))
    for k in range(coarse.size):  # the nine coarse points, not the candidates
        sel = np.flatnonzero(full & (best == k))
        values[sel] = neigh[sel] @ w_fine[k]
    if part.size:
        u = fine[best[part]]
        w = _sinc_weights(u, taps, np.maximum(depth(u, lags[part]), 1))
        values[part] = np.einsum("nm,ngm->ng", neigh[part], w)
    best2 = np.clip(np.argmax(values, axis=1), 1, fine.shape[1] - 2)
    n = np.arange(lags.size)
    y0, y1, y2 = values[n, best2 - 1], values[n, best2], values[n, best2 + 1]
    curv = y0 - 2 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(curv < 0, 0.5 * (y0 - y2) / curv, 0.0)
    step = np.clip(step, -1.0, 1.0)
    peak = y1 - 0.25 * (y0 - y2) * step
    lag = lags + fine[best, best2] + step * (fine[0, 1] - fine[0, 0])
    return np.clip(lag, lags - 1.0, lags + 1.0), peak


def _first_strengths(r: np.ndarray, rows: np.ndarray, lags: np.ndarray, s: _Setup
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Praat's first estimate of each peak: parabolic lag, depth-30 sinc strength."""
    r0, r1, r2 = r[rows, lags - 1], r[rows, lags], r[rows, lags + 1]
    lag = lags + 0.5 * (r2 - r0) / (2.0 * r1 - r0 - r2)
    b = s.max_interp_lag
    taps = np.arange(-_SINC_DEPTH_FIRST, _SINC_DEPTH_FIRST + 2)
    low = np.floor(lag)
    depth = np.minimum(_SINC_DEPTH_FIRST, np.minimum(low + b + 1, b - low)).astype(np.int64)
    w = _sinc_weights(lag - lags, taps, np.maximum(depth, 1))
    neigh = r[rows[:, None], np.minimum(np.abs(lags[:, None] + taps), b)]
    value = np.einsum("nm,nm->n", neigh, w)
    return lag, np.where(value > 1.0, 1.0 / value, value)


def _rank_in_row(rows: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal ``rows`` (rows sorted)."""
    if rows.size == 0:
        return rows
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, rows.size]))
    return np.arange(rows.size) - first


def _keep_strongest(r: np.ndarray, rows: np.ndarray, lags: np.ndarray, s: _Setup, sr: float,
                    pitch_floor_hz: float, places: int, octave_cost: float) -> np.ndarray:
    """Mask of the peaks that get one of a frame's ``places`` voiced slots.

    Praat fills the slots in lag order and, once they are full, lets a new peak
    replace the weakest by ``strength - octave_cost * log2(floor / frequency)``
    (first estimates): what stays is each frame's ``places`` strongest by that
    measure. Only frames with more peaks than places need the first estimates.
    """
    keep = np.ones(rows.size, dtype=bool)
    counts = np.bincount(rows, minlength=r.shape[0])
    crowded = counts[rows] > places
    if not crowded.any():
        return keep
    idx = np.flatnonzero(crowded)
    lag, value = _first_strengths(r, rows[idx], lags[idx], s)
    score = value - octave_cost * np.log2(pitch_floor_hz / (sr / lag))
    # Within each crowded frame, rank by score (strongest first; stable in lag order).
    order = np.lexsort((np.arange(idx.size), -score, rows[idx]))
    rank = np.empty(idx.size, dtype=np.int64)
    rank[order] = _rank_in_row(rows[idx][order])
    keep[idx] = rank < places
    return keep


def _candidates(x: np.ndarray, sr: float, centres: np.ndarray, s: _Setup, pitch_floor_hz: float,
                max_candidates: int, voicing_threshold: float, octave_cost: float,
                min_intensity: float, dtype: type = np.float64):
    """Candidates of every frame (frames centred at ``centres``, s), in blocks of frames.

    Frames quieter than ``min_intensity`` (relative to the global peak) keep the
    unvoiced candidate only: no candidate could win there (see :func:`pitch_ac`).
    Returns frequency and strength, shape (max_candidates, n), and intensity, (n,).
    """
    n = centres.size
    freq = np.full((max_candidates, n), np.nan)
    strength = np.full((max_candidates, n), np.nan)
    freq[0], strength[0] = 0.0, 0.0
    intensity = np.zeros(n)
    # max |x - mean| without a temporary copy of the signal (a - b == -(b - a) exactly).
    mean = x.mean() if x.size else 0.0
    global_peak = float(max(x.max() - mean, mean - x.min())) if x.size else 0.0
    if global_peak == 0.0:
        return freq, strength, intensity
    # Sampled_xToLowIndex: the sample at or left of the frame centre (sample i at (i + 1/2)/sr).
    # Praat's own arithmetic: frame centres often fall exactly between two samples.
    dx = 1.0 / sr
    left = np.floor((centres - 0.5 * dx) / dx).astype(np.int64)
    weights = _refine_weights()
    block = max(1, _BLOCK_ELEMENTS // s.n_fft)
    top = min(s.max_lag, s.max_interp_lag)  # peaks at lags 2 .. top - 1
    for b0 in range(0, n, block):  # blocks of frames, not frames
        intensity[b0 : b0 + block], analysed, r = _frame_correlations(
            x, left[b0 : b0 + block], s, global_peak, min_intensity, dtype)
        mid = r[:, 2:top]
        with np.errstate(invalid="ignore"):
            is_peak = ((mid > 0.5 * voicing_threshold) & (mid > r[:, 1 : top - 1])
                       & (mid >= r[:, 3 : top + 1]))
        rows, lags = np.nonzero(is_peak)  # row-major: frames in order, lags increasing
        lags = lags + 2
        frame = b0 + analysed[rows]
        keep = _keep_strongest(r, rows, lags, s, sr, pitch_floor_hz, max_candidates - 1,
                               octave_cost)
        rows, lags, frame = rows[keep], lags[keep], frame[keep]
        if not rows.size:
            continue
        lag, value = _refine(r, rows, lags, s, weights)
        slot = 1 + _rank_in_row(rows)
        freq[slot, frame] = sr / lag
        strength[slot, frame] = np.where(value > 1.0, 1.0 / value, value)
    return freq, strength, intensity


def _stretches(single: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end frames (inclusive) of the stretches between single-choice frames.

    A frame with one usable candidate fixes the path there, so the Viterbi splits
    into stretches from one such frame to the next (sharing it), plus the ends.
    """
    n = single.size
    cuts = np.flatnonzero(single)
    starts, ends = np.r_[0, cuts], np.r_[cuts, n - 1]
    keep = ends > starts
    if n and not keep.any():
        keep[0] = True
    return starts[keep], ends[keep]


def _path(freq: np.ndarray, local: np.ndarray, pitch_ceiling_hz: float, octave_jump_cost: float,
          voiced_unvoiced_cost: float) -> np.ndarray:
    """Praat's ``Pitch_pathFinder`` Viterbi: the slot chosen in each frame, shape (n,).

    ``freq``, ``local``: shape (K, n); ``local`` is each candidate's score (-inf for
    unused slots). The independent stretches (:func:`_stretches`) are solved side
    by side: the loop runs over positions within a stretch, not over frames.
    """
    n = freq.shape[1]
    selected = np.zeros(n, dtype=np.int64)
    if n == 0:
        return selected
    usable = np.isfinite(local)
    starts, ends = _stretches(usable.sum(axis=0) == 1)
    lengths = ends - starts + 1
    voiced = ((freq > 0) & (freq < pitch_ceiling_hz)).T  # (n, K)
    logf = np.log2(np.where(voiced, freq.T, 1.0))
    score = np.where(usable, local, -np.inf).T
    delta = score[starts].copy()  # (m, K)
    psi = np.zeros(score.shape, dtype=np.int16)  # best previous slot, per frame
    stretch = np.arange(starts.size)
    used = usable.sum(axis=0)  # usable slots are 0 .. used - 1
    for p in range(1, int(lengths.max())):  # positions within stretches, all at once
        live = stretch[lengths > p]
        cur = starts[live] + p
        k1, k2 = int(used[cur - 1].max()), int(used[cur].max())  # slots worth looking at
        v1, v2 = voiced[cur - 1, :k1][:, :, None], voiced[cur, :k2][:, None, :]
        jump = np.abs(logf[cur - 1, :k1][:, :, None] - logf[cur, :k2][:, None, :])
        cost = np.where(v1 & v2, octave_jump_cost * jump,
                        np.where(v1 | v2, voiced_unvoiced_cost, 0.0))
        total = delta[live, :k1][:, :, None] - cost  # (live, K previous, K current)
        best = np.argmax(total, axis=1)  # the first maximum, as Praat's strict '>'
        psi[cur, :k2] = best
        delta[live] = -np.inf
        delta[live, :k2] = (np.take_along_axis(total, best[:, None, :], axis=1)[:, 0]
                            + score[cur, :k2])
    place = np.argmax(delta, axis=1)  # each stretch's best end (a single frame: its one)
    for p in range(int(lengths.max()) - 1, -1, -1):  # backtrack, all stretches at once
        live = stretch[lengths > p]
        frames = starts[live] + p
        selected[frames] = place[live]
        place[live] = psi[frames, place[live]]
    return selected


def pitch_ac(
    y: np.ndarray,
    sr: float,
    *,
    time_step_s: float = 0.0,
    pitch_floor_hz: float = 75.0,
    pitch_ceiling_hz: float = 600.0,
    max_candidates: int = 15,
    silence_threshold: float = 0.03,
    voicing_threshold: float = 0.45,
    octave_cost: float = 0.01,
    octave_jump_cost: float = 0.35,
    voiced_unvoiced_cost: float = 0.14,
    periods_per_window: float = 3.0,
    dtype: type = np.float64,
) -> Pitch:
    """Praat's "Sound: To Pitch (ac)..." (Hann window, not "very accurate"), vectorised.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal, analysed as it is (Praat subtracts each frame's local mean).
    sr : float
        Sample rate (Hz).
    time_step_s : float
        Frame step (s); 0 (Praat's "0 = auto") means ``periods_per_window / pitch_floor_hz / 4``.
    pitch_floor_hz, pitch_ceiling_hz : float
        Pitch floor and ceiling (Hz). The window is ``periods_per_window / pitch_floor_hz``;
        the ceiling is capped at the Nyquist frequency.
    max_candidates : int
        Slots per frame, the unvoiced one included (raised to ``ceiling / floor``).
    silence_threshold, voicing_threshold, octave_cost, octave_jump_cost, voiced_unvoiced_cost
        Praat's path-finder settings (its defaults); the two transition costs are
        scaled by ``0.01 / time_step_s`` as in Praat.
    periods_per_window : float
        Window length in periods of the floor (3 in Praat's ac method).
    dtype : {np.float64, np.float32}
        Precision of the windowed frames, their FFT and the DCT (the normalisation,
        the interpolation and the path stay float64). ``np.float32`` is some 1.2x
        faster (one CPU, 5 minutes of the bench interview); there, against float64:
        the same voicing in every frame, F0 within 6e-7 relative, strengths within
        3e-7 (which moved one segment's voice-report HNR in ``test_voice`` to
        0.00075 dB from Praat's, past the report's printed 0.0005: the report's
        pitch keeps float64).

    Returns
    -------
    Pitch
        Candidates, intensities and the chosen path (frames on the last axis).

    Raises
    ------
    ValueError
        For a signal shorter than one window (Praat: "minimum pitch must not be
        less than ..."), or invalid settings (the value is quoted).

    References
    ----------
    Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency
    and the harmonics-to-noise ratio of a sampled sound. Proceedings of the
    Institute of Phonetic Sciences 17, 97-110.
    """
    x = np.ascontiguousarray(y, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"y must be mono, shape (n_samples,), got shape {x.shape!r}")
    if not 0 < pitch_floor_hz < pitch_ceiling_hz:
        raise ValueError(f"need 0 < pitch_floor_hz < pitch_ceiling_hz, got {pitch_floor_hz!r}, "
                         f"{pitch_ceiling_hz!r}")
    if not (np.isfinite(time_step_s) and time_step_s >= 0):
        raise ValueError(f"time_step_s must be >= 0 (0: auto), got {time_step_s!r}")
    dt = time_step_s if time_step_s > 0 else periods_per_window / pitch_floor_hz / 4.0
    max_candidates = max(int(max_candidates), int(np.floor(pitch_ceiling_hz / pitch_floor_hz)))
    duration = x.size / sr
    if pitch_floor_hz < periods_per_window / max(duration, 1e-300):
        raise ValueError(f"a {duration:.4g} s signal is too short for "
                         f"pitch_floor_hz={pitch_floor_hz!r}: "
                         f"it needs at least {periods_per_window / pitch_floor_hz:.4g} s")
    ceiling = min(float(pitch_ceiling_hz), 0.5 * sr)
    s = _setup(sr, pitch_floor_hz, periods_per_window)
    n, t1 = short_term_grid(x.size, sr, periods_per_window / pitch_floor_hz, dt)
    if n < 1:
        raise ValueError(f"a {duration:.4g} s signal gives no pitch frame at "
                         f"pitch_floor_hz={pitch_floor_hz!r}")
    centres = t1 + dt * np.arange(n)
    # A voiced candidate scores at most 1; where the unvoiced score exceeds that by more
    # than two voiced/unvoiced transitions, i.e. below this intensity, the frame is
    # unvoiced whatever its candidates: it needs no autocorrelation.
    correction = 0.01 / dt
    min_intensity = ((1.0 + voicing_threshold - 2.0 * voiced_unvoiced_cost * correction)
                     * silence_threshold / (1.0 + voicing_threshold))
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    freq, strength, intensity = _candidates(x, sr, centres, s, pitch_floor_hz, max_candidates,
                                            voicing_threshold, octave_cost, min_intensity,
                                            dtype)
    unvoiced = voicing_threshold + np.maximum(
        0.0, 2.0 - intensity / (silence_threshold / (1.0 + voicing_threshold))
        if silence_threshold > 0 else 0.0)
    voiced = (freq > 0) & (freq < ceiling)
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.where(voiced, strength - octave_cost * np.log2(ceiling / freq),
                         np.broadcast_to(unvoiced, freq.shape))
    local = np.where(np.isnan(freq), -np.inf, local)
    # A frame whose unvoiced score beats every voiced one by more than two
    # voiced/unvoiced transitions is unvoiced on any best path: keep only that choice.
    forced = unvoiced - np.max(np.where(voiced, local, -np.inf), axis=0) > (
        2.0 * voiced_unvoiced_cost * correction)
    local[1:, forced] = -np.inf
    selected = _path(freq, local, ceiling, octave_jump_cost * correction,
                     voiced_unvoiced_cost * correction)
    return Pitch(x1=float(t1), dx=float(dt), pitch_ceiling_hz=ceiling, frequency=freq,
                 strength=strength, intensity=intensity, selected=selected)
