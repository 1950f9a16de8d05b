"""Associations of speaker features with profile variables: rank tests, permutation
p-values, Benjamini-Hochberg q-values.

Every feature (continuous: a speech measure, a principal component score; or
categorical: the cluster label) is tested against every profile variable with
the test its kinds call for:

=====================  ==================  =====================  ===============
feature                variable kind       test                   effect size
=====================  ==================  =====================  ===============
continuous             ordinal, numeric    Spearman               rho
continuous             nominal             Kruskal-Wallis         epsilon squared
continuous             binary              Mann-Whitney U         rank-biserial r
categorical (cluster)  binary, nominal     chi-square             Cramér's V
categorical (cluster)  2 x 2, E < 5        Fisher's exact test    Cramér's V (phi)
categorical (cluster)  ordinal, numeric    Kruskal-Wallis         epsilon squared
=====================  ==================  =====================  ===============

p-values
--------
By permutation of the variable (Good 2005): under the null hypothesis of no
association the speakers' feature values are exchangeable with respect to their
profile, so the observed statistic is compared with its values over ``B``
random relabellings, ``p = (1 + #{T_perm >= T_obs}) / (1 + B)`` (Phipson &
Smyth 2010: never zero, valid at any B). Two-sided statistics: ``|rho|``, H,
``|U - n1 n2 / 2|``, chi-square. The rank tests permute the feature's ranks in
one array of shape (B, n) and compute all B statistics by matrix products; the
chi-square permutes cluster labels and counts all B tables with one
``bincount``. Fisher's exact test is the permutation distribution of the 2 x 2
table with fixed margins enumerated exactly (hypergeometric), so its p-value is
the exact one. The permutations depend only on ``random_state`` and the number
of speakers in the test, so results do not depend on the order of the tests.

q-values: Benjamini & Hochberg (1995) over the whole table.

Missing values: a speaker with a missing feature or variable is left out of
that test only; ``n_speakers`` gives the number used. A test that cannot be
computed (fewer than two groups observed, a constant feature) has no row.

References
----------
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
Cramér, H. (1946). Mathematical Methods of Statistics. Princeton University Press.
Good, P. (2005). Permutation, Parametric and Bootstrap Tests of Hypotheses. Springer.
Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
correlation. Comprehensive Psychology 3, 11.IT.3.1.
Kruskal, W. H. & Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
JASA 47(260), 583-621.
Mann, H. B. & Whitney, D. R. (1947). On a test of whether one of two random variables is
stochastically larger than the other. Ann. Math. Stat. 18(1), 50-60.
Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. Stat. Appl.
Genet. Mol. Biol. 9(1), 39.
Spearman, C. (1904). The proof and measurement of association between two things.
Am. J. Psychol. 15(1), 72-101.
Tomczak, M. & Tomczak, E. (2014). The need to report effect size estimates revisited.
Trends in Sport Sciences 21(1), 19-25 (epsilon squared for Kruskal-Wallis).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["ASSOCIATION_COLUMNS", "associations", "benjamini_hochberg"]

KINDS = ("binary", "nominal", "ordinal", "numeric")
ASSOCIATION_COLUMNS = (
    "feature", "variable", "kind", "test", "statistic", "effect_size", "effect_size_name",
    "contrast", "p_value", "q_value", "n_speakers",
)  # fmt: skip


def benjamini_hochberg(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) q-values (FDR-adjusted p-values).

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the p-values sorted
    ascending, ``m`` the number of non-missing p-values.

    Parameters
    ----------
    p : array_like
        p-values in [0, 1], any shape; NaN stays NaN and does not count in m.

    Returns
    -------
    np.ndarray
        q-values, same shape as ``p``.
    """
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError(f"p-values must lie in [0, 1]; got min {p[ok].min()}, max {p[ok].max()}")
    q = np.full(p.shape, np.nan)
    values = p[ok]
    m = values.size
    if m == 0:
        return q
    order = np.argsort(values, kind="mergesort")
    scaled = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    q[ok] = out
    return q


@dataclass
class _Result:
    test: str
    statistic: float
    effect_size: float
    effect_size_name: str
    p_value: float
    contrast: str | None = None


def _p_value(observed: float, permuted: np.ndarray) -> float:
    # The identity relabelling reproduces T_obs up to rounding: count it as >=.
    tolerance = 1e-10 * max(1.0, abs(observed))
    exceed = int(np.count_nonzero(permuted >= observed - tolerance))
    return (1.0 + exceed) / (1.0 + permuted.size)


class _Permutations:
    """Permutation index arrays of shape (B, n), one per n, seeded by (seed, n)."""

    def __init__(self, n_permutations: int, random_state: int):
        self.b = n_permutations
        self.seed = random_state
        self._cache: dict[int, np.ndarray] = {}

    def __call__(self, n: int) -> np.ndarray:
        if n not in self._cache:
            rng = np.random.default_rng([self.seed, n])
            base = np.broadcast_to(np.arange(n, dtype=np.intp), (self.b, n))
            self._cache[n] = rng.permuted(base, axis=1)
        return self._cache[n]


def _spearman(x: np.ndarray, y: np.ndarray, perms) -> _Result | None:
    """Spearman's rho = Pearson correlation of average ranks; T = |rho|."""
    a = stats.rankdata(x)
    b = stats.rankdata(y)
    a = a - a.mean()
    b = b - b.mean()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return None
    a, b = a / na, b / nb
    rho = float(a @ b)
    permuted = np.abs(a[perms(a.size)] @ b)
    return _Result("spearman", rho, rho, "rho", _p_value(abs(rho), permuted))


def _kruskal(values: np.ndarray, groups: np.ndarray, perms) -> _Result | None:
    """Kruskal-Wallis H with the tie correction; epsilon² = H / (n - 1)."""
    levels, codes = np.unique(groups, return_inverse=True)
    k, n = levels.size, values.size
    if k < 2 or n <= k:
        return None
    r = stats.rankdata(values)
    _, ties = np.unique(r, return_counts=True)
    correction = 1.0 - float(np.sum(ties**3 - ties)) / (n**3 - n)
    if correction <= 0:
        return None
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes] = 1.0
    sizes = onehot.sum(axis=0)

    def h(ranks: np.ndarray) -> np.ndarray:
        sums = ranks @ onehot
        h_raw = 12.0 / (n * (n + 1)) * np.sum(sums**2 / sizes, axis=-1) - 3.0 * (n + 1)
        return h_raw / correction

    observed = float(h(r))
    permuted = h(r[perms(n)])
    p = _p_value(observed, permuted)
    return _Result("kruskal", observed, observed / (n - 1), "epsilon2", p)


def _mannwhitney(values: np.ndarray, groups: np.ndarray, perms) -> _Result | None:
    """U of the second level; rank-biserial r = 2 U / (n1 n2) - 1 (> 0: second level larger)."""
    levels, codes = np.unique(groups, return_inverse=True)
    if levels.size != 2:
        return None
    second = codes == 1
    n1, n = int(second.sum()), values.size
    n0 = n - n1
    r = stats.rankdata(values)
    if np.ptp(r) == 0:
        return None
    shift = n1 * (n1 + 1) / 2.0
    weight = second.astype(float)
    u = float(r @ weight - shift)
    centre = n0 * n1 / 2.0
    permuted = np.abs(r[perms(n)] @ weight - shift - centre)
    p = _p_value(abs(u - centre), permuted)
    contrast = f"{levels[1]} vs {levels[0]}"
    return _Result("mannwhitney", u, 2.0 * u / (n0 * n1) - 1.0, "rank_biserial", p, contrast)


def _contingency(a: np.ndarray, b: np.ndarray, perms) -> _Result | None:
    """Chi-square of independence (Fisher's exact test for a sparse 2 x 2); Cramér's V."""
    la, ca = np.unique(a, return_inverse=True)
    lb, cb = np.unique(b, return_inverse=True)
    ka, kb, n = la.size, lb.size, a.size
    if ka < 2 or kb < 2:
        return None
    table = np.zeros((ka, kb))
    np.add.at(table, (ca, cb), 1.0)
    expected = np.outer(table.sum(1), table.sum(0)) / n

    def chi2(observed: np.ndarray) -> np.ndarray:
        return np.sum((observed - expected) ** 2 / expected, axis=(-2, -1))

    observed = float(chi2(table))
    v = float(np.sqrt(observed / (n * (min(ka, kb) - 1))))
    if ka == 2 and kb == 2 and expected.min() < 5:
        odds, p = stats.fisher_exact(table)
        return _Result("fisher", float(odds), v, "cramers_v", float(p))
    idx = perms(n)
    cells = ca[idx] * kb + cb + (np.arange(idx.shape[0]) * (ka * kb))[:, None]
    tables = np.bincount(cells.ravel(), minlength=idx.shape[0] * ka * kb)
    permuted = chi2(tables.reshape(idx.shape[0], ka, kb).astype(float))
    return _Result("chi2", observed, v, "cramers_v", _p_value(observed, permuted))


def _as_codes(column: pd.Series, kind: str) -> np.ndarray:
    """Values a test can rank or group: category codes for ordinal, floats for numeric."""
    if kind == "ordinal":
        if not (isinstance(column.dtype, pd.CategoricalDtype) and column.dtype.ordered):
            return pd.to_numeric(column, errors="raise").to_numpy(dtype=float)
        return column.cat.codes.to_numpy(dtype=float)
    if kind == "numeric":
        return pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return column.astype(object).astype(str).to_numpy()


def associations(
    features: pd.DataFrame,
    profiles: pd.DataFrame,
    variables: Mapping[str, str],
    *,
    n_permutations: int = 9999,
    random_state: int = 0,
    categorical: Sequence[str] = ("cluster",),
    id_column: str = "speaker_id",
) -> pd.DataFrame:
    """Test every feature against every profile variable (see the module docstring).

    Parameters
    ----------
    features : pd.DataFrame
        ``id_column`` + one column per feature (speech measures, ``PC1``...,
        ``cluster``). Columns named in ``categorical`` or of a non-numeric
        dtype are treated as group labels.
    profiles : pd.DataFrame
        ``id_column`` + the variables (e.g. from :func:`models.profiles.speaker_profiles`).
    variables : mapping of str to str
        Variable -> kind, ``"binary"``, ``"nominal"``, ``"ordinal"`` or ``"numeric"``
        (e.g. :func:`models.profiles.profile_variables`).
    n_permutations : int
        B, the number of random relabellings per test (p-value resolution 1 / (B + 1)).
    random_state : int
        Seed of the permutations.
    categorical : sequence of str
        Feature columns holding labels (cluster memberships).
    id_column : str
        Speaker column shared by both tables.

    Returns
    -------
    pd.DataFrame
        One row per test, in feature then variable order: ``feature``, ``variable``,
        ``kind`` (the variable's), ``test``, ``statistic`` (rho, H, U of the second level,
        chi-square or Fisher's odds ratio), ``effect_size``, ``effect_size_name``,
        ``contrast`` (Mann-Whitney only: "second vs first" level; a positive
        rank-biserial r means the second is larger), ``p_value``, ``q_value``
        (Benjamini-Hochberg over the table), ``n_speakers``.
    """
    for name, table in (("features", features), ("profiles", profiles)):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"{name} must be a DataFrame, got {type(table).__name__}")
        if id_column not in table.columns:
            raise ValueError(f"{name} lack the {id_column!r} column")
        if table[id_column].duplicated().any():
            raise ValueError(f"{name} have duplicated {id_column!r} values")
    bad = {v: k for v, k in variables.items() if k not in KINDS}
    if bad:
        raise ValueError(f"unknown variable kind(s) {bad}; use one of {KINDS}")
    absent = [v for v in variables if v not in profiles.columns]
    if absent:
        raise ValueError(f"variable(s) {absent} are not columns of profiles")
    if int(n_permutations) < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")

    merged = features.merge(profiles[[id_column, *variables]], on=id_column, how="inner",
                            suffixes=("", "__profile"))
    perms = _Permutations(int(n_permutations), int(random_state))
    feature_names = [c for c in features.columns if c != id_column]
    rows = []
    for feature in feature_names:
        column = merged[feature]
        is_label = feature in categorical or not pd.api.types.is_numeric_dtype(column.dtype)
        for variable, kind in variables.items():
            value = merged[variable + "__profile" if variable in feature_names else variable]
            ok = (column.notna() & value.notna()).to_numpy()
            if ok.sum() < 3:
                continue
            y = _as_codes(value[ok], kind)
            if is_label:
                x = column[ok].astype(object).astype(str).to_numpy()
                if kind in ("binary", "nominal"):
                    result = _contingency(x, y, perms)
                else:
                    result = _kruskal(y, x, perms)
            else:
                x = pd.to_numeric(column[ok]).to_numpy(dtype=float)
                if kind in ("ordinal", "numeric"):
                    result = _spearman(x, y, perms)
                elif kind == "nominal":
                    result = _kruskal(x, y, perms)
                else:
                    result = _mannwhitney(x, y, perms)
            if result is None:
                continue
            rows.append({
                "feature": feature, "variable": variable, "kind": kind, "test": result.test,
                "statistic": result.statistic, "effect_size": result.effect_size,
                "effect_size_name": result.effect_size_name, "contrast": result.contrast,
                "p_value": result.p_value, "n_speakers": int(ok.sum()),
            })  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in ASSOCIATION_COLUMNS if c != "q_value"])
    out.insert(out.columns.get_loc("p_value") + 1, "q_value",
               benjamini_hochberg(out["p_value"].to_numpy(dtype=float)))
    out["n_speakers"] = out["n_speakers"].astype("int64")
    out["contrast"] = out["contrast"].astype("string")
    return out
