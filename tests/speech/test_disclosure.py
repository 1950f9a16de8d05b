"""Disclosure control: level pooling, primary and secondary suppression of count tables,
and local suppression of the combinations a figure's marks show."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speech.disclosure import (
    count_text,
    disclosed_count,
    pool_levels,
    protect_combinations,
    protect_counts,
    protected_counts,
    suppress_levels,
    suppressed_label,
)


def _determined(counts: np.ndarray, hidden: np.ndarray, rows: bool, columns: bool
                ) -> np.ndarray:
    """Which hidden cells the published totals and shown cells solve for exactly:
    cell c is determined iff its unit vector lies in the row space of the
    constraints restricted to the hidden cells."""
    index = np.flatnonzero(hidden.ravel())
    out = np.zeros(hidden.shape, dtype=bool)
    if not index.size:
        return out
    constraints = []
    if rows:
        constraints += [np.isin(index // counts.shape[1], [i]) for i in range(counts.shape[0])]
    if columns:
        constraints += [np.isin(index % counts.shape[1], [j]) for j in range(counts.shape[1])]
    a = np.array(constraints, dtype=float).reshape(-1, index.size)
    rank = np.linalg.matrix_rank(a) if a.size else 0
    for position, cell in enumerate(index):
        unit = np.zeros((1, index.size))
        unit[0, position] = 1
        out.flat[cell] = np.linalg.matrix_rank(np.vstack([a, unit])) == rank
    return out


def test_protect_counts_on_a_worked_example():
    counts = np.array([[20, 3, 12], [15, 18, 9], [7, 11, 30]])
    primary, secondary = protect_counts(counts, 5)
    assert primary.sum() == 1 and primary[0, 1]
    # The cheapest rectangle through the 3: 20 + 11 + 7 speakers withheld.
    assert secondary.astype(int).tolist() == [[1, 0, 0], [0, 0, 0], [1, 1, 0]]
    assert not _determined(counts, primary | secondary, True, True).any()


def test_a_single_small_count_in_a_column_with_a_published_total():
    primary, secondary = protect_counts(np.array([[20], [3], [12], [8]]), 5, row_totals=False)
    assert primary[:, 0].tolist() == [False, True, False, False]
    assert secondary[:, 0].tolist() == [False, False, False, True]  # the smallest shown
    # Two small counts summing to under k: a third is withheld (the pair's sum would
    # otherwise stand for 4 speakers).
    _, secondary = protect_counts(np.array([[20], [3], [1], [8]]), 5, row_totals=False)
    assert secondary[:, 0].tolist() == [False, False, False, True]
    _, secondary = protect_counts(np.array([[20], [3], [4], [8]]), 5, row_totals=False)
    assert not secondary.any()


def test_nothing_is_withheld_without_small_cells_or_published_totals():
    assert not protect_counts(np.array([[20, 30], [25, 40]]), 5)[1].any()
    counts = np.array([[20, 3], [25, 40]])
    assert not protect_counts(counts, 5, row_totals=False, column_totals=False)[1].any()
    # Row totals only: the 3 needs the 20 beside it, nothing in its column.
    _, secondary = protect_counts(counts, 5, column_totals=False)
    assert secondary.astype(int).tolist() == [[1, 0], [0, 0]]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5).flatmap(lambda r: st.integers(1, 5).flatmap(
    lambda c: st.lists(st.integers(0, 30), min_size=r * c, max_size=r * c).map(
        lambda v: np.array(v).reshape(r, c)))), st.integers(2, 6), st.booleans(), st.booleans())
def test_protected_tables_keep_their_promises(counts, k, rows, columns):
    primary, secondary = protect_counts(counts, k, row_totals=rows, column_totals=columns)
    hidden = primary | secondary
    assert (primary == (counts < k)).all()
    assert (counts[secondary] >= k).all() and not (primary & secondary).any()
    published = ([counts[i] for i in range(counts.shape[0])] if rows else []) + (
        [counts[:, j] for j in range(counts.shape[1])] if columns else [])
    masks = ([hidden[i] for i in range(counts.shape[0])] if rows else []) + (
        [hidden[:, j] for j in range(counts.shape[1])] if columns else [])
    for values, mask in zip(published, masks, strict=True):
        assert not mask.any() or mask.all() or values[mask].sum() >= k
    # No hidden cell is solved for exactly, except one that is alone in every line
    # holding it (it is then as public as those lines' totals).
    determined = _determined(counts, hidden, rows, columns)
    alone = np.zeros_like(hidden)
    if rows and columns:
        alone[:] = (counts.shape[0] == 1) or (counts.shape[1] == 1)
    elif rows:
        alone[:] = counts.shape[1] == 1
    elif columns:
        alone[:] = counts.shape[0] == 1
    assert not (determined & ~alone).any(), (counts, hidden.astype(int))


def test_protect_counts_refuses_what_is_not_a_table_of_counts():
    for bad in (np.array([1, 2]), np.array([[1, -2]]), np.array([[1.5, 2]]),
                np.zeros((0, 2)), np.array([[np.nan, 1]])):
        with pytest.raises(ValueError, match="non-negative whole counts"):
            protect_counts(bad, 5)


def test_protected_counts_prints_tables_as_the_report_does():
    series = pd.Series([20, 3, 12, 8], index=["a", "b", "c", "d"], name="speakers")
    shown = protected_counts(series, 5)
    assert shown.name == "speakers" and list(shown.index) == list("abcd")
    assert shown.tolist() == [20, "< 5", 12, "x"]
    table = pd.DataFrame([[20, 3, 12], [15, 18, 9], [7, 11, 30]], index=["p", "q", "r"],
                         columns=["A", "B", "C"], dtype="Int64")
    shown = protected_counts(table, 5)
    assert shown.to_numpy().tolist() == [["x", "< 5", 12], [15, 18, 9], ["x", "x", 30]]
    assert list(shown.columns) == ["A", "B", "C"] and list(shown.index) == ["p", "q", "r"]


# --------------------------------------------------------------------------- levels
def test_suppress_levels_pools_levels_under_k():
    values = pd.Series(["a"] * 6 + ["b"] * 2 + [None] * 5)
    out = suppress_levels(values, 5, missing="missing")
    assert out.value_counts().to_dict() == {"a": 6, "missing": 5, suppressed_label(5): 2}


def test_pool_levels_grows_a_small_pool_to_k_speakers():
    # 3 speakers of a rare level: a grey class of 3 would show what a table hides as "< 5";
    # the smallest shown level (6) joins it, as the table would withhold that count.
    values = pd.Series(["rare"] * 3 + ["mid"] * 6 + ["big"] * 20 + ["other"] * 9)
    out = pool_levels(values, 5)
    assert out.value_counts().to_dict() == {"big": 20, "other": 9, suppressed_label(5): 9}
    assert protected_counts(values.value_counts(), 5)["mid"] == "x"  # the same rule
    # Nothing to pool: nothing changes.
    assert pool_levels(pd.Series(["a"] * 5 + ["b"] * 7), 5).tolist() == ["a"] * 5 + ["b"] * 7


# --------------------------------------------------------------------------- combinations
def _rare_shown(shown: pd.DataFrame, k: int, key=None) -> list[tuple]:
    """Combinations (key + shown values) held by fewer than k rows that show a value."""
    pool = suppressed_label(k)
    keys = list(key) if key is not None else [None] * len(shown)
    combos = [(kv, *(v if v != pool else None for v in row))
              for kv, row in zip(keys, shown.itertuples(index=False), strict=True)]
    sizes = Counter(combos)
    return [c for c, n in sizes.items() if n < k and any(v is not None for v in c[1:])]


def test_a_unique_speaker_is_greyed_out_until_k_share_what_is_shown():
    # Every level holds 5 or more speakers, but one speaker is the only master_phd woman.
    frame = pd.DataFrame({
        "education": ["bachelor"] * 10 + ["master_phd"] * 5,
        "gender": ["F"] * 5 + ["M"] * 5 + ["F"] + ["M"] * 4,
    })
    assert (frame.apply(lambda c: c.value_counts().min()) >= 5).all()
    assert _rare_shown(frame, 5)  # what the old strips showed: combinations of 1 and 4
    out = protect_combinations(frame, 5)
    assert _rare_shown(out, 5) == []
    pool = suppressed_label(5)
    # Only values were greyed out, none changed; the bachelors (5 + 5) keep theirs.
    changed = (out != frame).to_numpy()
    assert (out.to_numpy()[changed] == pool).all()
    assert (out.iloc[:10] == frame.iloc[:10]).all().all()
    # The master_phd rows lose gender (the least important column), not education.
    assert out.loc[10:, "education"].eq("master_phd").all()
    assert out.loc[10:, "gender"].eq(pool).all()


def test_the_key_counts_in_every_combination():
    # Two clusters split the ten bachelors 7 + 3: the 3 must not show their education.
    frame = pd.DataFrame({"education": ["bachelor"] * 10 + ["master_phd"] * 10})
    clusters = pd.Series([1] * 7 + [2] * 3 + [2] * 10)
    out = protect_combinations(frame, 5, key=clusters)
    assert out["education"].tolist() == (["bachelor"] * 7 + [suppressed_label(5)] * 3
                                         + ["master_phd"] * 10)
    with pytest.raises(ValueError, match="key"):
        protect_combinations(frame, 5, key=clusters[:-1])


@settings(max_examples=150, deadline=None)
@given(st.integers(5, 60).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n),
    st.lists(st.sampled_from(["F", "M", "X"]), min_size=n, max_size=n),
    st.lists(st.sampled_from(["r1", "r2", "r3", "r4", "r5"]), min_size=n, max_size=n),
    st.lists(st.integers(1, 3), min_size=n, max_size=n))), st.integers(2, 6))
def test_every_shown_combination_is_shared_by_k_rows(columns, k):
    education, gender, region, clusters = columns
    frame = pd.DataFrame({"education": education, "gender": gender, "region": region})
    frame = frame.apply(lambda c: suppress_levels(c, k))
    out = protect_combinations(frame, k, key=clusters)
    assert _rare_shown(out, k, clusters) == []
    kept = (out != suppressed_label(k)).to_numpy()
    assert (out.to_numpy()[kept] == frame.to_numpy()[kept]).all()  # the speaker's own value


def test_a_count_of_speakers_under_k_is_never_published():
    assert disclosed_count(4, 5) is None and count_text(4, 5) == "< 5"
    assert disclosed_count(5, 5) == 5 and count_text(5, 5) == "5"


def test_association_findings_and_table_withhold_a_count_under_k():
    from speech.report_sections import association_section

    table = pd.DataFrame({"feature": ["f0_median_st", "jitter_local_pct"],
                          "variable": ["gender", "education"],
                          "test": ["mannwhitney", "kruskal"],
                          "effect_size_name": ["r", "epsilon2"], "effect_size": [0.5, 0.4],
                          "p_value": [0.001, 0.002], "q_value": [0.01, 0.02],
                          "n_speakers": [4, 30]})
    _, blocks, findings = association_section({"associations": table}, lambda r: "s", 5)
    by_feature = {f["feature"]: f["n_speakers"] for f in findings}
    assert by_feature == {"f0_median_st": None, "jitter_local_pct": 30}
    cells = [row[-1] for block in blocks if block.kind == "table"
             for t in block.tables for row in t.rows]
    assert cells == ["< 5", "30"]
