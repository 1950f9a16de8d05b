"""Segment functionals of frame tracks, by vectorised reductions.

A *functional* summarises a frame track over a segment: mean, median, standard
deviation, 5th and 95th percentiles, and the least-squares slope over time.
Every track of a recording is computed once on the common frame grid
(:mod:`features.frames`); :func:`segment_functionals` then reduces all tracks
over all segments at once, without a Python loop over segments or frames:

- counts, means and mean times from cumulative sums along the frames (counts
  and time sums in exact integer arithmetic);
- standard deviation and slope from second moments about each segment's own
  means, summed with ``np.add.reduceat`` over the frames covered by segments
  (two-pass, as NumPy does: cumulative sums of ``x * t`` along an hours-long
  track would cancel digits, about 1e-5 relative error on slopes at 2 hours);
- median and percentiles from one sort of the frames covered by the segments
  (``np.lexsort`` by value within segment), then NumPy's ``'linear'`` rule, so
  that each value equals ``np.nanmedian`` / ``np.nanpercentile`` of the segment.

Segments may overlap (an interviewer's back-channel inside a turn, utterance
windows): frames are expanded per segment with ``np.repeat``, so one frame may
belong to several segments.

Frames of a segment
-------------------
A segment ``[start_s, end_s)`` covers the frames whose centre ``k * hop_s`` lies
in it, half-open: frames ``ceil(start_s / hop_s) .. ceil(end_s / hop_s) - 1``,
clipped to the track. Segment boundaries written by the segmenter fall halfway
between frame centres, so this is exactly the frames that were labelled speech.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from features.frames import HOP_S, expand_ranges, span_frames
from features.validation import check_spans

__all__ = [
    "FUNCTIONALS",
    "MIN_FRAMES",
    "column_name",
    "hz_to_st",
    "segment_functionals",
]

#: The functionals, in output order.
FUNCTIONALS: tuple[str, ...] = ("mean", "median", "sd", "p5", "p95", "slope")

#: Valid frames a segment needs for each functional (fewer: NaN).
MIN_FRAMES: dict[str, int] = {"mean": 1, "median": 1, "sd": 2, "p5": 2, "p95": 2, "slope": 2}

_PERCENTILES = {"p5": 5.0, "p95": 95.0}

#: Reference of the semitone scale (Hz): ``st = 12 log2(f / 100 Hz)``.
ST_REFERENCE_HZ = 100.0

def hz_to_st(f0_hz: np.ndarray | float, reference_hz: float = ST_REFERENCE_HZ) -> np.ndarray:
    """Frequency in semitones re ``reference_hz`` (100 Hz): ``12 * log2(f / reference_hz)``.

    Parameters
    ----------
    f0_hz : array_like, any shape
        Frequencies (Hz); NaN, zero or negative values (the unvoiced frames of
        a pitch track, whatever its convention) give NaN.
    reference_hz : float
        Reference frequency (Hz), > 0.

    Returns
    -------
    np.ndarray, same shape, float64
    """
    if not (np.isfinite(reference_hz) and reference_hz > 0):
        raise ValueError(f"reference_hz must be a positive frequency, got {reference_hz!r}")
    f = np.asarray(f0_hz, dtype=np.float64)
    out = np.full(f.shape, np.nan)
    ok = np.isfinite(f) & (f > 0)
    out[ok] = 12.0 * np.log2(f[ok] / reference_hz)
    return out


def column_name(quantity: str, functional: str, unit: str) -> str:
    """The column name of one functional of one track: ``<quantity>_<functional>_<unit>``.

    The unit is last (the store's rule: units in names), and the slope's unit is
    the track's unit per second.

    Parameters
    ----------
    quantity : str
        The track, without unit (``"f0"``, ``"intensity"``, ``"centroid"``).
    functional : str
        One of :data:`FUNCTIONALS`.
    unit : str
        The track's unit suffix (``"st"``, ``"db"``, ``"hz"``, ``"ratio"``...);
        ``""`` for a dimensionless track (``mfcc1_mean``, ``mfcc1_slope_per_s``).

    Examples
    --------
    >>> column_name("f0", "median", "st")
    'f0_median_st'
    >>> column_name("f0", "slope", "st")
    'f0_slope_st_per_s'
    """
    if functional not in FUNCTIONALS:
        raise ValueError(f"unknown functional {functional!r}; use one of {', '.join(FUNCTIONALS)}")
    for part, what in ((quantity, "quantity"), (unit, "unit")):
        if what == "unit" and part == "":
            continue  # dimensionless: no suffix
        if not part or part != part.strip("_") or not part.replace("_", "").isalnum():
            raise ValueError(f"{what} must be a non-empty snake_case word, got {part!r}")
        if part != part.lower():
            raise ValueError(f"{what} must be lower case, got {part!r}")
    tail = f"_{unit}" if unit else ""
    if functional == "slope":
        return f"{quantity}_slope{tail}_per_s"
    return f"{quantity}_{functional}{tail}"


def segment_functionals(
    tracks: Mapping[str, np.ndarray] | np.ndarray,
    segments: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    units: Mapping[str, str] | None = None,
    hop_s: float = HOP_S,
    mask: np.ndarray | None = None,
    functionals: Sequence[str] = FUNCTIONALS,
) -> dict[str, np.ndarray]:
    """Mean, median, s.d., 5th/95th percentiles and slope of frame tracks per segment.

    NaN frames (unvoiced F0, undefined spectral values) are ignored; a segment
    with fewer valid frames than :data:`MIN_FRAMES` asks (1 for the mean and
    median, 2 for the others) gets NaN.

    Parameters
    ----------
    tracks : mapping of str to np.ndarray, shape (n_frames,), or np.ndarray, shape
        (n_tracks, n_frames)
        Frame tracks on the common grid (frame ``k`` centred at ``k * hop_s``),
        all of the same length; an array needs ``names``.
    segments : array_like, shape (n_segments, 2)
        Start and end times (s) of the segments; they may overlap.
    names : sequence of str, optional
        Track names, for an array ``tracks`` (not allowed with a mapping).
    units : mapping of str to str, optional
        Unit suffix of every track (``{"f0": "st", "intensity": "db"}``): keys
        are then :func:`column_name` (``f0_median_st``). Without it, keys are
        ``<track>_<functional>``.
    hop_s : float
        Frame hop (s).
    mask : np.ndarray of bool, shape (n_frames,) or (n_tracks, n_frames), optional
        Frames to use (e.g. voiced frames only, for intensity); False frames are
        treated as NaN.
    functionals : sequence of str
        Subset of :data:`FUNCTIONALS` to compute.

    Returns
    -------
    dict of str to np.ndarray, shape (n_segments,), float64
        For each track, then each functional: the mean, the median
        (``np.nanmedian``), the sample standard deviation (``ddof=1``), the 5th
        and 95th percentiles (``np.nanpercentile``, ``method="linear"``), and
        the ordinary least-squares slope of the values on time (unit per
        second).

    Notes
    -----
    Time: cost O(n_tracks * (n_frames + F log F)) where F is the number of frames
    covered by the segments (counted once per segment covering them).
    """
    x, track_names = _check_tracks(tracks, names)
    unknown = [f for f in functionals if f not in FUNCTIONALS]
    if unknown:
        raise ValueError(f"unknown functionals {unknown!r}; use some of {', '.join(FUNCTIONALS)}")
    if units is not None:
        missing = [n for n in track_names if n not in units]
        if missing:
            raise ValueError(f"units gives no unit for tracks {missing!r}")
        keys = {(n, f): column_name(n, f, units[n]) for n in track_names for f in functionals}
    else:
        keys = {(n, f): f"{n}_{f}" for n in track_names for f in functionals}
    n_tracks, n_frames = x.shape
    valid = np.isfinite(x)
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_ or m.shape not in ((n_frames,), (n_tracks, n_frames)):
            raise ValueError(
                f"mask must be boolean, shape ({n_frames},) or "
                f"({n_tracks}, {n_frames}), got {m.dtype} {m.shape}"
            )
        valid &= m
    first, end = span_frames(check_spans(segments, name="segments"), n_frames, hop_s)
    n_seg = first.size

    # Cumulative sums along frames, with a leading zero: S[:, end] - S[:, first].
    def window(a: np.ndarray) -> np.ndarray:
        c = np.zeros((a.shape[0], n_frames + 1), dtype=a.dtype)
        np.cumsum(a, axis=1, out=c[:, 1:])
        return c[:, end] - c[:, first]

    vi = valid.astype(np.int64)
    count = window(vi)  # (n_tracks, n_seg), exact
    n = count.astype(np.float64)
    out: dict[str, np.ndarray] = {}
    wanted = set(functionals)
    expanded = _expand(first, end)
    if wanted & {"mean", "sd", "slope"}:
        # Centre each track on its own mean before summing (smaller partial sums).
        total = valid.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(total > 0, np.where(valid, x, 0.0).sum(axis=1) / total, 0.0)
        xc = np.where(valid, x - centre[:, None], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_c = window(xc) / n
        stats = {"mean": np.where(count >= 1, mean_c + centre[:, None], np.nan)}
        if wanted & {"sd", "slope"}:
            # Second moments about each segment's own means (two-pass, like NumPy): summing
            # x * t along an hours-long track would cancel digits (1e-5 relative at 2 h).
            # Mean frame index of the valid frames: exact integer sums.
            k = np.arange(n_frames, dtype=np.int64)
            with np.errstate(invalid="ignore", divide="ignore"):
                kbar = window(vi * k) / n
            frames, seg_of, lengths = expanded
            ok = valid[:, frames]
            dx = np.where(ok, xc[:, frames] - np.nan_to_num(mean_c)[:, seg_of], 0.0)
            dk = np.where(ok, frames[None, :] - np.nan_to_num(kbar)[:, seg_of], 0.0)
            sxx = _segment_sums(dx * dx, lengths)
            stats["sd"] = np.where(count >= 2, np.sqrt(sxx / np.maximum(n - 1, 1)), np.nan)
            stt = _segment_sums(dk * dk, lengths)
            stx = _segment_sums(dk * dx, lengths)
            with np.errstate(invalid="ignore", divide="ignore"):
                slope = stx / stt / float(hop_s)
            stats["slope"] = np.where((count >= 2) & (stt > 0), slope, np.nan)
        for f in ("mean", "sd", "slope"):
            if f in wanted:
                for i, name in enumerate(track_names):
                    out[keys[name, f]] = stats[f][i]
    if wanted & {"median", "p5", "p95"}:
        order_stats = _order_statistics(x, valid, expanded, count, wanted)
        for f, values in order_stats.items():
            for i, name in enumerate(track_names):
                out[keys[name, f]] = values[i]
    ordered = {keys[n, f]: out[keys[n, f]] for n in track_names for f in functionals}
    if n_seg == 0:
        return {key: np.zeros(0) for key in ordered}
    return ordered


def _expand(first: np.ndarray, end: np.ndarray):
    """Frame index and segment index of every (segment, frame) pair, segment by segment.

    Overlapping segments repeat frames (``np.repeat``), so a frame may count in several.
    """
    frames, seg = expand_ranges(first, end)
    return frames, seg, end - first


def _segment_sums(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sums of ``values`` (n_tracks, n_covered) over each segment's run of columns."""
    starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
    padded = np.concatenate([values, np.zeros((values.shape[0], 1))], axis=1)
    sums = np.add.reduceat(padded, np.minimum(starts, values.shape[1]), axis=1)
    return np.where(lengths[None, :] > 0, sums, 0.0)


def _order_statistics(x, valid, expanded, count, wanted):
    """Median and percentiles: one sort of the frames covered by segments.

    Sorting by (segment, value) is done as one integer sort of the key
    ``group * (n_frames + 1) + rank``, where ``rank`` is the frame's rank in its
    whole track (invalid frames rank last) and ``group`` numbers (track, segment):
    the same order as ``np.lexsort((value, group))``, several times faster.
    """
    n_tracks, n_frames = x.shape
    frames, seg, lengths = expanded
    n_seg = lengths.size
    n_cov = frames.size
    offsets = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
    # Rank of every frame in its track; NaN / masked frames last (rank >= n valid).
    # (+inf for the sort: NumPy's SIMD sort is several times slower on NaN.)
    by_value = np.argsort(np.where(valid, x, np.inf), axis=1)
    xv = np.where(valid, x, np.nan)
    rank = np.empty_like(by_value)
    np.put_along_axis(rank, by_value, np.arange(n_frames)[None, :], axis=1)
    rank = np.where(valid, rank, n_frames)
    # Sorted values of each track, plus one NaN column for the invalid rank.
    table = np.concatenate(
        [np.take_along_axis(xv, by_value, axis=1), np.full((n_tracks, 1), np.nan)], axis=1
    ).ravel()
    width = n_frames + 1
    group = np.arange(n_tracks, dtype=np.int64)[:, None] * n_seg + seg[None, :]
    srt = np.sort((group * width + rank[:, frames]).ravel())
    base = np.arange(n_tracks)[:, None] * n_cov + offsets[None, :]  # (n_tracks, n_seg)
    cnt = count
    result = {}
    last = max(srt.size - 1, 0)

    def at(i):
        if not srt.size:
            return np.full(i.shape, np.nan)
        key = srt[np.clip(i, 0, last)]
        track = key // width // max(n_seg, 1)
        return table[track * width + key % width]

    if "median" in wanted:
        lo = base + np.maximum(cnt - 1, 0) // 2
        hi = base + cnt // 2
        a, b = at(lo), at(hi)
        # np.median: the middle value, or the mean of the two middle values.
        med = np.where(cnt % 2 == 1, a, np.add(a, b) / 2.0)
        result["median"] = np.where(cnt >= 1, med, np.nan)
    for f, q in _PERCENTILES.items():
        if f not in wanted:
            continue
        # NumPy's 'linear' method, step by step as np.percentile does it.
        virtual = (cnt - 1) * np.true_divide(q, 100)
        prev = np.floor(virtual)
        gamma = virtual - prev
        prev_i = prev.astype(np.int64)
        next_i = np.minimum(prev_i + 1, np.maximum(cnt - 1, 0))
        a, b = at(base + prev_i), at(base + next_i)
        diff = b - a
        lerp = a + diff * gamma
        lerp = np.where(gamma >= 0.5, b - diff * (1 - gamma), lerp)
        result[f] = np.where(cnt >= MIN_FRAMES[f], lerp, np.nan)
    return result


def _check_tracks(tracks, names):
    if isinstance(tracks, Mapping):
        if names is not None:
            raise ValueError("names is for an array of tracks; a mapping names its own")
        track_names = [str(n) for n in tracks]
        arrays = [np.asarray(tracks[n], dtype=np.float64) for n in tracks]
        bad = {n: a.shape for n, a in zip(track_names, arrays, strict=True) if a.ndim != 1}
        if bad:
            raise ValueError(f"each track must be one-dimensional (n_frames,), got {bad!r}")
        lengths = {n: a.size for n, a in zip(track_names, arrays, strict=True)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"tracks must have the same number of frames, got {lengths!r}")
        x = np.stack(arrays) if arrays else np.zeros((0, 0))
    else:
        x = np.asarray(tracks, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"tracks must be shape (n_tracks, n_frames), got {x.shape!r}")
        if names is None or len(names) != x.shape[0]:
            raise ValueError(
                f"an array of {x.shape[0]} tracks needs {x.shape[0]} names, got {names!r}"
            )
        track_names = [str(n) for n in names]
    if len(set(track_names)) != len(track_names):
        raise ValueError(f"track names must be unique, got {track_names!r}")
    return x, track_names
