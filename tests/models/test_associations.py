"""Associations: the right test per kind, permutation p-values that agree with scipy's
asymptotic ones, Benjamini-Hochberg as statsmodels computes it, missing values per test,
and the covariate-adjusted tests: they remove a confounded association, keep a real one,
equal the plain test when nothing is adjusted for, and are calibrated under the null."""

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
    # Males lower; residualising on the other variables blurs the complete separation a little.
    assert f0["contrast"] == "M vs F" and f0["effect_size"] < -0.8
    plain = associations(features, profiles, KINDS, n_permutations=199, adjust=False)
    assert row(plain, "f0", "gender")["effect_size"] < -0.9
    assert f0["adjusted_for"] == "education,region,main_income,age"
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
        table = associations(features, profiles, kinds, n_permutations=b, random_state=trial,
                             adjust=False)
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
    table = associations(features, profiles, KINDS, n_permutations=99, adjust=False)
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
    table = associations(features, profiles, KINDS, n_permutations=99, adjust=False)
    assert row(table, "reduction", "education")["n_speakers"] == 37
    assert row(table, "rate", "education")["n_speakers"] == 36  # speaker 2 lacks both
    assert row(table, "rate", "region")["n_speakers"] == 38
    assert row(table, "reduction", "region")["n_speakers"] == 40
    # Adjusted for education (among others), a speaker without it leaves every test
    # of a continuous feature; the cluster's tests are not adjusted.
    adjusted = associations(features, profiles, KINDS, n_permutations=99)
    assert row(adjusted, "rate", "region")["n_speakers"] == 36
    assert row(adjusted, "reduction", "region")["n_speakers"] == 37
    assert row(adjusted, "reduction", "education")["n_speakers"] == 37
    assert row(adjusted, "cluster", "region")["n_speakers"] == 40
    assert row(adjusted, "cluster", "region")["adjusted_for"] == ""
    assert row(adjusted, "reduction", "region")["adjusted_for"] == (
        "education,gender,main_income,age")


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


def confounded(seed: int, n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """X (region) drives the feature; Z correlates with X but not with the feature given X."""
    rng = np.random.default_rng(seed)
    ids = [f"S{i:03d}" for i in range(n)]
    region = rng.choice(["north", "south", "east"], n)
    # Z is mostly (80 %) "yes" in the north, mostly "no" elsewhere: confounded with region.
    z = np.where(rng.random(n) < np.where(region == "north", 0.8, 0.2), "yes", "no")
    age = rng.integers(20, 70, n).astype(float)
    shift = pd.Series(region).map({"north": 1.5, "south": 0.0, "east": -0.3}).to_numpy()
    profiles = pd.DataFrame({"speaker_id": ids, "region": region, "z": z, "age": age})
    features = pd.DataFrame({"speaker_id": ids, "rate": shift + rng.normal(0, 0.6, n),
                             "slope": 0.05 * age + rng.normal(0, 0.6, n)})
    return features, profiles


CONFOUNDED = {"region": "nominal", "z": "binary", "age": "numeric"}


def test_adjustment_removes_a_confounded_association_and_keeps_the_real_one():
    features, profiles = confounded(0)
    table = associations(features, profiles, CONFOUNDED, n_permutations=1999, random_state=1)
    z = row(table, "rate", "z")
    assert z["p_marginal"] < 0.01  # the marginal test mistakes region's effect for z's
    assert z["p_value"] > 0.1
    assert z["adjusted_for"] == "region,age" and z["test"] == "mannwhitney"
    assert abs(z["effect_size"]) < 0.3
    real = row(table, "rate", "region")
    assert real["p_value"] < 0.001 and real["p_marginal"] < 0.001
    assert real["adjusted_for"] == "z,age" and real["effect_size"] > 0.2
    slope = row(table, "slope", "age")
    assert slope["test"] == "spearman" and slope["p_value"] < 0.01 and slope["effect_size"] > 0.3
    np.testing.assert_allclose(table["q_marginal"], benjamini_hochberg(table["p_marginal"]))
    np.testing.assert_allclose(table["q_value"], benjamini_hochberg(table["p_value"]))


def test_adjusting_for_named_covariates_only():
    features, profiles = confounded(0)
    # Each variable is adjusted for the named covariates that are not itself.
    table = associations(features, profiles, CONFOUNDED, n_permutations=999, random_state=1,
                         adjust=("region",))
    z = row(table, "rate", "z")
    assert z["adjusted_for"] == "region" and z["p_value"] > 0.1 and z["p_marginal"] < 0.01
    assert row(table, "rate", "region")["adjusted_for"] == ""
    assert row(table, "slope", "age")["adjusted_for"] == "region"
    # a speaker missing a variable that is not adjusted for stays in the adjusted test
    gappy = profiles.assign(z=profiles["z"].where(profiles.index != 0))
    again = associations(features, gappy, CONFOUNDED, n_permutations=99, adjust=("region",))
    assert row(again, "slope", "age")["n_speakers"] == len(profiles)
    assert row(again, "rate", "z")["n_speakers"] == len(profiles) - 1


def test_partial_rank_correlation_is_that_of_the_residualised_ranks():
    features, profiles = confounded(1)
    table = associations(features, profiles, CONFOUNDED, n_permutations=99)
    # Partial Spearman rho of slope and age given z and region, by least squares on ranks.
    design = np.column_stack([np.ones(len(profiles)), profiles["z"] == "yes",
                              profiles["region"] == "north", profiles["region"] == "south"])
    def residual(v):
        v = stats.rankdata(v)
        return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]
    expected = np.corrcoef(residual(features["slope"]), residual(profiles["age"]))[0, 1]
    assert row(table, "slope", "age")["statistic"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("kind", ["ordinal", "nominal", "binary"])
def test_adjusted_equals_plain_when_nothing_else_is_analysed(kind):
    features, profiles = planted(6)
    variable = {"ordinal": "education", "nominal": "region", "binary": "gender"}[kind]
    one = {variable: KINDS[variable]}
    a = associations(features, profiles, one, n_permutations=999, random_state=2)
    b = associations(features, profiles, one, n_permutations=999, random_state=2, adjust=False)
    assert (a["adjusted_for"] == "").all()
    for column in ("statistic", "effect_size", "p_value", "q_value", "p_marginal"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-9, err_msg=column)
    np.testing.assert_array_equal(a["n_speakers"], b["n_speakers"])
    np.testing.assert_allclose(a["p_value"], a["p_marginal"], rtol=1e-12)


def test_adjusted_permutation_p_is_calibrated_under_the_null():
    # The feature depends on the covariates only; the tested variable is correlated with
    # them but has no effect of its own: its adjusted p must be uniform.
    rng = np.random.default_rng(2024)
    n, trials, b = 30, 200, 199
    kinds = {"x": "binary", "g": "nominal", "w": "numeric"}
    p = {"binary": [], "nominal": [], "numeric": []}
    for trial in range(trials):
        ids = [f"S{i}" for i in range(n)]
        w = rng.normal(size=n)
        g = rng.choice(list("abc"), n)
        x = np.where(w + (g == "a") + rng.normal(0, 0.7, n) > 0.4, "yes", "no")
        profiles = pd.DataFrame({"speaker_id": ids, "x": x, "g": g, "w": w})
        # Under the null of x, the feature is any function of w and g plus noise; g and w
        # are each tested while the others are adjusted for, so only x is null here ...
        features = pd.DataFrame({"speaker_id": ids,
                                 "f": 0.8 * w + 0.8 * (g == "a") + rng.normal(size=n),
                                 "h": rng.standard_t(3, size=n)})  # ... and h is null for all
        table = associations(features, profiles, kinds, n_permutations=b, random_state=trial)
        p["binary"].append(row(table, "f", "x")["p_value"])
        p["nominal"].append(row(table, "h", "g")["p_value"])
        p["numeric"].append(row(table, "h", "w")["p_value"])
    for kind, values in p.items():
        values = np.asarray(values)
        assert 0.02 <= np.mean(values < 0.05) <= 0.09, kind
        assert 0.4 <= np.mean(values) <= 0.6, kind  # uniform on (0, 1] has mean 0.5
