"""Glottal pulses: Praat's "Sound & Pitch: To PointProcess (cc)", in NumPy.

The pulses that jitter and shimmer are measured on, placed from a pitch
analysis as Praat 6.1 places them (``Pitch_to_PointProcess.cpp``,
``Sound_Pitch_to_PointProcess_cc``):

1. the voiced stretches are the runs of voiced pitch frames, each frame counting
   whole (``[centre - dx/2, centre + dx/2]``, clipped to the signal);
2. in each stretch the first pulse is the sample of largest absolute amplitude
   within half a period of the stretch's middle (parabolic interpolation);
3. from it, one walk towards each end: at the pitch ``f0`` of the current pulse
   (linear interpolation between frames), the next pulse is where a window of one
   period around the current pulse correlates best (normalised, not mean-removed)
   with the signal 0.8 to 1.25 periods further on (the first highest local
   maximum over whole-sample shifts, refined by a parabola). It counts when the
   correlation exceeds 0.3 and the window's peak 1% of the recording's; the walk
   stops where the pitch is undefined or where it leaves the stretch (that last
   pulse counts at a correlation above 0.7 and a peak above 2.3%);
4. a pulse of a leftward walk is dropped within 0.8 periods of the last pulse a
   rightward walk of an earlier stretch added ("do not fill in a short originally
   unvoiced interval twice").

Each pulse depends on the one before it, so a walk is sequential; the walks (two
per stretch) are independent of each other, so they run side by side: each step
of the loop advances every unfinished walk at once, with the correlations of all
their shifts from one batched product, and the loop runs as many times as the
longest walk has pulses, not once per pulse. A batched step costs some hundred
NumPy calls whatever its size, so the last few walks (``_FEW_WALKS``) finish one
by one in a scalar loop of about twenty calls per pulse. Rule 4 links stretches
only through which pulses are kept, so it is applied afterwards.

Written by hand because no library places pulses as Praat does (Parselmouth
calls Praat itself).

References
----------
Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual page
"Sound & Pitch: To PointProcess (cc)"; sources fon/Pitch_to_PointProcess.cpp,
fon/Sampled.cpp (praat/praat on GitHub).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from features.validation import ParameterError, check_signal

__all__ = ["glottal_pulses"]

# Praat's thresholds: a pulse inside a stretch needs a correlation above 0.3 and a
# window peak above 1% of the recording's; the pulse that leaves it, 0.7 and 2.3333%.
_MIN_CORRELATION = 0.3
_MIN_PEAK = 0.01
_MIN_CORRELATION_EDGE = 0.7
_MIN_PEAK_EDGE = 0.023333
# The search for the next pulse: 0.8 to 1.25 periods on; pulses of a leftward walk
# closer than 0.8 periods to an earlier stretch's last rightward pulse are dropped.
_SEARCH_NEAR, _SEARCH_FAR = 0.8, 1.25
# Below this many unfinished walks, each finishes alone in a scalar loop.
_FEW_WALKS = 8
# Stretches walked in one batch (a batch's arrays hold 2 x this many windows).
_MAX_STRETCHES = 512
# A step's walks are correlated in groups of similar periods of at most this many
# (a group costs some sixty NumPy calls, ~0.3 ms, whatever its size).
_GROUP_WALKS = 128


def _ifloor(v: np.ndarray) -> np.ndarray:
    return np.floor(v).astype(np.intp)


def _pitch_at(
    t: np.ndarray, f0_padded: np.ndarray, x1: float, dx: float, t_max: float
) -> np.ndarray:
    """Praat's ``Pitch_getValueAtTime`` (linear): F0 (Hz) at each time, NaN where undefined.

    ``f0_padded``: the frames' F0, NaN where unvoiced, with a NaN frame added at
    each end (shape (n_frames + 2,)), so that Praat's 1-based frame ``i`` is
    ``f0_padded[i]``. The nearer frame must be voiced; an unvoiced or missing
    farther frame gives the nearer frame's value. NaN outside ``[0, t_max]``.
    """
    index = (t - x1) / dx + 1.0  # Sampled_xToIndex
    left = np.floor(index)
    phase = index - left
    up = phase >= 0.5
    last = f0_padded.size - 1
    near = np.minimum(np.maximum(left + up, 0), last).astype(np.intp)
    far = np.minimum(np.maximum(left + 1 - up, 0), last).astype(np.intp)
    phase = np.where(up, 1.0 - phase, phase)
    f_near, f_far = f0_padded[near], f0_padded[far]
    value = np.where(np.isnan(f_far), f_near, f_near + phase * (f_far - f_near))
    return np.where((t >= 0.0) & (t <= t_max), value, np.nan)


def _stretches(
    f0: np.ndarray, x1: float, dx: float, domain: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Praat's ``Pitch_getVoicedIntervalAfter`` in turn: the voiced stretches' ends (s),
    each shape (n_stretches,)."""
    voiced = np.concatenate(([False], ~np.isnan(f0), [False]))
    edges = np.flatnonzero(voiced[1:] != voiced[:-1])
    first, last = edges[::2], edges[1::2] - 1  # 0-based frame indices
    t_left = x1 + first * dx - 0.5 * dx
    t_right = x1 + last * dx + 0.5 * dx
    keep = t_left < domain[1] - 0.5 * dx  # later stretches lie further right still
    return np.maximum(t_left[keep], domain[0]), np.minimum(t_right[keep], domain[1])


def _first_pulses(x: np.ndarray, sr: float, t_mid: np.ndarray, f0_mid: np.ndarray) -> np.ndarray:
    """Praat's ``Sound_findExtremum`` (maxima and minima, parabolic) within half a
    period of each stretch's middle: the time (s) of its first pulse, shape (n,)."""
    dx, x1 = 1.0 / sr, 0.5 / sr  # Praat's Sound grid; indices as Sampled_xTo*Index
    lo = np.maximum(_ifloor((t_mid - 0.5 / f0_mid - x1) / dx + 1.0), 1)
    hi = np.minimum(np.ceil((t_mid + 0.5 / f0_mid - x1) / dx + 1.0).astype(np.intp), x.size)
    n = hi - lo + 1
    width = int(max(n.max(initial=0), 1))
    cols = np.arange(width)
    inside = cols < n[:, None]
    v = (
        x[np.clip(lo[:, None] - 1 + cols, 0, max(x.size - 1, 0))]
        if x.size
        else np.zeros((n.size, width))
    )
    i_min = np.argmin(np.where(inside, v, np.inf), axis=1)  # first minimum, as Praat's "<"
    i_max = np.argmax(np.where(inside, v, -np.inf), axis=1)
    rows = np.arange(n.size)
    v_min, v_max = v[rows, i_min], v[rows, i_max]
    extremum = np.where(np.abs(v_min) > np.abs(v_max), i_min, i_max)  # 0-based in window
    mid = v[rows, extremum]
    left = v[rows, np.maximum(extremum - 1, 0)]
    right = v[rows, np.minimum(extremum + 1, width - 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = 0.5 * (right - left) / (2.0 * mid - left - right)
    inner = (extremum > 0) & (extremum < n - 1)
    position = extremum + 1.0 + np.where(inner, offset, 0.0)  # 1-based within the window
    position = np.where(v_min == v_max, 0.5 * (n + 1.0), position)  # all equal
    # Fewer than three samples: one is the extremum; of two, the larger in magnitude.
    two = np.abs(v[rows, 0]) - np.abs(v[rows, np.minimum(1, width - 1)])
    position = np.where(n == 1, 1.0, position)
    position = np.where(n == 2, np.where(two > 0, 1.0, np.where(two < 0, 2.0, 1.5)), position)
    t = x1 + (lo - 1 + position - 1.0) * dx
    return np.where(n <= 0, t_mid, t)


def _pair_ranges(
    left1: np.ndarray, left2: np.ndarray, width: np.ndarray, n: int, w_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """The window positions ``j`` whose two samples (1-based ``left1 + j`` and
    ``left2 + j``) both lie in the signal: ``[j_lo, j_hi]`` per walk and shift,
    shape (m, n_shifts) (empty where ``j_hi < j_lo``)."""
    j_lo = np.maximum(np.maximum(0, 1 - left1)[:, None], 1 - left2)
    j_hi = np.minimum(np.minimum(width - 1, n - left1)[:, None], n - left2)
    j_lo = np.minimum(j_lo, w_max)
    return j_lo, np.clip(j_hi, j_lo - 1, w_max - 1)


def _max_correlation(
    x: np.ndarray,
    sr: float,
    t1: np.ndarray,
    f0: np.ndarray,
    t_min2: np.ndarray,
    t_max2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Praat's ``Sound_findMaximumCorrelation`` for a batch of walks, shape (m,) each.

    ``x``: the signal (sample ``i``, 1-based, at ``x[i - 1]``, time ``(i - 0.5) / sr``).
    The window of one period ``1 / f0``
    around ``t1`` is correlated with the windows starting half a period before each
    sample time in ``[t_min2, t_max2]``; samples outside the signal are left out of
    every sum, as in Praat. Returns (correlation, time (s), window peak):
    correlation -1 (and ``t1``, peak 0) where no shift is a local maximum.
    """
    dx, x1 = 1.0 / sr, 0.5 / sr  # Praat's Sound grid; indices as Sampled_xTo*Index
    half = 0.5 * (1.0 / f0)
    left1 = _ifloor((t1 - half - x1) / dx + 1.0 + 0.5)
    right1 = _ifloor((t1 + half - x1) / dx + 1.0 + 0.5)
    left2_min = _ifloor((t_min2 - half - x1) / dx + 1.0)
    n_lags = np.ceil((t_max2 - half - x1) / dx + 1.0).astype(np.intp) - left2_min + 1
    width = right1 - left1 + 1
    w_max, l_max, m = int(width.max()), int(n_lags.max()), t1.size
    n = x.size
    cols, lags, rows = np.arange(w_max), np.arange(l_max), np.arange(m)[:, None]
    in_window = cols < width[:, None]
    n_x2 = l_max + w_max - 1
    within = left1.min() >= 1 and left1.max() + w_max - 1 <= n
    if within and left2_min.min() >= 1 and left2_min.max() + n_x2 - 1 <= n:
        # Rows of strided views of the signal: no index arrays.
        w1 = np.where(in_window, sliding_window_view(x, w_max)[left1 - 1], 0.0)
        x2 = sliding_window_view(x, n_x2)[left2_min - 1]
    else:  # samples beyond the signal read as zeros: they add nothing to any sum
        at1 = (left1 - 1)[:, None] + cols  # 0-based sample of each window position
        at2 = (left2_min - 1)[:, None] + np.arange(n_x2)
        w1 = np.where(in_window & (at1 >= 0) & (at1 < n), x[np.clip(at1, 0, n - 1)], 0.0)
        x2 = np.where((at2 >= 0) & (at2 < n), x[np.clip(at2, 0, n - 1)], 0.0)
    stride = x2.strides[1]
    shifted = as_strided(x2, (m, l_max, w_max), (x2.strides[0], stride, stride), writeable=False)
    product = np.einsum("slw,sw->sl", shifted, w1)
    c2 = np.zeros((m, n_x2 + 1))
    np.cumsum(x2 * x2, axis=1, out=c2[:, 1:])
    first = rows * (n_x2 + 1) + lags  # flat index of c2[s, k]
    inside = (
        left1.min() >= 1
        and right1.max() <= n
        and left2_min.min() >= 1
        and (left2_min + n_lags + width).max() <= n + 2
    )
    if inside:  # the usual case: no window reaches beyond the signal
        norm1 = np.einsum("sw,sw->s", w1, w1)[:, None]
        norm2 = c2.take(first + width[:, None]) - c2[:, :l_max]
    else:
        j_lo, j_hi = _pair_ranges(left1, left2_min[:, None] + lags, width, n, w_max)
        c1 = np.zeros((m, w_max + 1))
        np.cumsum(w1 * w1, axis=1, out=c1[:, 1:])
        norm1 = c1[rows, j_hi + 1] - c1[rows, j_lo]
        norm2 = c2.take(first + j_hi + 1) - c2.take(first + j_lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(product != 0.0, product / np.sqrt(norm1 * norm2), 0.0)
    # Praat tests shift k - 1 once it has shift k, starting from two zeros: with
    # rx[:, c + 2] the correlation of shift c (c = -2, -1: those zeros; NaN past the
    # walk's last shift, which is never a centre), centre c = -1 .. l_max - 1.
    rx = np.zeros((m, l_max + 3))
    rx[:, 2:-1] = np.where(lags < n_lags[:, None], r, np.nan)
    rx[:, -1] = np.nan
    before, centre, after = rx[:, :-2], rx[:, 1:-1], rx[:, 2:]
    ok = (centre > -1.0) & (centre >= before) & (centre >= after)
    best = np.argmax(np.where(ok, centre, -np.inf), axis=1)  # the first, as Praat's ">"
    row = rows[:, 0]
    found = ok[row, best]
    r_best, r_before, r_after = centre[row, best], before[row, best], after[row, best]
    d2r = 2.0 * r_best - r_before - r_after
    dr = 0.5 * (r_after - r_before)
    curved = d2r != 0.0
    d2r = np.where(curved, d2r, 1.0)
    correlation = np.where(curved, r_best + 0.5 * dr * dr / d2r, r_best)
    shift = (left2_min + best - 1) + np.where(curved, dr / d2r, 0.0)
    # Praat keeps the peak of the window it had just computed: shift best.
    window2 = np.abs(x2.take((rows * n_x2 + best[:, None]) + cols))
    if not inside:
        j_lo, j_hi = j_lo[row, best][:, None], j_hi[row, best][:, None]
        in_window = (cols >= j_lo) & (cols <= j_hi)
    peak = np.max(np.where(in_window, window2, 0.0), axis=1)
    return (
        np.where(found, correlation, -1.0),
        np.where(found, t1 + (shift - left1) * dx, t1),
        np.where(found, peak, 0.0),
    )


def glottal_pulses(
    y: np.ndarray,
    sr: float,
    f0_hz: np.ndarray,
    *,
    x1: float,
    dx: float,
    pitch_ceiling_hz: float = np.inf,
) -> np.ndarray:
    """Glottal pulse times, as Praat's "Sound & Pitch: To PointProcess (cc)" places them.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal (sample ``i`` at ``(i + 0.5) / sr`` s, as Praat's Sound).
    sr : float
        Sample rate (Hz).
    f0_hz : np.ndarray, shape (n_frames,)
        The pitch analysis's chosen F0 per frame (Hz); 0 or NaN where unvoiced
        (e.g. :attr:`features.pitch.Pitch.selected_frequency`). The analysis spans
        the signal, ``[0, n_samples / sr]``, as Praat's "To Pitch" does.
    x1 : float
        Centre (s) of frame 0.
    dx : float
        Frame step (s).
    pitch_ceiling_hz : float
        Frames at or above it count as unvoiced (Praat's Pitch ceiling).

    Returns
    -------
    np.ndarray, shape (n_pulses,), float64
        Pulse times (s), increasing.

    Raises
    ------
    ParameterError
        For an invalid signal, frame grid or F0 array (the value is quoted).

    References
    ----------
    Boersma, P. & Weenink, D. Praat: doing phonetics by computer. Manual page
    "Sound & Pitch: To PointProcess (cc)"; source fon/Pitch_to_PointProcess.cpp.
    """
    x = check_signal(y, sr)
    f = np.asarray(f0_hz, dtype=np.float64)
    if f.ndim != 1:
        raise ParameterError(f"f0_hz must have shape (n_frames,), got {f.shape!r}")
    if not (np.isfinite(x1) and np.isfinite(dx) and dx > 0):
        raise ParameterError(f"need a finite x1 and dx > 0, got x1={x1!r}, dx={dx!r}")
    if np.any(f < 0) or np.any(np.isinf(f)):
        raise ParameterError(
            f"f0_hz must be >= 0 (0 or NaN: unvoiced), got {np.nanmin(f)!r}"
            if np.any(f < 0)
            else "f0_hz must not be infinite"
        )
    f0 = np.where((f > 0) & (f < pitch_ceiling_hz), f, np.nan)
    f0_padded = np.concatenate(([np.nan], f0, [np.nan]))
    domain = (0.0, x.size / float(sr))
    t_left, t_right = _stretches(f0, float(x1), float(dx), domain)
    t_mid = 0.5 * (t_left + t_right)
    f0_mid = _pitch_at(t_mid, f0_padded, x1, dx, domain[1])
    keep = ~np.isnan(f0_mid)  # always, for a stretch of voiced frames
    t_left, t_right, t_mid, f0_mid = t_left[keep], t_right[keep], t_mid[keep], f0_mid[keep]
    if t_mid.size == 0 or x.size == 0:
        return np.zeros(0)
    first = _first_pulses(x, float(sr), t_mid, f0_mid)
    walked = _walk(x, float(sr), f0_padded, float(x1), float(dx), first, t_left, t_right)
    return np.unique(np.concatenate((first, walked)))  # Praat adds no point twice


@dataclass(frozen=True)
class _Signal:
    """What every step of a walk reads: the signal, its peak, and the pitch
    (``f0_padded`` as in :func:`_pitch_at`, also as a list for the scalar walk)."""

    x: np.ndarray
    sr: float
    global_peak: float
    f0_padded: np.ndarray
    f0_list: list[float]
    x1: float
    dx: float

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.x.size

    def counts(self, r, peak, beyond):
        """Praat's rule for keeping a pulse (arrays or scalars alike)."""
        edge = (r > _MIN_CORRELATION_EDGE) & (peak > _MIN_PEAK_EDGE * self.global_peak)
        inner = (r > _MIN_CORRELATION) & ((peak == 0.0) | (peak > _MIN_PEAK * self.global_peak))
        return np.where(beyond, edge, inner)


def _walk(
    x: np.ndarray,
    sr: float,
    f0_padded: np.ndarray,
    x1: float,
    dx: float,
    first: np.ndarray,
    t_left: np.ndarray,
    t_right: np.ndarray,
) -> np.ndarray:
    """The pulses of the leftward and rightward walks from each stretch's first pulse
    (shape (n_stretches,) each); returns their times (s), unsorted. ``f0_padded`` as
    in :func:`_pitch_at`.

    While more than ``_FEW_WALKS`` walks are unfinished they advance side by side;
    the last few finish one by one, in a scalar loop: a batched step costs some
    hundred NumPy calls whatever its size, a scalar step about twenty.
    """
    n_str = first.size
    sig = _Signal(x, sr, float(np.max(np.abs(x))), f0_padded, f0_padded.tolist(), x1, dx)
    # Walk w < n_str goes left from stretch w's first pulse, walk n_str + w right.
    t = np.concatenate((first, first))
    sign = np.repeat([-1.0, 1.0], n_str)
    bound = np.concatenate((t_left, t_right))
    steps = []
    for a in range(0, n_str, _MAX_STRETCHES):  # bounded batches, whatever the recording
        active = np.zeros(2 * n_str, dtype=bool)
        active[a : a + _MAX_STRETCHES] = active[n_str + a : n_str + a + _MAX_STRETCHES] = True
        for _ in range(x.size + 2):  # each step moves every walk on by > 0.1 sample
            walk = np.flatnonzero(active)
            if walk.size <= _FEW_WALKS:
                break
            done, counted = _batch_step(sig, walk, t, sign, bound)
            active[done] = False
            steps.append(counted)
        for w in np.flatnonzero(active):
            times, f_at = _walk_one(sig, float(t[w]), float(sign[w]), float(bound[w]))
            steps.append((np.full(len(times), w), np.array(times), np.array(f_at)))
    if not steps:
        return np.zeros(0)
    walk, times, f_at = (np.concatenate(a) for a in zip(*steps, strict=True))
    return times[_not_filled_twice(walk, times, f_at, n_str)]


def _batch_step(
    sig: _Signal, walk: np.ndarray, t: np.ndarray, sign: np.ndarray, bound: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """One step of every walk in ``walk`` (indices into ``t``, ``sign`` (-1: leftward),
    ``bound`` (the stretch's end it walks to)); updates ``t`` in place. Returns the
    walks that ended and (walk, time, F0) of the pulses counted."""
    now = t[walk]
    f = _pitch_at(now, sig.f0_padded, sig.x1, sig.dx, sig.x.size / sig.sr)
    defined = ~np.isnan(f)  # off the voiced frames a walk ends, adding nothing
    ended = walk[~defined]
    walk, now, f = walk[defined], now[defined], f[defined]
    if walk.size == 0:
        return ended, (walk, now, f)
    s = sign[walk]
    # The search spans t - 1.25 / f0 ... t - 0.8 / f0 leftwards, t + 0.8 / f0 ... rightwards.
    near, far = (
        np.where(s < 0, -_SEARCH_FAR, _SEARCH_NEAR),
        np.where(s < 0, -_SEARCH_NEAR, _SEARCH_FAR),
    )
    r, t_new, peak = _correlate_grouped(sig, now, f, now + near / f, now + far / f)
    t_new = np.where(r == -1.0, now + s * (1.0 / f), t_new)  # that period drops out
    beyond = s * (t_new - bound[walk]) > 0.0
    counts = sig.counts(r, peak, beyond)
    t[walk] = t_new
    return np.concatenate((ended, walk[beyond])), (walk[counts], t_new[counts], f[counts])


def _correlate_grouped(
    sig: _Signal, t1: np.ndarray, f0: np.ndarray, t_min2: np.ndarray, t_max2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_max_correlation` for many walks, in groups of similar periods.

    A batch pads every walk's window and shifts to its longest period's: on the
    bench's two-voice interview (75-600 Hz) 63% of the products were of padding, and
    a batch of ~900 walks outgrew the caches (27 us a walk against 15 at 200).
    Walks sorted by period and cut into groups of at most ``_GROUP_WALKS`` give each
    group its own padding; the rows are independent, so the results are the same."""
    m = t1.size
    n_groups = -(-m // _GROUP_WALKS)
    if n_groups <= 1:
        return _max_correlation(sig.x, sig.sr, t1, f0, t_min2, t_max2)
    order = np.argsort(f0, kind="stable")
    r, t_new, peak = np.empty(m), np.empty(m), np.empty(m)
    for part in np.array_split(order, n_groups):
        r[part], t_new[part], peak[part] = _max_correlation(
            sig.x, sig.sr, t1[part], f0[part], t_min2[part], t_max2[part]
        )
    return r, t_new, peak


def _walk_one(sig: _Signal, t: float, sign: float, bound: float) -> tuple[list[float], list[float]]:
    """One walk from ``t`` to its end, scalar: the (times, F0s) of the pulses counted."""
    near, far = (-_SEARCH_FAR, -_SEARCH_NEAR) if sign < 0 else (_SEARCH_NEAR, _SEARCH_FAR)
    f0, t_max, n_frames = sig.f0_list, sig.n / sig.sr, len(sig.f0_list) - 2
    times, f_at = [], []
    while True:
        # Pitch_getValueAtTime (linear), as _pitch_at.
        if not 0.0 <= t <= t_max:
            break
        index = (t - sig.x1) / sig.dx + 1.0
        left = math.floor(index)
        phase = index - left
        near_i, far_i = (left, left + 1) if phase < 0.5 else (left + 1, left)
        phase = phase if phase < 0.5 else 1.0 - phase
        f_near = f0[near_i] if 1 <= near_i <= n_frames else math.nan
        f_far = f0[far_i] if 1 <= far_i <= n_frames else math.nan
        f = f_near if math.isnan(f_far) else f_near + phase * (f_far - f_near)
        if math.isnan(f):
            break
        found = _correlate_one(sig, t, f, t + near / f, t + far / f)
        if found is None:  # a window reaches beyond the signal: the batched version
            found = tuple(
                float(v[0])
                for v in _max_correlation(
                    sig.x,
                    sig.sr,
                    np.array([t]),
                    np.array([f]),
                    np.array([t + near / f]),
                    np.array([t + far / f]),
                )
            )
        r, t_new, peak = found
        if r == -1.0:
            t_new = t + sign * (1.0 / f)
        beyond = sign * (t_new - bound) > 0.0
        if sig.counts(r, peak, beyond):
            times.append(t_new)
            f_at.append(f)
        t = t_new
        if beyond:
            return times, f_at
    return times, f_at


def _correlate_one(
    sig: _Signal, t1: float, f0: float, t_min2: float, t_max2: float
) -> tuple[float, float, float] | None:
    """:func:`_max_correlation` for one walk, when its windows lie inside the signal
    (else None): (correlation, time (s), window peak)."""
    dx, x1 = 1.0 / sig.sr, 0.5 / sig.sr
    half = 0.5 * (1.0 / f0)
    left1 = math.floor((t1 - half - x1) / dx + 1.0 + 0.5)
    right1 = math.floor((t1 + half - x1) / dx + 1.0 + 0.5)
    left2_min = math.floor((t_min2 - half - x1) / dx + 1.0)
    n_lags = math.ceil((t_max2 - half - x1) / dx + 1.0) - left2_min + 1
    width = right1 - left1 + 1
    if left1 < 1 or right1 > sig.n or left2_min < 1 or left2_min + n_lags + width > sig.n + 2:
        return None
    w1 = sig.x[left1 - 1 : right1]
    x2 = sig.x[left2_min - 1 : left2_min + n_lags + width - 2]
    product = np.correlate(x2, w1)  # product[k]: x2[k:k + width] . w1
    c2 = np.zeros(x2.size + 1)
    np.cumsum(x2 * x2, out=c2[1:])
    norms = np.sqrt(np.dot(w1, w1) * (c2[width:] - c2[:-width]))
    r = np.divide(product, norms, out=np.zeros(n_lags), where=product != 0.0).tolist()
    # Praat's own loop over the shifts (a few dozen): the first highest local maximum.
    best, r1, r2, r3 = -1.0, 0.0, 0.0, 0.0
    for k, value in enumerate(r):
        r1, r2, r3 = r2, r3, value
        if r2 > best and r2 >= r1 and r2 >= r3:
            best, r_before, r_after, centre = r2, r1, r3, k - 1
    if best == -1.0:
        return -1.0, t1, 0.0
    shift = float(left2_min + centre)
    d2r = 2.0 * best - r_before - r_after
    if d2r != 0.0:
        dr = 0.5 * (r_after - r_before)
        best += 0.5 * dr * dr / d2r
        shift += dr / d2r
    peak = float(np.max(np.abs(x2[centre + 1 : centre + 1 + width])))  # shift centre + 1
    return best, t1 + (shift - left1) * dx, peak


def _not_filled_twice(
    walk: np.ndarray, times: np.ndarray, f_at: np.ndarray, n_str: int
) -> np.ndarray:
    """Praat's "addedRight" rule: a pulse of stretch k's leftward walk (``walk < n_str``)
    within 0.8 periods of the last pulse added by the rightward walk of the latest
    earlier stretch that added one is dropped. Returns the mask of pulses kept."""
    stretch = walk % n_str
    is_right = walk >= n_str
    last_right = np.full(n_str, -np.inf)
    np.maximum.at(last_right, stretch[is_right], times[is_right])  # walks go one way
    latest = np.maximum.accumulate(np.where(np.isfinite(last_right), np.arange(n_str), -1))
    before = np.concatenate(([-1], latest[:-1]))  # per stretch: latest earlier one with one
    added_right = np.where(before >= 0, last_right[np.maximum(before, 0)], -1e308)
    return is_right | (times - added_right[stretch] > _SEARCH_NEAR / f_at)
