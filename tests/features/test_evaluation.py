"""Specifications of boundary scoring (features.evaluation)."""

from __future__ import annotations

import numpy as np
import pytest

from features.evaluation import boundary_scores, match_times


def test_perfect_and_shifted_segmentations():
    ref = np.array([[0.5, 1.5], [2.0, 3.0]])
    assert boundary_scores(ref, ref)["f1"] == 1.0
    within = boundary_scores(ref, ref + 0.04)
    assert within["f1"] == 1.0 and within["n_ref"] == 4 and within["n_est"] == 4
    assert boundary_scores(ref, ref + 0.06)["f1"] == 0.0


def test_matching_is_one_to_one():
    # Two estimates within tolerance of one reference: only one may count.
    pairs = match_times([1.0], [0.98, 1.02])
    assert pairs.shape == (1, 2)
    s = boundary_scores(np.array([[1.0, 2.0]]), np.array([[0.98, 1.5], [1.02, 2.0]]))
    assert s["n_hit"] == 2  # one start (of two near 1.0) and the end at 2.0
    assert s["precision"] == pytest.approx(0.5) and s["recall"] == 1.0


def test_matching_is_maximal_not_greedy():
    # Greedy nearest-first would pair 1.00-1.03 and leave 0.96 and 1.07 unmatched.
    ref, est = np.array([0.96, 1.03]), np.array([1.00, 1.07])
    pairs = match_times(ref, est, tolerance_s=0.05)
    assert len(pairs) == 2
    assert len(set(pairs[:, 0])) == 2 and len(set(pairs[:, 1])) == 2


def test_starts_match_starts_and_ends_match_ends():
    # A start near a reference end does not count.
    s = boundary_scores(np.array([[0.0, 1.0]]), np.array([[1.0, 2.0]]))
    assert s["n_hit"] == 0


def test_empty_inputs():
    empty = np.empty((0, 2))
    assert boundary_scores(empty, empty)["f1"] == 1.0
    assert boundary_scores(np.array([[0.0, 1.0]]), empty)["recall"] == 0.0
    assert boundary_scores(empty, np.array([[0.0, 1.0]]))["precision"] == 0.0


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        boundary_scores(np.zeros((2, 3)), np.zeros((2, 2)))


def test_exact_tolerance_is_a_hit_on_both_sides():
    # 0.07 - 0.05 is 0.020000000000000004 in binary: times on a millisecond grid at exactly
    # the tolerance count, early or late, instead of depending on float rounding (before,
    # 9 % of such pairs between 0 and 300 s were misses, e.g. 0.07 against 0.02).
    assert len(match_times([0.07], [0.02], tolerance_s=0.05)) == 1
    assert len(match_times([0.02], [0.07], tolerance_s=0.05)) == 1
    grid = np.round(np.arange(0, 300_000, 137) / 1000, 3)  # 137 ms apart: one match each
    for shift, hit in ((0.05, True), (-0.05, True), (0.051, False), (-0.051, False)):
        est = np.round(grid + shift, 3)
        pairs = match_times(grid, est, tolerance_s=0.05)
        assert len(pairs) == (grid.size if hit else 0)
        if hit:
            assert np.array_equal(pairs, np.stack([np.arange(grid.size)] * 2, axis=1))


def test_match_counts_equal_mir_eval_on_random_events():
    import mir_eval  # a test dependency: the field's reference implementation

    rng = np.random.default_rng(0)
    for _ in range(300):
        ref = rng.uniform(0.0, rng.choice([1.0, 5.0, 30.0]), rng.integers(0, 60))
        near = ref[: rng.integers(0, ref.size + 1)]
        est = np.concatenate([near + rng.normal(0.0, 0.04, near.size),
                              rng.uniform(0.0, 30.0, rng.integers(0, 60))])
        tolerance = float(rng.choice([0.01, 0.05, 0.2]))
        ours = match_times(ref, est, tolerance_s=tolerance)
        theirs = mir_eval.util.match_events(ref, est, tolerance)
        assert len(ours) == len(theirs)
        assert np.all(np.abs(ref[ours[:, 0]] - est[ours[:, 1]]) <= tolerance + 1e-9)
