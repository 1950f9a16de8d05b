"""Speaker-level aggregation of segment features: duration-weighted, NaN-aware, counted.

A speaker's value of a segment feature is the mean of the segment values
weighted by segment duration, over the segments that have a value: a 10 s
segment counts ten times a 1 s one, and a segment whose F0 is undefined (no
voiced frame) neither contributes nor dilutes. Next to every value sits the
amount of speech behind it, so that users see which speaker means rest on a
handful of segments.

Sees DataFrames only (never imports corpora, features or speech).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["COUNT_SUFFIX", "aggregate_speakers"]

#: Suffix of the per-feature count column: ``<feature>_n`` = segments with a value.
COUNT_SUFFIX = "_n"


def aggregate_speakers(
    segments: pd.DataFrame,
    *,
    features: Sequence[str],
    weight: str | None = "duration_s",
    by: str = "speaker_id",
    profiles: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Duration-weighted means of segment features per speaker, with counts.

    Parameters
    ----------
    segments : pd.DataFrame
        One row per segment: ``by``, ``weight`` (if not None) and the ``features``
        columns (numeric; NaN or null where a segment has no value).
    features : sequence of str
        Segment feature columns to aggregate.
    weight : str or None
        Column of non-negative weights (segment duration, s); None: plain means.
    by : str
        Speaker key column.
    profiles : pd.DataFrame, optional
        Speaker profiles with a ``by`` column (one row per speaker): joined on
        the left, so every profiled speaker has a row, with NaN features and zero
        counts where they have no segment; speakers absent from ``profiles``
        (interviewers) are left out.

    Returns
    -------
    pd.DataFrame
        One row per speaker, sorted by ``by``: ``by``, the profile columns (when
        given), ``n_segments`` (int64), ``speech_s`` (sum of ``weight``, float64;
        the segment count when ``weight`` is None), then for each feature its
        weighted mean (float64; NaN when no segment has a value or their weights
        sum to 0) and ``<feature>_n`` (int64, segments with a value).

    Raises
    ------
    ValueError
        On missing or duplicated columns, a non-numeric feature, negative or
        non-finite weights, or duplicated speakers in ``profiles``.
    """
    feats = list(features)
    if len(set(feats)) != len(feats):
        raise ValueError(f"features are repeated: {feats!r}")
    need = [by, *([weight] if weight is not None else []), *feats]
    missing = [c for c in need if c not in segments.columns]
    if missing:
        raise ValueError(f"segments lacks columns {missing!r}")
    clash = [
        f
        for f in feats
        if f in (by, weight, "n_segments", "speech_s")
        or f + COUNT_SUFFIX in (*feats, "n_segments", "speech_s")
    ]
    if clash:
        raise ValueError(f"feature names clash with output columns: {clash!r}")
    values = {}
    for f in feats:
        col = segments[f]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            raise ValueError(f"feature {f!r} must be numeric, got dtype {col.dtype}")
        values[f] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    if weight is None:
        w = np.ones(len(segments))
    else:
        w = segments[weight].to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            bad = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
            raise ValueError(
                f"weight {weight!r} must be finite and >= 0, got {w[bad]!r} in row {bad}"
            )
    keys = segments[by]
    if keys.isna().any():
        raise ValueError(f"segments has rows without {by!r}")

    # Per feature: weighted sums over valid rows, then one groupby sum for all.
    cols: dict[str, np.ndarray] = {"n_segments": np.ones(len(segments)), "speech_s": w}
    for f, x in values.items():
        ok = np.isfinite(x)
        cols[f"{f}\0wx"] = np.where(ok, w * np.where(ok, x, 0.0), 0.0)
        cols[f"{f}\0w"] = np.where(ok, w, 0.0)
        cols[f"{f}\0n"] = ok.astype(np.float64)
    sums = (
        pd.DataFrame(cols, index=pd.Index(keys.to_numpy(), name=by))
        .groupby(level=0, sort=True)
        .sum()
    )
    result: dict[str, np.ndarray] = {
        "n_segments": sums["n_segments"].to_numpy().astype(np.int64),
        "speech_s": sums["speech_s"].to_numpy().astype(np.float64),
    }
    for f in feats:
        wsum = sums[f"{f}\0w"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            result[f] = np.where(wsum > 0, sums[f"{f}\0wx"].to_numpy() / wsum, np.nan)
        result[f + COUNT_SUFFIX] = sums[f"{f}\0n"].to_numpy().astype(np.int64)
    # All columns at once: hundreds of features would fragment a frame built column by column.
    out = pd.DataFrame(result, index=sums.index).reset_index()
    if profiles is None:
        return out
    if by not in profiles.columns:
        raise ValueError(f"profiles lacks the key column {by!r}")
    if profiles[by].duplicated().any():
        dup = profiles.loc[profiles[by].duplicated(), by].tolist()
        raise ValueError(f"profiles has duplicated {by!r}: {dup!r}")
    overlap = [c for c in profiles.columns if c != by and c in out.columns]
    if overlap:
        raise ValueError(f"profiles columns clash with aggregated columns: {overlap!r}")
    # Align key dtypes (Arrow-backed strings in pandas 3 vs object) before the join.
    left = profiles.assign(**{by: profiles[by].astype("string")})
    right = out.assign(**{by: out[by].astype("string")})
    merged = left.merge(right, on=by, how="left", validate="one_to_one")
    counts = ["n_segments", *(f + COUNT_SUFFIX for f in feats)]
    merged[counts] = merged[counts].fillna(0).astype(np.int64)
    merged["speech_s"] = merged["speech_s"].fillna(0.0).astype(np.float64)
    for f in feats:
        merged[f] = merged[f].astype(np.float64)
    return merged.sort_values(by, kind="stable").reset_index(drop=True)
