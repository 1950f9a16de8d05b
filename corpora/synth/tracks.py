"""Piecewise-constant parameter targets joined by raised-cosine transitions."""

from __future__ import annotations

import numpy as np


def smooth_steps(
    t: np.ndarray,
    edges: np.ndarray,
    values: np.ndarray,
    half_widths: np.ndarray | float,
    *,
    max_fraction: float = 0.45,
) -> np.ndarray:
    """Evaluate a step function with raised-cosine transitions at ``t``.

    Segment ``i`` spans ``edges[i]..edges[i+1]`` and holds ``values[i]``.  Around
    each internal edge the value moves from the left to the right target along
    half a cosine period, over ``edge ± h`` with ``h`` the boundary's half width,
    capped at ``max_fraction`` of the shorter adjacent segment so transitions
    never overlap.  Away from transitions the value is *exactly* the target
    (bit-for-bit), which the synthesiser's truth relies on.

    Parameters
    ----------
    t : np.ndarray, shape (n_times,)
        Evaluation times (any unit, same as ``edges``).
    edges : np.ndarray, shape (n_segments + 1,)
        Increasing segment edges.
    values : np.ndarray, shape (n_segments,) or (n_segments, n_params)
    half_widths : float or np.ndarray, shape (n_segments - 1,)
        Transition half widths per internal edge.
    max_fraction : float

    Returns
    -------
    np.ndarray, shape (n_times,) or (n_times, n_params)
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if n == 1:
        return np.broadcast_to(values[0], (t.size, *values.shape[1:])).copy()
    dur = np.diff(edges)
    b = edges[1:-1]
    h = np.minimum(
        np.broadcast_to(np.asarray(half_widths, dtype=float), b.shape),
        max_fraction * np.minimum(dur[:-1], dur[1:]),
    )
    xk = np.empty(2 * (n - 1))
    xk[0::2] = b - h
    xk[1::2] = b + h
    yk = np.empty(2 * (n - 1))
    yk[0::2] = np.arange(n - 1)
    yk[1::2] = np.arange(1, n)
    k = np.interp(t, xk, yk)
    i = np.minimum(np.floor(k).astype(np.intp), n - 2)
    w = 0.5 - 0.5 * np.cos(np.pi * (k - i))
    lo, hi = values[i], values[i + 1]
    if values.ndim > 1:
        w = w[:, None]
    # Where w == 0 or 1 this returns lo or hi exactly (no rounding drift).
    return np.where(w == 0.0, lo, np.where(w == 1.0, hi, lo + (hi - lo) * w))
