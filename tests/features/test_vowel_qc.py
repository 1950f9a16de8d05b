"""Vowel QC: Mahalanobis outliers within speaker x vowel (features.vowel_qc)."""

import numpy as np
import pandas as pd
import pytest

from features.vowel_qc import mahalanobis_outliers


def _clouds(rng, n_groups, n_tokens, n_planted=0):
    """Log-normal (F1, F2) clouds, one per group, with ``n_planted`` gross errors
    per group (F2 halved or F1 doubled: the typical LPC tracking failures)."""
    f1 = np.exp(rng.normal(np.log(rng.uniform(300, 800, n_groups))[:, None], 0.08,
                           (n_groups, n_tokens)))
    f2 = np.exp(rng.normal(np.log(rng.uniform(900, 2300, n_groups))[:, None], 0.06,
                           (n_groups, n_tokens)))
    planted = np.zeros((n_groups, n_tokens), dtype=bool)
    planted[:, :n_planted] = True
    half = planted & (rng.random(planted.shape) < 0.5)
    f2[half] *= 0.5
    f1[planted & ~half] *= 2.0
    groups = np.repeat(np.arange(n_groups), n_tokens)
    return f1.ravel(), f2.ravel(), groups, planted.ravel()


def test_planted_outliers_are_found_with_few_false_positives():
    rng = np.random.default_rng(0)
    f1, f2, groups, planted = _clouds(rng, 40, 40, n_planted=3)
    flags = mahalanobis_outliers(f1, f2, groups, alpha=0.01)
    recall = flags[planted].mean()
    fpr = flags[~planted].mean()
    print(f"recall {recall:.3f}, false-positive rate {fpr:.4f} (alpha 0.01)")
    assert recall >= 0.9
    # Finite-sample robust distances run somewhat above alpha in 40-token groups
    # (measured 1.5-3x); the bound catches a broken cut-off (chi-square on the raw
    # MCD flags ~15% here).
    assert fpr <= 0.04


def test_false_positive_rate_near_alpha_on_clean_clouds():
    rng = np.random.default_rng(1)
    f1, f2, groups, _ = _clouds(rng, 40, 80)
    fpr_robust = mahalanobis_outliers(f1, f2, groups, alpha=0.01).mean()
    fpr_classical = mahalanobis_outliers(f1, f2, groups, alpha=0.01, robust=False).mean()
    print(f"clean 80-token groups: robust {fpr_robust:.4f}, classical {fpr_classical:.4f}")
    assert fpr_robust <= 0.03
    # The classical cut-off is exact (Beta, Wilks 1963) for Gaussian clouds.
    assert 0.003 <= fpr_classical <= 0.02


def test_robust_fit_resists_masking_that_hides_outliers_from_the_classical_fit():
    rng = np.random.default_rng(2)
    f1, f2, groups, planted = _clouds(rng, 20, 30, n_planted=5)
    robust = mahalanobis_outliers(f1, f2, groups)
    classical = mahalanobis_outliers(f1, f2, groups, robust=False)
    assert robust[planted].mean() > classical[planted].mean()


def test_small_groups_missing_formants_and_unlabelled_tokens_are_never_flagged():
    rng = np.random.default_rng(3)
    f1, f2, groups, _ = _clouds(rng, 4, 20, n_planted=2)
    speaker = np.where(groups < 2, "s1", "s2")
    vowel = pd.Series(np.array(list("aeie"))[groups], dtype="string")
    vowel[groups == 3] = pd.NA  # unlabelled nuclei: one group with gross errors
    f1[1] = np.nan
    keys = pd.DataFrame({"speaker_id": speaker, "vowel": vowel})
    flags = mahalanobis_outliers(f1, f2, keys)
    assert not flags[1] and not flags[groups == 3].any()
    assert flags[0]  # the other planted token of group 0 is still found
    # A group below min_tokens: its gross errors stay unflagged.
    small = mahalanobis_outliers(f1[:7], f2[:7], groups[:7], min_tokens=8)
    assert not small.any()


def test_groups_are_separate_categories():
    # Two tight categories far apart: neither's tokens are outliers of the other.
    rng = np.random.default_rng(4)
    f1, f2, groups, _ = _clouds(rng, 2, 30)
    pooled = mahalanobis_outliers(f1, f2, np.zeros_like(groups))
    split = mahalanobis_outliers(f1, f2, groups)
    assert split.sum() <= 2
    assert pooled.shape == split.shape


def test_deterministic_and_validates_input():
    rng = np.random.default_rng(5)
    f1, f2, groups, _ = _clouds(rng, 5, 25, n_planted=2)
    a = mahalanobis_outliers(f1, f2, groups)
    np.testing.assert_array_equal(a, mahalanobis_outliers(f1, f2, groups))
    with pytest.raises(ValueError, match="alpha"):
        mahalanobis_outliers(f1, f2, groups, alpha=1.5)
    with pytest.raises(ValueError, match="rows"):
        mahalanobis_outliers(f1, f2, groups[:-1])
    with pytest.raises(ValueError, match="equal length"):
        mahalanobis_outliers(f1, f2[:-1], groups)
