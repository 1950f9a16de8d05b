"""Specifications of the vowel normalisers (models.normalise): each formula by hand on a
tiny table, the speaker contract, NaN handling, and scikit-learn conventions
(clone, get_params, Pipeline, cross-validation grouped by speaker)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline

from models.normalise import (
    BarkDifference,
    DeltaF,
    Lobanov,
    Nearey1,
    Nearey2,
    WattFabricius,
    bark,
)

SPEAKER_NORMALISERS = [Lobanov, Nearey1, Nearey2, DeltaF, WattFabricius]


@pytest.fixture
def tiny():
    """Speaker A: three tokens; speaker B: A's formants times 1.2 (a shorter vocal tract)."""
    a = {"i": (300.0, 2250.0, 3000.0), "a": (700.0, 1350.0, 2600.0), "u": (500.0, 450.0, 2500.0)}
    rows = [("A", v, *f) for v, f in a.items()] + [("B", v, *(1.2 * x for x in f))
                                                   for v, f in a.items()]
    X = pd.DataFrame(rows, columns=["speaker_id", "vowel", "f1_hz", "f2_hz", "f3_hz"])
    X["speaker_id"] = X["speaker_id"].astype("str")  # Arrow-backed strings, as read from Parquet
    X["vowel"] = X["vowel"].astype("str")
    return X


def test_lobanov_by_hand(tiny):
    out = Lobanov().fit(tiny).transform(tiny)
    # A's F1 300 500 700: mean 500, sd = sqrt((200² + 0² + 200²) / 2) = 200
    # A's F2 2250 1350 450: mean 1350, sd = sqrt((900² + 0 + 900²) / 2) = 900
    expected = np.array([[(300 - 500) / 200, (2250 - 1350) / 900],
                         [(700 - 500) / 200, (1350 - 1350) / 900],
                         [(500 - 500) / 200, (450 - 1350) / 900]])
    assert list(out.columns) == ["f1_lobanov", "f2_lobanov"]
    np.testing.assert_allclose(out.iloc[:3].to_numpy(), expected, atol=1e-12)
    # B is A scaled by 1.2: z-scores are scale-free
    np.testing.assert_allclose(out.iloc[3:].to_numpy(), expected, atol=1e-12)
    est = Lobanov().fit(tiny)
    assert est.means_.loc["A", "f1_hz"] == pytest.approx(500.0)
    assert est.scales_.loc["B", "f2_hz"] == pytest.approx(1.2 * 900.0)
    assert est.means_.index.name == "speaker_id"


def test_nearey1_by_hand(tiny):
    out = Nearey1().fit_transform(tiny)
    # mean ln F1 of A = ln((300*500*700)^(1/3)); the output is ln(F / geometric mean)
    g1 = (300 * 500 * 700) ** (1 / 3)  # 471.72 Hz
    g2 = (2250 * 1350 * 450) ** (1 / 3)  # 1099.3 Hz
    assert out.loc[0, "f1_nearey1"] == pytest.approx(math.log(300 / g1))
    assert out.loc[2, "f2_nearey1"] == pytest.approx(math.log(450 / g2))
    # B = 1.2 A: the per-formant log-mean removes the factor
    np.testing.assert_allclose(out.iloc[3:].to_numpy(), out.iloc[:3].to_numpy(), atol=1e-12)


def test_nearey2_by_hand(tiny):
    est = Nearey2(formants=("f1_hz", "f2_hz", "f3_hz")).fit(tiny)
    out = est.transform(tiny)
    # G = (mean ln F1 + mean ln F2 + mean ln F3) / 3 = ln of the geometric mean of all nine values
    g = (300 * 500 * 700 * 2250 * 1350 * 450 * 3000 * 2600 * 2500) ** (1 / 9)
    assert est.log_means_.loc["A", "log_mean"] == pytest.approx(math.log(g))
    assert list(out.columns) == ["f1_nearey2", "f2_nearey2", "f3_nearey2"]
    assert out.loc[1, "f1_nearey2"] == pytest.approx(math.log(700 / g))
    assert out.loc[0, "f3_nearey2"] == pytest.approx(math.log(3000 / g))
    # extrinsic: one constant per speaker, so differences between formants survive
    assert out.loc[0, "f2_nearey2"] - out.loc[0, "f1_nearey2"] == pytest.approx(
        math.log(2250 / 300))
    np.testing.assert_allclose(out.iloc[3:].to_numpy(), out.iloc[:3].to_numpy(), atol=1e-12)


def test_deltaf_by_hand(tiny):
    est = DeltaF().fit(tiny)
    # ΔF = mean of F1/0.5 and F2/1.5 over A's tokens:
    # F1/0.5 = 600, 1000, 1400; F2/1.5 = 1500, 900, 300 -> (3000 + 2700) / 6 = 950 Hz
    assert est.delta_f_.loc["A", "delta_f_hz"] == pytest.approx(950.0)
    assert est.delta_f_.loc["B", "delta_f_hz"] == pytest.approx(1.2 * 950.0)
    out = est.transform(tiny)
    assert out.loc[0, "f1_deltaf"] == pytest.approx(300 / 950)
    assert out.loc[2, "f2_deltaf"] == pytest.approx(450 / 950)
    with_f3 = DeltaF(formants=("f1_hz", "f2_hz", "f3_hz")).fit(tiny)
    # adds F3/2.5 = 1200, 1040, 1000 -> (3000 + 2700 + 3240) / 9 = 993.33 Hz
    assert with_f3.delta_f_.loc["A", "delta_f_hz"] == pytest.approx(8940 / 9)


def test_watt_fabricius_by_hand(tiny):
    est = WattFabricius().fit(tiny)
    # [i] = (300, 2250), [a] = (700, 1350), [u'] = (300, 300) (F1 = F2 = F1 of [i])
    # S1 = (300 + 700 + 300) / 3 = 433.33; S2 = (2250 + 1350 + 300) / 3 = 1300
    assert est.centroids_.loc["A", "f1_hz"] == pytest.approx(1300 / 3)
    assert est.centroids_.loc["A", "f2_hz"] == pytest.approx(1300.0)
    assert est.corners_.loc["A"].tolist() == pytest.approx([300, 2250, 700, 1350])
    out = est.transform(tiny)
    assert list(out.columns) == ["f1_wf", "f2_wf"]
    assert out.loc[0, "f1_wf"] == pytest.approx(300 / (1300 / 3))
    assert out.loc[1, "f2_wf"] == pytest.approx(1350 / 1300)
    np.testing.assert_allclose(out.iloc[3:].to_numpy(), out.iloc[:3].to_numpy(), atol=1e-12)


def test_watt_fabricius_averages_tokens_and_needs_both_corners(tiny):
    extra = pd.DataFrame({"speaker_id": ["A"], "vowel": ["i"], "f1_hz": [340.0],
                          "f2_hz": [2150.0], "f3_hz": [3000.0]})
    est = WattFabricius().fit(pd.concat([tiny, extra], ignore_index=True))
    # [i] = mean of (300, 2250) and (340, 2150) = (320, 2200)
    assert est.corners_.loc["A", "i_f1"] == pytest.approx(320.0)
    assert est.centroids_.loc["A", "f2_hz"] == pytest.approx((2200 + 1350 + 320) / 3)
    no_a = tiny[~((tiny["speaker_id"] == "B") & (tiny["vowel"] == "a"))]
    with pytest.raises(ValueError, match=r"'B'.*|.*'a'.*'B'"):
        WattFabricius().fit(no_a)
    with pytest.raises(ValueError, match="unseen speakers"):
        WattFabricius(unseen="fit").fit(tiny)


def test_bark_traunmuller_values():
    # 1000 Hz: 26.81*1000/2960 - 0.53 = 8.5274 (no correction)
    # 200 Hz: 26.81*200/2160 - 0.53 = 1.95241 < 2 -> + 0.15*(2 - 1.95241) = 1.95955
    # 7000 Hz: 26.81*7000/8960 - 0.53 = 20.41531 > 20.1 -> + 0.22*0.31531 = 20.48468
    np.testing.assert_allclose(bark([1000.0, 200.0, 7000.0]),
                               [8.527432, 1.959548, 20.484684], atol=1e-5)


def test_bark_difference_by_hand(tiny):
    out = BarkDifference().fit(tiny).transform(tiny)
    assert list(out.columns) == ["z3_z1_bark", "z3_z2_bark", "z2_z1_bark"]
    z1, z2, z3 = bark(300.0), bark(2250.0), bark(3000.0)
    assert out.loc[0].tolist() == pytest.approx([z3 - z1, z3 - z2, z2 - z1])
    # no speaker statistics: any speaker is accepted, and only F1, F2 gives one column
    two = BarkDifference(formants=("f1_hz", "f2_hz")).fit(tiny.iloc[:1])
    assert list(two.transform(tiny).columns) == ["z2_z1_bark"]


@pytest.mark.parametrize("cls", SPEAKER_NORMALISERS)
def test_unseen_speaker_is_refused_by_name(cls, tiny):
    est = cls().fit(tiny[tiny["speaker_id"] == "A"])
    with pytest.raises(ValueError, match=r"not fitted on speaker\(s\) 'B'"):
        est.transform(tiny)


@pytest.mark.parametrize("cls", [Lobanov, Nearey1, Nearey2, DeltaF])
def test_unseen_fit_uses_the_speakers_own_tokens_and_stores_nothing(cls, tiny):
    a_only = tiny[tiny["speaker_id"] == "A"]
    est = cls(unseen="fit").fit(a_only)
    stored = {k: copy.deepcopy(v) for k, v in vars(est).items()}
    out = est.transform(tiny)
    # B's statistics come from B's own formants: same values as fitting on both speakers
    np.testing.assert_allclose(out.to_numpy(), cls().fit_transform(tiny).to_numpy())
    assert set(vars(est)) == set(stored) and list(est.speakers_) == ["A"]
    for name, value in stored.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(getattr(est, name), value)


@pytest.mark.parametrize("cls", SPEAKER_NORMALISERS)
def test_nan_formants_are_ignored_when_fitting_and_stay_nan(cls, tiny):
    extra = pd.DataFrame({"speaker_id": ["A"], "vowel": ["e"], "f1_hz": [np.nan],
                          "f2_hz": [1350.0], "f3_hz": [2600.0]})
    with_nan = pd.concat([tiny, extra], ignore_index=True)
    est = cls().fit(with_nan)
    out = est.transform(with_nan)
    assert np.isnan(out.iloc[-1, 0]) and np.isfinite(out.iloc[-1, 1])
    assert np.isfinite(out.iloc[:-1].to_numpy()).all()
    if cls is Lobanov:  # F1 statistics unchanged by the NaN token
        assert est.means_.loc["A", "f1_hz"] == pytest.approx(500.0)
        assert est.scales_.loc["A", "f1_hz"] == pytest.approx(200.0)
    if cls is DeltaF:  # pooled over the values present: (3000 + 2700 + 900) / 7
        assert est.delta_f_.loc["A", "delta_f_hz"] == pytest.approx(6600 / 7)


def test_input_errors_are_loud(tiny):
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['f3_hz'\]"):
        Nearey1(formants=("f1_hz", "f3_hz")).fit(tiny.drop(columns="f3_hz"))
    with pytest.raises(TypeError, match="DataFrame"):
        Lobanov().fit(tiny[["f1_hz", "f2_hz"]].to_numpy())
    bad = tiny.assign(f1_hz=tiny["f1_hz"].where(tiny.index != 2, -5.0))
    with pytest.raises(ValueError, match=r"f1_hz = -5.0 at row 2"):
        Nearey1().fit(bad)
    with pytest.raises(ValueError, match="non-zero SD"):
        Lobanov().fit(tiny.iloc[:1])
    with pytest.raises(ValueError, match="unseen must be"):
        Lobanov(unseen="ignore").fit(tiny)
    with pytest.raises(ValueError, match="missing 'speaker_id'"):
        Lobanov().fit(tiny.assign(speaker_id=[None, "A", "A", "B", "B", "B"]))


@pytest.mark.parametrize("cls", [*SPEAKER_NORMALISERS, BarkDifference])
def test_sklearn_conventions(cls, tiny):
    est = cls()
    with pytest.raises(NotFittedError):
        est.transform(tiny)
    params = est.get_params()
    assert "formants" in params
    assert "speaker" in params or cls is BarkDifference
    copy = clone(est.set_params(formants=("f1_hz", "f2_hz")))
    assert copy.get_params() == est.get_params() and copy is not est
    before = tiny.copy()
    fitted = est.fit(tiny)
    assert fitted is est and est.get_params() == params | {"formants": ("f1_hz", "f2_hz")}
    first, second = est.transform(tiny), est.transform(tiny)
    pd.testing.assert_frame_equal(tiny, before)  # transform is pure
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_index_equal(first.index, tiny.index)
    assert list(est.get_feature_names_out()) == list(first.columns)
    assert not hasattr(clone(est), "n_features_in_")  # clone forgets what fit learnt
    as_array = clone(est).set_output(transform="default").fit(tiny).transform(tiny)
    assert isinstance(as_array, np.ndarray)
    np.testing.assert_allclose(as_array, first.to_numpy())


def _synthetic_vowels(n_speakers=12, n_tokens=8, seed=0):
    """Spanish /a e i o u/ by speakers whose formants scale with vocal tract length."""
    rng = np.random.default_rng(seed)
    targets = {"i": (300, 2300), "e": (450, 1950), "a": (750, 1350), "o": (500, 950),
               "u": (330, 800)}
    rows = []
    for s in range(n_speakers):
        scale = rng.uniform(0.7, 1.4)
        for v, (f1, f2) in targets.items():
            noise = rng.normal(0.0, 0.06, size=(n_tokens, 2))
            for e1, e2 in noise:
                rows.append((f"S{s:02d}", v, scale * f1 * (1 + e1), scale * f2 * (1 + e2)))
    return pd.DataFrame(rows, columns=["speaker_id", "vowel", "f1_hz", "f2_hz"])


def test_pipeline_lda_with_groupkfold_by_speaker():
    X = _synthetic_vowels()
    y, groups = X["vowel"], X["speaker_id"]
    cv = GroupKFold(n_splits=4)
    raw = make_pipeline(make_column_transformer(("passthrough", ["f1_hz", "f2_hz"])),
                        LinearDiscriminantAnalysis())
    raw_acc = cross_val_score(raw, X, y, groups=groups, cv=cv).mean()
    accs = {}
    for est in (Lobanov(unseen="fit"), Nearey1(unseen="fit"), DeltaF(unseen="fit")):
        pipe = make_pipeline(est, LinearDiscriminantAnalysis())
        accs[type(est).__name__] = cross_val_score(pipe, X, y, groups=groups, cv=cv).mean()
    # the test folds hold speakers never seen in fit; normalising recovers the vowels
    # (seed 0: raw 0.89, Lobanov, Nearey1 and ΔF 1.00)
    assert raw_acc < 0.92
    assert min(accs.values()) > 0.97 and min(accs.values()) > raw_acc + 0.05, (raw_acc, accs)
    # by default the normaliser refuses the held-out speakers instead of guessing
    strict = make_pipeline(Lobanov(), LinearDiscriminantAnalysis())
    with pytest.raises(ValueError, match="not fitted on speaker"):
        cross_validate(strict, X, y, groups=groups, cv=cv, error_score="raise")


def test_pipeline_set_output_pandas_passes_names():
    X = _synthetic_vowels(n_speakers=3, n_tokens=3)
    pipe = make_pipeline(Lobanov(), Nearey1(speaker="speaker_id")).set_output(transform="pandas")
    with pytest.raises(ValueError, match="lacks column"):  # the first step drops speaker_id
        pipe.fit_transform(X)
    out = make_pipeline(Lobanov()).set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == ["f1_lobanov", "f2_lobanov"]
