"""Per-speaker vowel space metrics: token table in, one row per speaker out.

Input: one row per vowel token with a speaker column, a vowel column (null for
unlabelled tokens), F1 and F2 (Hz or normalised: every metric is computed in
the units given, so areas are in unit², distances in units; normalise first,
e.g. with :mod:`models.normalise`, to compare speakers) and optionally the
duration in seconds. Tokens with a missing F1 or F2 are ignored.

Metrics (columns of :func:`vowel_space`)
----------------------------------------
``polygon_area``
    Area of the polygon of the speaker's category means of ``corners`` (default
    /a e i o u/), vertices ordered by angle around their mean (the convex
    ordering: exact for a convex polygon, a simple star-shaped polygon
    otherwise), shoelace formula ``A = |sum_j (x_j y_{j+1} - x_{j+1} y_j)| / 2``
    (:func:`shoelace_area`). NaN if a corner vowel has no token.
``fcr``
    Formant centralisation ratio (Sapir et al. 2010),
    ``FCR = (F2u + F2a + F1i + F1u) / (F2i + F1a)`` on category means; it
    rises as vowels centralise.
``hull_area``
    Area of the convex hull of all the speaker's tokens (labelled or not) after
    trimming outliers: ``trim="quantile"`` keeps tokens whose F1 and F2 both
    lie within the speaker's 5th-95th percentiles (per axis);
    ``trim="mahalanobis"`` keeps the 90 % of tokens nearest the speaker's
    centroid in Mahalanobis distance (sample covariance). Label-free.
``dispersion``
    Mean Euclidean distance of the tokens (labelled or not) from the speaker's
    centroid (mean F1, mean F2 of the tokens). Label-free.
``dispersion_f3_ratio``
    Label-free and free of vocal-tract size: ``dispersion`` divided by the
    speaker's median F3 (when an ``f3`` column is given). Reduction pulls F1 and F2
    towards the centre but leaves F3, which mostly reflects vocal-tract length,
    nearly where it was, so the ratio falls as vowels reduce while a longer or
    shorter tract scales numerator and denominator alike. (A ratio to the
    speaker's own peripheral radius, like ``centralisation``, cannot see a
    reduction that shrinks the whole space.) Smaller = more reduced.
``reduction_index``
    Mean Euclidean distance of each labelled token from its category's
    peripheral target: the speaker's own mean of that category over its
    *target* tokens: those flagged True in the ``stressed`` column when given,
    else the "long" tokens (duration >= the median duration of that speaker's
    category), else all tokens of the category. Larger = more reduced.
``centralisation``
    Label-free reduction index: ``mean_t (1 - d_t / D90)``, where ``d_t`` is the
    token's Euclidean distance from the speaker centroid and ``D90`` the 90th
    percentile of those distances (the speaker's peripheral radius). 0 when all
    tokens sit on the periphery, towards 1 as they collapse on the centroid;
    scale-free.
``*_adj`` (when a duration column is given)
    Duration-controlled versions of ``reduction_index`` and ``centralisation``:
    the per-token value v is residualised on log duration *within speaker*
    (one pooled within-speaker slope b, the fixed-effects / ANCOVA estimate
    ``b = sum (v - v_s)(l - l_s) / sum (l - l_s)^2`` with ``l = ln duration``
    and ``v_s, l_s`` speaker means), and the speaker's value is reported at the
    reference log duration ``l_ref`` (the mean over all tokens of the table,
    or ``ln ref_duration_s``): ``v_s - b (l_s - l_ref)``. Speakers who speak
    faster (shorter vowels) are thus compared with the others at equal
    duration. Tokens without a positive duration are left out of the ``_adj``
    values.

Counts ``n_tokens`` and ``n_labelled`` (tokens with F1 and F2) stand next to
the metrics; a speaker with no measured token has no row.

References
----------
Sapir, S., Ramig, L. O., Spielman, J. L. & Fox, C. (2010). Formant
centralization ratio: a proposal for a new acoustic measure of dysarthric
speech. JSLHR 53(1), 114-125.
Bradlow, A. R., Torretta, G. M. & Pisoni, D. B. (1996). Intelligibility of
normal speech I: global and fine-grained acoustic-phonetic talker
characteristics. Speech Communication 20, 255-272 (vowel space area, dispersion).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial import ConvexHull, QhullError

__all__ = ["convex_order", "formant_centralisation_ratio", "shoelace_area", "vowel_space"]

_TRIMS = ("quantile", "mahalanobis")


def convex_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices that order points counter-clockwise by angle around their mean.

    Parameters
    ----------
    x, y : np.ndarray, shape (n,)

    Returns
    -------
    np.ndarray of int, shape (n,)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return np.argsort(np.arctan2(y - y.mean(), x - x.mean()), kind="stable")


def shoelace_area(x: np.ndarray, y: np.ndarray, *, order: bool = True) -> float:
    """Area of a polygon by the shoelace formula.

    ``A = |sum_j (x_j y_{j+1} - x_{j+1} y_j)| / 2`` (indices modulo n).

    Parameters
    ----------
    x, y : np.ndarray, shape (n,)
        Vertices.
    order : bool
        Reorder the vertices by :func:`convex_order` first (True), or take
        them as given.

    Returns
    -------
    float
        The area in squared input units; NaN if a vertex is NaN, 0 for n < 3.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    if np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    if x.size < 3:
        return 0.0
    if order:
        idx = convex_order(x, y)
        x, y = x[idx], y[idx]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2.0)


def formant_centralisation_ratio(f1: dict[str, float], f2: dict[str, float],
                                 *, i: str = "i", a: str = "a", u: str = "u") -> float:
    """FCR of Sapir et al. (2010): ``(F2u + F2a + F1i + F1u) / (F2i + F1a)``.

    Parameters
    ----------
    f1, f2 : mapping vowel -> mean formant
        Category means; a missing vowel gives NaN.
    i, a, u : str
        Labels of the three point vowels.

    Returns
    -------
    float
    """
    get1, get2 = (lambda v: f1.get(v, np.nan)), (lambda v: f2.get(v, np.nan))
    return float((get2(u) + get2(a) + get1(i) + get1(u)) / (get2(i) + get1(a)))


def _hull_area(points: np.ndarray, trim: str, quantiles: tuple[float, float]) -> float:
    if len(points) >= 3:
        if trim == "quantile":
            lo, hi = np.quantile(points, quantiles, axis=0)
            points = points[((points >= lo) & (points <= hi)).all(axis=1)]
        else:
            centred = points - points.mean(axis=0)
            cov = np.cov(centred, rowvar=False)
            d2 = np.einsum("ij,jk,ik->i", centred, np.linalg.pinv(cov), centred)
            points = points[d2 <= np.quantile(d2, quantiles[1] - quantiles[0])]
    if len(points) < 3:
        return float("nan")
    try:
        return float(ConvexHull(points).volume)
    except QhullError:  # collinear points: no area
        return 0.0


def _duration_adjusted(values: pd.Series, speakers: pd.Series, log_dur: pd.Series,
                       l_ref: float) -> pd.Series:
    """Speaker means of ``values`` at the reference log duration (pooled within slope)."""
    ok = values.notna() & log_dur.notna()
    v, s, ld = values[ok], speakers[ok], log_dur[ok]
    v_dev = v - v.groupby(s).transform("mean")
    l_dev = ld - ld.groupby(s).transform("mean")
    denom = float((l_dev**2).sum())
    slope = float((v_dev * l_dev).sum()) / denom if denom > 0 else 0.0
    means = pd.DataFrame({"v": v, "l": ld, "s": s}).groupby("s", sort=True)[["v", "l"]].mean()
    return means["v"] - slope * (means["l"] - l_ref)


def vowel_space(
    tokens: pd.DataFrame,
    *,
    speaker: str = "speaker_id",
    vowel: str = "vowel",
    f1: str = "f1_hz",
    f2: str = "f2_hz",
    duration: str | None = "duration_s",
    stressed: str | None = None,
    f3: str | None = None,
    corners: Sequence[str] = ("a", "e", "i", "o", "u"),
    fcr_vowels: tuple[str, str, str] = ("i", "a", "u"),
    trim: str = "quantile",
    quantiles: tuple[float, float] = (0.05, 0.95),
    ref_duration_s: float | None = None,
) -> pd.DataFrame:
    """Vowel space metrics per speaker (see the module docstring for each definition).

    Parameters
    ----------
    tokens : pd.DataFrame
        One row per token: ``speaker``, ``vowel`` (null = unlabelled), ``f1``,
        ``f2`` and, when not None, ``duration`` (s) and ``stressed`` (bool).
    speaker, vowel, f1, f2, duration, stressed, f3 : str
        Column names; ``duration``, ``stressed`` and ``f3`` may be None (``f3``
        gives ``dispersion_f3_ratio``).
    corners : sequence of str
        Vowels whose category means span ``polygon_area``.
    fcr_vowels : (i, a, u)
        Labels of the point vowels in the FCR.
    trim : {"quantile", "mahalanobis"}
        Outlier trimming before ``hull_area``.
    quantiles : (low, high)
        Per-axis quantiles kept by ``trim="quantile"``; ``trim="mahalanobis"``
        keeps the fraction ``high - low`` of tokens nearest the centroid.
    ref_duration_s : float, optional
        Reference duration of the ``_adj`` columns; default: the geometric mean
        duration of all tokens in ``tokens``.

    Returns
    -------
    pd.DataFrame
        One row per speaker (sorted): ``speaker``, ``n_tokens``, ``n_labelled``,
        ``polygon_area``, ``fcr``, ``hull_area``, ``dispersion``,
        ``reduction_index``, ``centralisation`` and, with a duration column,
        ``reduction_index_adj`` and ``centralisation_adj``. Float metrics are
        NaN where a speaker lacks the tokens they need.
    """
    if not isinstance(tokens, pd.DataFrame):
        raise TypeError(f"vowel_space takes a pandas DataFrame, got {type(tokens).__name__}")
    if trim not in _TRIMS:
        raise ValueError(f"trim must be one of {_TRIMS}, got {trim!r}")
    lo, hi = quantiles
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {quantiles!r}")
    needed = [speaker, vowel, f1, f2, *(c for c in (duration, stressed) if c is not None)]
    missing = [c for c in needed if c not in tokens.columns]
    if missing:
        raise ValueError(f"tokens lack column(s) {missing}; they have {list(tokens.columns)}")

    t = pd.DataFrame({
        "s": tokens[speaker].to_numpy(dtype=object),
        "v": tokens[vowel].astype(object).where(tokens[vowel].notna(), None).to_numpy(),
        "x": pd.to_numeric(tokens[f1], errors="raise").to_numpy(dtype=float, na_value=np.nan),
        "y": pd.to_numeric(tokens[f2], errors="raise").to_numpy(dtype=float, na_value=np.nan),
    })  # fmt: skip
    if duration is not None:
        d = pd.to_numeric(tokens[duration], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            t["ld"] = np.where(d > 0, np.log(d), np.nan)
    else:
        t["ld"] = np.nan
    if stressed is not None:
        t["target"] = tokens[stressed].fillna(False).to_numpy(dtype=bool)
    if t["s"].isna().any():
        raise ValueError(f"missing {speaker!r} in {int(t['s'].isna().sum())} token(s)")
    t = t[t["x"].notna() & t["y"].notna()].reset_index(drop=True)

    # label-free: distances from the speaker centroid
    centroid = t.groupby("s")[["x", "y"]].transform("mean")
    t["d_c"] = np.hypot(t["x"] - centroid["x"], t["y"] - centroid["y"])
    d90 = t.groupby("s")["d_c"].transform(lambda d: d.quantile(0.9))
    t["cent"] = np.where(d90 > 0, 1.0 - t["d_c"] / d90, np.nan)

    # labelled: distance from the category's peripheral target
    lab = t[t["v"].notna()].copy()
    if stressed is None:
        if lab["ld"].notna().any():
            med = lab.groupby(["s", "v"])["ld"].transform("median")
            lab["target"] = lab["ld"] >= med
            lab.loc[med.isna(), "target"] = True
        else:
            lab["target"] = True
    targets = lab[lab["target"]].groupby(["s", "v"])[["x", "y"]].mean()
    tx = targets.reindex(pd.MultiIndex.from_arrays([lab["s"], lab["v"]]))
    lab["d_t"] = np.hypot(lab["x"].to_numpy() - tx["x"].to_numpy(),
                          lab["y"].to_numpy() - tx["y"].to_numpy())

    means = lab.groupby(["s", "v"])[["x", "y"]].mean()
    rows = []
    for s, group in t.groupby("s", sort=True):
        m = means.loc[s] if s in means.index.get_level_values(0) else means.iloc[:0]
        corner_means = m.reindex(list(corners))
        rows.append({
            speaker: s,
            "n_tokens": len(group),
            "n_labelled": int(group["v"].notna().sum()),
            "polygon_area": shoelace_area(corner_means["x"].to_numpy(),
                                          corner_means["y"].to_numpy()),
            "fcr": formant_centralisation_ratio(m["x"].to_dict(), m["y"].to_dict(),
                                                i=fcr_vowels[0], a=fcr_vowels[1],
                                                u=fcr_vowels[2]),
            "hull_area": _hull_area(group[["x", "y"]].to_numpy(), trim, quantiles),
            "dispersion": float(group["d_c"].mean()),
        })  # fmt: skip
    columns = ["n_tokens", "n_labelled", "polygon_area", "fcr", "hull_area", "dispersion"]
    out = pd.DataFrame(rows, columns=[speaker, *columns]).set_index(speaker)
    if f3 is not None:
        third = pd.to_numeric(tokens[f3], errors="raise").groupby(tokens[speaker]).median()
        out["dispersion_f3_ratio"] = out["dispersion"] / third.reindex(out.index)
    out["reduction_index"] = lab.groupby("s")["d_t"].mean()
    out["centralisation"] = t.groupby("s")["cent"].mean()
    if duration is not None:
        l_ref = float(np.log(ref_duration_s)) if ref_duration_s is not None else t["ld"].mean()
        out["reduction_index_adj"] = _duration_adjusted(lab["d_t"], lab["s"], lab["ld"], l_ref)
        out["centralisation_adj"] = _duration_adjusted(t["cent"], t["s"], t["ld"], l_ref)
    out = out.astype({"n_tokens": "int64", "n_labelled": "int64"})
    return out.reset_index()
