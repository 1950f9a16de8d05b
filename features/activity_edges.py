"""Edges of voice-activity runs: the web-conference edge rules (issue #16).

:func:`features.activity.energy_activity` decides which frames are speech; the
rules here move where its runs start and end. :func:`trim_runs` cuts each run
down to the span between its first and last frame that passes a test (the
local-floor test against steady noise pumped up by an automatic gain control),
:func:`trim_decays` cuts a reverberant room's free decay off the end of each run,
and ``_offset_decay_frames`` measures how long the runs' ends take to decay (a
dry recording's runs end within a frame or two, a reverberant one's in the
room's free decay), which decides whether decays are cut at all.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["trim_decays", "trim_runs"]


def _offset_decay_frames(
    level: np.ndarray, mask: np.ndarray, threshold_db: float, depth_db: float
) -> float:
    """Median number of frames the runs of ``mask`` take to fall the last ``depth_db``
    to their end (from their last frame at ``threshold_db + depth_db`` or above).

    NaN when fewer than 3 runs rise that high. A dry recording's runs end within a
    frame or two (the intensity window's own tail), a reverberant one's in the
    room's free decay: RT60 0.3 s falls 20 dB in 100 ms.
    """
    labels, n = ndimage.label(mask)
    if n == 0:
        return float("nan")
    index = np.arange(level.size)
    loud = mask & (level >= threshold_db + depth_db)
    ids = np.arange(1, n + 1)
    last = np.asarray(ndimage.maximum(np.where(loud, index, -1), labels, ids))
    end = np.asarray(ndimage.maximum(index, labels, ids))
    tails = (end - last)[last >= 0]
    return float(np.median(tails)) if tails.size else float("nan")


def trim_decays(
    level: np.ndarray, mask: np.ndarray, *, tail_db: float, lookback_frames: int = 10
) -> np.ndarray:
    """Cut the trailing frames of each run of ``mask`` that lie more than ``tail_db``
    below the loudest of the ``lookback_frames`` frames before them.

    A reverberant room prolongs every IPU by its free decay (a straight line in dB),
    which a floor-relative threshold counts as speech until it meets the floor: RT60
    0.3 s put IPU ends 170 ms late. The decay is cut where it has fallen ``tail_db``;
    onsets (the direct sound comes first) and the inside of a run are left alone.

    Parameters
    ----------
    level : np.ndarray, shape (n_frames,)
        Intensity (dB).
    mask : np.ndarray, shape (n_frames,), bool
        Activity.
    tail_db : float
        Fall (dB) below the recent maximum from which a run's last frames are decay.
    lookback_frames : int
        Frames the recent maximum looks back over (more than the decay takes to fall
        ``tail_db``).

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
    """
    padded = np.concatenate([np.full(lookback_frames, -np.inf), level])
    recent = np.lib.stride_tricks.sliding_window_view(padded, lookback_frames)[:-1].max(axis=1)
    return trim_runs(mask, level >= recent - tail_db, leading=False)


def trim_runs(
    mask: np.ndarray, keep: np.ndarray, *, leading: bool = True, trailing: bool = True
) -> np.ndarray:
    """Cut each run of ``mask`` down to the span from its first to its last ``keep``
    frame (only the trailing side when ``leading`` is False, only the leading side
    when ``trailing`` is False); a run with no ``keep`` frame is removed.

    Parameters
    ----------
    mask, keep : np.ndarray, shape (n_frames,), bool

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
        ``mask`` with the edges of its runs trimmed; its inside is left alone.
    """
    mask = np.asarray(mask, dtype=bool)
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask.copy()
    index, ids = np.arange(mask.size), np.arange(1, n + 1)
    marked = np.asarray(keep, dtype=bool) & mask
    first = np.asarray(ndimage.minimum(np.where(marked, index, mask.size), labels, ids))
    last = np.asarray(ndimage.maximum(np.where(marked, index, -1), labels, ids))
    out = mask.copy()
    if leading:
        out &= index >= np.concatenate([[0], first])[labels]
    if trailing:
        out &= index <= np.concatenate([[0], last])[labels]
    if not leading:  # a run with no kept frame goes even when only its end is trimmed
        out &= np.concatenate([[0], last])[labels] >= 0
    return out
