"""Glottal source: jittered/shimmered KLGLOTT88 flow-derivative pulses + aspiration.

The flow of one cycle of length ``T`` and open quotient ``OQ`` is
``U(tau) = tau**2 - tau**3`` for ``tau = t / (OQ T)`` in [0, 1] and zero in the
closed phase (Klatt & Klatt 1990, KLGLOTT88).  We emit its derivative
``2 tau - 3 tau**2`` (flow derivative = flow through the lip-radiation
differentiator), which ends each open phase with the abrupt negative closure
that excites the vocal tract, followed by a first-order low-pass spectral tilt.

Jitter and shimmer are per-cycle Gaussian perturbations of the period and of
the amplitude.  For i.i.d. ``N(0, s**2)`` perturbations the expected *local*
measure (mean absolute difference of consecutive values over their mean) is
``2 s / sqrt(pi)``, so ``s = local * sqrt(pi) / 2`` plants the requested local
jitter/shimmer.

References
----------
Klatt, D. H., & Klatt, L. C. (1990). Analysis, synthesis, and perception of voice
quality variations among female and male talkers. *JASA*, 87(2), 820-857.
Rosenberg, A. E. (1971). Effect of glottal pulse shape on the quality of natural
vowels. *JASA*, 49(2B), 583-590.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

#: Local (consecutive-difference) measure -> SD of i.i.d. Gaussian perturbations.
LOCAL_TO_SD = float(np.sqrt(np.pi) / 2.0)


def glottal_epochs(
    f0_hz: np.ndarray,
    *,
    sr: int,
    jitter_local: float,
    shimmer_local: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Glottal cycle onsets, periods and amplitudes following an F0 track.

    Parameters
    ----------
    f0_hz : np.ndarray, shape (n_samples,)
        F0 (Hz) at every sample; must be positive everywhere (interpolated
        through unvoiced stretches).
    sr : int
        Sample rate (Hz).
    jitter_local, shimmer_local : float
        Planted local jitter and shimmer (fractions).
    rng : numpy.random.Generator

    Returns
    -------
    onsets_s : np.ndarray, shape (n_cycles,)
        Cycle onset times (s), continuous (not rounded to samples).
    periods_s : np.ndarray, shape (n_cycles,)
    amplitudes : np.ndarray, shape (n_cycles,)
        Relative pulse amplitudes (mean 1).
    """
    n = f0_hz.size
    dur = n / sr
    max_cycles = int(dur * float(f0_hz.max()) * 1.1) + 4
    jit = 1.0 + LOCAL_TO_SD * jitter_local * rng.standard_normal(max_cycles)
    np.clip(jit, 0.8, 1.2, out=jit)
    f0 = f0_hz.tolist()
    onsets = []
    # A loop over cycles (not samples): each period depends on where the
    # previous one ended, so the sequence is inherently sequential.
    t = float(rng.random()) / f0[0]
    k = 0
    while t < dur and k < max_cycles:
        onsets.append(t)
        t += jit[k] / f0[min(int(t * sr), n - 1)]
        k += 1
    onsets_a = np.asarray(onsets)
    periods = np.diff(np.append(onsets_a, t))
    amps = 1.0 + LOCAL_TO_SD * shimmer_local * rng.standard_normal(onsets_a.size)
    np.clip(amps, 0.5, 1.5, out=amps)
    return onsets_a, periods, amps


def klglott88(
    n_samples: int,
    onsets_s: np.ndarray,
    periods_s: np.ndarray,
    amplitudes: np.ndarray,
    *,
    sr: int,
    open_quotient: float = 0.6,
    tilt: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Render KLGLOTT88 flow-derivative pulses at the given epochs.

    Parameters
    ----------
    n_samples : int
    onsets_s, periods_s, amplitudes : np.ndarray, shape (n_cycles,)
        From :func:`glottal_epochs`.
    sr : int
        Sample rate (Hz).
    open_quotient : float
        Fraction of each period the glottis is open.
    tilt : float
        Pole of the one-pole spectral-tilt low-pass, in [0, 1) (0 = no tilt).

    Returns
    -------
    pulses : np.ndarray, shape (n_samples,)
        Flow derivative, peak negative excursion about -1 per cycle.
    open_phase : np.ndarray of bool, shape (n_samples,)
        True inside open phases (gates the aspiration noise).
    """
    t = np.arange(n_samples) / sr
    k = np.searchsorted(onsets_s, t, side="right") - 1
    valid = k >= 0
    kk = np.maximum(k, 0)
    tau = (t - onsets_s[kk]) / (open_quotient * periods_s[kk])
    open_phase = valid & (tau < 1.0)
    pulses = np.where(open_phase, amplitudes[kk] * (2.0 * tau - 3.0 * tau * tau), 0.0)
    if tilt > 0:
        pulses = lfilter([1.0 - tilt], [1.0, -tilt], pulses)
    return pulses, open_phase


def pulse_rms(open_quotient: float) -> float:
    """RMS of the untilted unit-amplitude pulse train (for noise calibration)."""
    # integral_0^1 (2 tau - 3 tau^2)^2 d tau = 4/3 - 3 + 9/5 = 2/15
    return float(np.sqrt(open_quotient * 2.0 / 15.0))
