"""Which profile variables can be predicted from speech: speaker-grouped cross-validation.

:func:`predict_profiles` fits scikit-learn pipelines that predict each profile
variable (target) from speech features and scores them out of sample, against
a chance baseline and a permutation null, with permutation feature importances.

No speaker is ever in both the training and the test part of a fold: the folds
are drawn by :class:`~sklearn.model_selection.StratifiedGroupKFold`
(classification) or :class:`~sklearn.model_selection.GroupKFold` (regression)
on the ``groups`` column, so that a model cannot score by recognising a voice
it was trained on when the feature table has several rows per speaker
(recordings, segments, tokens). The permutation null (Ojala & Garriga 2010)
permutes the target *between speakers* (each speaker keeps one value over all
their rows), so that it keeps the grouping of the data; scikit-learn's
``permutation_test_score`` permutes within groups, which for a speaker-level
target changes nothing.

=========================  ======================================  =====================
target kind                models                                  metric / chance
=========================  ======================================  =====================
binary, nominal, ordinal   logistic regression (balanced class     balanced accuracy;
                           weights), random forest                 DummyClassifier(prior)
numeric                    ridge (RidgeCV), random forest          R^2; DummyRegressor(mean)
=========================  ======================================  =====================

Every pipeline imputes missing features with the training-fold median and (for
the linear models) standardises with training-fold statistics.

References
----------
Ojala, M. & Garriga, G. C. (2010). Permutation tests for studying classifier
performance. Journal of Machine Learning Research 11, 1833-1863.
Brodersen, K. H., Ong, C. S., Stephan, K. E. & Buhmann, J. M. (2010). The balanced
accuracy and its posterior distribution. ICPR 2010, 3121-3124.
Breiman, L. (2001). Random forests. Machine Learning 45(1), 5-32 (permutation importance).
Varoquaux, G. (2018). Cross-validation failure: small sample sizes lead to large error
bars. NeuroImage 180, 68-77.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

__all__ = [
    "IMPORTANCE_COLUMNS",
    "PREDICTION_COLUMNS",
    "default_estimators",
    "grouped_splits",
    "predict_profiles",
]

KINDS = ("binary", "nominal", "ordinal", "numeric")
PREDICTION_COLUMNS = ("target", "kind", "model", "metric", "score", "score_sd", "chance",
                      "p_value", "n_speakers", "n_obs", "n_splits", "n_permutations", "reason")
IMPORTANCE_COLUMNS = ("target", "model", "feature", "importance_mean", "importance_sd")


def default_estimators(kind: str, *, random_state: int = 0) -> dict[str, BaseEstimator]:
    """The pipelines fitted for a target of ``kind``, by model name.

    Parameters
    ----------
    kind : {"binary", "nominal", "ordinal", "numeric"}
    random_state : int
        Seed of the random forest.

    Returns
    -------
    dict of str to estimator
        ``{"logistic", "random_forest"}`` for classification kinds (ordinal
        targets are treated as unordered classes), ``{"ridge", "random_forest"}``
        for numeric ones. Median imputation first, fitted on the training fold.
    """
    _check_kind(kind)
    if kind == "numeric":
        return {
            "ridge": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                   RidgeCV(alphas=np.logspace(-3, 3, 13))),
            "random_forest": make_pipeline(SimpleImputer(strategy="median"),
                                           RandomForestRegressor(n_estimators=50,
                                                                 min_samples_leaf=2,
                                                                 random_state=random_state)),
        }
    return {
        "logistic": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                                  LogisticRegression(class_weight="balanced", max_iter=2000)),
        "random_forest": make_pipeline(SimpleImputer(strategy="median"),
                                       RandomForestClassifier(n_estimators=50,
                                                              min_samples_leaf=2,
                                                              class_weight="balanced",
                                                              random_state=random_state)),
    }


def grouped_splits(X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, kind: str,
                   n_splits: int, random_state: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test row indices of a speaker-grouped K-fold: no group in both parts of a fold.

    StratifiedGroupKFold for classification kinds (class proportions kept
    roughly equal across folds), shuffled GroupKFold for numeric targets.

    Returns
    -------
    list of (train_index, test_index)
    """
    _check_kind(kind)
    if kind == "numeric":
        cv = GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    else:
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        # "The least populated class has only k members": n_splits is already reduced.
        warnings.simplefilter("ignore", UserWarning)
        return list(cv.split(X, y, groups))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"target kind must be one of {KINDS}, got {kind!r}")


def _score(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    with warnings.catch_warnings():
        # A test fold missing a class the model predicts: balanced accuracy is still defined.
        warnings.simplefilter("ignore", UserWarning)
        if kind == "numeric":
            return float(r2_score(y_true, y_pred))
        return float(balanced_accuracy_score(y_true, y_pred))


def _cv_scores(estimator, X, y, splits, kind) -> tuple[float, np.ndarray, list]:
    """Score of the pooled out-of-fold predictions, the score of each held-out fold, and
    the model fitted on each fold's training part (reused for the importances).

    The pooled score uses every row once, predicted by the model that never saw its
    speaker; it is steadier than the mean of fold scores when folds hold few speakers
    (an R^2 on 8 speakers can be hugely negative; Varoquaux 2018).
    """
    predicted = np.empty(len(y), dtype=y.dtype)
    folds, fitted = [], []
    for train, test in splits:
        fitted.append(clone(estimator).fit(X[train], y[train]))
        predicted[test] = fitted[-1].predict(X[test])
        folds.append(_score(kind, y[test], predicted[test]))
    tested = np.concatenate([test for _, test in splits])
    return _score(kind, y[tested], predicted[tested]), np.array(folds), fitted


def _fold_importances(fitted, X, y, splits, kind, n_repeats, rng) -> np.ndarray:
    """Permutation importance (drop of the score when a feature is shuffled) of each fold's
    fitted model, computed on its held-out rows only. Returns (n_folds, n_features)."""
    scoring = "r2" if kind == "numeric" else "balanced_accuracy"
    out = []
    for model, (_, test) in zip(fitted, splits, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = permutation_importance(model, X[test], y[test], scoring=scoring,
                                            n_repeats=n_repeats,
                                            random_state=int(rng.integers(2**31 - 1)))
        out.append(result.importances_mean)
    return np.array(out)


def _target_values(values: pd.Series, kind: str) -> np.ndarray:
    if kind == "numeric":
        return pd.to_numeric(values, errors="raise").astype("float64").to_numpy()
    # Class labels as strings: booleans, categories and codes alike.
    return values.astype(object).map(str).to_numpy(dtype=object)


def _skip_row(target, kind, reason, n_speakers, n_obs) -> dict:
    return {"target": target, "kind": kind, "model": None,
            "metric": "r2" if kind == "numeric" else "balanced_accuracy",
            "score": np.nan, "score_sd": np.nan, "chance": np.nan, "p_value": np.nan,
            "n_speakers": n_speakers, "n_obs": n_obs, "n_splits": 0, "n_permutations": 0,
            "reason": reason}


def predict_profiles(
    features: pd.DataFrame,
    profiles: pd.DataFrame,
    targets: Mapping[str, str],
    *,
    groups: str = "speaker_id",
    n_splits: int = 5,
    n_permutations: int = 200,
    random_state: int = 0,
    n_repeats: int = 5,
    estimators: Mapping[str, BaseEstimator] | None = None,
    models: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-validated prediction of profile variables from speech features.

    Parameters
    ----------
    features : pd.DataFrame
        ``groups`` column plus numeric feature columns (NaN allowed: imputed by
        the training-fold median); one or several rows per speaker. Non-numeric
        columns other than ``groups`` are ignored.
    profiles : pd.DataFrame
        One row per speaker: ``groups`` and the target columns.
    targets : mapping of str to str
        Target column -> kind ("binary", "nominal", "ordinal" -> classification;
        "numeric" -> regression).
    groups : str
        Speaker column; folds never split a speaker.
    n_splits : int
        Folds. Reduced to the number of speakers in the smallest class (or to
        half the speakers, for numeric targets: 2 per test fold) when there are
        fewer; a target that cannot have 2 folds is skipped with a ``reason``.
    n_permutations : int
        Speaker-level permutations of the target for the p-value
        ``(1 + #{null score >= score}) / (1 + n_permutations)``; 0: no p-value.
    random_state : int
        Seed of the folds, the permutations, the importances and the forests.
    n_repeats : int
        Shuffles per feature and fold in the permutation importance.
    estimators : mapping of str to estimator, optional
        Models to use instead of :func:`default_estimators` (the same for every
        target; they must suit its kind).
    models : sequence of str, optional
        Names of the default models to keep (e.g. ``["logistic", "ridge"]``);
        None keeps all.

    Returns
    -------
    predictions : pd.DataFrame
        One row per target and model, columns :data:`PREDICTION_COLUMNS`:
        ``score`` (balanced accuracy, Brodersen et al. 2010, or R^2 of the
        pooled out-of-fold predictions: every row predicted by a model that
        never saw its speaker), ``score_sd`` (SD of the per-fold scores; with
        few speakers it is large, Varoquaux 2018), ``chance`` (the same CV score of
        the Dummy baseline: ~1/n_classes or <= 0), ``p_value``, ``n_speakers``,
        ``n_obs`` (rows), ``n_splits``, ``n_permutations``, and ``reason`` (why a
        target was skipped, model None and NaN scores; empty otherwise).
    importances : pd.DataFrame
        Columns :data:`IMPORTANCE_COLUMNS`: per target, model and feature, the
        mean and SD over folds of the held-out permutation importance (score
        drop when the feature is shuffled; Breiman 2001).
    """
    # Problems of a few dozen rows: BLAS threads only add overhead (10-30x on a busy machine).
    with threadpool_limits(limits=1):
        return _predict(features, profiles, targets, groups=groups, n_splits=n_splits,
                        n_permutations=n_permutations, random_state=random_state,
                        n_repeats=n_repeats, estimators=estimators, models=models)


def _predict(features, profiles, targets, *, groups, n_splits, n_permutations, random_state,
             n_repeats, estimators, models):
    if groups not in features.columns or groups not in profiles.columns:
        raise ValueError(f"features and profiles both need the group column {groups!r}")
    missing = [t for t in targets if t not in profiles.columns]
    if missing:
        raise ValueError(f"profiles lacks target column(s) {missing}")
    for kind in targets.values():
        _check_kind(kind)
    if profiles[groups].duplicated().any():
        raise ValueError(f"profiles must have one row per {groups}")
    feature_cols = [c for c in features.columns if c != groups and c not in targets
                    and pd.api.types.is_numeric_dtype(features[c].dtype)
                    and not pd.api.types.is_bool_dtype(features[c].dtype)
                    and features[c].notna().any()]
    if not feature_cols:
        raise ValueError("features has no numeric feature column with a value")
    rng = np.random.default_rng(random_state)
    pred_rows: list[dict] = []
    imp_rows: list[dict] = []
    for target, kind in targets.items():
        table = features[[groups, *feature_cols]].merge(
            profiles[[groups, target]], on=groups, how="inner", validate="many_to_one")
        table = table[table[target].notna()]
        k, reason = _n_folds(table, groups, target, kind, n_splits)
        if reason:
            pred_rows.append(_skip_row(target, kind, reason, int(table[groups].nunique()),
                                       len(table)))
            continue
        chosen = (dict(estimators) if estimators is not None
                  else default_estimators(kind, random_state=random_state))
        if models is not None and estimators is None:
            chosen = {name: est for name, est in chosen.items() if name in models}
        rows, importances = _predict_target(
            table, feature_cols, groups, target, kind, chosen, n_splits=k,
            n_permutations=n_permutations, n_repeats=n_repeats, rng=rng)
        pred_rows += rows
        imp_rows += importances
    predictions = pd.DataFrame(pred_rows, columns=list(PREDICTION_COLUMNS))
    importances = pd.DataFrame(imp_rows, columns=list(IMPORTANCE_COLUMNS))
    predictions = predictions.astype({"score": "float64", "score_sd": "float64",
                                      "chance": "float64", "p_value": "float64",
                                      "n_speakers": "int64", "n_obs": "int64",
                                      "n_splits": "int64", "n_permutations": "int64"})
    importances = importances.astype({"importance_mean": "float64", "importance_sd": "float64"})
    return predictions, importances


def _n_folds(table: pd.DataFrame, groups: str, target: str, kind: str,
             n_splits: int) -> tuple[int, str]:
    """Folds for one target (at most ``n_splits``), or 0 and why the target is skipped."""
    n_speakers = int(table[groups].nunique())
    speaker_y = table.drop_duplicates(groups).set_index(groups)[target]
    if kind == "numeric":
        # An R^2 needs at least 2 speakers in every test fold.
        n_min = n_speakers // 2
    else:
        counts = _target_values(speaker_y, kind)
        n_classes = len(set(counts))
        if n_classes < 2:
            return 0, f"{n_classes} class(es) among {n_speakers} speakers"
        n_min = int(pd.Series(counts).value_counts().min())
    k = min(n_splits, n_min)
    if k < 2:
        return 0, (f"{n_speakers} speakers: fewer than 2 folds of 2 speakers" if kind == "numeric"
                   else f"{n_min} speakers in the smallest class: fewer than 2 folds")
    return k, ""


def _predict_target(table, feature_cols, groups, target, kind, chosen, *, n_splits,
                    n_permutations, n_repeats, rng) -> tuple[list[dict], list[dict]]:
    """Prediction rows (one per model) and importance rows of one target.

    Each fold is fitted once per model: the held-out predictions and the permutation
    importances come from the same fitted model.
    """
    X = table[feature_cols].to_numpy(dtype=float, na_value=np.nan)
    y = _target_values(table[target], kind)
    g = table[groups].astype(object).to_numpy()
    n_obs, n_speakers = len(table), int(table[groups].nunique())
    seed = int(rng.integers(2**31 - 1))
    splits = grouped_splits(X, y, g, kind=kind, n_splits=n_splits, random_state=seed)
    dummy = (DummyRegressor(strategy="mean") if kind == "numeric"
             else DummyClassifier(strategy="prior"))
    chance = _cv_scores(dummy, X, y, splits, kind)[0]
    # Speaker-level permutation, written here because scikit-learn's permutation_test_score
    # permutes within groups (a no-op for a speaker-level target): shuffle the speakers'
    # values and spread them back to their rows.
    speakers, row_speaker = np.unique(g.astype(str), return_inverse=True)
    y_by_speaker = np.empty(len(speakers), dtype=y.dtype)
    y_by_speaker[row_speaker] = y
    perms = [rng.permutation(len(speakers)) for _ in range(n_permutations)]
    pred_rows, imp_rows = [], []
    for name, estimator in chosen.items():
        score, scores, fitted = _cv_scores(estimator, X, y, splits, kind)
        p_value = np.nan
        if n_permutations > 0:
            null = np.empty(n_permutations)
            for i, perm in enumerate(perms):
                y_perm = y_by_speaker[perm][row_speaker]
                # Folds re-drawn on the permuted target, as the observed ones were drawn
                # on the observed target (same seed, same grouping).
                perm_splits = grouped_splits(X, y_perm, g, kind=kind, n_splits=n_splits,
                                             random_state=seed)
                null[i] = _cv_scores(estimator, X, y_perm, perm_splits, kind)[0]
            p_value = float((1 + np.sum(null >= score)) / (1 + n_permutations))
        pred_rows.append({"target": target, "kind": kind, "model": name,
                          "metric": "r2" if kind == "numeric" else "balanced_accuracy",
                          "score": score, "score_sd": float(scores.std(ddof=1)),
                          "chance": chance, "p_value": p_value, "n_speakers": n_speakers,
                          "n_obs": n_obs, "n_splits": n_splits,
                          "n_permutations": n_permutations, "reason": ""})
        if n_repeats > 0:
            imp = _fold_importances(fitted, X, y, splits, kind, n_repeats, rng)
            imp_rows += [{"target": target, "model": name, "feature": feature,
                          "importance_mean": float(imp[:, j].mean()),
                          "importance_sd": float(imp[:, j].std(ddof=1))}
                         for j, feature in enumerate(feature_cols)]
    return pred_rows, imp_rows
