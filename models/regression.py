"""Regression models of linguistic variation on speaker profiles (DataFrames in, tidy rows out).

Two levels of analysis, both returning one row per estimated term with the
same columns, so that their tables can be concatenated into ``effects.parquet``:

* :func:`mixed_vowel_model`: token-level linear mixed-effects model (one row
  per vowel token), e.g. Lobanov-normalised F1 ~ vowel x education + gender
  with a random intercept per speaker and a variance component for words
  (Baayen, Davidson & Bates 2008), fitted by REML with :mod:`statsmodels`.
* :func:`speaker_regression`: speaker-level OLS (one row per speaker) with
  heteroskedasticity-consistent HC3 standard errors (MacKinnon & White 1985;
  Long & Ervin 2000), standardised effect sizes and a speaker bootstrap
  percentile confidence interval for each of them (Efron & Tibshirani 1993).

Columns of every returned table
-------------------------------
model, response, term, estimate, std_error, ci_low, ci_high, p_value,
effect_size, effect_ci_low, effect_ci_high, n_obs, n_speakers, converged, note.

``estimate`` is in the units of the response; ``ci_low``/``ci_high`` are Wald
95% intervals; ``effect_size`` is the standardised coefficient (speaker
regression only; NaN for the mixed model, whose Lobanov response is already in
per-speaker standard-deviation units). Rows with a missing response or
predictor are left out (listwise deletion) and counted in ``note``.

References
----------
Baayen, R. H., Davidson, D. J. & Bates, D. M. (2008). Mixed-effects modeling with
crossed random effects for subjects and items. Journal of Memory and Language
59(4), 390-412.
Lobanov, B. M. (1971). Classification of Russian vowels spoken by different
speakers. JASA 49(2B), 606-608.
MacKinnon, J. G. & White, H. (1985). Some heteroskedasticity-consistent covariance
matrix estimators with improved finite sample properties. Journal of
Econometrics 29(3), 305-325.
Long, J. S. & Ervin, L. H. (2000). Using heteroscedasticity consistent standard
errors in the linear regression model. The American Statistician 54(3), 217-224.
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman &
Hall, ch. 13 (percentile intervals).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from models.normalise import Lobanov

__all__ = ["EFFECT_COLUMNS", "lobanov_tokens", "mixed_vowel_model", "speaker_regression"]

#: Columns of the tables returned by :func:`mixed_vowel_model` and :func:`speaker_regression`.
EFFECT_COLUMNS = (
    "model", "response", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    "effect_size", "effect_ci_low", "effect_ci_high", "n_obs", "n_speakers", "converged", "note",
)

_Z975 = stats.norm.ppf(0.975)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names in a formula that are functions or patsy keywords, not columns.
_FORMULA_WORDS = {"C", "Q", "I", "np", "Treatment", "Sum", "Diff", "Poly", "center",
                  "standardize", "scale", "log", "exp", "sqrt", "bs", "cr", "cc", "te"}


def lobanov_tokens(
    vowels: pd.DataFrame,
    *,
    speaker: str = "speaker_id",
    formants: Sequence[str] = ("f1_hz", "f2_hz"),
    min_tokens: int = 3,
) -> pd.DataFrame:
    """Vowel tokens with Lobanov (1971) z-scored formants added, per speaker.

    ``f1_lobanov = (F1 - mean_speaker(F1)) / sd_speaker(F1)`` (ddof = 1), computed
    with :class:`models.normalise.Lobanov` over each speaker's tokens.

    Parameters
    ----------
    vowels : pd.DataFrame
        One row per vowel token with ``speaker`` and the ``formants`` columns (Hz).
    speaker : str
        Speaker column.
    formants : sequence of str
        Formant columns to normalise (``f1_hz`` -> ``f1_lobanov``).
    min_tokens : int
        Speakers with fewer tokens having every formant measured are dropped:
        a mean and SD from one or two tokens normalise nothing.

    Returns
    -------
    pd.DataFrame
        The kept rows of ``vowels`` (original index) plus one ``<formant>_lobanov``
        column per formant; tokens with a missing formant keep NaN there.
    """
    missing = [c for c in (speaker, *formants) if c not in vowels.columns]
    if missing:
        raise ValueError(f"vowels lacks column(s) {missing}")
    measured = vowels[list(formants)].notna().all(axis=1)
    counts = measured.groupby(vowels[speaker]).sum()
    keep_speakers = counts.index[counts >= min_tokens]
    kept = vowels[vowels[speaker].isin(keep_speakers)]
    # Speakers with a zero SD (identical tokens) cannot be z-scored: drop them too.
    sd = kept.loc[measured.loc[kept.index], [*formants]].groupby(kept[speaker]).std(ddof=1)
    good = sd.index[(sd > 0).all(axis=1)]
    kept = kept[kept[speaker].isin(good)]
    if kept.empty:
        return vowels.iloc[:0].assign(**{f.removesuffix("_hz") + "_lobanov": np.array([], float)
                                         for f in formants})
    normalised = Lobanov(speaker=speaker, formants=tuple(formants)).fit_transform(kept)
    return pd.concat([kept, normalised], axis=1)


def _formula_columns(formula: str, data: pd.DataFrame) -> list[str]:
    """Column names used by a patsy formula (identifiers that are columns of ``data``)."""
    names = [n for n in _IDENTIFIER.findall(formula) if n not in _FORMULA_WORDS]
    return [n for n in dict.fromkeys(names) if n in data.columns]


def _plain(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Copy of ``columns`` that patsy reads reliably: nullable numbers as float64,
    strings and booleans as object (Arrow-backed strings and pd.NA confuse patsy)."""
    out = {}
    for c in columns:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            # Keep the category order (ordered education: the first level is the reference).
            out[c] = pd.Categorical(s.astype(object), categories=list(s.cat.categories),
                                    ordered=s.cat.ordered)
        elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.astype("float64")
        else:
            out[c] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out, index=frame.index)


def _complete_rows(data: pd.DataFrame) -> pd.DataFrame:
    """Rows without a missing value; categories left without rows are removed, since an
    empty category would add an all-zero dummy column (a rank-deficient design)."""
    out = data[data.notna().all(axis=1)].copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].cat.remove_unused_categories()
    return out


def _empty_effects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in EFFECT_COLUMNS})


def _dtype(column: str) -> str:
    if column in ("model", "response", "term", "note"):
        return "object"
    if column in ("n_obs", "n_speakers"):
        return "int64"
    if column == "converged":
        return "bool"
    return "float64"


def _finish(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return _empty_effects()
    out = pd.DataFrame(rows)
    for c in EFFECT_COLUMNS:
        if c not in out:
            out[c] = np.nan
    out = out[list(EFFECT_COLUMNS)]
    return out.astype({c: _dtype(c) for c in EFFECT_COLUMNS})


def _warning_text(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def mixed_vowel_model(
    tokens: pd.DataFrame,
    *,
    response: str = "f1_lobanov",
    fixed: str = "C(vowel) * education_rank + C(gender)",
    group: str = "speaker_id",
    variance_components: Mapping[str, str] | None = None,
    reml: bool = True,
) -> pd.DataFrame:
    """Token-level linear mixed-effects model with a random intercept per speaker.

    ``response ~ fixed + (1 | group) + variance components within group``, fitted by
    REML with :class:`statsmodels.regression.mixed_linear_model.MixedLM`
    (Baayen, Davidson & Bates 2008). The default model is normalised F1 as a
    function of vowel quality, education rank, their interaction and gender.

    Parameters
    ----------
    tokens : pd.DataFrame
        One row per vowel token with ``response`` already computed (e.g. by
        :func:`lobanov_tokens`), ``group`` and the columns named in ``fixed``
        and ``variance_components``.
    response : str
        Response column (e.g. ``f1_lobanov``, per-speaker SD units).
    fixed : str
        Right-hand side of the fixed-effects formula (patsy syntax).
    group : str
        Grouping column of the random intercept (speakers).
    variance_components : mapping of str to str, optional
        Name -> patsy formula of a variance component, by default
        ``{"word": "0 + C(word_id)"}``. In statsmodels a variance component is
        nested within ``group``: the word component is a random effect per
        word *within each speaker* (speaker-specific word deviations). A
        component whose columns are absent, or that has at most one level, is
        dropped and the reason written to ``note``. Pass ``{}`` for none.
    reml : bool
        Restricted maximum likelihood (True, unbiased variances) or ML.

    Returns
    -------
    pd.DataFrame
        Columns :data:`EFFECT_COLUMNS`. One row per fixed-effect term (estimate,
        Wald standard error, 95% CI and two-sided z p-value), then ``"Group Var"``
        (random-intercept variance) and ``"<name> Var"`` per variance component
        (estimate and the standard error statsmodels' summary reports; no
        p-value or CI, since Wald intervals for variances are unreliable).
        ``model`` is ``"mixed: <response>"``; ``converged`` is False when the
        optimiser did not converge or statsmodels warned of convergence
        problems, whose messages go to ``note`` (nothing is printed).

    Raises
    ------
    ValueError
        If a required column is missing or fewer than two groups remain.
    """
    if variance_components is None:
        variance_components = {"word": "0 + C(word_id)"}
    needed = [response, group, *_formula_columns(fixed, tokens)]
    fixed_names = [n for n in _IDENTIFIER.findall(fixed) if n not in _FORMULA_WORDS]
    missing = [c for c in dict.fromkeys([response, group, *fixed_names]) if c not in tokens]
    if missing:
        raise ValueError(f"tokens lacks column(s) {missing} needed by the mixed model "
                         f"({response} ~ {fixed}, groups {group})")
    notes: list[str] = []
    vc: dict[str, str] = {}
    for name, formula in variance_components.items():
        cols = _formula_columns(formula, tokens)
        wanted = [n for n in _IDENTIFIER.findall(formula) if n not in _FORMULA_WORDS]
        absent = [c for c in wanted if c not in tokens.columns]
        if absent:
            notes.append(f"variance component {name!r} dropped: no column {absent}")
            continue
        levels = tokens[cols].dropna().drop_duplicates()
        if len(levels) <= 1:
            notes.append(f"variance component {name!r} dropped: {len(levels)} level(s)")
            continue
        vc[name] = formula
        needed.extend(cols)
    needed = list(dict.fromkeys(needed))
    data = _plain(tokens, needed)
    complete = _complete_rows(data)
    if len(complete) < len(data):
        notes.append(f"{len(data) - len(complete)} of {len(data)} rows with missing values "
                     "left out")
    n_groups = complete[group].nunique()
    if n_groups < 2:
        raise ValueError(f"the mixed model needs at least 2 groups ({group}); "
                         f"{n_groups} remain after dropping missing values")
    model = smf.mixedlm(f"{response} ~ {fixed}", complete, groups=complete[group],
                        re_formula="1", vc_formula=vc or None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = model.fit(reml=reml)
        except np.linalg.LinAlgError as e:
            raise ValueError(f"the mixed model {response} ~ {fixed} could not be fitted: "
                             f"{e}") from e
    messages = _warning_text(caught)
    convergence_problem = any("Convergence" in m or "converge" in m.lower() for m in messages)
    converged = bool(result.converged) and not convergence_problem
    notes.extend(messages)
    if not result.converged:
        notes.append("optimiser did not converge")
    note = "; ".join(dict.fromkeys(notes))
    base = {"model": f"mixed: {response}", "response": response, "n_obs": int(result.nobs),
            "n_speakers": int(n_groups), "converged": converged, "note": note}
    fe = result.fe_params
    k_fe = len(fe)
    se = np.sqrt(np.diag(np.asarray(result.cov_params())[:k_fe, :k_fe]))
    rows = []
    for term, est, s in zip(fe.index, fe.to_numpy(), se, strict=True):
        z = est / s if s > 0 else np.nan
        rows.append({**base, "term": str(term), "estimate": float(est), "std_error": float(s),
                     "ci_low": est - _Z975 * s, "ci_high": est + _Z975 * s,
                     "p_value": float(2 * stats.norm.sf(abs(z)))})
    # Variance parameters: the estimates and standard errors statsmodels' summary shows
    # (params are stored divided by the residual scale; summary multiplies back).
    bse = np.asarray(result.bse)
    scale = float(result.scale)
    rows.append({**base, "term": "Group Var", "estimate": float(np.asarray(result.cov_re)[0, 0]),
                 "std_error": float(np.sqrt(scale) * bse[k_fe])})
    vc_names = list(model.exog_vc.names) if vc else []
    for i, name in enumerate(vc_names):
        rows.append({**base, "term": f"{name} Var", "estimate": float(result.vcomp[i]),
                     "std_error": float(np.sqrt(scale) * bse[k_fe + 1 + i])})
    rows.append({**base, "term": "Residual Var", "estimate": scale})
    return _finish(rows)


def _is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype))


def speaker_regression(
    speakers: pd.DataFrame,
    response: str,
    predictors: Sequence[str],
    *,
    cov_type: str = "HC3",
    n_bootstrap: int = 2000,
    random_state: int | np.random.Generator | None = 0,
    speaker: str = "speaker_id",
) -> pd.DataFrame:
    """Speaker-level OLS with robust standard errors, standardised effects and bootstrap CIs.

    Fits ``response ~ x1 + C(g1) + ...`` by OLS (statsmodels formula API); numeric
    predictors enter linearly, the others (strings, booleans, categoricals, in
    their category order, first level = reference) as treatment-coded dummies.
    Inference uses the ``cov_type`` sandwich covariance, HC3 by default
    (MacKinnon & White 1985), which Long & Ervin (2000) recommend below 250
    observations, with t reference distribution (n - p degrees of freedom).

    The standardised effect (beta weight) of a term is its coefficient when the
    response and the numeric predictors are z-scored: ``b * sd(x) / sd(y)`` for a
    numeric predictor, ``b / sd(y)`` for a dummy (a difference between groups
    in response SDs). Its 95% CI is the percentile interval of ``n_bootstrap``
    speaker resamples (rows drawn with replacement, standard deviations
    recomputed in each resample; Efron & Tibshirani 1993, ch. 13); all
    resamples are solved at once as a stack of least-squares problems.
    Resamples whose design is rank deficient (e.g. a category not drawn) are
    left out and counted in ``note``.

    Parameters
    ----------
    speakers : pd.DataFrame
        One row per speaker with ``response`` and ``predictors``.
    response : str
        Numeric response column.
    predictors : sequence of str
        Predictor columns (valid Python identifiers).
    cov_type : str
        statsmodels covariance type ("HC3", "HC1", "nonrobust", ...).
    n_bootstrap : int
        Number of speaker resamples (0: no bootstrap, NaN effect CIs).
    random_state : int, Generator or None
        Seed of the resampling.
    speaker : str
        Speaker column; when present, its values must be unique.

    Returns
    -------
    pd.DataFrame
        Columns :data:`EFFECT_COLUMNS`, one row per coefficient (Intercept first,
        with NaN effect size); ``model`` is ``"ols: <response>"``.

    Raises
    ------
    ValueError
        If a column is missing, the response is not numeric, a speaker appears
        twice, or fewer speakers than coefficients + 1 remain.
    """
    predictors = list(predictors)
    missing = [c for c in [response, *predictors] if c not in speakers.columns]
    if missing:
        raise ValueError(f"speakers lacks column(s) {missing}")
    bad = [c for c in [response, *predictors] if not c.isidentifier()]
    if bad:
        raise ValueError(f"column names must be identifiers to enter a formula: {bad}")
    if not _is_numeric(speakers[response]):
        raise ValueError(f"response {response!r} must be numeric, got {speakers[response].dtype}")
    if speaker in speakers.columns and speakers[speaker].duplicated().any():
        dup = speakers.loc[speakers[speaker].duplicated(), speaker].unique()[:5].tolist()
        raise ValueError(f"speaker_regression needs one row per speaker; repeated: {dup}")
    data = _plain(speakers, [response, *predictors])
    complete = _complete_rows(data)
    notes = []
    if len(complete) < len(data):
        notes.append(f"{len(data) - len(complete)} of {len(data)} speakers with missing values "
                     "left out")
    numeric = [c for c in predictors if _is_numeric(speakers[c])]
    terms = [c if c in numeric else f"C({c})" for c in predictors]
    formula = f"{response} ~ " + (" + ".join(terms) if terms else "1")
    model = smf.ols(formula, complete)
    X = np.asarray(model.exog, dtype=float)
    y = np.asarray(model.endog, dtype=float)
    n, p = X.shape
    if n < p + 1:
        raise ValueError(f"{n} speakers for {p} coefficients in {formula}: too few")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError(f"the design of {formula} is rank deficient on these {n} speakers "
                         "(collinear predictors or a level confounded with another)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(cov_type=cov_type, use_t=True)
    notes.extend(_warning_text(caught))
    names = list(model.exog_names)
    # Columns of the design that are z-scored for the standardised effect: numeric predictors.
    scaled = np.array([name in numeric for name in names])
    is_intercept = np.array([name == "Intercept" for name in names])
    effect = _standardised(X[None], y[None], scaled)[0]
    effect[is_intercept] = np.nan
    lo = hi = np.full(p, np.nan)
    if n_bootstrap > 0:
        rng = np.random.default_rng(random_state)
        boot, n_bad = _bootstrap_effects(X, y, scaled, n_bootstrap, rng)
        if n_bad:
            notes.append(f"{n_bad} of {n_bootstrap} bootstrap resamples rank deficient, left out")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN CI
            lo, hi = np.nanpercentile(boot, [2.5, 97.5], axis=0)
        lo, hi = np.where(is_intercept, np.nan, lo), np.where(is_intercept, np.nan, hi)
    ci = np.asarray(result.conf_int(alpha=0.05))
    base = {"model": f"ols: {response}", "response": response, "n_obs": n, "n_speakers": n,
            "converged": True, "note": "; ".join(dict.fromkeys(notes))}
    rows = [{**base, "term": name, "estimate": float(result.params.iloc[j]),
             "std_error": float(result.bse.iloc[j]), "ci_low": float(ci[j, 0]),
             "ci_high": float(ci[j, 1]), "p_value": float(result.pvalues.iloc[j]),
             "effect_size": float(effect[j]), "effect_ci_low": float(lo[j]),
             "effect_ci_high": float(hi[j])} for j, name in enumerate(names)]
    return _finish(rows)


def _standardised(X: np.ndarray, y: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Standardised OLS coefficients of a stack of problems.

    X: (B, n, p) designs, y: (B, n) responses, scaled: (p,) bool. Returns (B, p):
    ``b * sd(x)/sd(y)`` where ``scaled`` and ``b / sd(y)`` elsewhere (ddof = 1).
    Solved through the pseudo-inverse, which NumPy applies to stacks at once.
    """
    b = np.einsum("bpn,bn->bp", np.linalg.pinv(X), y)
    sd_y = y.std(axis=1, ddof=1)
    sd_x = np.where(scaled[None, :], X.std(axis=1, ddof=1), 1.0)
    return b * sd_x / sd_y[:, None]


def _bootstrap_effects(X: np.ndarray, y: np.ndarray, scaled: np.ndarray, n_bootstrap: int,
                       rng: np.random.Generator, chunk: int = 256) -> tuple[np.ndarray, int]:
    """Standardised coefficients of ``n_bootstrap`` row resamples, (n_bootstrap, p), NaN rows
    for rank-deficient resamples; returns them and how many were rank deficient."""
    n, p = X.shape
    out = np.empty((n_bootstrap, p))
    n_bad = 0
    # Chunks keep memory at chunk * n * p floats however many speakers and resamples.
    for start in range(0, n_bootstrap, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_bootstrap - start), n))
        Xb, yb = X[idx], y[idx]
        rank = np.linalg.matrix_rank(Xb)
        flat_y = yb.std(axis=1) == 0
        bad = (rank < p) | flat_y
        with np.errstate(divide="ignore", invalid="ignore"):
            eff = _standardised(Xb, yb, scaled)
        eff[bad] = np.nan
        out[start:start + len(idx)] = eff
        n_bad += int(bad.sum())
    return out, n_bad
