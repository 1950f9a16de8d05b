"""Input validation shared by every module of ``features`` (one set of rules, one
exception family), in the spirit of ``sklearn.utils.validation`` and librosa's
``ParameterError``.

Every public function of ``features`` validates its signal with
:func:`check_signal` and its time spans with :func:`check_spans`, once, at the
edge; the science behind them can then assume a 1-D finite float signal and
finite, ordered ``(n, 2)`` spans. Messages quote the offending value and where
it is (sample or row), so that a batch's ``errors`` table says what was wrong.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ParameterError", "check_signal", "check_spans", "check_sr"]


class ParameterError(ValueError):
    """Invalid input to a ``features`` function (a ``ValueError``, so callers that
    catch ``ValueError`` keep working)."""


def check_sr(sr: float) -> float:
    """Validate a sample rate.

    Parameters
    ----------
    sr : float
        Sample rate (Hz): a positive finite real number (an integer is not
        required; resampled or measured rates need not be whole).

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        If ``sr`` is not a positive finite number.
    """
    if isinstance(sr, bool) or not np.isscalar(sr) or not np.isreal(sr):
        raise ParameterError(f"sr must be a positive sample rate in Hz, got {sr!r}")
    value = float(sr)
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"sr must be a positive sample rate in Hz, got {sr!r}")
    return value


def check_signal(
    y: np.ndarray, sr: float, *, name: str = "y", dtype: type | None = np.float64,
    allow_empty: bool = True,
) -> np.ndarray:
    """Validate a mono signal and its sample rate.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Samples, nominally in [-1, 1] (values beyond are kept: clipped or hot
        recordings are measured as they are). Integer or floating point.
    sr : float
        Sample rate (Hz), see :func:`check_sr`.
    name : str
        The argument's name, for messages.
    dtype : numpy dtype or None
        Return a C-contiguous copy (or view) of this dtype; ``None`` keeps a
        floating ``y`` as it is (no float64 copy of a long float32 recording)
        and converts an integer one to float64.
    allow_empty : bool
        Whether a signal of 0 samples is valid.

    Returns
    -------
    np.ndarray, shape (n_samples,)

    Raises
    ------
    ParameterError
        If ``y`` is not one-dimensional, not real numbers, empty when
        ``allow_empty`` is false, or holds NaN/inf (the first one and its sample
        are quoted); or if ``sr`` is invalid.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be mono, shape (n_samples,), got shape {arr.shape!r}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ParameterError(f"{name} must hold real numbers, got dtype {arr.dtype!s}")
    check_sr(sr)
    if not allow_empty and arr.size == 0:
        raise ParameterError(f"{name} is empty (0 samples)")
    if dtype is not None:
        arr = np.ascontiguousarray(arr, dtype=dtype)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    # One float64 sum instead of an n-byte isfinite mask (a 3-hour recording is
    # 173 M samples); the mask is built only to locate a bad sample.
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(
            np.add.reduce(arr, dtype=np.float64)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:  # else the sum overflowed on finite samples
            raise ParameterError(f"{name} must be finite, got {float(arr[bad[0]])!r} at sample "
                                 f"{int(bad[0])} ({bad.size} non-finite samples)")
    return arr


def check_spans(
    spans: np.ndarray, *, name: str = "spans", ordered: bool = True, allow_missing: bool = False,
) -> np.ndarray:
    """Validate time spans (segments, tokens, intervals).

    Parameters
    ----------
    spans : array_like, shape (n, 2)
        ``[start_s, end_s]`` per row (s). An empty input of any shape is 0 spans.
    name : str
        The argument's name, for messages.
    ordered : bool
        Require ``end_s >= start_s`` in every row (zero-length spans are valid).
    allow_missing : bool
        Accept rows with a NaN time, meaning "no span" (e.g. a token without a
        neighbouring vowel); the other rows are checked as usual.

    Returns
    -------
    np.ndarray, shape (n, 2), float64

    Raises
    ------
    ParameterError
        If ``spans`` is not ``(n, 2)``, holds a non-finite time, or (``ordered``)
        a span ends before it starts; the first offending row is quoted.
    """
    arr = np.asarray(spans, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(
            f"{name} must have shape (n, 2) of start/end seconds, got shape {arr.shape!r}")
    finite = np.isfinite(arr).all(axis=1)
    if allow_missing:
        if np.isinf(arr).any():
            bad = int(np.flatnonzero(np.isinf(arr).any(axis=1))[0])
            raise ParameterError(f"{name} must be finite or NaN, got {arr[bad].tolist()!r} "
                                 f"at row {bad}")
    elif not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ParameterError(f"{name} must be finite, got {arr[bad].tolist()!r} at row {bad}")
    if ordered:
        backwards = finite & (arr[:, 1] < arr[:, 0])
        if backwards.any():
            bad = int(np.flatnonzero(backwards)[0])
            raise ParameterError(f"{name} row {bad} ends before it starts: "
                                 f"{arr[bad].tolist()!r}")
    return arr
