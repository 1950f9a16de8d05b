"""Syllable nuclei from intensity and voicing (de Jong & Wempe 2009), for speech rate."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d
from scipy.signal import find_peaks

from features.frames import HOP_S, frames_to_time

__all__ = ["nucleus_spans", "syllable_nuclei"]


def syllable_nuclei(
    intensity_db: np.ndarray,
    voiced: np.ndarray,
    *,
    hop_s: float = HOP_S,
    dip_db: float = 2.0,
    silence_db: float = -25.0,
    smooth_s: float = 0.0,
    min_distance_s: float = 0.05,
    speech: np.ndarray | None = None,
    voicing_tolerance_s: float = 0.02,
) -> np.ndarray:
    """Times of syllable nuclei: voiced intensity peaks between dips.

    The intensity contour is smoothed (Gaussian, s.d. ``smooth_s``); a nucleus is
    a local maximum that (1) lies above ``silence_db`` relative to the contour's
    0.99 quantile, (2) stands out from the dips on both sides by at least
    ``dip_db`` (``scipy.signal.find_peaks`` prominence), (3) is voiced (within
    ``voicing_tolerance_s``), and (4)
    is at least ``min_distance_s`` from a higher nucleus. Optionally only
    peaks inside ``speech`` frames count.

    Parameters
    ----------
    intensity_db : np.ndarray, shape (n_frames,)
        Intensity (dB), best the vowel-band contour
        ``features.tracks.intensity_db(y, sr, band_hz=VOWEL_BAND_HZ)``: in the
        broadband contour, sonorant consonants and vowel sequences barely dip
        and nuclei are undercounted by about 20 %.
    voiced : np.ndarray, shape (n_frames,), bool
        Voicing per frame, e.g. ``~np.isnan(f0_hz)``.
    hop_s : float
        Frame hop (s).
    dip_db : float
        Minimum dip (dB) on both sides of a peak; de Jong & Wempe's "minimum
        dip between peaks" (2 dB).
    silence_db : float
        Peak threshold (dB) relative to the 0.99 quantile of the contour; de
        Jong & Wempe's "silence threshold" (-25 dB).
    smooth_s : float
        Standard deviation (s) of an extra Gaussian smoothing of the contour
        (0, the default: the 64 ms intensity window smooths enough).
    min_distance_s : float
        Shortest distance (s) between two nuclei.
    speech : np.ndarray, shape (n_frames,), bool, or None
        Speech activity (:func:`features.activity.voice_activity`); peaks
        outside it are dropped. None: no restriction.
    voicing_tolerance_s : float
        A peak counts as voiced when a voiced frame lies this close (s). The pitch
        tracker's window (3 periods of the pitch floor, 50 ms at 60 Hz) is longer
        than the intensity window, so its first voiced frame lags a vowel's onset by
        up to half of it, while a vowel said with a hard onset is loudest right
        there: real-es MX1's letter "a" (a steady vowel, loudest 10 ms before the
        first voiced frame) had no nucleus at all with 0.

    Returns
    -------
    np.ndarray, shape (n_nuclei,), float64
        Nucleus times (s), increasing.

    References
    ----------
    de Jong, N. H. & Wempe, T. (2009). Praat script to detect syllable nuclei
    and measure speech rate automatically. Behavior Research Methods 41(2),
    385-390.
    """
    level = np.asarray(intensity_db, dtype=np.float64)
    voiced = np.asarray(voiced, dtype=bool)
    if level.ndim != 1 or voiced.shape != level.shape:
        raise ValueError(
            "intensity_db and voiced must both have shape (n_frames,), got "
            f"{level.shape!r} and {voiced.shape!r}"
        )
    if speech is not None:
        speech = np.asarray(speech, dtype=bool)
        if speech.shape != level.shape:
            raise ValueError(f"speech must have shape {level.shape!r}, got {speech.shape!r}")
    if not np.all(np.isfinite(level)):
        raise ValueError("intensity_db must be finite (digital silence has a floor value)")
    if level.size < 3:
        return np.empty(0)
    sigma = smooth_s / hop_s
    contour = gaussian_filter1d(level, sigma, mode="nearest") if sigma > 0 else level
    threshold = np.quantile(contour, 0.99) + silence_db
    peaks, _ = find_peaks(
        contour,
        height=threshold,
        prominence=dip_db,
        distance=max(1, round(min_distance_s / hop_s)),
    )
    reach = max(0, round(voicing_tolerance_s / hop_s))
    keep = maximum_filter1d(voiced.astype(np.uint8), 2 * reach + 1, mode="constant")[peaks] > 0
    if speech is not None:
        keep &= speech[peaks]
    return frames_to_time(peaks[keep], hop_s)


def nucleus_spans(
    intensity_db: np.ndarray,
    nuclei_s: np.ndarray,
    voiced: np.ndarray,
    *,
    hop_s: float = HOP_S,
    drop_db: float = 6.0,
    max_half_s: float = 0.12,
    min_half_s: float = 0.02,
) -> np.ndarray:
    """The vowel around each syllable nucleus: its span on the intensity contour.

    From each nucleus's peak frame, the span grows on both sides over voiced frames
    whose intensity stays within ``drop_db`` of the peak, never past the intensity
    minimum between the nucleus and its neighbour (the syllable boundary of
    Mermelstein 1975), and at most ``max_half_s`` to a side. Without spans, a token
    of fixed width centred on the peak reads the formants where the vowel is
    loudest, which in a CV syllable is often its first third (the release), not
    its steady middle.

    Parameters
    ----------
    intensity_db : np.ndarray, shape (n_frames,)
        The contour the nuclei were found on (dB).
    nuclei_s : np.ndarray, shape (n_nuclei,)
        Nucleus times (s), increasing (:func:`syllable_nuclei`).
    voiced : np.ndarray, shape (n_frames,), bool
    hop_s : float
        Frame hop (s).
    drop_db : float
        Largest fall below the peak (dB) inside the span.
    max_half_s, min_half_s : float
        Longest and shortest extent (s) on each side of the peak.

    Returns
    -------
    np.ndarray, shape (n_nuclei, 2), float64
        Start and end (s) of each span (frame centres +- half a hop).

    References
    ----------
    Mermelstein, P. (1975). Automatic segmentation of speech into syllabic units.
    JASA 58(4), 880-883.
    """
    level = np.asarray(intensity_db, dtype=np.float64)
    voiced = np.asarray(voiced, dtype=bool)
    if level.ndim != 1 or voiced.shape != level.shape:
        raise ValueError("intensity_db and voiced must both have shape (n_frames,), got "
                         f"{level.shape!r} and {voiced.shape!r}")
    times = np.asarray(nuclei_s, dtype=np.float64).ravel()
    if not times.size:
        return np.zeros((0, 2))
    peaks = np.clip(np.rint(times / hop_s).astype(np.int64), 0, level.size - 1)
    # Syllable boundaries: the intensity minimum between consecutive peaks.
    bounds = np.array([p + int(np.argmin(level[p:q + 1])) for p, q in
                       itertools.pairwise(peaks)], dtype=np.int64)
    lo_limit = np.maximum(np.r_[0, bounds], peaks - round(max_half_s / hop_s))
    hi_limit = np.minimum(np.r_[bounds, level.size - 1], peaks + round(max_half_s / hop_s))
    keep = voiced & np.isfinite(level)
    spans = np.empty((times.size, 2))
    for k, (p, a, b) in enumerate(zip(peaks, lo_limit, hi_limit, strict=True)):
        inside = keep[a : b + 1] & (level[a : b + 1] >= level[p] - drop_db)
        inside[p - a] = True
        left = inside[: p - a + 1][::-1]
        right = inside[p - a :]
        n_left = int(np.argmin(left)) if not left.all() else left.size
        n_right = int(np.argmin(right)) if not right.all() else right.size
        spans[k] = (p - n_left + 1, p + n_right - 1)
    half = round(min_half_s / hop_s)
    spans[:, 0] = np.minimum(spans[:, 0], peaks - half)
    spans[:, 1] = np.maximum(spans[:, 1], peaks + half)
    return np.c_[frames_to_time(spans[:, 0], hop_s) - hop_s / 2,
                 frames_to_time(spans[:, 1], hop_s) + hop_s / 2].clip(min=0)
