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
    "frame_centres",
    "frame_times",
    "frames_to_time",
    "n_frames",
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
