"""Specifications of profile prediction (models.prediction): cross-validation grouped by
speaker is proven leak-free (with a negative control that shows the proof can fail), a
model that only recognises voices scores at chance, planted signal is found and pure
noise is not, and thin targets are handled without crashing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models.prediction import IMPORTANCE_COLUMNS, PREDICTION_COLUMNS, predict_profiles

# Every (speakers seen in fit, speakers seen in predict) pair of the recording estimator.
# Module-level because clone() deep-copies constructor parameters.
_FOLDS: list[tuple[frozenset, frozenset]] = []


class SpeakerRecorder(ClassifierMixin, BaseEstimator):
    """Majority-class classifier that records which speakers it was trained and tested on.

    Column 0 of X carries the speaker's code, so the estimator sees exactly the rows
    the cross-validation gives it (after no preprocessing at all).
    """

    def fit(self, X, y):
        self.train_speakers_ = frozenset(np.asarray(X)[:, 0].tolist())
        values, counts = np.unique(y, return_counts=True)
        self.classes_ = values
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X):
        _FOLDS.append((self.train_speakers_, frozenset(np.asarray(X)[:, 0].tolist())))
        return np.full(len(X), self.majority_, dtype=object)


def leaking_folds(folds):
    """The folds whose test speakers were also training speakers (empty when leak-free)."""
    return [i for i, (train, test) in enumerate(folds) if train & test]


def _rows_per_speaker(n_speakers, n_rows, rng, *, signal=0.0, n_noise=5):
    """Several rows per speaker; feature 0 = speaker code, f_signal shifted by the class
    (``signal`` units against a row noise SD of 0.5); profiles: a class "group" and a
    numeric "score" = 2 class + N(0, 1)."""
    cls = rng.permutation(np.arange(n_speakers) % 2)
    spk = np.repeat(np.arange(n_speakers), n_rows)
    features = pd.DataFrame({
        "speaker_id": [f"S{s:03d}" for s in spk],
        "speaker_code": spk.astype(float),
        "f_signal": signal * cls[spk] + 0.5 * rng.normal(size=spk.size),
        **{f"noise{j}": rng.normal(size=spk.size) for j in range(n_noise)},
    })
    profiles = pd.DataFrame({"speaker_id": [f"S{s:03d}" for s in range(n_speakers)],
                             "group": np.where(cls == 1, "b", "a"),
                             "score": 2.0 * cls + rng.normal(size=n_speakers)})
    return features, profiles


def test_grouped_cv_never_puts_a_speaker_in_training_and_test():
    rng = np.random.default_rng(0)
    features, profiles = _rows_per_speaker(30, 6, rng)
    _FOLDS.clear()
    predictions, _ = predict_profiles(features, profiles, {"group": "binary"},
                                      estimators={"recorder": SpeakerRecorder()},
                                      n_permutations=9, n_repeats=1)
    assert predictions["n_splits"].iloc[0] == 5
    # Observed folds, 9 permutations' folds, the importance folds (each with
    # predict calls for the baseline score and the shuffled columns): all recorded.
    assert len(_FOLDS) >= 5 * (1 + 9 + 1)
    assert leaking_folds(_FOLDS) == []
    # Every speaker is tested somewhere (the folds partition the speakers).
    assert frozenset().union(*(test for _, test in _FOLDS)) == set(range(30))


def test_leak_checker_catches_a_row_level_splitter():
    # Negative control: the same recorder under plain KFold on rows. With 6 rows per
    # speaker, shuffled row folds split speakers across training and test, and the
    # checker of the test above must say so; otherwise that test proves nothing.
    rng = np.random.default_rng(0)
    features, profiles = _rows_per_speaker(30, 6, rng)
    X = features.drop(columns="speaker_id").to_numpy()
    y = profiles.set_index("speaker_id").loc[features["speaker_id"], "group"].to_numpy()
    _FOLDS.clear()
    cross_val_score(SpeakerRecorder(), X, y, cv=KFold(5, shuffle=True, random_state=0))
    assert len(leaking_folds(_FOLDS)) == 5


def test_voice_recognition_without_target_information_scores_at_chance():
    # Features identify the speaker (speaker-level noise repeated over the speaker's 8
    # rows) but carry nothing about the target. A 1-nearest-neighbour model recognises
    # voices perfectly: row-level KFold then "predicts" the target from the speaker's
    # other rows, while speaker-grouped CV must stay at chance.
    rng = np.random.default_rng(3)
    n, rows = 40, 8
    voice = rng.normal(size=(n, 6))
    spk = np.repeat(np.arange(n), rows)
    features = pd.DataFrame(voice[spk], columns=[f"v{j}" for j in range(6)])
    features.insert(0, "speaker_id", [f"S{s:03d}" for s in spk])
    profiles = pd.DataFrame({"speaker_id": [f"S{s:03d}" for s in range(n)],
                             "group": rng.permutation(np.repeat(["a", "b"], n // 2))})
    nn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1))
    predictions, _ = predict_profiles(features, profiles, {"group": "binary"},
                                      estimators={"1nn": nn}, n_permutations=99, n_repeats=0)
    row = predictions.iloc[0]
    assert row["chance"] == pytest.approx(0.5)
    assert abs(row["score"] - 0.5) < 0.2
    assert row["p_value"] > 0.05
    y = profiles.set_index("speaker_id").loc[features["speaker_id"], "group"].to_numpy()
    leaky = cross_val_score(nn, features.drop(columns="speaker_id").to_numpy(), y,
                            cv=KFold(5, shuffle=True, random_state=0),
                            scoring="balanced_accuracy").mean()
    assert leaky > 0.95


def test_planted_signal_is_found_above_chance():
    rng = np.random.default_rng(7)
    features, profiles = _rows_per_speaker(40, 3, rng, signal=1.5)
    features = features.drop(columns="speaker_code")
    predictions, importances = predict_profiles(
        features, profiles.assign(score_copy=profiles["score"]),
        {"group": "binary", "score": "numeric"}, models=["logistic", "ridge"],
        n_permutations=49)
    assert list(predictions.columns) == list(PREDICTION_COLUMNS)
    assert list(importances.columns) == list(IMPORTANCE_COLUMNS)
    assert predictions["model"].tolist() == ["logistic", "ridge"]
    by = predictions.set_index("target")
    assert by.loc["group", "metric"] == "balanced_accuracy"
    assert by.loc["group", "score"] > by.loc["group", "chance"] + 0.2
    # score = 2 class + N(0, 1) and f_signal = 1.5 class + N(0, 0.5^2): the population
    # R^2 of the best linear prediction is corr^2 = 0.75^2 / (0.81 * 2) = 0.35; cross-validated
    # on 40 speakers it is lower, but far from the <= 0 of the mean baseline.
    assert by.loc["score", "metric"] == "r2" and by.loc["score", "score"] > 0.1
    assert by.loc["score", "chance"] <= 0.0
    # 49 permutations: the smallest attainable p-value is 1/50 = 0.02.
    assert predictions["p_value"].tolist() == pytest.approx([0.02, 0.02])
    assert (predictions["n_speakers"] == 40).all() and (predictions["n_obs"] == 120).all()
    # The planted feature is the most important one, for both targets.
    top = importances.loc[importances.groupby("target")["importance_mean"].idxmax(), "feature"]
    assert set(top) == {"f_signal"}
    # The target column itself never enters the features, even when it is in `features`.
    assert "score_copy" not in set(importances["feature"])


def test_random_forest_default_models_run():
    rng = np.random.default_rng(8)
    features, profiles = _rows_per_speaker(20, 1, rng, signal=3.0)
    predictions, importances = predict_profiles(
        features.drop(columns="speaker_code"), profiles, {"group": "binary"},
        n_permutations=0, n_repeats=1)
    assert predictions["model"].tolist() == ["logistic", "random_forest"]
    assert predictions["p_value"].isna().all()
    assert (predictions["score"] > 0.7).all()
    assert len(importances) == 2 * 6


@pytest.mark.slow
def test_pure_noise_is_rarely_significant():
    # 20 seeds of speaker-level noise, 19 permutations each: p <= 0.05 (no null score as
    # high) has probability 1/20 under the null; allow at most 3 of 20 seeds
    # (binomial(20, 0.05) exceeds 3 with probability 0.016).
    fast = make_pipeline(StandardScaler(), LogisticRegression(solver="liblinear",
                                                              class_weight="balanced"))
    significant = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        features, profiles = _rows_per_speaker(30, 1, rng, signal=0.0)
        predictions, _ = predict_profiles(features.drop(columns="speaker_code"), profiles,
                                          {"group": "binary"}, estimators={"logistic": fast},
                                          n_permutations=19, n_repeats=0, random_state=seed)
        significant += predictions["p_value"].iloc[0] <= 0.05
    assert significant <= 3


def test_thin_targets_reduce_folds_or_are_skipped_with_a_reason():
    rng = np.random.default_rng(1)
    features, profiles = _rows_per_speaker(20, 2, rng, signal=2.0)
    features = features.drop(columns="speaker_code")
    profiles["three_b"] = ["b"] * 3 + ["a"] * 17      # smallest class: 3 speakers -> 3 folds
    profiles["one_b"] = ["b"] + ["a"] * 19             # 1 speaker: no 2 folds possible
    profiles["constant"] = "a"
    profiles["mostly_missing"] = [1.0] + [np.nan] * 19
    predictions, _ = predict_profiles(
        features, profiles,
        {"three_b": "nominal", "one_b": "binary", "constant": "binary",
         "mostly_missing": "numeric"},
        models=["logistic", "ridge"], n_permutations=9, n_repeats=0)
    by = predictions.set_index("target")
    assert by.loc["three_b", "n_splits"] == 3 and by.loc["three_b", "reason"] == ""
    assert by.loc["one_b", "reason"] == "1 speakers in the smallest class: fewer than 2 folds"
    assert by.loc["constant", "reason"] == "1 class(es) among 20 speakers"
    assert by.loc["mostly_missing", "reason"] == "1 speakers: fewer than 2 folds of 2 speakers"
    assert by.loc[["one_b", "constant", "mostly_missing"], "score"].isna().all()


def test_refuses_bad_input():
    rng = np.random.default_rng(2)
    features, profiles = _rows_per_speaker(10, 1, rng)
    with pytest.raises(ValueError, match="target kind"):
        predict_profiles(features, profiles, {"group": "categorical"})
    with pytest.raises(ValueError, match="lacks target"):
        predict_profiles(features, profiles, {"nope": "binary"})
    with pytest.raises(ValueError, match="one row per"):
        predict_profiles(features, pd.concat([profiles, profiles]), {"group": "binary"})
