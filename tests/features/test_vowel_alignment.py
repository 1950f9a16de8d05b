"""Expected vowels aligned to syllable nuclei: best path and posterior confidence."""

import itertools

import numpy as np
import pytest

from features.vowel_alignment import _costs, align_vowels


def test_one_to_one_when_counts_and_timing_agree():
    nucleus, confidence = align_vowels([0.2, 0.5, 0.8], [False, True, False],
                                       [0.18, 0.52, 0.83], [60, 70, 62])
    assert nucleus.tolist() == [0, 1, 2]
    assert (confidence > 0.9).all()


def test_a_missing_nucleus_leaves_its_vowel_unassigned():
    nucleus, confidence = align_vowels([0.2, 0.5, 0.8], [False, True, False], [0.18, 0.83],
                                       [60, 62])
    assert nucleus.tolist() == [0, -1, 1]
    assert np.isnan(confidence[1])


def test_a_spurious_weak_nucleus_is_skipped():
    nucleus, _ = align_vowels([0.25, 0.75], [True, False], [0.1, 0.3, 0.7, 0.9],
                              [50, 70, 65, 45])
    assert nucleus.tolist() == [1, 2]


def test_no_nuclei_or_no_vowels():
    assert align_vowels([0.5], [True], [], [])[0].tolist() == [-1]
    assert align_vowels([], [], [0.5], [60])[0].size == 0


def test_a_short_loud_vocoid_gives_way_to_the_long_stressed_vowel():
    # real-es MX1 "octubre" (o-c-t-u-b-r-e, stress on u): the vocoid between /b/ and the
    # tap is the loudest peak of the word and sits where the letters put the u, but
    # it is 50 ms long against the u's 140 ms (Spanish stressed vowels are long).
    e_pos, stressed = [0.07, 0.5, 0.93], [False, True, False]
    n_pos, levels = [0.04, 0.35, 0.58, 0.65], [-0.9, -3.9, 0.0, -1.2]
    durations = [0.10, 0.14, 0.05, 0.15]
    assert align_vowels(e_pos, stressed, n_pos, levels)[0].tolist() == [0, 2, 3]
    nucleus, _ = align_vowels(e_pos, stressed, n_pos, levels, nucleus_duration_s=durations)
    assert nucleus.tolist() == [0, 1, 3]


def test_durations_of_equal_length_change_nothing_but_the_level_cue():
    # every nucleus at the median: the duration cue is the same everywhere, and the
    # level (with timing) still decides
    args = ([0.25, 0.75], [True, False], [0.1, 0.3, 0.7, 0.9], [50, 70, 65, 45])
    plain, _ = align_vowels(*args)
    timed, _ = align_vowels(*args, nucleus_duration_s=[0.1] * 4)
    assert plain.tolist() == timed.tolist() == [1, 2]


def _brute_force(e_pos, stressed, n_pos, levels, durations=None):
    """Best assignment and pair posteriors by enumerating every monotone alignment."""
    match, skip_e, skip_n = _costs(np.asarray(e_pos), np.asarray(stressed), np.asarray(n_pos),
                                   np.asarray(levels, dtype=float), 0.2, 2.5, 2.5, 15.0,
                                   durations, 1.0)
    n, m = match.shape
    best, best_cost, weights = None, np.inf, {}
    total = 0.0
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.combinations(range(m), k):
                cost = (sum(match[r, c] for r, c in zip(rows, cols, strict=True))
                        + skip_e.sum() - skip_e[list(rows)].sum()
                        + skip_n.sum() - skip_n[list(cols)].sum())
                w = np.exp(-cost)
                total += w
                for pair in zip(rows, cols, strict=True):
                    weights[pair] = weights.get(pair, 0.0) + w
                if cost < best_cost:
                    best_cost, best = cost, dict(zip(rows, cols, strict=True))
    return best, {pair: w / total for pair, w in weights.items()}


@pytest.mark.parametrize("timed", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_path_and_posteriors_match_enumeration(seed, timed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 5), rng.integers(1, 5)
    e_pos = np.sort(rng.random(n))
    n_pos = np.sort(rng.random(m))
    stressed = rng.random(n) < 0.4
    levels = rng.normal(60, 6, m)
    durations = rng.uniform(0.04, 0.25, m) if timed else None
    best, posterior = _brute_force(e_pos, stressed, n_pos, levels, durations)
    nucleus, confidence = align_vowels(e_pos, stressed, n_pos, levels,
                                       nucleus_duration_s=durations)
    assert {i: int(j) for i, j in enumerate(nucleus) if j >= 0} == best
    for i, j in enumerate(nucleus):
        if j >= 0:
            assert confidence[i] == pytest.approx(posterior[(i, int(j))], rel=1e-9)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="increasing"):
        align_vowels([0.5], [True], [0.6, 0.4], [60, 60])
    with pytest.raises(ValueError, match="pair up"):
        align_vowels([0.5, 0.6], [True], [0.5], [60])
    with pytest.raises(ValueError, match="finite"):
        align_vowels([np.nan], [True], [0.5], [60])
    with pytest.raises(ValueError, match="one positive duration per nucleus"):
        align_vowels([0.5], [True], [0.4, 0.6], [60, 60], nucleus_duration_s=[0.1, 0.0])
