"""Associations: the right test per kind, permutation p-values that agree with scipy's
asymptotic ones, Benjamini-Hochberg as statsmodels computes it, missing values per test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from models.associations import associations, benjamini_hochberg

KINDS = {"education": "ordinal", "region": "nominal", "gender": "binary",
         "main_income": "binary", "age": "numeric"}


def planted(seed: int, n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profiles like the synthetic corpus's, features with planted effects and one null."""
    rng = np.random.default_rng(seed)
    ids = [f"S{i:03d}" for i in range(n)]
    education = rng.choice(["secondary", "short_higher", "bachelor", "master_phd"], n)
    rank = pd.Categorical(education, categories=["secondary", "short_higher", "bachelor",
                                                 "master_phd"], ordered=True)
    profiles = pd.DataFrame({
        "speaker_id": ids,
        "education": rank,
        "region": np.resize(["spain", "caribbean", "andean", "southern_cone", "mexico"], n),
        "gender": rng.choice(["F", "M"], n),
        "main_income": pd.array(rng.random(n) < 0.35, dtype="boolean"),
        "age": rng.integers(20, 60, n).astype(float),
    })  # fmt: skip
    base = {"spain": 6.2, "caribbean": 6.6, "southern_cone": 5.6, "andean": 5.3, "mexico": 5.9}
    features = pd.DataFrame({
        "speaker_id": ids,
        "reduction": np.array([0.30, 0.22, 0.15, 0.08])[rank.codes] + rng.normal(0, 0.02, n),
        "rate": profiles["region"].map(base).to_numpy() + rng.normal(0, 0.25, n),
        "f0": np.where(profiles["gender"] == "F", 12.0, 2.0) + rng.normal(0, 1.0, n),
        "noise": rng.normal(size=n),
        "cluster": np.where(profiles["gender"] == "F", 1, 2),
    })  # fmt: skip
    return features, profiles


def row(table: pd.DataFrame, feature: str, variable: str) -> pd.Series:
    hit = table[(table["feature"] == feature) & (table["variable"] == variable)]
    assert len(hit) == 1, (feature, variable)
    return hit.iloc[0]


def test_each_kind_gets_its_test_and_effect_size():
    features, profiles = planted(0)
    table = associations(features, profiles, KINDS, n_permutations=199)
    assert len(table) == 5 * len(KINDS)
    expect = {("reduction", "education"): ("spearman", "rho"),
              ("reduction", "age"): ("spearman", "rho"),
              ("rate", "region"): ("kruskal", "epsilon2"),
              ("f0", "gender"): ("mannwhitney", "rank_biserial"),
              ("cluster", "gender"): ("chi2", "cramers_v"),
              ("cluster", "region"): ("chi2", "cramers_v"),
              ("cluster", "education"): ("kruskal", "epsilon2"),
              ("cluster", "age"): ("kruskal", "epsilon2")}
    for (feature, variable), (test, name) in expect.items():
        r = row(table, feature, variable)
        assert (r["test"], r["effect_size_name"]) == (test, name), (feature, variable)
    f0 = row(table, "f0", "gender")
    assert f0["contrast"] == "M vs F" and f0["effect_size"] < -0.9  # males lower
    assert row(table, "cluster", "gender")["effect_size"] == pytest.approx(1.0)


def test_planted_effects_are_found_and_the_null_is_not():
    features, profiles = planted(1)
    table = associations(features, profiles, KINDS, n_permutations=9999, random_state=3)
    for feature, variable in [("reduction", "education"), ("rate", "region"),
                              ("f0", "gender")]:
        r = row(table, feature, variable)
        assert r["p_value"] == pytest.approx(1 / 10000), (feature, variable)
        assert r["q_value"] < 0.01
    assert row(table, "reduction", "education")["effect_size"] < -0.9
    assert row(table, "rate", "region")["effect_size"] > 0.6
    null = table[(table["variable"] == "main_income") | (table["feature"] == "noise")]
    assert null["q_value"].min() > 0.05


def test_permutation_p_agrees_with_scipy_asymptotic_p():
    rng = np.random.default_rng(11)
    n, b = 200, 4999
    for trial in range(4):
        ids = [f"S{i}" for i in range(n)]
        profiles = pd.DataFrame({"speaker_id": ids, "num": rng.normal(size=n),
                                 "nom": rng.choice(list("abcd"), n),
                                 "bin": rng.choice(["x", "y"], n),
                                 "cat": rng.choice(list("pqr"), n)})
        weak = 0.12 * profiles["num"] + 0.25 * (profiles["nom"] == "a") + 0.2 * (
            profiles["bin"] == "y")
        features = pd.DataFrame({"speaker_id": ids, "f": weak + rng.normal(size=n),
                                 "cluster": rng.choice([1, 2, 3], n)})
        kinds = {"num": "numeric", "nom": "nominal", "bin": "binary", "cat": "nominal"}
        table = associations(features, profiles, kinds, n_permutations=b, random_state=trial)
        f, g = features["f"], profiles
        reference = {
            ("f", "num"): stats.spearmanr(f, g["num"]).pvalue,
            ("f", "nom"): stats.kruskal(*[f[g["nom"] == v] for v in "abcd"]).pvalue,
            ("f", "bin"): stats.mannwhitneyu(f[g["bin"] == "y"], f[g["bin"] == "x"],
                                             method="asymptotic").pvalue,
            ("cluster", "cat"): stats.chi2_contingency(
                pd.crosstab(features["cluster"], g["cat"]), correction=False).pvalue,
        }  # fmt: skip
        for (feature, variable), p_ref in reference.items():
            p = row(table, feature, variable)["p_value"]
            # Monte Carlo SD of p at B = 4999, plus a margin for the asymptotic approximation.
            tolerance = 4 * np.sqrt(p_ref * (1 - p_ref) / b) + 0.1 * p_ref + 0.002
            assert abs(p - p_ref) < tolerance, (trial, feature, variable, p, p_ref)


def test_statistics_equal_scipy_statistics():
    features, profiles = planted(2)
    table = associations(features, profiles, KINDS, n_permutations=99)
    f, g = features, profiles
    assert row(table, "reduction", "age")["statistic"] == pytest.approx(
        stats.spearmanr(f["reduction"], g["age"]).statistic)
    assert row(table, "rate", "region")["statistic"] == pytest.approx(
        stats.kruskal(*[f["rate"][g["region"] == r] for r in g["region"].unique()]).statistic)
    assert row(table, "noise", "gender")["statistic"] == pytest.approx(
        stats.mannwhitneyu(f["noise"][g["gender"] == "M"],
                           f["noise"][g["gender"] == "F"]).statistic)


def test_fisher_for_sparse_two_by_two():
    ids = [f"S{i}" for i in range(12)]
    features = pd.DataFrame({"speaker_id": ids, "cluster": [1] * 9 + [2] * 3})
    profiles = pd.DataFrame({"speaker_id": ids, "student": [False] * 8 + [True] * 4})
    r = associations(features, profiles, {"student": "binary"}, n_permutations=99).iloc[0]
    assert r["test"] == "fisher"
    table = [[8, 1], [0, 3]]
    assert r["p_value"] == pytest.approx(stats.fisher_exact(table).pvalue)
    assert r["effect_size_name"] == "cramers_v" and 0 < r["effect_size"] <= 1


def test_missing_values_leave_speakers_out_of_that_test_only():
    features, profiles = planted(3)
    profiles["education"] = profiles["education"].astype(object)
    profiles.loc[[0, 1, 2], "education"] = None
    profiles["education"] = pd.Categorical(profiles["education"], categories=[
        "secondary", "short_higher", "bachelor", "master_phd"], ordered=True)
    features.loc[[2, 3], "rate"] = np.nan
    table = associations(features, profiles, KINDS, n_permutations=99)
    assert row(table, "reduction", "education")["n_speakers"] == 37
    assert row(table, "rate", "education")["n_speakers"] == 36  # speaker 2 lacks both
    assert row(table, "rate", "region")["n_speakers"] == 38
    assert row(table, "reduction", "region")["n_speakers"] == 40


def test_reproducible_and_independent_of_test_order():
    features, profiles = planted(4)
    a = associations(features, profiles, KINDS, n_permutations=499, random_state=7)
    b = associations(features, profiles, KINDS, n_permutations=499, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    reordered = features[["speaker_id", "noise", "f0", "rate", "reduction", "cluster"]]
    c = associations(reordered, profiles, KINDS, n_permutations=499, random_state=7)
    merged = a.merge(c, on=["feature", "variable"])
    np.testing.assert_array_equal(merged["p_value_x"], merged["p_value_y"])


def test_benjamini_hochberg_matches_statsmodels():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, size=20), [0.0, 1.0]])
    expected = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), expected, rtol=1e-12)
    with_nan = np.append(p, np.nan)
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[-1])
    np.testing.assert_allclose(q[:-1], expected, rtol=1e-12)
    with pytest.raises(ValueError, match="p-values"):
        benjamini_hochberg([0.5, 1.5])


def test_bad_inputs_are_refused():
    features, profiles = planted(5)
    with pytest.raises(ValueError, match="ranked"):
        associations(features, profiles, {"education": "ranked"})
    with pytest.raises(ValueError, match="income"):
        associations(features, profiles, {"income": "binary"})
