"""Vowel-token QC: outliers by Mahalanobis distance within speaker x vowel.

A token whose (F1, F2) lies far from the rest of its category (same speaker, same
vowel) is more often a tracking error (a missed or spurious formant, a ceiling
misfit) or a misalignment than a real realisation; FAVE flags and remeasures such
tokens by their Mahalanobis distance from the category (Labov, Rosenfelder &
Fruehwald 2013). Here they are only flagged, never changed.

Distances are taken on log formants: formant variability, and the errors of LPC
tracking (a formant halved or doubled when a peak is missed or split), are roughly
proportional to the frequency, so a category's cloud is closer to an ellipse in log
Hz than in Hz, where high-F2 front vowels would get wide, skewed clouds (FAVE's
remeasurement also works on log formants).

Location and scatter are robust, the reweighted Minimum Covariance Determinant
(Rousseeuw & Van Driessen 1999), so that the outliers do not inflate the scatter
that should expose them. With the 10-50 tokens a speaker's category usually has,
comparing such distances with the asymptotic chi-square(2) quantile flags up to
ten times too many tokens (Hardin & Rocke 2005); the cut-off therefore uses the
finite-sample distributions of Cerioli (2010): scaled Beta for the tokens that
the reweighting kept, scaled F for the others. For large groups both tend to the
chi-square(2) quantile.

References
----------
Rousseeuw, P. J. & Van Driessen, K. (1999). A fast algorithm for the minimum
covariance determinant estimator. Technometrics 41(3), 212-223.
Croux, C. & Haesbroeck, G. (1999). Influence function and efficiency of the minimum
covariance determinant scatter matrix estimator. Journal of Multivariate Analysis
71(2), 161-190.
Hardin, J. & Rocke, D. M. (2005). The distribution of robust distances. Journal of
Computational and Graphical Statistics 14(4), 928-946.
Cerioli, A. (2010). Multivariate outlier detection with high-breakdown estimators.
Journal of the American Statistical Association 105(489), 147-156.
Labov, W., Rosenfelder, I. & Fruehwald, J. (2013). One hundred years of sound change
in Philadelphia: linear incrementation, reversal, and reanalysis. Language 89(1),
30-65 (FAVE's outlier remeasurement).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.covariance import MinCovDet

__all__ = ["mahalanobis_outliers"]

#: Dimension of the (F1, F2) space.
_P = 2
#: Tail probability of the reweighting step (the usual 97.5% quantile).
_REWEIGHT_Q = 0.975


def _cutoffs(m: int, alpha: float) -> tuple[float, float]:
    """Finite-sample cut-offs (Cerioli 2010, eqs. 8-9) for squared distances from a
    mean and unbiased covariance computed on ``m`` points: (inside, outside)."""
    p = _P
    inside = (m - 1) ** 2 / m * stats.beta.ppf(1 - alpha, p / 2, (m - p - 1) / 2)
    outside = (m + 1) / m * (m - 1) * p / (m - p) * stats.f.ppf(1 - alpha, p, m - p)
    return float(inside), float(outside)


def _group_flags(x: np.ndarray, *, alpha: float, robust: bool, seed: int) -> np.ndarray:
    """Outlier flags for one group's ``(n, 2)`` log formants (all finite)."""
    n = len(x)
    if robust:
        with warnings.catch_warnings():
            # Degenerate groups (repeated values) warn; they are handled below.
            warnings.simplefilter("ignore")
            mcd = MinCovDet(random_state=seed).fit(x)
        # Reweight from the consistency-corrected raw fit, as Rousseeuw & Van
        # Driessen; done here because scikit-learn's reweighted scatter is the
        # biased (1/m) covariance without the truncation factor.
        inv = np.linalg.pinv(mcd.raw_covariance_)
        diff = x - mcd.raw_location_
        raw_d = np.einsum("ij,jk,ik->i", diff, inv, diff)
        # Consistency of the raw (half-sample) scatter: scale so that the median
        # distance is the chi-square median (Rousseeuw & Van Driessen 1999, eq. 1.3);
        # unlike the asymptotic factor this also absorbs most of the small-sample bias.
        raw_d = raw_d / max(np.median(raw_d) / stats.chi2.ppf(0.5, _P), np.finfo(float).tiny)
        keep = raw_d <= stats.chi2.ppf(_REWEIGHT_Q, _P)
    else:
        keep = np.ones(n, dtype=bool)
    m = int(keep.sum())
    if m <= _P + 1:
        return np.zeros(n, dtype=bool)
    loc = x[keep].mean(axis=0)
    cov = np.cov(x[keep], rowvar=False)
    if robust:
        # Consistency of a covariance of a sample truncated at the 97.5% quantile
        # (Croux & Haesbroeck 1999).
        cov = cov * _REWEIGHT_Q / stats.chi2.cdf(stats.chi2.ppf(_REWEIGHT_Q, _P), _P + 2)
    if not np.all(np.isfinite(cov)) or np.linalg.matrix_rank(cov) < _P:
        # A category with no spread in one direction has no distance to speak of.
        return np.zeros(n, dtype=bool)
    diff = x - loc
    d2 = np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff)
    if robust:
        # A second reweighting step from the (efficient) reweighted fit: in small
        # groups the half-sample raw fit is noisy and the first step keeps too few.
        keep = d2 <= _cutoffs(m, 1 - _REWEIGHT_Q)[1]
        m = int(keep.sum())
        if m <= _P + 1:
            return np.zeros(n, dtype=bool)
        loc = x[keep].mean(axis=0)
        cov = np.cov(x[keep], rowvar=False)
        diff = x - loc
        d2 = np.einsum("ij,jk,ik->i", diff, np.linalg.pinv(cov), diff)
    inside, outside = _cutoffs(m, alpha)
    return np.where(keep, d2 > inside, d2 > outside)


def mahalanobis_outliers(
    f1_hz: np.ndarray,
    f2_hz: np.ndarray,
    groups: np.ndarray | pd.Series | pd.DataFrame,
    *,
    alpha: float = 0.01,
    min_tokens: int = 8,
    robust: bool = True,
) -> np.ndarray:
    """Flag vowel tokens far from their category in (log F1, log F2).

    Parameters
    ----------
    f1_hz, f2_hz : np.ndarray, shape (n,)
        Formants of each token (Hz). Tokens with a missing or non-positive value are
        never flagged and do not enter their group's estimates.
    groups : array-like, shape (n,) or (n, k)
        Category of each token, e.g. the columns ``speaker_id`` and ``vowel``. A token
        with a missing key (an unlabelled nucleus) is never flagged.
    alpha : float
        Per-token false-positive rate for a Gaussian category (default 0.01).
    min_tokens : int
        Groups with fewer usable tokens than this are never flagged: a scatter from
        fewer points cannot tell an outlier from a sparse category.
    robust : bool
        Reweighted MCD location and scatter (default) rather than the sample mean and
        covariance, which the outliers themselves inflate (masking).

    Returns
    -------
    np.ndarray of bool, shape (n,)
        True where the token's squared Mahalanobis distance exceeds the ``1 - alpha``
        quantile of its finite-sample null distribution (Cerioli 2010; it tends to
        the chi-square(2) quantile in large groups).

    Notes
    -----
    Deterministic: the MCD's random subsets use a fixed seed per group.

    References
    ----------
    Rousseeuw & Van Driessen (1999); Cerioli (2010); Labov, Rosenfelder & Fruehwald
    (2013): see the module docstring.
    """
    f1 = np.asarray(f1_hz, dtype=np.float64)
    f2 = np.asarray(f2_hz, dtype=np.float64)
    if f1.ndim != 1 or f1.shape != f2.shape:
        raise ValueError(f"f1_hz and f2_hz must be 1-D of equal length, got shapes "
                         f"{f1.shape} and {f2.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if min_tokens < _P + 2:
        raise ValueError(f"min_tokens must be at least {_P + 2}, got {min_tokens!r}")
    keys = pd.DataFrame(groups.to_numpy() if isinstance(groups, pd.DataFrame)
                        else np.asarray(groups, dtype=object))
    if len(keys) != len(f1):
        raise ValueError(f"groups has {len(keys)} rows for {len(f1)} tokens")
    group_id = keys.groupby(list(keys.columns), dropna=True, sort=False).ngroup()
    group_id = group_id.reindex(keys.index).fillna(-1).to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log(np.column_stack([f1, f2]))
    usable = np.all(np.isfinite(x), axis=1) & (group_id >= 0)
    flags = np.zeros(len(f1), dtype=bool)
    ids = group_id[usable]
    for g in np.unique(ids):
        rows = np.flatnonzero(usable & (group_id == g))
        if len(rows) >= min_tokens:
            flags[rows] = _group_flags(x[rows], alpha=alpha, robust=robust, seed=0)
    return flags
