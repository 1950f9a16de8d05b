"""Specifications of segment functionals (features.functionals): equal to per-segment
NumPy reductions, NaN-aware, with overlapping segments, and no loop over segments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.frames import span_frames
from features.functionals import (
    FUNCTIONALS,
    column_name,
    hz_to_st,
    segment_functionals,
)

HOP = 0.01


def reference(x: np.ndarray, seg: np.ndarray, hop: float = HOP) -> dict[str, np.ndarray]:
    """The same functionals, one segment at a time with NumPy's own functions."""
    first, end = span_frames(seg, x.size, hop)
    out = {f: np.full(len(seg), np.nan) for f in FUNCTIONALS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for j, (a, b) in enumerate(zip(first, end, strict=True)):
            v = x[a:b]
            ok = np.isfinite(v)
            n = int(ok.sum())
            if n >= 1:
                out["mean"][j] = np.nanmean(v)
                out["median"][j] = np.nanmedian(v)
            if n >= 2:
                out["sd"][j] = np.nanstd(v, ddof=1)
                out["p5"][j] = np.nanpercentile(v, 5)
                out["p95"][j] = np.nanpercentile(v, 95)
                t = np.arange(a, b)[ok] * hop
                out["slope"][j] = np.polyfit(t, v[ok], 1)[0]
    return out


def random_case(seed: int, n_frames: int = 3000, n_seg: int = 60, nan_frac: float = 0.3):
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 3.0, size=(3, n_frames)) + np.linspace(0, 4, n_frames)
    x[rng.random(x.shape) < nan_frac] = np.nan
    starts = rng.uniform(-0.2, n_frames * HOP, n_seg)
    seg = np.c_[starts, starts + rng.uniform(0, 2.5, n_seg)]  # overlapping, some past the end
    return x, seg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_per_segment_numpy_with_nan_and_overlaps(seed):
    x, seg = random_case(seed)
    got = segment_functionals(x, seg, names=["a", "b", "c"])
    for i, name in enumerate("abc"):
        exp = reference(x[i], seg)
        for f in ("median", "p5", "p95"):  # order statistics: exactly NumPy's
            np.testing.assert_array_equal(got[f"{name}_{f}"], exp[f], err_msg=f)
        for f in ("mean", "sd"):
            np.testing.assert_allclose(got[f"{name}_{f}"], exp[f], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(got[f"{name}_slope"], exp["slope"], rtol=1e-9, atol=1e-9)


def test_overlapping_segments_share_frames():
    x = np.arange(10.0)
    got = segment_functionals({"x": x}, [[0.0, 0.1], [0.05, 0.1], [0.0, 0.1]], hop_s=HOP)
    # Frame centres 0.00..0.09 lie in [0, 0.1); 0.05..0.09 in [0.05, 0.1).
    np.testing.assert_array_equal(got["x_mean"], [4.5, 7.0, 4.5])
    np.testing.assert_array_equal(got["x_median"], [4.5, 7.0, 4.5])
    np.testing.assert_allclose(got["x_slope"], [100.0, 100.0, 100.0])  # 1 per 10 ms


def test_too_few_valid_frames_give_nan():
    x = np.array([np.nan, 2.0, np.nan, np.nan, 3.0, 5.0])
    got = segment_functionals({"x": x}, [[0.0, 0.03], [0.02, 0.04], [0.03, 0.06]])
    # One valid frame: mean and median only; none: all NaN; two: everything.
    assert got["x_mean"][0] == 2.0 and got["x_median"][0] == 2.0
    for f in ("sd", "p5", "p95", "slope"):
        assert np.isnan(got[f"x_{f}"][0])
    assert all(np.isnan(got[f"x_{f}"][1]) for f in FUNCTIONALS)
    assert got["x_slope"][2] == pytest.approx(200.0)  # (5 - 3) / 0.01 s
    assert got["x_sd"][2] == pytest.approx(np.std([3.0, 5.0], ddof=1))


def test_mask_removes_frames():
    x = np.array([1.0, 100.0, 3.0, 5.0])
    got = segment_functionals({"x": x}, [[0.0, 0.04]], mask=np.array([True, False, True, True]))
    assert got["x_mean"][0] == pytest.approx(3.0)


def test_column_names_and_units():
    assert column_name("f0", "median", "st") == "f0_median_st"
    assert column_name("intensity", "mean", "db") == "intensity_mean_db"
    assert column_name("centroid", "p95", "hz") == "centroid_p95_hz"
    assert column_name("f0", "slope", "st") == "f0_slope_st_per_s"
    assert column_name("mfcc1", "sd", "") == "mfcc1_sd"
    got = segment_functionals({"f0": np.ones(5)}, [[0, 0.05]], units={"f0": "st"})
    assert list(got) == [column_name("f0", f, "st") for f in FUNCTIONALS]
    with pytest.raises(ValueError, match="unknown functional"):
        column_name("f0", "max", "st")
    with pytest.raises(ValueError, match="no unit"):
        segment_functionals({"f0": np.ones(5), "x": np.ones(5)}, [[0, 0.05]], units={"f0": "st"})


def test_hz_to_st():
    np.testing.assert_allclose(hz_to_st([100.0, 200.0, 50.0]), [0.0, 12.0, -12.0])
    assert np.isnan(hz_to_st([np.nan, 0.0, -5.0])).all()


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="ends before"):
        segment_functionals({"x": np.ones(5)}, [[0.3, 0.1]])
    with pytest.raises(ValueError, match="same number of frames"):
        segment_functionals({"x": np.ones(5), "y": np.ones(6)}, [[0, 0.1]])
    with pytest.raises(ValueError, match="names"):
        segment_functionals(np.ones((2, 5)), [[0, 0.1]])


def test_no_segments():
    got = segment_functionals({"x": np.ones(5)}, np.zeros((0, 2)))
    assert all(v.shape == (0,) for v in got.values()) and len(got) == len(FUNCTIONALS)


def test_long_recording_slopes_stay_accurate():
    # 2 hours at 10 ms: time moments must not lose the segment-local slope.
    n = 720_000
    rng = np.random.default_rng(5)
    x = 0.3 * np.arange(n) * HOP + rng.normal(0, 1, n)
    seg = np.array([[7000.0, 7003.0], [100.0, 100.5]])
    got = segment_functionals({"x": x}, seg)
    exp = reference(x, seg)
    np.testing.assert_allclose(got["x_slope"], exp["slope"], rtol=1e-9)
    np.testing.assert_allclose(got["x_sd"], exp["sd"], rtol=1e-10)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3)), min_size=1, max_size=60),
    bounds=st.lists(st.tuples(st.integers(0, 70), st.integers(0, 30)), min_size=1, max_size=8),
)
def test_property_matches_numpy(values, bounds):
    x = np.array([np.nan if v is None else v for v in values])
    seg = np.array([[a * HOP - HOP / 2, (a + d) * HOP - HOP / 2] for a, d in bounds])
    seg = np.maximum(seg, 0.0)
    got = segment_functionals({"x": x}, seg)
    exp = reference(x, seg)
    for f in ("median", "p5", "p95"):
        np.testing.assert_array_equal(got[f"x_{f}"], exp[f])
    np.testing.assert_allclose(got["x_mean"], exp["mean"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["x_sd"], exp["sd"], rtol=1e-6, atol=1e-6)
    # Invariants: order statistics lie within the range and in order.
    ok = ~np.isnan(got["x_p5"])
    assert np.all(got["x_p5"][ok] <= got["x_median"][ok])
    assert np.all(got["x_median"][ok] <= got["x_p95"][ok])


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-50, 50), scale=st.floats(0.1, 10))
def test_property_affine_equivariance(shift, scale):
    x, seg = random_case(7, n_frames=500, n_seg=20)
    a = segment_functionals({"x": x[0]}, seg)
    b = segment_functionals({"x": scale * x[0] + shift}, seg)
    for f in ("mean", "median", "p5", "p95"):
        np.testing.assert_allclose(b[f"x_{f}"], scale * a[f"x_{f}"] + shift, rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(b["x_sd"], scale * a["x_sd"], rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(b["x_slope"], scale * a["x_slope"], rtol=1e-6, atol=1e-6)
