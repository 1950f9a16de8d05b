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
