"""Specifications of the regression models (models.regression): simulated data with known
coefficients and variances are recovered within their standard errors, HC3 errors equal
the sandwich formula and statsmodels' own, the speaker bootstrap covers the true
standardised effect at its nominal rate, and problems are reported, not printed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.sandwich_covariance import cov_hc3

from models.regression import (
    EFFECT_COLUMNS,
    lobanov_tokens,
    mixed_vowel_model,
    speaker_regression,
)


def _speakers(n, rng, *, beta_x=1.5, beta_g=0.8, heteroskedastic=True):
    """n speakers: y = 2 + beta_x x + beta_g [group == "b"] + e, e's SD growing with |x|."""
    x = rng.normal(size=n)
    g = rng.choice(["a", "b"], size=n)
    sd = 0.5 + 0.5 * np.abs(x) if heteroskedastic else np.ones(n)
    y = 2.0 + beta_x * x + beta_g * (g == "b") + rng.normal(size=n) * sd
    return pd.DataFrame({"speaker_id": [f"S{i:03d}" for i in range(n)], "x": x,
                         "g": pd.array(g, dtype="str"), "y": y})


def _tokens(rng, *, n_speakers=80, n_tokens=40, group_var=0.25, word_var=0.09, resid_var=1.0):
    """Token table with planted fixed effects, speaker intercepts and word-within-speaker effects.

    y = 0.3 - 1.0 [vowel e] - 2.0 [vowel i] + 0.2 education_rank - 0.5 [gender M]
        - 0.15 [vowel i] * education_rank + b_speaker + w_(speaker, word) + e.
    """
    spk = np.repeat(np.arange(n_speakers), n_tokens)
    edu = rng.integers(0, 4, n_speakers)
    gender = rng.choice(["F", "M"], n_speakers)
    vowel = rng.choice(["a", "e", "i"], spk.size)
    word = rng.integers(0, 15, spk.size)
    b = rng.normal(0, np.sqrt(group_var), n_speakers)
    w = rng.normal(0, np.sqrt(word_var), (n_speakers, 15))
    y = (0.3 - 1.0 * (vowel == "e") - 2.0 * (vowel == "i") + 0.2 * edu[spk]
         - 0.5 * (gender[spk] == "M") - 0.15 * (vowel == "i") * edu[spk]
         + b[spk] + w[spk, word] + rng.normal(0, np.sqrt(resid_var), spk.size))
    return pd.DataFrame({
        "speaker_id": pd.array([f"S{s:03d}" for s in spk], dtype="str"),
        "vowel": pd.array(vowel, dtype="str"),
        "word_id": pd.array([f"w{k}" for k in word], dtype="str"),
        "education_rank": pd.array(edu[spk], dtype="Int64"),
        "gender": pd.array(gender[spk], dtype="str"),
        "f1_lobanov": y,
    })


# ---------------------------------------------------------------- lobanov_tokens

def test_lobanov_tokens_by_hand_and_drops_thin_speakers():
    vowels = pd.DataFrame({
        "speaker_id": ["A", "A", "A", "B", "B"],
        "f1_hz": [300.0, 500.0, 700.0, 400.0, 600.0],
        "f2_hz": [2250.0, 1350.0, 450.0, 2000.0, 1000.0],
    })
    out = lobanov_tokens(vowels, min_tokens=3)
    # A's F1 300 500 700: mean 500, SD 200; F2: mean 1350, SD 900. B has 2 tokens < 3: dropped.
    assert out["speaker_id"].tolist() == ["A", "A", "A"]
    np.testing.assert_allclose(out["f1_lobanov"], [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(out["f2_lobanov"], [1.0, 0.0, -1.0])
    assert lobanov_tokens(vowels, min_tokens=2)["speaker_id"].nunique() == 2


# ---------------------------------------------------------------- speaker_regression

def test_speaker_regression_recovers_planted_coefficients():
    rng = np.random.default_rng(11)
    out = speaker_regression(_speakers(400, rng), "y", ["x", "g"], n_bootstrap=200)
    assert list(out.columns) == list(EFFECT_COLUMNS)
    est = out.set_index("term")
    # Each estimate within 4 of its own HC3 standard errors of the truth: a correct
    # estimator fails this with probability ~6e-5 per coefficient.
    for term, truth in {"Intercept": 2.0, "x": 1.5, "C(g)[T.b]": 0.8}.items():
        assert abs(est.loc[term, "estimate"] - truth) < 4 * est.loc[term, "std_error"], term
        assert est.loc[term, "ci_low"] < est.loc[term, "estimate"] < est.loc[term, "ci_high"]
    # SE ~ sd / sqrt(n): with 400 speakers it is small, so the 4-SE window is informative.
    assert est.loc["x", "std_error"] < 0.1
    assert est.loc["x", "p_value"] < 1e-10
    assert (out["n_speakers"] == 400).all() and (out["model"] == "ols: y").all()


def test_hc3_errors_equal_sandwich_formula_and_statsmodels():
    rng = np.random.default_rng(3)
    data = _speakers(60, rng)
    out = speaker_regression(data, "y", ["x", "g"], n_bootstrap=0)
    X = np.column_stack([np.ones(60), (data["g"] == "b").to_numpy(float), data["x"]])
    y = data["y"].to_numpy()
    ols = sm.OLS(y, X).fit()
    # HC3 by hand: (X'X)^-1 X' diag(e_i^2 / (1 - h_ii)^2) X (X'X)^-1 (MacKinnon & White 1985).
    bread = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    meat = X.T @ (X * (ols.resid**2 / (1 - h) ** 2)[:, None])
    by_hand = np.sqrt(np.diag(bread @ meat @ bread))
    own = np.sqrt(np.diag(cov_hc3(ols)))
    robust = np.sqrt(np.diag(ols.get_robustcov_results(cov_type="HC3").cov_params()))
    np.testing.assert_allclose(own, by_hand, rtol=1e-10)
    np.testing.assert_allclose(robust, by_hand, rtol=1e-10)
    np.testing.assert_allclose(out["std_error"], by_hand, rtol=1e-8)
    # ...and they differ from the classical errors on these heteroskedastic data.
    assert not np.allclose(out["std_error"], ols.bse, rtol=0.02)


def test_standardised_effects_are_coefficients_on_z_scores():
    rng = np.random.default_rng(5)
    data = _speakers(80, rng)
    out = speaker_regression(data, "y", ["x", "g"], n_bootstrap=0).set_index("term")
    z = lambda v: (v - v.mean()) / v.std(ddof=1)  # noqa: E731
    X = np.column_stack([np.ones(80), (data["g"] == "b").to_numpy(float), z(data["x"])])
    beta = np.linalg.lstsq(X, z(data["y"]).to_numpy(), rcond=None)[0]
    assert out.loc["x", "effect_size"] == pytest.approx(beta[2], rel=1e-9)
    assert out.loc["C(g)[T.b]", "effect_size"] == pytest.approx(beta[1], rel=1e-9)
    assert np.isnan(out.loc["Intercept", "effect_size"])


def test_bootstrap_ci_covers_true_standardised_effect_at_nominal_rate():
    # y = 0.5 x + e, x and e standard normal: the population beta weight is
    # 0.5 / sqrt(0.5^2 + 1) = 0.4472. A 95% interval must cover it in >= 90 of 100 runs
    # (binomial(100, 0.95) falls below 90 with probability 0.03; a broken bootstrap,
    # e.g. one that forgot to recompute SDs or resampled residuals only, falls far lower).
    truth = 0.5 / np.sqrt(1.25)
    covered, widths = 0, []
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        x = rng.normal(size=50)
        data = pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=50)})
        row = speaker_regression(data, "y", ["x"], n_bootstrap=999,
                                 random_state=seed).set_index("term").loc["x"]
        covered += row["effect_ci_low"] <= truth <= row["effect_ci_high"]
        widths.append(row["effect_ci_high"] - row["effect_ci_low"])
    assert covered >= 90
    # Width ~ 2 * 1.96 * sqrt((1 - r^2)^2 / n) ~ 0.44 for n = 50, r = 0.447: not degenerate.
    assert 0.3 < np.median(widths) < 0.6


def test_bootstrap_reproducible_and_seeded():
    data = _speakers(40, np.random.default_rng(2))
    a = speaker_regression(data, "y", ["x", "g"], n_bootstrap=300, random_state=7)
    b = speaker_regression(data, "y", ["x", "g"], n_bootstrap=300, random_state=7)
    c = speaker_regression(data, "y", ["x", "g"], n_bootstrap=300, random_state=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["effect_ci_low"].iloc[1:], c["effect_ci_low"].iloc[1:])


def test_ordered_categorical_uses_first_level_as_reference_and_drops_empty_levels():
    rng = np.random.default_rng(4)
    data = _speakers(60, rng)
    order = ["secondary", "short_higher", "bachelor", "master_phd"]
    # No speaker in "secondary": the reference becomes "short_higher", no all-zero column.
    data["education"] = pd.Categorical(rng.choice(order[1:], 60), categories=order, ordered=True)
    out = speaker_regression(data, "y", ["x", "education"], n_bootstrap=0)
    assert out["term"].tolist() == ["Intercept", "C(education)[T.bachelor]",
                                    "C(education)[T.master_phd]", "x"]


def test_missing_values_left_out_and_counted():
    data = _speakers(50, np.random.default_rng(6))
    data.loc[[0, 1, 2], "x"] = np.nan
    data["g"] = data["g"].astype(object)
    data.loc[3, "g"] = None
    out = speaker_regression(data, "y", ["x", "g"], n_bootstrap=50)
    assert (out["n_obs"] == 46).all()
    assert "4 of 50 speakers with missing values left out" in out["note"].iloc[0]


def test_speaker_regression_refuses_bad_input():
    data = _speakers(20, np.random.default_rng(0))
    with pytest.raises(ValueError, match="lacks column"):
        speaker_regression(data, "y", ["nope"])
    with pytest.raises(ValueError, match="must be numeric"):
        speaker_regression(data, "g", ["x"])
    with pytest.raises(ValueError, match="one row per speaker"):
        speaker_regression(pd.concat([data, data.iloc[:1]]), "y", ["x"])
    with pytest.raises(ValueError, match="rank deficient"):
        speaker_regression(data.assign(x2=2 * data["x"]), "y", ["x", "x2"], n_bootstrap=0)


# ---------------------------------------------------------------- mixed_vowel_model

def test_mixed_model_recovers_fixed_effects_and_variances():
    rng = np.random.default_rng(21)
    out = mixed_vowel_model(_tokens(rng))
    assert list(out.columns) == list(EFFECT_COLUMNS)
    est = out.set_index("term")
    assert est["converged"].all() and (est["n_speakers"] == 80).all()
    assert (est["n_obs"] == 80 * 40).all() and (out["model"] == "mixed: f1_lobanov").all()
    planted = {"Intercept": 0.3, "C(vowel)[T.e]": -1.0, "C(vowel)[T.i]": -2.0,
               "education_rank": 0.2, "C(gender)[T.M]": -0.5,
               "C(vowel)[T.i]:education_rank": -0.15, "C(vowel)[T.e]:education_rank": 0.0}
    for term, truth in planted.items():
        # within 4 Wald SEs (false alarm ~6e-5 per term)
        assert abs(est.loc[term, "estimate"] - truth) < 4 * est.loc[term, "std_error"], term
    # A speaker-level term's SE reflects 80 speakers, not 3200 tokens: at least
    # sqrt(0.25 * (1/40 + 1/40)) = 0.11 (two groups of ~40 speakers), where an OLS on
    # tokens would claim about sqrt(1.34 * 4 / 3200) = 0.04.
    assert est.loc["C(gender)[T.M]", "std_error"] > 0.08
    # Random-intercept variance 0.25: the REML estimate has SD about
    # sqrt(2 / (G - 3)) * (0.25 + (1 + 0.09) / 40) = 0.045 for G = 80 speakers; allow 3 SD.
    assert est.loc["Group Var", "estimate"] == pytest.approx(0.25, abs=0.135)
    # Word-within-speaker variance 0.09 and residual variance 1.0, each within 3 of its SEs
    # (residual SD of the estimate ~ sqrt(2 / 3200) = 0.025).
    assert abs(est.loc["word Var", "estimate"] - 0.09) < 3 * est.loc["word Var", "std_error"]
    assert est.loc["Residual Var", "estimate"] == pytest.approx(1.0, abs=0.1)
    assert est.loc[["Group Var", "word Var"], "p_value"].isna().all()


def test_mixed_model_without_group_variance_is_close_to_zero():
    rng = np.random.default_rng(8)
    tokens = _tokens(rng, n_speakers=40, group_var=1e-12, word_var=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may be printed or raised as a warning
        out = mixed_vowel_model(tokens, variance_components={})
    assert out.set_index("term").loc["Group Var", "estimate"] < 0.03


def test_mixed_model_captures_convergence_warnings():
    rng = np.random.default_rng(1)
    # Ten speakers, no speaker effect: the variance sits on the boundary and statsmodels
    # emits several ConvergenceWarnings; they must land in `note`, not on the console.
    tokens = pd.DataFrame({"speaker_id": np.repeat([f"S{i}" for i in range(10)], 10),
                           "y": rng.normal(size=100), "x": rng.normal(size=100)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mixed_vowel_model(tokens, response="y", fixed="x", variance_components={})
    assert not out["converged"].any()
    assert "ConvergenceWarning" in out["note"].iloc[0]


def test_mixed_model_drops_missing_or_single_level_components_with_a_note():
    rng = np.random.default_rng(2)
    tokens = _tokens(rng, n_speakers=20, n_tokens=20).drop(columns="word_id")
    out = mixed_vowel_model(tokens)
    assert "word Var" not in set(out["term"])
    assert "variance component 'word' dropped: no column ['word_id']" in out["note"].iloc[0]
    out = mixed_vowel_model(tokens.assign(word_id="same"))
    assert "variance component 'word' dropped: 1 level(s)" in out["note"].iloc[0]


def test_mixed_model_listwise_deletion_and_missing_columns():
    rng = np.random.default_rng(3)
    tokens = _tokens(rng, n_speakers=20, n_tokens=20)
    tokens.loc[:9, "f1_lobanov"] = np.nan
    tokens.loc[10:14, "education_rank"] = pd.NA
    out = mixed_vowel_model(tokens)
    assert (out["n_obs"] == 400 - 15).all()
    assert "15 of 400 rows with missing values left out" in out["note"].iloc[0]
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['gender'\]"):
        mixed_vowel_model(tokens.drop(columns="gender"))
