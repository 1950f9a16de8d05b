"""Time-varying cascade formant filter (Klatt 1980) and parallel frication filters.

Five second-order resonators in cascade, each normalised to unit gain at 0 Hz
(Klatt's ``A = 1 - B - C``), are multiplied into one 10th-order all-pole
polynomial per block (5 ms by default) and run with :func:`scipy.signal.lfilter`.
When the coefficients change between blocks the filter state is rebuilt from
the last ``order`` *outputs* with :func:`scipy.signal.lfiltic` (for an all-pole
filter the past outputs are the physical state; the transposed-direct-form state
of ``lfilter`` is not comparable across coefficient sets).
Consecutive blocks with identical coefficients (steady vowels, closures) are
merged into one call.

References
----------
Klatt, D. H. (1980). Software for a cascade/parallel formant synthesizer.
*JASA*, 67(3), 971-995.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, lfilter, lfiltic, sosfilt


def resonator_polynomials(
    freqs_hz: np.ndarray, bws_hz: np.ndarray, *, sr: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cascade of 2nd-order resonators as one all-pole polynomial per row.

    Parameters
    ----------
    freqs_hz, bws_hz : np.ndarray, shape (n_blocks, n_formants)
        Centre frequencies and -3 dB bandwidths (Hz).
    sr : int
        Sample rate (Hz).

    Returns
    -------
    a : np.ndarray, shape (n_blocks, 2 * n_formants + 1)
        Denominator coefficients, ``a[:, 0] == 1``.
    gain : np.ndarray, shape (n_blocks,)
        Numerator gain giving unit gain at 0 Hz (product of Klatt's ``A``).
    """
    r = np.exp(-np.pi * bws_hz / sr)
    c1 = -2.0 * r * np.cos(2.0 * np.pi * freqs_hz / sr)
    c2 = r * r
    n_blocks, n_form = freqs_hz.shape
    a = np.zeros((n_blocks, 2 * n_form + 1))
    a[:, 0] = 1.0
    order = 0
    for j in range(n_form):
        # Multiply the running polynomial by (1 + c1 z^-1 + c2 z^-2), vectorised over blocks.
        prev = a[:, : order + 1].copy()
        a[:, 1 : order + 2] += c1[:, j : j + 1] * prev
        a[:, 2 : order + 3] += c2[:, j : j + 1] * prev
        order += 2
    gain = np.prod(1.0 + c1 + c2, axis=1)
    return a, gain


def cascade_filter(
    x: np.ndarray,
    freqs_hz: np.ndarray,
    bws_hz: np.ndarray,
    *,
    sr: int = 16000,
    block: int = 80,
) -> np.ndarray:
    """Filter ``x`` through a cascade of time-varying formant resonators.

    Parameters
    ----------
    x : np.ndarray, shape (n_samples,)
        Source signal.
    freqs_hz, bws_hz : np.ndarray, shape (n_blocks, n_formants)
        Formant frequencies and bandwidths (Hz) for each block of ``block``
        samples; ``n_blocks = ceil(n_samples / block)``.
    sr : int
        Sample rate (Hz).
    block : int
        Block length in samples (80 = 5 ms at 16 kHz).

    Returns
    -------
    np.ndarray, shape (n_samples,)
        Filtered signal, float64.
    """
    n = x.size
    n_blocks = -(-n // block)
    if freqs_hz.shape[0] != n_blocks:
        raise ValueError(f"need {n_blocks} blocks of formants, got {freqs_hz.shape[0]}")
    a, gain = resonator_polynomials(freqs_hz, bws_hz, sr=sr)
    order = a.shape[1] - 1
    # Per-sample gain, linearly interpolated between block centres: no steps.
    centres = (np.arange(n_blocks) + 0.5) * block
    xg = x * np.interp(np.arange(n), centres, gain)
    # Merge runs of blocks with identical coefficients into one lfilter call.
    change = np.ones(n_blocks, dtype=bool)
    change[1:] = np.any(a[1:] != a[:-1], axis=1)
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n_blocks)
    ybuf = np.zeros(n + order)  # `order` leading zeros: the state before the signal
    one = np.ones(1)
    for b0, b1 in zip(starts.tolist(), ends.tolist(), strict=True):
        s, e = b0 * block, min(b1 * block, n)
        coeffs = a[b0]
        zi = lfiltic(one, coeffs, ybuf[s : s + order][::-1])  # past outputs, latest first
        ybuf[order + s : order + e] = lfilter(one, coeffs, xg[s:e], zi=zi)[0]
    return ybuf[order:]


#: Parallel noise branches: Butterworth band-pass edges (Hz) and order.
FRICATION_BANDS: dict[str, tuple[float, float, int]] = {
    "s": (3500.0, 7500.0, 4),
    "f": (1000.0, 7500.0, 2),
    "burst_labial": (400.0, 2500.0, 2),
    "burst_alveolar": (2500.0, 7000.0, 2),
    "burst_velar": (1300.0, 3200.0, 2),
}


@lru_cache(maxsize=32)
def frication_sos(name: str, sr: int) -> np.ndarray:
    """Second-order sections of the parallel band-pass named ``name``."""
    lo, hi, order = FRICATION_BANDS[name]
    return butter(order, [lo, min(hi, 0.47 * sr)], btype="bandpass", fs=sr, output="sos")


def frication_noise(noise: np.ndarray, name: str, *, sr: int) -> np.ndarray:
    """Band-pass ``noise`` (shape (n_samples,)) through the branch ``name``."""
    return sosfilt(frication_sos(name, sr), noise)
