"""The common frame grid shared by every frame track.

Frame ``k`` is centred at ``t = k * hop_s`` seconds (librosa's ``center=True``
convention): frame 0 is centred on the first sample, and a signal of
``n_samples`` samples at ``sr`` Hz has ``1 + floor(n_samples / (sr * hop_s))``
frames (none when it is empty). Every conversion between seconds and frame
indices is done here, once, so that tracks computed by different back ends
(Praat, librosa, a neural VAD) line up sample for sample.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "HOP_S",
    "expand_ranges",
    "frame_centres",
    "frame_times",
    "frames_to_time",
    "n_frames",
    "runs",
    "span_frames",
    "time_to_frames",
]

#: Default hop between frames (s): 10 ms, the usual prosody/segmentation grid.
HOP_S = 0.01

# Guard against float round-off in n_samples / (sr * hop_s) (e.g. 0.1 / 0.01 = 9.999...).
_EPS = 1e-9


def _check_hop(hop_s: float) -> float:
    hop = float(hop_s)
    if not np.isfinite(hop) or hop <= 0:
        raise ValueError(f"hop_s must be a positive finite number of seconds, got {hop_s!r}")
    return hop


def n_frames(n_samples: int, sr: float, hop_s: float = HOP_S) -> int:
    """Number of frames on the grid for a signal of ``n_samples`` samples.

    Parameters
    ----------
    n_samples : int
        Signal length (samples), >= 0.
    sr : float
        Sample rate (Hz), > 0.
    hop_s : float
        Hop between frame centres (s).

    Returns
    -------
    int
        ``1 + floor(n_samples / (sr * hop_s))`` for a non-empty signal, 0 for an
        empty one (librosa ``center=True`` convention, generalised to hops that
        are not a whole number of samples).
    """
    hop = _check_hop(hop_s)
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples!r}")
    if not sr > 0:
        raise ValueError(f"sr must be > 0, got {sr!r}")
    if n_samples == 0:
        return 0
    return 1 + int(np.floor(n_samples / (float(sr) * hop) + _EPS))


def frame_times(n: int, hop_s: float = HOP_S) -> np.ndarray:
    """Centre time (s) of each of ``n`` frames.

    Returns
    -------
    np.ndarray, shape (n,), float64
        ``k * hop_s`` for ``k = 0 .. n-1``.
    """
    return np.arange(int(n), dtype=np.float64) * _check_hop(hop_s)


def time_to_frames(t_s: np.ndarray | float, hop_s: float = HOP_S) -> np.ndarray:
    """Index of the frame whose centre is nearest to each time.

    Parameters
    ----------
    t_s : array_like, any shape
        Times (s).
    hop_s : float
        Hop between frame centres (s).

    Returns
    -------
    np.ndarray, same shape as ``t_s``, int64
        ``round(t_s / hop_s)`` (halves round to even); not clipped to a signal.
    """
    t = np.asarray(t_s, dtype=np.float64)
    return np.rint(t / _check_hop(hop_s)).astype(np.int64)


def frames_to_time(frames: np.ndarray | int, hop_s: float = HOP_S) -> np.ndarray:
    """Centre time (s) of frame indices: ``frames * hop_s``, float64, same shape."""
    return np.asarray(frames, dtype=np.float64) * _check_hop(hop_s)


def frame_centres(n: int, sr: float, n_samples: int, hop_s: float = HOP_S) -> np.ndarray:
    """Sample index nearest to the centre of each of ``n`` frames, clipped to the signal.

    Returns
    -------
    np.ndarray, shape (n,), int64
        ``round(k * hop_s * sr)``, clipped to ``[0, n_samples - 1]``.
    """
    c = np.rint(frame_times(n, hop_s) * float(sr)).astype(np.int64)
    return np.clip(c, 0, max(int(n_samples) - 1, 0))


def span_frames(
    spans: np.ndarray, n_frames: int, hop_s: float = HOP_S, *, min_frames: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The frames of each span: those whose centre lies in ``[start_s, end_s)``.

    This is the one rule that turns spans of seconds into frames across
    ``features`` and ``speech``. Segment boundaries written by the segmenter fall
    halfway between frame centres, so a segment gets exactly the frames that were
    labelled speech.

    Parameters
    ----------
    spans : np.ndarray, shape (n, 2)
        ``[start_s, end_s]`` per row (s), validated (see
        :func:`features.validation.check_spans`).
    n_frames : int
        Frames in the track: ranges are clipped to ``[0, n_frames]``.
    hop_s : float
        Hop between frame centres (s).
    min_frames : {0, 1}
        With 1, a span shorter than a hop that holds no frame centre gets the frame
        nearest its midpoint (a token must be measured on something).

    Returns
    -------
    first, end : np.ndarray, shape (n,), int64
        Frames ``first .. end - 1``: ``first = ceil(start_s / hop_s)``, ``end =
        ceil(end_s / hop_s)`` (a float round-off guard of 1e-9 frame), ``end >= first``.
    """
    hop = _check_hop(hop_s)
    seg = np.asarray(spans, dtype=np.float64).reshape(-1, 2)
    first = np.clip(np.ceil(seg[:, 0] / hop - _EPS), 0, n_frames).astype(np.int64)
    end = np.maximum(np.clip(np.ceil(seg[:, 1] / hop - _EPS), 0, n_frames).astype(np.int64),
                     first)
    if min_frames:
        mid = np.clip(np.rint(seg.mean(axis=1) / hop).astype(np.int64), 0,
                      max(int(n_frames) - 1, 0))
        empty = (end <= first) & (n_frames > 0)
        first, end = np.where(empty, mid, first), np.where(empty, mid + 1, end)
    return first, end


def expand_ranges(first: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of index ranges, and the range each belongs to.

    Parameters
    ----------
    first, end : np.ndarray, shape (n,), int
        Range ``i`` is ``first[i] .. end[i] - 1`` (empty when ``end[i] <= first[i]``).

    Returns
    -------
    index, owner : np.ndarray, shape (total,), int64
        ``index`` concatenates the ranges in order (overlapping ranges repeat
        indices); ``owner[j]`` is the range that ``index[j]`` comes from.

    Examples
    --------
    >>> expand_ranges(np.array([2, 7]), np.array([5, 9]))
    (array([2, 3, 4, 7, 8]), array([0, 0, 0, 1, 1]))
    """
    first = np.asarray(first, dtype=np.int64).ravel()
    lengths = np.maximum(np.asarray(end, dtype=np.int64).ravel() - first, 0)
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    index = np.repeat(first - offsets, lengths) + np.arange(total, dtype=np.int64)
    return index, np.repeat(np.arange(first.size, dtype=np.int64), lengths)


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal consecutive values (e.g. of a label track, or of a mask).

    Parameters
    ----------
    values : np.ndarray, shape (n,)

    Returns
    -------
    starts, ends : np.ndarray, shape (r,), int64
        Run ``i`` is ``values[starts[i]:ends[i]]`` (end exclusive); the runs tile
        ``0 .. n``. Select the runs of interest with ``values[starts]``.
    """
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.r_[0, change].astype(np.int64), np.r_[change, values.size].astype(np.int64)


def merge_runs(
    start_s: np.ndarray, end_s: np.ndarray, label: np.ndarray | None = None, *, max_gap_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge consecutive intervals separated by less than ``max_gap_s`` (and, when
    ``label`` is given, of the same label): words into IPUs, IPUs into utterances.

    Parameters
    ----------
    start_s, end_s : np.ndarray, shape (n,)
        Interval times (s), sorted by start.
    label : np.ndarray, shape (n,), optional
        A label per interval (e.g. the speaker); a change of label always splits.
    max_gap_s : float
        Gaps shorter than this are bridged (s).

    Returns
    -------
    start_s, end_s, label : np.ndarray, shape (m,)
        The merged intervals and the label of each (all zeros without ``label``).
    """
    start_s, end_s = np.asarray(start_s, dtype=np.float64), np.asarray(end_s, dtype=np.float64)
    label = np.zeros(start_s.size, dtype=np.int64) if label is None else np.asarray(label)
    if start_s.size == 0:
        return start_s, end_s, label
    new = np.r_[True, (start_s[1:] - end_s[:-1] >= max_gap_s) | (label[1:] != label[:-1])]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], start_s.size] - 1
    return start_s[first], end_s[last], label[first]
