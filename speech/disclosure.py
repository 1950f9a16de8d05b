"""Disclosure control: what a table cell or a figure may show about speakers' profiles.

One rule, ``k`` (k-anonymity): nothing shown may stand for fewer than ``k``
speakers. This module applies it to

- **profile levels** (:func:`suppress_levels`): a level held by fewer than k
  speakers is pooled into the neutral class :func:`suppressed_label`, whose name
  and size are never shown; for figures, where every pooled speaker is a visible
  mark, :func:`pool_levels` also grows the pool to k speakers or more;
- **count tables** (:func:`protect_counts`, :func:`protected_counts`): a count
  under k reads ``"< k"`` (primary suppression), and where a row's or a column's
  total is published, further counts read :data:`WITHHELD` until none of the
  hidden ones can be worked out from the totals (secondary suppression);
- **figures that show several profile values per mark**
  (:func:`protect_combinations`): a dendrogram leaf with its strips shows one
  speaker's education, gender and region side by side, so every *combination*
  of shown values (not each value alone) must be shared by k speakers or more;
  values are greyed out (local suppression) until it is.

The report (:mod:`speech.report`), the notebooks and any script that shares
tables take their rules from here.

References
----------
Sweeney, L. (2002). k-anonymity: a model for protecting privacy. International
Journal of Uncertainty, Fuzziness and Knowledge-Based Systems 10(5), 557-570.
Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 3
(local suppression of key variables) and ch. 4 (secondary cell suppression).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "WITHHELD", "count_text", "disclosed_count", "pool_levels", "protect_combinations",
    "protect_counts", "protected_counts", "suppress_levels", "suppressed_label",
]

#: How a count withheld by secondary suppression reads (it stands for >= k speakers).
WITHHELD = "x"


def disclosed_count(n_speakers: int, k: int) -> int | None:
    """A count of speakers as it may be published: ``None`` when under ``k``.

    One rule for every count that a sentence, a table or ``findings.json`` states (a
    corpus, an association, a model); text shows the withheld value as ``"< k"``
    (:func:`count_text`).
    """
    return int(n_speakers) if int(n_speakers) >= k else None


def count_text(n_speakers: int, k: int) -> str:
    """``"12"``, or ``"< 5"`` for a count of speakers under ``k`` (here ``k = 5``)."""
    shown = disclosed_count(n_speakers, k)
    return f"< {k}" if shown is None else str(shown)


def suppressed_label(k: int) -> str:
    """The neutral class that pools every level (or value) shown for fewer than ``k``."""
    return f"suppressed (< {k} speakers)"


def suppress_levels(values: pd.Series, k: int, *, missing: str | None = None) -> pd.Series:
    """Replace every level held by fewer than ``k`` rows with the neutral suppressed class.

    Parameters
    ----------
    values : Series
        One value per speaker.
    k : int
        Minimum group size.
    missing : str or None
        Label given to missing values (then counted as a level); None keeps them missing.

    Returns
    -------
    Series of object dtype, same index.
    """
    out = values.astype(object).where(values.notna(), missing)
    counts = out.value_counts(dropna=True)
    small = set(counts.index[counts < k])
    return out.map(lambda v: suppressed_label(k) if v in small else v)


def pool_levels(values: pd.Series, k: int, *, missing: str | None = None) -> pd.Series:
    """The levels a figure of individual speakers may colour: those a count table of
    ``values`` would print; every other speaker joins the suppressed class.

    A figure draws each pooled speaker as a grey mark, so a pool of 3 would show the
    size that a table prints as ``"< k"`` (and where the levels form a known list, such
    as education, the one level missing from the legend names it). So the levels are
    those :func:`protected_counts` shows for ``values`` with its total published: the
    withheld ones join the pool, which then holds ``k`` speakers or more (or is empty).

    Returns
    -------
    Series of object dtype, same index.
    """
    out = suppress_levels(values, k, missing=missing)
    counts = out.value_counts(dropna=True)
    if counts.empty:
        return out
    _, withheld = protect_counts(counts.to_numpy()[:, None], k, row_totals=False)
    hidden = set(counts.index[(counts < k).to_numpy() | withheld[:, 0]])
    return out.map(lambda v: suppressed_label(k) if v in hidden else v)


# --------------------------------------------------------------------------- count tables
@dataclass
class _Grid:
    """A count table as the graph of secondary suppression: one node per row and per
    column with a published total (node 0: every line without one), one edge per cell."""

    counts: np.ndarray
    primary: np.ndarray
    hidden: np.ndarray
    ends: dict[tuple[int, int], tuple[int, int]]

    @classmethod
    def build(cls, counts: np.ndarray, k: int, row_totals: bool, column_totals: bool) -> _Grid:
        n_rows, n_cols = counts.shape
        row_node = np.arange(1, n_rows + 1) if row_totals else np.zeros(n_rows, np.int64)
        col_node = (np.arange(n_rows + 1, n_rows + n_cols + 1) if column_totals
                    else np.zeros(n_cols, np.int64))
        ends = {(i, j): (int(row_node[i]), int(col_node[j]))
                for i in range(n_rows) for j in range(n_cols)}
        primary = counts < k
        return cls(counts=counts, primary=primary, hidden=primary.copy(), ends=ends)

    def cost(self, cell: tuple[int, int]) -> int:
        """Withholding a hidden cell costs nothing, a shown one its count plus one (fewest
        speakers, then fewest cells)."""
        return 0 if self.hidden[cell] else int(self.counts[cell]) + 1


def _cheapest_path(grid: _Grid, source: int, target: int, without: tuple[int, int]
                   ) -> list[tuple[int, int]] | None:
    """Dijkstra from ``source`` to ``target`` over the cells (edges) other than ``without``."""
    best, via, queue = {source: 0}, {}, [(0, source)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == target:
            path = []
            while node != source:
                cell, node = via[node]
                path.append(cell)
            return path
        if cost > best[node]:
            continue
        for cell, (a, b) in grid.ends.items():
            if cell == without or node not in (a, b):
                continue
            other = b if node == a else a
            step = cost + grid.cost(cell)
            if step < best.get(other, np.inf):
                best[other], via[other] = step, (cell, node)
                heapq.heappush(queue, (step, other))
    return None


def _close_cycles(grid: _Grid) -> bool:
    """Rule 2: put every hidden cell on a cycle of hidden cells; True if a cell was added."""
    added = False
    for cell in sorted(grid.ends, key=lambda c: (not grid.primary[c], grid.counts[c])):
        a, b = grid.ends[cell]
        if not grid.hidden[cell] or a == b:  # a == b: no published total holds it
            continue
        # None: the cell is its lines' only cell, as public as their totals.
        for other in _cheapest_path(grid, a, b, cell) or ():
            added |= not grid.hidden[other]
            grid.hidden[other] = True
    return added


def _fill_lines(grid: _Grid, lines: list[list[tuple[int, int]]], k: int) -> bool:
    """Rule 1: the hidden cells of a line sum to k or more (or fill it)."""
    added = False
    for line in lines:
        shown = [c for c in line if not grid.hidden[c]]
        withheld = sum(int(grid.counts[c]) for c in line if grid.hidden[c])
        if shown and len(shown) < len(line) and withheld < k:
            grid.hidden[min(shown, key=lambda c: grid.counts[c])] = True
            added = True
    return added


def protect_counts(counts: np.ndarray, k: int, *, row_totals: bool = True,
                   column_totals: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary suppression of a table of speaker counts.

    A cell under ``k`` is suppressed (primary). Where a row's or a column's total
    is published, subtracting the shown cells from it would give the hidden ones
    back, so more cells are withheld (secondary), cheapest first (the fewest
    speakers), until

    1. the hidden cells of every line with a published total sum to ``k`` speakers
       or more (what subtraction gives back stands for at least ``k`` speakers), and
    2. no hidden cell can be solved for exactly from the published totals: in the
       graph whose nodes are the lines with a published total and whose edges are
       the hidden cells, every hidden cell lies on a cycle (lines without a
       published total meet in one unconstrained node). A cell off every cycle
       gets the cheapest path of shown cells that closes one (the shortest-path
       heuristic of secondary cell suppression; Hundepool et al. 2012, ch. 4).

    Rule 2 rules out exact recovery only: published totals still bound a hidden
    cell to an interval.

    Parameters
    ----------
    counts : np.ndarray, shape (n_rows, n_columns)
        Non-negative speaker counts.
    k : int
        Minimum number of speakers a shown or recoverable count may stand for.
    row_totals, column_totals : bool
        Whether the rows' / the columns' totals are published (and so protected).

    Returns
    -------
    primary, secondary : np.ndarray of bool, shape like ``counts``
        Cells under ``k``; cells of ``k`` or more withheld to protect them.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4.
    """
    n = np.asarray(counts)
    if n.ndim != 2 or n.size == 0 or not np.issubdtype(n.dtype, np.number) \
            or not np.all(np.isfinite(n)) or (n < 0).any() or (n != np.round(n)).any():
        raise ValueError(f"counts must be a non-empty 2-D table of non-negative whole "
                         f"counts, got {counts!r}")
    n = n.astype(np.int64)
    n_rows, n_cols = n.shape
    grid = _Grid.build(n, k, row_totals, column_totals)
    # The cells of each line (row or column) whose total is published, for rule 1.
    lines = ([[(i, j) for j in range(n_cols)] for i in range(n_rows)] if row_totals
             else []) + ([[(i, j) for i in range(n_rows)] for j in range(n_cols)]
                         if column_totals else [])
    # A cycle through a primary cell already withholds a cell of k or more in its
    # row and its column, so cycles first: rule 1 then rarely adds anything.
    while _close_cycles(grid) | _fill_lines(grid, lines, k):
        pass
    return grid.primary, grid.hidden & ~grid.primary


def protected_counts(counts: pd.DataFrame | pd.Series, k: int) -> pd.DataFrame | pd.Series:
    """A count table as the report would print it: ``"< k"`` and ``"x"`` cells.

    A DataFrame's row and column totals, and a Series' total, count as published
    (see :func:`protect_counts`). For notebooks and scripts that share tables.

    Returns
    -------
    Same shape and labels as ``counts``, object dtype.
    """
    frame = counts.to_frame() if isinstance(counts, pd.Series) else counts
    values = frame.apply(pd.to_numeric).to_numpy(dtype=np.float64, na_value=np.nan)
    primary, withheld = protect_counts(values, k, row_totals=isinstance(counts, pd.DataFrame))
    shown = [int(v) for v in values.ravel()]  # whole counts, checked above
    text = np.where(withheld, WITHHELD, np.where(primary, f"< {k}", np.array(
        shown, dtype=object).reshape(values.shape)))
    out = pd.DataFrame(text, index=frame.index, columns=frame.columns, dtype=object)
    return out.iloc[:, 0].rename(counts.name) if isinstance(counts, pd.Series) else out


# --------------------------------------------------------------------------- figures
def _merge(combo: tuple, column: int, rare: list[tuple], sizes: Counter, pool: str
           ) -> tuple[int, int, set[tuple]]:
    """Grey out ``column`` of ``combo`` and of every rare combination that then coincides
    with it: (size of the merged combination, column, the rare combinations merged)."""
    def coarser(c: tuple) -> tuple:
        return (*c[: column + 1], pool, *c[column + 2:])

    target = coarser(combo)
    partners = {c for c in rare if c[column + 1] != pool and coarser(c) == target}
    return sizes.get(target, 0) + sum(sizes[c] for c in partners), column, partners


def protect_combinations(shown: pd.DataFrame, k: int, *, key: pd.Series | None = None
                         ) -> pd.DataFrame:
    """Grey out values until every combination a mark shows is shared by ``k`` marks or more.

    Each row is one mark of a figure standing for one speaker (a dendrogram leaf), each
    column a profile value drawn beside it (a strip). A value reading
    :func:`suppressed_label` shows nothing. The *shown combination* of a row is its
    ``key`` (what the figure reveals anyway, e.g. the leaf's cluster) with its shown
    values; every shown combination holding at least one profile value must be shared
    by ``k`` rows or more. The smallest offending combination loses one value at a time
    (local suppression, Hundepool et al. 2012, ch. 3), together with every other
    offending combination that the same greying merges it with: the value whose removal
    gives a merged combination of ``k`` rows or more, else the largest one, the
    rightmost column on ties (columns in order of importance). A combination that shows
    no profile value is exempt: it says nothing about anyone's profile.

    Parameters
    ----------
    shown : DataFrame, shape (n_marks, n_variables)
        One row per mark, values already level-suppressed (:func:`suppress_levels`);
        columns in order of importance (the last is greyed first).
    k : int
        Minimum number of speakers a shown combination may stand for.
    key : Series or None
        What each mark reveals besides its values (aligned with ``shown``'s rows); None:
        nothing.

    Returns
    -------
    DataFrame like ``shown`` (object dtype) with more values replaced by the suppressed
    label.
    """
    pool = suppressed_label(k)
    out = shown.astype(object).copy()
    keys = list(key) if key is not None else [None] * len(out)
    if len(keys) != len(out):
        raise ValueError(f"key has {len(keys)} values for {len(out)} marks")
    columns = list(out.columns)
    grid = out.to_numpy(dtype=object).copy()
    while True:
        combos = [(keys[i], *grid[i]) for i in range(len(grid))]
        sizes = Counter(combos)
        rare = [c for c, size in sizes.items() if size < k and any(v != pool for v in c[1:])]
        if not rare:
            break
        combo = min(rare, key=lambda c: (sizes[c], tuple(map(str, c))))
        best = max((_merge(combo, j, rare, sizes, pool) for j, v in enumerate(combo[1:])
                    if v != pool), key=lambda m: (m[0] >= k, m[0], m[1]))
        _, column, partners = best
        rows = [i for i, c in enumerate(combos) if c in partners]
        grid[rows, column] = pool
    return pd.DataFrame(grid, index=out.index, columns=columns, dtype=object)

