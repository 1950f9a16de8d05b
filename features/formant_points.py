"""Where a vowel token's formants are read: values of frame tracks at proportions
of each token, raw or smoothed, and the F1-maximum measurement point.

A token's frames are the formant frames whose centres lie inside it
(:func:`features.formants.select_ceilings` finds them). :func:`formant_track_at`
reads any frame tracks (F1-F3, B1-B3) at proportions of each token's frames,
either by linear interpolation between the two nearest frames (FAVE-style raw
values) or from a discrete-cosine-transform fit of the track (Fast Track's smoothed
values); tokens with the same number of frames are read together. The same DCT
basis and gap filling serve the ceiling choice in :mod:`features.formants`.
``_f1_max_values`` finds each token's F1 maximum within :data:`F1_MAX_SPAN` on
F1's slow arc (a 3-term DCT fit) and reads F1-F3 and B1-B3 there.

References
----------
Barreda, S. (2021). Fast Track: fast (nearly) automatic formant-tracking using
Praat. *Linguistics Vanguard* 7(1), 20200051.
Labov, W., Rosenfelder, I. & Fruehwald, J. (2013). One hundred years of sound
change in Philadelphia. *Language* 89(1), 30-65 (F1-maximum measurement point).
Rosenfelder, I., Fruehwald, J., Evanini, K., Seyfarth, S., Gorman, K., Prichard,
H. & Yuan, J. (2014). FAVE (Forced Alignment and Vowel Extraction) Program Suite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only an annotation: features.formants imports this module
    from features.formants import FormantTracks

__all__ = ["F1_MAX_SPAN", "MEASUREMENT_POINTS", "formant_track_at"]

#: Where F1-F3 (``f1_hz`` ...) are read: "f1_max", the F1 maximum inside
#: :data:`F1_MAX_SPAN`, or "midpoint" (50 %).
MEASUREMENT_POINTS = ("f1_max", "midpoint")
#: Proportions of the token searched for its F1 maximum (edges: consonant transitions).
F1_MAX_SPAN = (0.2, 0.8)
#: Proportions per token at which the F1 maximum is looked for (2.5 % apart).
_SEARCH_STEPS = 25
#: DCT terms of the F1 track on which its maximum is found.
_ARC_COEFFICIENTS = 3


def _dct_basis(n: int, order: int, u: np.ndarray | None = None) -> np.ndarray:
    """DCT-II basis, shape (len(u), order), at fractional frame positions ``u``."""
    u = np.arange(n, dtype=np.float64) if u is None else u
    k = np.arange(order, dtype=np.float64)
    return np.cos(np.pi * np.outer(u + 0.5, k) / n)


def _fill_missing(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaNs along the last axis by the mean of the finite values (NaN if none).

    Returns the filled array and the number of missing frames, same shape minus the
    last axis.
    """
    ok = np.isfinite(v)
    n_ok = ok.sum(axis=-1)
    s = np.where(ok, v, 0.0).sum(axis=-1)
    mean = np.divide(s, n_ok, out=np.full(s.shape, np.nan), where=n_ok > 0)
    return np.where(ok, v, mean[..., None]), v.shape[-1] - n_ok


def formant_track_at(
    values: np.ndarray,
    lo: np.ndarray,
    n_frames: np.ndarray,
    proportions: np.ndarray,
    *,
    index: np.ndarray | None = None,
    n_coefficients: int | None = None,
) -> np.ndarray:
    """Values of frame tracks at proportions of each token's frames.

    Parameters
    ----------
    values : np.ndarray, shape (n_tracks, n_frames_total) or (n_ceilings, n_tracks, n_frames_total)
        Frame tracks (e.g. F1-F3, Hz); with a leading ceiling axis, token ``i``
        reads ceiling ``index[i]`` (its chosen ceiling).
    lo, n_frames : np.ndarray, shape (n_tokens,)
        First frame and number of frames of each token.
    proportions : np.ndarray, shape (n_points,)
        Positions in [0, 1] along each token (0: its first frame centre, 1: its last).
    n_coefficients : int or None
        None: linear interpolation between the two nearest frames (raw values,
        FAVE-style). An int: the value of the ``n_coefficients``-term DCT fit of
        the track (Fast Track's smoothed value), which tempers frame-to-frame noise.

    Returns
    -------
    np.ndarray, shape (n_tokens, n_tracks, n_points)
        NaN for tokens without frames (and, for raw values, where a frame is NaN).
    """
    lo = np.asarray(lo, dtype=np.int64)
    nfr = np.asarray(n_frames, dtype=np.int64)
    p = np.asarray(proportions, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    per_token = vals.ndim == 3
    if per_token and index is None:
        raise ValueError("formant_track_at needs index= with 3-D values (one ceiling per token)")
    n_tracks = vals.shape[-2]
    out = np.full((lo.size, n_tracks, p.size), np.nan)
    for n in np.unique(nfr[nfr > 0]):
        sel = np.flatnonzero(nfr == n)
        idx = lo[sel, None] + np.arange(n)  # (G, n)
        if per_token:
            ci = np.asarray(index, dtype=np.int64)[sel]
            v = vals[ci[:, None, None], np.arange(n_tracks)[None, :, None], idx[:, None, :]]
        else:
            v = np.moveaxis(vals[:, idx], 0, 1)  # (G, tracks, n)
        u = p * (n - 1)  # fractional frame positions
        if n_coefficients is None:
            i0 = np.clip(np.floor(u).astype(np.int64), 0, n - 1)
            i1 = np.minimum(i0 + 1, n - 1)
            w = u - i0
            out[sel] = v[..., i0] * (1 - w) + v[..., i1] * w
        else:
            fv, _ = _fill_missing(v)
            k = min(int(n_coefficients), int(n))
            coef = fv @ np.linalg.pinv(_dct_basis(int(n), k)).T  # (G, tracks, k)
            out[sel] = coef @ _dct_basis(int(n), k, u).T
    return out


def _f1_max_values(
    tracks: FormantTracks,
    sel: dict[str, np.ndarray],
    index: np.ndarray,
    n_coefficients: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F1-F3 and B1-B3 at each token's F1 maximum within :data:`F1_MAX_SPAN`.

    Returns ``(freqs, bandwidths, proportion)`` of shapes (n, 3), (n, 3), (n,); NaN
    where a token has no finite F1 there.
    """
    grid = np.linspace(*F1_MAX_SPAN, _SEARCH_STEPS)
    freq = formant_track_at(
        tracks.freqs_hz,
        sel["lo"],
        sel["n_frames"],
        grid,
        index=index,
        n_coefficients=n_coefficients,
    )  # (n, 3, steps)
    bw = formant_track_at(tracks.bandwidths_hz, sel["lo"], sel["n_frames"], grid, index=index)
    # The point is found on F1's slow arc (3 DCT terms: level, slope, curvature): the
    # maximum of a track that keeps frame-scale wobble picks the wobble's top and
    # reads F1 high (synthetic truth, median F1 error: 3.4 % with the 5-term track).
    arc = formant_track_at(
        tracks.freqs_hz[:, :1],
        sel["lo"],
        sel["n_frames"],
        grid,
        index=index,
        n_coefficients=_ARC_COEFFICIENTS,
    )[:, 0]
    f1 = np.where(np.isfinite(arc), arc, -np.inf)
    best = np.argmax(f1, axis=1)
    found = np.isfinite(f1[np.arange(best.size), best])
    rows = np.arange(best.size)
    freqs = np.where(found[:, None], freq[rows, :, best], np.nan)
    bands = np.where(found[:, None], bw[rows, :, best], np.nan)
    return freqs, bands, np.where(found, grid[best], np.nan)
