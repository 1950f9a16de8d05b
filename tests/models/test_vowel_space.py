"""Specifications of the per-speaker vowel space metrics (models.vowel_space): known
polygons, the FCR by hand, and simulated reduction with a known factor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.vowel_space import formant_centralisation_ratio, shoelace_area, vowel_space

TARGETS = {"i": (300.0, 2300.0), "e": (450.0, 2000.0), "a": (750.0, 1350.0),
           "o": (500.0, 950.0), "u": (330.0, 800.0)}


def test_shoelace_square_in_any_order():
    # unit-2 square, vertices shuffled: the convex ordering restores it -> area 2 * 2 = 4
    x, y = np.array([0.0, 2.0, 0.0, 2.0]), np.array([0.0, 2.0, 2.0, 0.0])
    assert shoelace_area(x, y) == pytest.approx(4.0)
    # taken as given, the shuffled order is a bow tie whose signed halves cancel
    assert shoelace_area(x, y, order=False) == pytest.approx(0.0)
    assert np.isnan(shoelace_area(np.array([0.0, 1.0, np.nan]), np.zeros(3)))


def test_fcr_by_hand():
    f1 = {"i": 300.0, "a": 750.0, "u": 330.0}
    f2 = {"i": 2300.0, "a": 1350.0, "u": 800.0}
    # (F2u + F2a + F1i + F1u) / (F2i + F1a) = (800 + 1350 + 300 + 330) / (2300 + 750)
    assert formant_centralisation_ratio(f1, f2) == pytest.approx(2780 / 3050)


def _table(points, speaker="S1", duration=0.1):
    return pd.DataFrame({"speaker_id": speaker, "vowel": [p[0] for p in points],
                         "f1_hz": [p[1] for p in points], "f2_hz": [p[2] for p in points],
                         "duration_s": duration})


def test_category_square_polygon_fcr_hull_and_dispersion():
    # four categories on the corners of a 100 x 100 square, two tokens each (mean = corner)
    corners = {"i": (300, 2300), "a": (400, 2300), "o": (400, 2200), "u": (300, 2200)}
    pts = [(v, f1 + d, f2 - d) for v, (f1, f2) in corners.items() for d in (-10, 10)]
    out = vowel_space(_table(pts), corners=("i", "a", "o", "u"), quantiles=(0.0, 1.0))
    row = out.iloc[0]
    assert row["polygon_area"] == pytest.approx(100 * 100)
    # FCR = (2200 + 2300 + 300 + 300) / (2300 + 400)
    assert row["fcr"] == pytest.approx(5100 / 2700)
    # hull of the 8 tokens (no trimming with quantiles 0..1), checked against the shoelace
    # area of scipy's hull vertices
    xy = np.array([(p[1], p[2]) for p in pts], dtype=float)
    assert row["hull_area"] == pytest.approx(_hull_by_hand(xy))
    # dispersion: mean Euclidean distance of the tokens from their centroid (350, 2250)
    centroid = xy.mean(axis=0)
    assert row["dispersion"] == pytest.approx(np.hypot(*(xy - centroid).T).mean())
    assert row["n_tokens"] == 8 and row["n_labelled"] == 8
    # /e/ missing: the default five-vowel polygon is undefined
    assert np.isnan(vowel_space(_table(pts))["polygon_area"].iloc[0])


def _hull_by_hand(xy):
    from scipy.spatial import ConvexHull

    hull = xy[ConvexHull(xy).vertices]
    return shoelace_area(hull[:, 0], hull[:, 1], order=False)


def test_hull_trimming_drops_an_outlier():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 1, size=(200, 2))
    pts = [(None, x, y) for x, y in xy] + [(None, 50.0, 50.0)]
    quantile = vowel_space(_table(pts))["hull_area"].iloc[0]
    mahal = vowel_space(_table(pts), trim="mahalanobis")["hull_area"].iloc[0]
    untrimmed = vowel_space(_table(pts), quantiles=(0.0, 1.0))["hull_area"].iloc[0]
    assert untrimmed > 10  # the outlier stretches the hull
    assert 0.6 < quantile < 0.9 and 0.4 < mahal < 1.0  # ~0.9^2 of the unit square


def _simulate(rs, seed=0, n_per_vowel=20, unlabelled=0.2):
    """Speaker k reduces its short tokens by r_k: token = c + (1 - r)(t - c) + noise.

    Long tokens (first half, 100-200 ms) are unreduced and serve as targets; short
    tokens (40-80 ms) are pulled toward the speaker centroid c by the factor r.
    A fraction of tokens lose their label.
    """
    rng = np.random.default_rng(seed)
    c = np.mean(list(TARGETS.values()), axis=0)
    rows = []
    for k, r in enumerate(rs):
        scale = rng.uniform(0.9, 1.1)
        for v, t in TARGETS.items():
            for j in range(n_per_vowel):
                long = j < n_per_vowel // 2
                dur = rng.uniform(0.1, 0.2) if long else rng.uniform(0.04, 0.08)
                p = scale * (c + (1 - (0.0 if long else r)) * (np.array(t) - c))
                p = p + rng.normal(0.0, 30.0, 2)
                label = None if rng.random() < unlabelled else v
                rows.append((f"S{k:02d}", label, p[0], p[1], dur))
    return pd.DataFrame(rows, columns=["speaker_id", "vowel", "f1_hz", "f2_hz", "duration_s"])


def test_reduction_index_tracks_a_known_reduction_factor():
    rs = np.linspace(0.0, 0.6, 13)
    out = vowel_space(_simulate(rs))
    corr = {c: np.corrcoef(out[c], rs)[0, 1] for c in
            ("reduction_index", "reduction_index_adj", "fcr", "polygon_area", "centralisation",
             "centralisation_adj", "dispersion", "hull_area")}
    # seed 0: reduction_index 0.988, _adj 0.981, fcr 0.989, polygon_area -0.900 (areas and
    # distances in Hz also carry the ±10 % vocal-tract scale of each speaker; ratios do not)
    assert corr["reduction_index"] > 0.95 and corr["reduction_index_adj"] > 0.95, corr
    assert corr["fcr"] > 0.95 and corr["polygon_area"] < -0.8, corr
    # monotone up to noise: each step of 0.05 in r raises the index on average
    slope = np.polyfit(rs, out["reduction_index"], 1)[0]
    assert slope > 0 and np.mean(np.diff(out["reduction_index"]) > 0) >= 0.75


def test_label_free_metrics_track_the_reduction_factor():
    rs = np.linspace(0.0, 0.6, 13)
    tokens = _simulate(rs, seed=3, unlabelled=0.5)
    out = vowel_space(tokens)
    corr = {c: np.corrcoef(out[c], rs)[0, 1] for c in ("centralisation", "dispersion")}
    # seed 3, half the tokens unlabelled: centralisation (scale-free) 0.93; dispersion (Hz,
    # so it also carries each speaker's ±10 % scale) -0.85
    assert corr["centralisation"] > 0.85 and corr["dispersion"] < -0.75, corr
    # with no label at all, the label-free columns are unchanged and the rest NaN
    blind = vowel_space(tokens.assign(vowel=None))
    np.testing.assert_allclose(blind["centralisation"], out["centralisation"])
    assert blind["reduction_index"].isna().all() and blind["fcr"].isna().all()


def test_duration_adjustment_compares_speakers_at_equal_duration():
    # one category per speaker; target (700, 1300) from the stressed token at 200 ms;
    # an unstressed token of duration d sits 50 * ln(0.2 / d) Hz lower in F1 for both
    # speakers, but S_fast's vowels are twice as short.
    rows = []
    for speaker, durs in {"S_slow": [0.2, 0.1, 0.08, 0.05], "S_fast": [0.2, 0.05, 0.04, 0.025]}.items():  # noqa: E501
        for j, d in enumerate(durs):
            rows.append((speaker, "a", 700.0 - 50 * np.log(0.2 / d), 1300.0, d, j == 0))
    tokens = pd.DataFrame(rows, columns=["speaker_id", "vowel", "f1_hz", "f2_hz", "duration_s",
                                         "stressed"])
    out = vowel_space(tokens, stressed="stressed").set_index("speaker_id")
    raw, adj = out["reduction_index"], out["reduction_index_adj"]
    assert raw["S_fast"] > raw["S_slow"] + 10
    assert adj["S_fast"] == pytest.approx(adj["S_slow"])
    # at the reference duration 200 ms the adjusted distance is that of a target: 0
    ref = vowel_space(tokens, stressed="stressed", ref_duration_s=0.2)
    np.testing.assert_allclose(ref["reduction_index_adj"], 0.0, atol=1e-9)


def test_nan_formants_ignored_and_errors_loud():
    pts = [("i", 300, 2300), ("a", 750, 1350), ("u", 330, 800), ("a", np.nan, 1300)]
    out = vowel_space(_table(pts), corners=("i", "a", "u"))
    assert out["n_tokens"].iloc[0] == 3
    assert out["fcr"].iloc[0] == pytest.approx(2780 / 3050)
    # triangle (300, 2300), (750, 1350), (330, 800): shoelace by hand
    area = abs(300 * 1350 - 750 * 2300 + 750 * 800 - 330 * 1350 + 330 * 2300 - 300 * 800) / 2
    assert out["polygon_area"].iloc[0] == pytest.approx(area)
    with pytest.raises(ValueError, match=r"lack column\(s\) \['duration_s'\]"):
        vowel_space(_table(pts).drop(columns="duration_s"))
    assert "reduction_index_adj" not in vowel_space(_table(pts), duration=None).columns
    with pytest.raises(ValueError, match="trim must be"):
        vowel_space(_table(pts), trim="iqr")


def test_dispersion_f3_ratio_tracks_reduction_whatever_the_tract_length():
    """Label-free: speakers of different vocal-tract length (all formants scaled),
    reduced by r toward their centroid; the ratio falls with r, size aside."""
    rng = np.random.default_rng(4)
    canonical = {"a": (700, 1300), "e": (450, 1850), "i": (280, 2250), "o": (460, 950),
                 "u": (310, 780)}
    rows, planted = [], {}
    for k, r in enumerate(np.linspace(0.0, 0.4, 9)):
        scale = 1.0 + 0.15 * ((k * 5) % 9) / 8  # tract length unrelated to r
        centre = np.mean(list(canonical.values()), axis=0) * scale
        for target in canonical.values():
            for _ in range(30):
                f = centre + (1 - r) * (np.array(target) * scale - centre)
                f = f + rng.normal(0, 15, 2)
                rows.append({"speaker_id": f"S{k}", "vowel": None, "f1_hz": f[0], "f2_hz": f[1],
                             "f3_hz": 2500 * scale + rng.normal(0, 40), "duration_s": 0.08})
        planted[f"S{k}"] = r
    out = vowel_space(pd.DataFrame(rows), f3="f3_hz").set_index("speaker_id")
    r = np.corrcoef(out["dispersion_f3_ratio"], pd.Series(planted)[out.index])[0, 1]
    assert r < -0.95  # and plain dispersion, confounded by size, does worse
    assert r < np.corrcoef(out["dispersion"], pd.Series(planted)[out.index])[0, 1]
