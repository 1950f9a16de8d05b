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

Covariate adjustment (``adjust=True``, the default)
---------------------------------------------------
Speakers' profile variables are correlated (in a sample of 40 the null column
``main_income`` may happen to be unbalanced across regions or education
levels), so a marginal test picks up the effect of a correlated variable. As a
sociolinguist would, each continuous feature is tested against a variable
*adjusted for the other analysed profile variables* (rank analysis of
covariance, Quade 1967):

1. the reduced model ``Z``: an intercept, the other variables one-hot coded
   (binary, nominal; first level dropped) or as ranks (ordinal, numeric);
   speakers missing any of them are left out of that test (``n_speakers``);
2. the feature's ranks ``r`` are residualised on ``Z`` by OLS, ``e = r - H_Z r``;
3. the test's statistic is computed on the residual scores ``e``: the partial
   rank correlation ``corr(e, R_Z rank(x))`` (Spearman), ``H = (n - 1) ||P_G e||^2 /
   ||e||^2`` with ``P_G`` the projection on the group indicators residualised on
   ``Z`` (Kruskal-Wallis; the partial F of the groups is a monotone function of
   it, and ``H / (n - 1)`` is the partial eta squared of the ranks), and
   ``U`` of the second level's scores ``e + (n + 1) / 2`` (Mann-Whitney); with no
   other variable ``e`` is the centred ranks and every statistic equals the plain
   one (``H`` is the tie-corrected Kruskal-Wallis H); the Mann-Whitney ``U`` and
   rank-biserial r reported are those of the residuals' own ranks (aligned
   ranks, Hodges & Lehmann 1962), epsilon squared is the partial eta squared,
   and rho is the partial rank correlation;
4. the p-value is by permutation of residuals under the reduced model (Freedman
   & Lane 1983; Anderson & Legendre 1999; Anderson 2001): ``e`` is permuted
   against the fixed profiles, the permuted response ``H_Z r + P e`` is
   residualised on ``Z`` again, and the statistic, made scale-free by dividing by
   the residuals' norm, is recomputed. All ``B`` permutations are one (B, n)
   array, residualised and tested by matrix products.

Cluster x variable tests stay unadjusted: the cluster label is a categorical
outcome, for which rank residuals have no meaning. The plain (marginal) test
is kept beside the adjusted one (``p_marginal``, ``q_marginal``) so the
reference study's analysis stays visible; ``adjust=False`` reports it as
``p_value``.

q-values: Benjamini & Hochberg (1995) over the whole table (the marginal
p-values have their own BH ``q_marginal``).

Missing values: a speaker with a missing feature or variable is left out of
that test only; ``n_speakers`` gives the number used. A test that cannot be
computed (fewer than two groups observed, a constant feature) has no row.

References
----------
Anderson, M. J. (2001). Permutation tests for univariate or multivariate analysis of variance
and regression. Can. J. Fish. Aquat. Sci. 58(3), 626-639.
Anderson, M. J. & Legendre, P. (1999). An empirical comparison of permutation methods for tests
of partial regression coefficients in a linear model. J. Stat. Comput. Simul. 62(3), 271-303.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
Cramér, H. (1946). Mathematical Methods of Statistics. Princeton University Press.
Freedman, D. & Lane, D. (1983). A nonstochastic interpretation of reported significance
levels. J. Bus. Econ. Stat. 1(4), 292-298.
Good, P. (2005). Permutation, Parametric and Bootstrap Tests of Hypotheses. Springer.
Hodges, J. L. & Lehmann, E. L. (1962). Rank methods for combination of independent
experiments in analysis of variance. Ann. Math. Stat. 33(2), 482-497.
Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
correlation. Comprehensive Psychology 3, 11.IT.3.1.
Kruskal, W. H. & Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
JASA 47(260), 583-621.
Mann, H. B. & Whitney, D. R. (1947). On a test of whether one of two random variables is
stochastically larger than the other. Ann. Math. Stat. 18(1), 50-60.
Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. Stat. Appl.
Genet. Mol. Biol. 9(1), 39.
Quade, D. (1967). Rank analysis of covariance. JASA 62(320), 1187-1200.
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
    "contrast", "p_value", "q_value", "n_speakers", "adjusted_for", "p_marginal", "q_marginal",
)  # fmt: skip


def benjamini_hochberg(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) q-values (FDR-adjusted p-values), missing p-values left out.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the p-values sorted
    ascending, ``m`` the number of non-missing p-values: SciPy's
    :func:`scipy.stats.false_discovery_control` on the finite values (it refuses NaN).

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
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
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


def _reduced_basis(others: pd.DataFrame, kinds: Mapping[str, str]) -> tuple[np.ndarray, list[str]]:
    """Orthonormal basis of the reduced model (intercept + the other variables) and their names.

    Binary and nominal variables are one-hot coded with the first observed level
    dropped, ordinal and numeric ones enter as ranks (Quade 1967). A variable
    constant among these speakers adds nothing and is not named. The basis is
    taken from an SVD so that collinear variables (e.g. student and age) do not
    make the projection singular.
    """
    n = len(others)
    columns = [np.ones(n)]
    used = []
    for name, kind in kinds.items():
        codes = _as_codes(others[name], kind)
        if kind in ("ordinal", "numeric"):
            ranks = stats.rankdata(codes)
            if np.ptp(ranks) > 0:
                columns.append(ranks)
                used.append(name)
            continue
        _, inverse = np.unique(codes, return_inverse=True)
        dummies = [(inverse == j).astype(float) for j in range(1, int(inverse.max()) + 1)]
        if dummies:
            columns.extend(dummies)
            used.append(name)
    z = np.column_stack(columns)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    tolerance = s.max() * max(z.shape) * np.finfo(float).eps
    return u[:, s > tolerance], used


def _residualise(values: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """OLS residuals of ``values`` (n,) or (B, n) rows on the reduced model's basis (n, p)."""
    return values - (values @ basis) @ basis.T


def _adjusted(x: np.ndarray, y: np.ndarray, kind: str, basis: np.ndarray,
              perms) -> _Result | None:
    """The test of ``kind`` on the feature's rank residuals, Freedman-Lane permutation p."""
    n = x.size
    if n - basis.shape[1] < 3:
        return None  # no residual degrees of freedom left to test anything
    e = _residualise(stats.rankdata(x), basis)
    norm = np.linalg.norm(e)
    if norm <= 1e-8 * n:
        return None  # the other variables explain the feature's ranks entirely
    # Freedman & Lane (1983): permute the reduced model's residuals, add back its fit
    # (which the re-residualisation removes again), and residualise the permuted response.
    # Written here: no kept library does Freedman-Lane for rank tests on (B, n) arrays at once.
    permuted = _residualise(e[perms(n)], basis)
    permuted_norm = np.maximum(np.linalg.norm(permuted, axis=1), np.finfo(float).tiny)
    if kind in ("ordinal", "numeric"):
        v = _residualise(stats.rankdata(y), basis)
        v_norm = np.linalg.norm(v)
        if v_norm <= 1e-8 * n:
            return None  # the variable is a function of the others: nothing left to test
        v = v / v_norm
        rho = float(e @ v / norm)
        p = _p_value(abs(rho), np.abs(permuted @ v) / permuted_norm)
        return _Result("spearman", rho, rho, "rho", p)
    levels, codes = np.unique(y, return_inverse=True)
    k = levels.size
    if k < 2 or n <= k + basis.shape[1]:
        return None
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes] = 1.0
    if np.linalg.norm(_residualise(onehot.T, basis)) <= 1e-8 * n:
        return None  # the groups are spanned by the other variables
    sizes = onehot.sum(axis=0)
    if kind == "nominal":
        # The groups' part not explained by the other variables: with the raw group means
        # of the residuals (Quade 1967) a group unbalanced over them would be diluted.
        u, s, _ = np.linalg.svd(_residualise(onehot.T, basis).T, full_matrices=False)
        groups = u[:, s > s.max() * max(n, k) * np.finfo(float).eps]

        def share(scores: np.ndarray, sq_norm: np.ndarray | float) -> np.ndarray:
            return np.sum((scores @ groups) ** 2, axis=-1) / sq_norm

        observed = float(share(e, norm**2))
        p = _p_value(observed, share(permuted, permuted_norm**2))
        return _Result("kruskal", (n - 1) * observed, observed, "epsilon2", p)
    if k != 2:
        return None
    weight = onehot[:, 1]
    n1 = int(sizes[1])
    n0 = n - n1
    # Reported: U of the second level among the residuals' own ranks (aligned ranks, Hodges &
    # Lehmann 1962), so that the rank-biserial r keeps its meaning (2 P(second > first) - 1).
    # Tested: the second level's residual sum, U - n0 n1 / 2 of the scores e + (n + 1) / 2
    # (Quade 1967); both are the plain U when nothing is adjusted for.
    u = float(stats.rankdata(e) @ weight - n1 * (n1 + 1) / 2.0)
    p = _p_value(abs(float(e @ weight)) / norm, np.abs(permuted @ weight) / permuted_norm)
    contrast = f"{levels[1]} vs {levels[0]}"
    return _Result("mannwhitney", u, 2.0 * u / (n0 * n1) - 1.0, "rank_biserial", p, contrast)


def associations(
    features: pd.DataFrame,
    profiles: pd.DataFrame,
    variables: Mapping[str, str],
    *,
    adjust: bool | Sequence[str] = True,
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
    adjust : bool or sequence of str
        Test each continuous feature against a variable adjusted for the other
        variables (rank analysis of covariance, Freedman-Lane permutation p); a
        sequence names the covariates to adjust for (each variable is adjusted for
        those of them that are not itself), e.g. the design's demographic core, so
        that a few dozen speakers do not spend their degrees of freedom on every
        survey column; False gives the plain marginal tests of the reference study
        as ``p_value``. Where the speakers are too few for the covariates, the plain
        test is reported and ``adjusted_for`` is empty.
    n_permutations : int
        B, the number of random relabellings per test (p-value resolution 1 / (B + 1)).
    random_state : int
        Seed of the permutations.
    categorical : sequence of str
        Feature columns holding labels (cluster memberships; never adjusted).
    id_column : str
        Speaker column shared by both tables.

    Returns
    -------
    pd.DataFrame
        One row per test, in feature then variable order: ``feature``, ``variable``,
        ``kind`` (the variable's), ``test``, ``statistic`` (rho, H, U of the second level,
        chi-square or Fisher's odds ratio; the partial rho, H and U of the rank residuals
        when adjusted), ``effect_size``, ``effect_size_name``, ``contrast`` (Mann-Whitney
        only: "second vs first" level; a positive rank-biserial r means the second is
        larger), ``p_value``, ``q_value`` (Benjamini-Hochberg over the table),
        ``n_speakers`` (those in the test: with the feature, the variable and, when
        adjusted, every variable adjusted for), ``adjusted_for`` (comma-joined variables,
        "" when none), ``p_marginal`` (the plain test's p on the speakers with the feature
        and the variable) and ``q_marginal`` (its BH q over the table).
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
    # A feature may share a variable's name: the profile's column then carries a suffix.
    profile = merged[[v + "__profile" if v in feature_names else v for v in variables]]
    profile.columns = list(variables)
    present = profile.notna().to_numpy()
    rows = []
    for feature in feature_names:
        column = merged[feature]
        is_label = feature in categorical or not pd.api.types.is_numeric_dtype(column.dtype)
        for j, (variable, kind) in enumerate(variables.items()):
            value = profile[variable]
            ok = column.notna().to_numpy() & present[:, j]
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
            marginal, n_used, adjusted_for = result.p_value, int(ok.sum()), ""
            chosen = (variables if isinstance(adjust, bool)
                      else {v: variables[v] for v in adjust if v in variables})
            others = {v: k for v, k in chosen.items() if v != variable}
            if adjust is not False and not is_label and others:
                # Speakers missing a variable adjusted for cannot enter the reduced model.
                columns = [list(variables).index(v) for v in others]
                ok = ok & present[:, columns].all(axis=1)
                if ok.sum() < 3:
                    continue
                basis, used = _reduced_basis(profile.loc[ok, list(others)], others)
                x = pd.to_numeric(column[ok]).to_numpy(dtype=float)
                adjusted = _adjusted(x, _as_codes(value[ok], kind), kind, basis, perms)
                # Too few speakers for the covariates: the plain test stands, and
                # adjusted_for (empty) says it was not adjusted.
                if adjusted is not None:
                    result = adjusted
                    n_used, adjusted_for = int(ok.sum()), ",".join(used)
            rows.append({
                "feature": feature, "variable": variable, "kind": kind, "test": result.test,
                "statistic": result.statistic, "effect_size": result.effect_size,
                "effect_size_name": result.effect_size_name, "contrast": result.contrast,
                "p_value": result.p_value, "n_speakers": n_used, "adjusted_for": adjusted_for,
                "p_marginal": marginal,
            })  # fmt: skip
    out = pd.DataFrame(rows, columns=[c for c in ASSOCIATION_COLUMNS
                                      if c not in ("q_value", "q_marginal")])
    out.insert(out.columns.get_loc("p_value") + 1, "q_value",
               benjamini_hochberg(out["p_value"].to_numpy(dtype=float)))
    out["q_marginal"] = benjamini_hochberg(out["p_marginal"].to_numpy(dtype=float))
    out["n_speakers"] = out["n_speakers"].astype("int64")
    out["contrast"] = out["contrast"].astype("string")
    out["adjusted_for"] = out["adjusted_for"].astype("string")
    return out
