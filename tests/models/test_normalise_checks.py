"""The normalisers under scikit-learn's estimator checks: the API checks pass, the checks
that feed NumPy arrays fail only because the input contract is a DataFrame, and the
properties those checks test hold on DataFrames."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from models.normalise import (
    ARRAY_ONLY_CHECKS,
    BarkDifference,
    DeltaF,
    Lobanov,
    Nearey1,
    Nearey2,
    WattFabricius,
)

NORMALISERS = (Lobanov, Nearey1, Nearey2, DeltaF, WattFabricius, BarkDifference)
API_CHECKS = {
    "check_no_attributes_set_in_init", "check_get_params_invariance", "check_set_params",
    "check_estimator_cloneable", "check_estimator_repr", "check_parameters_default_constructible",
    "check_estimators_unfitted", "check_transformers_unfitted", "check_mixin_order",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag",
}  # fmt: skip


def tokens(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vowels = np.tile(list("aeiou"), 24)
    speakers = np.repeat(["S1", "S2", "S3", "S4"], 30)
    base = {"a": (750, 1300, 2500), "e": (450, 1900, 2600), "i": (300, 2200, 2900),
            "o": (480, 900, 2500), "u": (320, 800, 2400)}
    f = np.array([base[v] for v in vowels], dtype=float) * rng.uniform(0.9, 1.1, (120, 1))
    return pd.DataFrame({"speaker_id": speakers, "vowel": vowels, "f1_hz": f[:, 0],
                         "f2_hz": f[:, 1], "f3_hz": f[:, 2]})


@pytest.mark.parametrize("normaliser", NORMALISERS, ids=lambda c: c.__name__)
def test_only_the_array_checks_fail(normaliser):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(normaliser(), on_fail=None)
    status = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
    failed = {name for name, s in status.items() if "failed" in s}
    passed = {name for name, s in status.items() if s == {"passed"}}
    assert failed == ARRAY_ONLY_CHECKS
    assert passed >= API_CHECKS
    array_errors = [r["exception"] for r in results if r["status"] == "failed"
                    and isinstance(r["exception"], TypeError)]
    assert array_errors and all("takes a pandas DataFrame" in str(e) for e in array_errors)


@pytest.mark.parametrize("normaliser", NORMALISERS, ids=lambda c: c.__name__)
def test_what_the_array_checks_test_holds_on_dataframes(normaliser):
    X = tokens()
    estimator = normaliser()
    assert estimator.fit(X) is estimator  # fit returns self
    out = estimator.transform(X)
    params = estimator.get_params()
    again = clone(estimator).fit(X).fit(X).transform(X)  # idempotent fit
    pd.testing.assert_frame_equal(out, again)
    assert estimator.get_params() == params  # fit does not overwrite parameters
    order = np.random.default_rng(1).permutation(len(X))
    shuffled = clone(estimator).fit(X).transform(X.iloc[order])  # sample-order invariance
    pd.testing.assert_frame_equal(shuffled, out.iloc[order])
    subset = estimator.transform(X.iloc[:7])  # subset invariance
    pd.testing.assert_frame_equal(subset, out.iloc[:7])
    restored = pickle.loads(pickle.dumps(estimator))
    pd.testing.assert_frame_equal(restored.transform(X), out)
    assert estimator.n_features_in_ == len(estimator.feature_names_in_)
    with pytest.raises(TypeError, match="takes a pandas DataFrame"):
        estimator.transform(X[["f1_hz", "f2_hz"]].to_numpy())
