"""The HTML report: one self-contained page over a store and its ``models/`` results.

:func:`build_report` reads the store's tables (``speakers``, ``vowels``,
``recordings``, ``errors``) and what ``speech-profile fit`` wrote under
``STORE/models/`` (see the contract in DESIGN.md), draws the figures with
:mod:`models.plots`, and writes ``OUT/report.html`` (figures embedded as base64
PNG, inline CSS, no script, no external URL) and ``OUT/findings.json`` (the main
findings as sentences with their numbers).

Privacy (k-anonymity)
---------------------
Every table cell and every plotted group stands for at least ``k`` speakers, or
it is suppressed:

- a profile level (an education rank, a gender, a region, an age band...) held by
  fewer than k speakers is pooled into the neutral class ``"suppressed (< k
  speakers)"``: it is never drawn as a group of its own (not in a vowel chart,
  where it is left out; grey in the biplot and the dendrogram strips), and its
  name appears nowhere in the report;
- a count under k in a table reads ``"< k"`` (zero included: a zero is a cell
  standing for fewer than k speakers too);
- secondary suppression: since the tables' totals are published, further counts
  read ``"x"`` until no hidden count can be solved for from them
  (:func:`protect_counts`);
- regression terms of a suppressed level are not shown;
- speaker ids never appear (dendrogram leaves are unlabelled, biplot points too);
  no audio, transcript text or name is read.

The report's directory is recorded in the store's manifest (``reports``), so that
``speech-profile forget`` rebuilds or deletes it when a speaker is erased.

The captions are written from the numbers (see :func:`association_sentence`), so
they say what this store shows, not what was expected.
"""

from __future__ import annotations

import base64
import heapq
import html
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from models.profiles import DEFAULT_REGIONS, EDUCATION_ORDER
from speech import __version__
from speech.privacy import REPORTS_FIELD
from speech.store import Store

AGE_BANDS = ((0, 25, "under 25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"),
             (55, 200, "55 and over"))
#: Profile variables shown as groups (overview counts, cross-tabs, dendrogram strips).
GROUP_VARIABLES = ("gender", "age_band", "region", "education", "student", "main_income",
                   "income_band")

FEATURE_LABELS = {
    "vowel_reduction_index": "vowel reduction index",
    "vowel_reduction_index_adj": "vowel reduction index (duration-adjusted)",
    "vowel_dispersion_f3_ratio": "vowel dispersion / F3",
    "vowel_fcr": "formant centralisation ratio",
    "vowel_centralisation": "vowel centralisation",
    "articulation_rate_syll_s": "articulation rate (syll/s)",
    "speech_rate_syll_s": "speech rate (syll/s)",
    "pause_rate_per_min": "pause rate (per min)",
    "f0_median_st": "median F0 (st re 100 Hz)",
    "f0_sd_st": "F0 variability (SD, st)",
    "jitter_local_pct": "jitter (%)",
    "shimmer_local_pct": "shimmer (%)",
    "hnr_db": "harmonics-to-noise ratio (dB)",
    "cpps_median_db": "CPPS (dB)",
    "coda_s_aspirated_ratio": "coda /s/ aspiration rate",
    "coda_s_deleted_ratio": "coda /s/ deletion rate",
    "cluster": "speaker cluster",
}
VARIABLE_LABELS = {"education": "education", "education_rank": "education",
                   "main_income": "micro-work as main income", "age": "age",
                   "income_band": "income band", "age_band": "age band"}
TEST_NAMES = {"spearman": "Spearman", "kruskal": "Kruskal-Wallis", "mannwhitney": "Mann-Whitney",
              "chi2": "chi-square", "fisher": "Fisher exact"}
EFFECT_NAMES = {"rho": "rho", "epsilon2": "epsilon²", "rank_biserial": "rank-biserial r",
                "cramers_v": "Cramér's V"}

#: Terms of a regression that concern the speakers' profiles (the rest is phonetics).
PROFILE_TERMS = ("education", "gender", "age", "region", "country", "student", "income",
                 "field", "languages", "platforms")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2.2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border-bottom:1px solid #e4e4e4;padding:.2rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0 1.6rem}figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.92rem;color:#333;margin-top:.4rem}
.note{color:#555;font-size:.9rem}.kv td:first-child{color:#555}
.tables{display:flex;flex-wrap:wrap;gap:1.5rem}
"""


def _fmt_p(p: float) -> str:
    """p or q value for prose: 3 decimals, two significant digits under 0.01."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.3f}" if p >= 0.01 else f"{p:.2g}"


def _fmt(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def feature_label(name: str) -> str:
    """Readable name of a feature column (``f1_lobanov_a`` -> "F1 of /a/ (Lobanov)")."""
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    parts = name.split("_")
    if len(parts) == 3 and parts[0] in ("f1", "f2", "f3") and parts[1] == "lobanov":
        return f"{parts[0].upper()} of /{parts[2]}/ (Lobanov z)"
    if name.startswith("PC") and name[2:].isdigit():
        return f"principal component {name[2:]}"
    return name.replace("_", " ")


def variable_label(name: str) -> str:
    return VARIABLE_LABELS.get(name, name.replace("_", " "))


def suppressed_label(k: int) -> str:
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


#: How a count withheld by secondary suppression reads (it stands for >= k speakers).
WITHHELD = "x"


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
    primary = n < k
    hidden = primary.copy()
    # The cells of each line (row or column) whose total is published, for rule 1.
    lines = ([[(i, j) for j in range(n_cols)] for i in range(n_rows)] if row_totals
             else []) + ([[(i, j) for i in range(n_rows)] for j in range(n_cols)]
                         if column_totals else [])
    # Rule 2's graph: the node of each row and column; every line without a
    # published total is node 0, which no equation constrains.
    row_node = np.arange(1, n_rows + 1) if row_totals else np.zeros(n_rows, np.int64)
    col_node = (np.arange(n_rows + 1, n_rows + n_cols + 1) if column_totals
                else np.zeros(n_cols, np.int64))
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols)]
    ends = {c: (int(row_node[c[0]]), int(col_node[c[1]])) for c in cells}

    def cheapest_path(source: int, target: int, without: tuple[int, int]):
        """Dijkstra over the cells (edges): a hidden cell costs nothing, a shown one
        its count plus one (fewest speakers, then fewest cells withheld)."""
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
            for cell in cells:
                a, b = ends[cell]
                if cell == without or node not in (a, b):
                    continue
                other = b if node == a else a
                step = cost + (0 if hidden[cell] else int(n[cell]) + 1)
                if step < best.get(other, np.inf):
                    best[other], via[other] = step, (cell, node)
                    heapq.heappush(queue, (step, other))
        return None

    def close_cycles() -> bool:
        """Rule 2: put every hidden cell on a cycle of hidden cells."""
        added = False
        for cell in sorted(cells, key=lambda c: (not primary[c], n[c])):
            a, b = ends[cell]
            if not hidden[cell] or a == b:  # a == b: no published total holds it
                continue
            # None: the cell is its lines' only cell, as public as their totals.
            for other in cheapest_path(a, b, cell) or ():
                added |= not hidden[other]
                hidden[other] = True
        return added

    def fill_lines() -> bool:
        """Rule 1: hidden cells of a line sum to k or more (or fill it)."""
        added = False
        for line in lines:
            shown = [c for c in line if not hidden[c]]
            withheld = sum(int(n[c]) for c in line if hidden[c])
            if shown and len(shown) < len(line) and withheld < k:
                hidden[min(shown, key=lambda c: n[c])] = True
                added = True
        return added

    # A cycle through a primary cell already withholds a cell of k or more in its
    # row and its column, so cycles first: rule 1 then rarely adds anything.
    while close_cycles() | fill_lines():
        pass
    return primary, hidden & ~primary


def _cell(n: int, k: int) -> str:
    return f"< {k}" if n < k else str(int(n))


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


def _count_legend(k: int) -> str:
    return (f'<p class="note">"&lt; {k}": fewer than {k} speakers. "{WITHHELD}": {k} or more, '
            f"withheld so that no hidden count can be worked out from the totals.</p>")


# --------------------------------------------------------------------------- inputs
@dataclass
class _Inputs:
    speakers: pd.DataFrame
    vowels: pd.DataFrame
    recordings: pd.DataFrame
    errors: pd.DataFrame
    models: dict[str, pd.DataFrame] = field(default_factory=dict)
    fit: dict = field(default_factory=dict)


MODEL_TABLES = ("associations", "predictions", "importances", "pca_variance", "pca_loadings",
                "speaker_structure", "linkage", "silhouette", "effects", "speaker_features")


def _read_inputs(store: Path) -> _Inputs:
    models_dir = store / "models"
    if not models_dir.is_dir():
        raise FileNotFoundError(f"{models_dir} does not exist: run `speech-profile fit {store}` "
                                "first")
    tables = Store(store)
    speakers = tables.read_table("speakers")
    if speakers.empty:
        raise FileNotFoundError(f"{store}/speakers is missing or empty: run `speech-profile "
                                f"extract` first")
    models = {}
    for name in MODEL_TABLES:
        path = models_dir / f"{name}.parquet"
        if path.is_file():
            models[name] = pd.read_parquet(path)
    fit_path = models_dir / "fit.json"
    fit = json.loads(fit_path.read_text(encoding="utf-8")) if fit_path.is_file() else {}
    return _Inputs(speakers=speakers, vowels=tables.read_table("vowels"),
                   recordings=tables.read_table("recordings"),
                   errors=tables.read_table("errors"), models=models, fit=fit)


def _regions(fit: Mapping) -> dict[str, tuple[str, ...]]:
    settings = fit.get("settings", fit)
    regions = settings.get("regions") if isinstance(settings, Mapping) else None
    if isinstance(regions, Mapping) and regions:
        return {str(r): tuple(str(c) for c in cs) for r, cs in regions.items()}
    return DEFAULT_REGIONS


def _profiles(speakers: pd.DataFrame, fit: Mapping) -> pd.DataFrame:
    """Analysed speakers (consent not false) with region, ordered education and age band."""
    frame = speakers.copy()
    if "consent" in frame.columns:
        frame = frame[frame["consent"].astype("boolean").fillna(False).astype(bool)]
    frame = frame.reset_index(drop=True)
    if "country" in frame.columns:
        lookup = {c: r for r, cs in _regions(fit).items() for c in cs}
        frame["region"] = frame["country"].map(lambda c: lookup.get(str(c).upper(), "other")
                                               if pd.notna(c) else None)
    if "education" in frame.columns:
        frame["education"] = pd.Categorical(frame["education"].astype(object),
                                            categories=EDUCATION_ORDER, ordered=True)
    if "age" in frame.columns:
        age = pd.to_numeric(frame["age"], errors="coerce")
        band = pd.Series(None, index=frame.index, dtype=object)
        for low, high, name in AGE_BANDS:
            band[(age >= low) & (age < high)] = name
        frame["age_band"] = band
    for column in ("student", "main_income"):
        if column in frame.columns:
            frame[column] = frame[column].map(
                lambda v: None if pd.isna(v) else ("yes" if bool(v) else "no"))
    return frame


def _level_order(variable: str, values: pd.Series, k: int) -> list[object]:
    present = set(values.dropna())
    if variable == "education":
        base = list(EDUCATION_ORDER)
    elif variable == "age_band":
        base = [b[2] for b in AGE_BANDS]
    else:
        base = sorted(str(v) for v in present if v != suppressed_label(k))
    order = [v for v in base if v in present]
    order += sorted(str(v) for v in present - set(order) - {suppressed_label(k), "missing"})
    order += [v for v in ("missing", suppressed_label(k)) if v in present]
    return order


# --------------------------------------------------------------------------- figures
@dataclass
class _Figure:
    title: str
    png: str
    caption: str
    alt: str


def _png(fig) -> str:
    buffer = io.BytesIO()
    # No creation date in the PNG: the same store gives a byte-identical report.
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(fig, title: str, caption: str, alt: str | None = None) -> _Figure:
    return _Figure(title=title, png=_png(fig), caption=caption, alt=alt or title)


def _normalised_tokens(vowels: pd.DataFrame, speaker_ids: Sequence[str]) -> pd.DataFrame:
    """Labelled, QC-clean tokens of analysed speakers with Lobanov F1/F2."""
    from models.regression import lobanov_tokens
    from models.speaker_features import clean_vowel_tokens

    need = {"speaker_id", "vowel", "f1_hz", "f2_hz"}
    if vowels.empty or not need <= set(vowels.columns):
        return pd.DataFrame()
    tokens = clean_vowel_tokens(vowels[vowels["speaker_id"].isin(set(speaker_ids))])
    tokens = lobanov_tokens(tokens[tokens["vowel"] != ""])
    return tokens[["speaker_id", "vowel", "f1_lobanov", "f2_lobanov"]].reset_index(drop=True)


def _vowel_space_spread(tokens: pd.DataFrame, group: str) -> pd.Series:
    """Per group: mean distance of the vowel means from their centroid (Lobanov units)."""
    speaker_means = tokens.groupby([group, "vowel", "speaker_id"], observed=True)[
        ["f1_lobanov", "f2_lobanov"]].mean()
    means = speaker_means.groupby(level=[0, 1], observed=True).mean()
    out = {}
    for level, cell in means.groupby(level=0, observed=True):
        points = cell.to_numpy(float)
        out[level] = float(np.linalg.norm(points - points.mean(axis=0), axis=1).mean())
    return pd.Series(out)


def _vowel_figures(inputs: _Inputs, profiles: pd.DataFrame, k: int,
                   associations: pd.DataFrame) -> list[_Figure]:
    from models.plots import vowel_chart

    tokens = _normalised_tokens(inputs.vowels, profiles["speaker_id"].tolist())
    figures = []
    if tokens.empty:
        return figures
    for variable in ("education", "gender"):
        if variable not in profiles.columns:
            continue
        raw = profiles.set_index("speaker_id")[variable]
        # Group sizes among the speakers who actually contribute tokens to the chart.
        with_tokens = suppress_levels(raw[raw.index.isin(set(tokens["speaker_id"]))], k)
        data = tokens.assign(**{variable: tokens["speaker_id"].map(with_tokens)})
        order = [v for v in _level_order(variable, with_tokens, k)
                 if v != suppressed_label(k)]
        if not order:
            continue
        fig = vowel_chart(data, group=variable, order=order,
                          title=f"Vowel space by {variable_label(variable)}")
        spread = _vowel_space_spread(data[data[variable].isin(order)], variable)
        n = {lvl: int((with_tokens == lvl).sum()) for lvl in order}
        parts = [f"{lvl} {spread[lvl]:.2f} ({n[lvl]} speakers)" for lvl in order
                 if lvl in spread]
        caption = (f"Mean F2 x F1 position of each vowel (Lobanov z-scores) by "
                   f"{variable_label(variable)}, with 1-SD ellipses of the speaker means. "
                   f"Spread of the vowel means around their centre: {', '.join(parts)}.")
        if len(spread) >= 2:
            hi, lo = spread.idxmax(), spread.idxmin()
            caption += f" The vowel space is widest for {hi} and narrowest for {lo}."
        hits = associations[(associations["variable"].isin([variable, f"{variable}_rank"]))
                            & associations["feature"].str.startswith("vowel_")] \
            if not associations.empty else associations
        if not hits.empty:
            best = hits.sort_values("q_value").iloc[0]
            caption += " " + association_sentence(best, inputs, profiles, k)
        suppressed = int((with_tokens == suppressed_label(k)).sum())
        if suppressed:
            caption += (f" {suppressed} speakers in groups of fewer than {k} are not drawn "
                        "(k-anonymity).")
        figures.append(_figure(fig, f"Vowel space by {variable_label(variable)}", caption))
    return figures


# --------------------------------------------------------------------------- captions
def _group_values(feature: str, inputs: _Inputs, profiles: pd.DataFrame) -> pd.Series | None:
    """The speaker-level values of a feature (from speaker_features or speaker_structure)."""
    for name in ("speaker_features", "speaker_structure"):
        table = inputs.models.get(name)
        if table is not None and feature in table.columns:
            return table.set_index("speaker_id")[feature]
    if feature in inputs.speakers.columns:
        return inputs.speakers.set_index("speaker_id")[feature]
    return None


def association_sentence(row: Mapping, inputs: _Inputs, profiles: pd.DataFrame, k: int) -> str:
    """One plain-language sentence stating an association with its numbers.

    The direction comes from the data (sign of rho; group medians for Kruskal-Wallis and
    Mann-Whitney), and only groups of at least ``k`` speakers are named.
    """
    feature, variable = str(row["feature"]), str(row["variable"])
    test = str(row["test"])
    stats = (f"{TEST_NAMES.get(test, test)} {EFFECT_NAMES.get(row['effect_size_name'], 'effect')}"
             f" = {_fmt(float(row['effect_size']))}, q = {_fmt_p(float(row['q_value']))}, "
             f"{int(row['n_speakers'])} speakers")
    what, var = feature_label(feature), variable_label(variable)
    if not float(row["q_value"]) < 0.05:
        return f"No clear association of {what} with {var} ({stats})."
    if test == "spearman":
        direction = "higher" if float(row["effect_size"]) > 0 else "lower"
        if variable in ("education", "education_rank"):
            subject = "Speakers with more education"
        elif variable == "age":
            subject = "Older speakers"
        else:
            subject = f"Speakers with higher {var}"
        return f"{subject} have a {direction} {what} ({stats})."
    if test in ("kruskal", "mannwhitney"):
        values = _group_values(feature, inputs, profiles)
        column = variable if variable in profiles.columns else None
        if values is not None and column is not None:
            groups = suppress_levels(profiles.set_index("speaker_id")[column], k)
            frame = pd.DataFrame({"v": values, "g": groups}).dropna()
            frame = frame[frame["g"] != suppressed_label(k)]
            medians = frame.groupby("g")["v"].median()
            if len(medians) >= 2:
                hi, lo = medians.idxmax(), medians.idxmin()

                def name(level: object) -> str:
                    level = str(level)
                    return f"{var} = {level}" if level in ("yes", "no") else \
                        level.replace("_", " ")

                return (f"{what[0].upper() + what[1:]} differs by {var}: highest for "
                        f"{name(hi)} (median {_fmt(medians[hi])}), lowest for {name(lo)} "
                        f"(median {_fmt(medians[lo])}) ({stats}).")
        return f"{what[0].upper() + what[1:]} differs by {var} ({stats})."
    return f"{what[0].upper() + what[1:]} is associated with {var} ({stats})."


def _prediction_sentence(row: Mapping) -> str:
    metric = "balanced accuracy" if row["metric"] == "balanced_accuracy" else "R²"
    verdict = "above chance" if float(row["p_value"]) < 0.05 else "no better than chance"
    return (f"{variable_label(str(row['target'])).capitalize()} is predicted from speech "
            f"{verdict} by {row['model']} ({metric} {_fmt(float(row['score']))} ± "
            f"{_fmt(float(row['score_sd']))} vs chance {_fmt(float(row['chance']))}, "
            f"p = {_fmt_p(float(row['p_value']))}, {int(row['n_speakers'])} speakers).")


# --------------------------------------------------------------------------- html pieces
def _table(header: Sequence[str], rows: Sequence[Sequence[object]], *,
           numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{html.escape(str(v))}</td>' if i in numeric
            else f"<td>{html.escape(str(v))}</td>" for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure_html(figure: _Figure) -> str:
    return (f'<figure><img src="data:image/png;base64,{figure.png}" '
            f'alt="{html.escape(figure.alt)}"><figcaption><b>{html.escape(figure.title)}.</b> '
            f"{html.escape(figure.caption)}</figcaption></figure>")


def _counts_table(profiles: pd.DataFrame, variable: str, k: int) -> str:
    groups = suppress_levels(profiles[variable], k, missing="missing")
    order = _level_order(variable, groups, k)
    counts = groups.value_counts().reindex(order, fill_value=0)
    cells = protected_counts(counts, k).astype(str).tolist()
    rows = [(lvl, cell, f"{100 * n / len(groups):.0f}%" if cell.isdigit() else "")
            for lvl, n, cell in zip(order, counts, cells, strict=True)]
    return f"<div><h3>{html.escape(variable_label(variable))}</h3>" + _table(
        [variable_label(variable), "speakers", "share"], rows, numeric=(1, 2)) + "</div>"


def _crosstab(clusters: pd.Series, groups: pd.Series, variable: str, k: int) -> str:
    table = pd.crosstab(groups, clusters)
    order = _level_order(variable, groups, k)
    table = table.reindex(order).fillna(0).astype(int)
    header = [variable_label(variable)] + [f"cluster {c}" for c in table.columns]
    # The levels' totals (counts tables) and the clusters' sizes are both published.
    shown = protected_counts(table, k).astype(str)
    rows = [[lvl, *shown.loc[lvl]] for lvl in shown.index]
    return f"<div><h3>clusters x {html.escape(variable_label(variable))}</h3>" + _table(
        header, rows, numeric=tuple(range(1, len(header)))) + "</div>"


# --------------------------------------------------------------------------- sections
def _overview(inputs: _Inputs, profiles: pd.DataFrame, k: int) -> tuple[str, list[dict]]:
    rec = inputs.recordings
    ids = set(profiles["speaker_id"])
    n_rec = len(rec)
    hours = float(rec["duration_s"].sum()) / 3600 if "duration_s" in rec else float("nan")
    speech_h = (float(pd.to_numeric(profiles["speech_s"], errors="coerce").sum()) / 3600
                if "speech_s" in profiles else float("nan"))
    n_tokens = int(inputs.vowels["speaker_id"].isin(ids).sum()) if not inputs.vowels.empty else 0
    kinds = rec["kind"].value_counts().to_dict() if "kind" in rec else {}
    facts = [("speakers analysed (consented)", _cell(len(profiles), k)),
             ("recordings", n_rec),
             ("recordings by kind", ", ".join(f"{v} {kd}" for kd, v in sorted(kinds.items()))),
             ("audio (hours)", _fmt(hours, 2)),
             ("speech by the analysed speakers (hours)", _fmt(speech_h, 2)),
             ("vowel tokens of the analysed speakers", n_tokens),
             ("failed items (errors table)", len(inputs.errors))]
    parts = [_table(["", ""], facts)]
    parts.append('<div class="tables">')
    for variable in GROUP_VARIABLES:
        if variable in profiles.columns:
            parts.append(_counts_table(profiles, variable, k))
    parts.append("</div>")
    parts.append(_count_legend(k))
    finding = {"kind": "corpus",
               "sentence": f"{_cell(len(profiles), k)} speakers, {n_rec} recordings, "
                           f"{_fmt(hours, 2)} hours of audio, {n_tokens} vowel tokens, "
                           f"{len(inputs.errors)} failed items.",
               "speakers": len(profiles), "recordings": n_rec,
               "hours": None if not np.isfinite(hours) else round(hours, 3),
               "errors": len(inputs.errors)}
    return "".join(parts), [finding]


def _structure(inputs: _Inputs, profiles: pd.DataFrame, k: int, associations: pd.DataFrame
               ) -> tuple[list[_Figure], str, list[dict]]:
    from models.plots import dendrogram_figure, group_colours, pca_biplot, variance_plot

    m = inputs.models
    figures, findings, tables = [], [], ""
    variance = m.get("pca_variance")
    if variance is not None and not variance.empty:
        ratios = variance.set_index("component")["explained_variance_ratio"]
        cumulative = ratios.cumsum()
        n80 = int((cumulative < 0.8).sum()) + 1
        caption = (f"PC1 explains {100 * ratios.iloc[0]:.0f}% of the variance of the "
                   f"standardised speaker features"
                   + (f", PC2 {100 * ratios.iloc[1]:.0f}%" if len(ratios) > 1 else "")
                   + f"; {min(n80, len(ratios))} components reach "
                   f"{100 * min(cumulative.iloc[min(n80, len(ratios)) - 1], 1):.0f}%.")
        figures.append(_figure(variance_plot(ratios), "PCA explained variance", caption))
        findings.append({"kind": "pca", "sentence": caption,
                         "explained_variance_ratio": [round(float(v), 4) for v in ratios]})
    structure, loadings = m.get("speaker_structure"), m.get("pca_loadings")
    if structure is not None and loadings is not None and variance is not None:
        merged = structure.merge(profiles, on="speaker_id", how="left")
        colour = suppress_levels(merged["education"], k, missing="missing") \
            if "education" in merged else None
        order = _level_order("education", colour, k) if colour is not None else None
        palette = group_colours(order, suppressed=suppressed_label(k)) if order else None
        if palette and "missing" in palette:
            palette["missing"] = "#DDDDDD"
        fig = pca_biplot(structure, loadings, variance.set_index("component")[
            "explained_variance_ratio"], color_by=colour, order=order, palette=palette,
            legend_title="education")
        load = loadings.set_index("feature")
        top1 = load["PC1"].abs().sort_values(ascending=False).index[:3]
        caption = ("Speakers (points, coloured by education) on the first two principal "
                   "components; arrows are the features with the largest loadings. PC1 is "
                   "driven mostly by " + ", ".join(
                       f"{feature_label(f)} ({load.loc[f, 'PC1']:+.2f})" for f in top1) + ".")
        pc_hits = associations[associations["feature"].isin(["PC1", "PC2"])
                               & associations["variable"].isin(["education",
                                                                "education_rank"])] \
            if not associations.empty else associations
        if not pc_hits.empty:
            caption += " " + association_sentence(pc_hits.sort_values("q_value").iloc[0],
                                                  inputs, profiles, k)
        figures.append(_figure(fig, "PCA biplot", caption))
    linkage = m.get("linkage")
    if structure is not None and linkage is not None:
        merged = structure[["speaker_id", "cluster"]].merge(profiles, on="speaker_id",
                                                            how="left")
        strips, colours = pd.DataFrame(index=merged.index), {}
        for variable in ("education", "gender", "region"):
            if variable in merged:
                values = suppress_levels(merged[variable], k, missing="missing")
                strips[variable] = values
                order = _level_order(variable, values, k)
                colours[variable] = group_colours(order, suppressed=suppressed_label(k))
                if "missing" in colours[variable]:
                    colours[variable]["missing"] = "#DDDDDD"
        fig = dendrogram_figure(linkage, strips, colours)
        silhouette = m.get("silhouette")
        n_clusters = int(merged["cluster"].nunique())
        caption = (f"Ward clustering of the speakers on their component scores; the strips "
                   f"show each speaker's profile (leaves unlabelled). {n_clusters} clusters")
        if silhouette is not None and not silhouette.empty:
            s = silhouette.set_index("n_clusters")["silhouette"]
            caption += f" chosen by silhouette ({_fmt(float(s.get(n_clusters, s.max())))}"
            others = s.drop(n_clusters, errors="ignore")
            if not others.empty:
                caption += (f"; next best k = {int(others.idxmax())}: "
                            f"{_fmt(float(others.max()))}")
            caption += ")"
        caption += "."
        cl_hits = associations[associations["feature"] == "cluster"] \
            if not associations.empty else associations
        if not cl_hits.empty:
            caption += " " + association_sentence(cl_hits.sort_values("q_value").iloc[0],
                                                  inputs, profiles, k)
        figures.append(_figure(fig, "Dendrogram", caption))
        findings.append({"kind": "clusters", "sentence": caption, "n_clusters": n_clusters})
        sizes = merged["cluster"].value_counts().sort_index()
        crosstabs = ["<div><h3>clusters</h3>" + _table(
            ["cluster", "speakers"], [(f"cluster {c}", cell) for c, cell in
                                      protected_counts(sizes, k).astype(str).items()],
            numeric=(1,)) + "</div>"]
        for variable in ("education", "gender", "region", "age_band", "main_income"):
            if variable in merged:
                crosstabs.append(_crosstab(merged["cluster"],
                                           suppress_levels(merged[variable], k,
                                                           missing="missing"), variable, k))
        tables = '<div class="tables">' + "".join(crosstabs) + "</div>" + _count_legend(k)
    return figures, tables, findings


def _associations(inputs: _Inputs, profiles: pd.DataFrame, k: int
                  ) -> tuple[list[_Figure], str, list[dict]]:
    from models.plots import association_heatmap

    table = inputs.models.get("associations")
    if table is None or table.empty:
        return [], '<p class="note">No associations table.</p>', []
    # Sorted by q; permutation p-values tie at 1 / (B + 1), so ties go by |effect size|.
    significant = table[table["q_value"] < 0.05].assign(
        _strength=lambda t: -t["effect_size"].abs()).sort_values(
        ["q_value", "p_value", "_strength"], kind="stable").drop(columns="_strength")
    findings = []
    rows = []
    for _, row in significant.iterrows():
        sentence = association_sentence(row, inputs, profiles, k)
        rows.append((feature_label(row["feature"]), variable_label(row["variable"]),
                     TEST_NAMES.get(row["test"], row["test"]),
                     f"{EFFECT_NAMES.get(row['effect_size_name'], row['effect_size_name'])} = "
                     f"{_fmt(float(row['effect_size']))}",
                     _fmt_p(float(row["p_value"])), _fmt_p(float(row["q_value"])),
                     int(row["n_speakers"])))
        findings.append({"kind": "association", "sentence": sentence,
                         "feature": str(row["feature"]), "variable": str(row["variable"]),
                         "test": str(row["test"]),
                         "effect_size_name": str(row["effect_size_name"]),
                         "effect_size": round(float(row["effect_size"]), 4),
                         "q_value": float(row["q_value"]),
                         "n_speakers": int(row["n_speakers"])})
    html_table = (_table(["feature", "profile variable", "test", "effect size", "p", "q",
                          "speakers"], rows, numeric=(4, 5, 6)) if rows else
                  '<p class="note">No association reaches q &lt; 0.05.</p>')
    n_sig = len(significant)
    caption = (f"Strength of association (|effect size|) between each speaker feature and "
               f"each profile variable; {n_sig} of {len(table)} tests reach q < 0.05 "
               f"(Benjamini-Hochberg over the whole table).")
    if rows:
        caption += " Strongest: " + findings[0]["sentence"]
    features = list(pd.unique(table["feature"]))
    figures = [_figure(association_heatmap(table, features=features),
                       "Associations between speech and profile", caption)]
    return figures, html_table, findings


def _suppressed_terms(profiles: pd.DataFrame, k: int) -> set[str]:
    small = set()
    for variable in GROUP_VARIABLES:
        if variable in profiles.columns:
            counts = profiles[variable].astype(object).value_counts()
            small |= {str(v) for v in counts.index[counts < k]}
    return small


def _effects(inputs: _Inputs, profiles: pd.DataFrame, k: int
             ) -> tuple[list[_Figure], list[dict], int]:
    from models.plots import forest_plot

    effects = inputs.models.get("effects")
    if effects is None or effects.empty:
        return [], [], 0
    # Only terms about the speakers' profiles: intercepts, variance components and the
    # vowels' own effects (phonetics, and on a scale that would flatten the rest) are left out.
    terms = effects["term"].astype(str)
    shown = effects[terms.str.contains("|".join(PROFILE_TERMS), case=False, regex=True)
                    & ~terms.str.contains(r"Group Var| Var$", case=False, regex=True)]
    small = _suppressed_terms(profiles, k)
    hidden = shown["term"].astype(str).map(
        lambda t: any(f"[T.{lvl}]" in t or f"[{lvl}]" in t for lvl in small))
    n_hidden = int(hidden.sum())
    shown = shown[~hidden].dropna(subset=["estimate"])
    if shown.empty:
        return [], [], n_hidden
    findings = []
    parts = []
    for name, rows in shown.groupby("model", sort=False):
        # Findings are about speakers' profiles: a vowel's own effect on F1 is phonetics.
        social = rows["term"].astype(str).str.contains(
            "|".join(PROFILE_TERMS), case=False, regex=True)
        sig = rows[(rows["p_value"] < 0.05) & social]
        if sig.empty:
            parts.append(f"{name}: no profile term at p < 0.05 "
                         f"({int(rows['n_speakers'].max())} speakers)")
            continue
        best = sig.loc[(sig["estimate"] / sig["std_error"].replace(0, np.nan)).abs().idxmax()] \
            if "std_error" in sig else sig.iloc[0]
        sentence = (f"{name}: {best['term']} = {_fmt(float(best['estimate']))} "
                    f"[{_fmt(float(best['ci_low']))}, {_fmt(float(best['ci_high']))}], "
                    f"p = {_fmt_p(float(best['p_value']))}, {int(best['n_speakers'])} speakers, "
                    f"{int(best['n_obs'])} observations")
        parts.append(sentence)
        findings.append({"kind": "effect", "sentence": sentence + ".", "model": str(name),
                         "term": str(best["term"]), "estimate": float(best["estimate"]),
                         "ci_low": float(best["ci_low"]), "ci_high": float(best["ci_high"]),
                         "p_value": float(best["p_value"])})
    caption = ("Estimates of the profile terms with 95% confidence intervals, in units of "
               "each model's response (coloured: p < 0.05; intercepts and vowel main effects "
               "not shown). Strongest profile term per model: " + "; ".join(parts) + ".")
    if n_hidden:
        caption += (f" {n_hidden} terms for groups of fewer than {k} speakers are not shown "
                    "(k-anonymity).")
    return [_figure(forest_plot(shown), "Regression effects", caption)], findings, n_hidden


def _predictions(inputs: _Inputs) -> tuple[list[_Figure], list[dict]]:
    from models.plots import prediction_plot

    table = inputs.models.get("predictions")
    if table is None or table.empty:
        return [], []
    # A target fit could not score (e.g. a class too small for the folds) has no score.
    skipped = table[table["score"].isna()]
    table = table.dropna(subset=["score"]).reset_index(drop=True)
    # The fit's own reason may quote a class size under k: say why in general terms only.
    notes = [f"{variable_label(str(t)).capitalize()} was not predicted (too few speakers in "
             "a class for speaker-grouped cross-validation)."
             for t in pd.unique(skipped["target"])]
    if table.empty:
        return [], []
    sentences = [_prediction_sentence(row) for _, row in table.iterrows()]
    findings = [{"kind": "prediction", "sentence": s, "target": str(r["target"]),
                 "model": str(r["model"]), "metric": str(r["metric"]),
                 "score": float(r["score"]), "chance": float(r["chance"]),
                 "p_value": float(r["p_value"])}
                for s, (_, r) in zip(sentences, table.iterrows(), strict=True)
                if float(r["p_value"]) < 0.05]
    caption = ("Cross-validated scores (speaker-grouped folds, bars: mean, whiskers: SD over "
               "folds) against chance (black tick). " + " ".join(sentences + notes))
    importances = inputs.models.get("importances")
    if importances is not None and not importances.empty and findings:
        first = findings[0]
        rows = importances[(importances["target"] == first["target"])
                           & (importances["model"] == first["model"])]
        if not rows.empty:
            top = rows.sort_values("importance_mean", ascending=False).head(3)
            caption += (f" Most useful features for {first['target']}: " + ", ".join(
                f"{feature_label(f)} ({_fmt(float(v), 3)})" for f, v in
                zip(top["feature"], top["importance_mean"], strict=True))
                + " (permutation importance).")
    return [_figure(prediction_plot(table), "Prediction of profiles from speech",
                    caption)], findings


def _methods(inputs: _Inputs, k: int, n_hidden: int) -> str:
    settings = inputs.fit.get("settings", {}) if isinstance(inputs.fit, Mapping) else {}
    n_perm = settings.get("n_permutations", "(not recorded)")
    seed = settings.get("seed", "(not recorded)")
    items = [
        "Speaker features are standardised (z-scores) before PCA; Ward hierarchical "
        "clustering (Ward 1963) runs on the component scores and the number of clusters "
        "maximises the mean silhouette width (Rousseeuw 1987).",
        "Associations: Spearman's rank correlation for ordered and numeric profile "
        "variables (effect size rho); Kruskal-Wallis for nominal ones (epsilon², Tomczak & "
        "Tomczak 2014); Mann-Whitney for binary ones (rank-biserial r, Kerby 2014); "
        "chi-square or Fisher's exact test for clusters against profile variables "
        "(Cramér's V).",
        f"p-values are permutation p-values ({n_perm} permutations, seed {seed}); q-values "
        "control the false discovery rate over the whole associations table "
        "(Benjamini & Hochberg 1995). A finding is reported at q < 0.05.",
        "Regression: token-level linear mixed models (statsmodels MixedLM) with random "
        "intercepts for speakers and a variance component for words; speaker-level OLS with "
        "HC3 robust errors and bootstrap confidence intervals of standardised effects.",
        "Prediction: scikit-learn pipelines under cross-validation grouped by speaker (no "
        "speaker in both training and test folds); balanced accuracy or R² against a chance "
        "baseline; p-values by permuting the target (Ojala & Garriga 2010).",
        "Vowel charts: Lobanov (1971) z-scores per speaker; each point is the mean of the "
        "speaker means, each ellipse one standard deviation of the speaker means, so every "
        "speaker weighs the same.",
        f"k-anonymity (k = {k}): any group or table cell standing for fewer than {k} speakers "
        f"is suppressed: such groups are pooled into \"{suppressed_label(k)}\" (grey in "
        f"figures, not drawn in vowel charts), such counts read \"< {k}\""
        + (f", and {n_hidden} regression terms of such groups are hidden" if n_hidden else "")
        + f". Secondary suppression: where a table's row or column total is published, "
        f"further counts read \"{WITHHELD}\" (each stands for {k} speakers or more), fewest "
        f"speakers first, until the hidden cells of every such row and column sum to at "
        f"least {k} speakers and no hidden count can be solved for exactly from the totals "
        f"(every hidden cell on a cycle of hidden cells: the shortest-path heuristic, "
        f"Hundepool et al. 2012); totals still bound a hidden count to an interval. Speaker "
        f"ids, audio, transcripts and names never appear.",
        "Caveats: associations are not causes; profile variables are correlated (e.g. "
        "education with age and country); permutation p-values are bounded below by "
        "1 / (permutations + 1); small corpora give wide intervals.",
    ]
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


# --------------------------------------------------------------------------- report
def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _register(store: Path, out: Path) -> None:
    """Record the report's directory in the store's manifest, so that erasing a speaker
    (``speech-profile forget``) rebuilds or removes this report too."""
    tables = Store(store)
    manifest = tables.read_manifest()
    where = str(out.resolve())
    if where not in manifest.get(REPORTS_FIELD, []):
        manifest.setdefault(REPORTS_FIELD, []).append(where)
        tables.write_manifest(manifest)


def build_report(store: Path | str, out: Path | str, *, k_anonymity: int = 5) -> Path:
    """Write ``OUT/report.html`` and ``OUT/findings.json`` for a fitted store.

    Parameters
    ----------
    store : Path
        A store with ``speakers`` (and ideally ``vowels``, ``recordings``, ``errors``) and the
        ``models/`` directory written by ``speech-profile fit``.
    out : Path
        Output directory (created if needed).
    k_anonymity : int
        Smallest group of speakers that may be shown (default 5); see the module doc.

    Returns
    -------
    Path
        The report's path.

    Raises
    ------
    FileNotFoundError
        ``STORE/models`` (run ``speech-profile fit STORE`` first) or the speakers table is
        missing.
    ValueError
        ``k_anonymity`` under 1.
    """
    if int(k_anonymity) < 1:
        raise ValueError(f"k_anonymity must be at least 1, got {k_anonymity!r}")
    k = int(k_anonymity)
    store, out = Path(store), Path(out)
    inputs = _read_inputs(store)
    profiles = _profiles(inputs.speakers, inputs.fit)
    associations = inputs.models.get("associations", pd.DataFrame(
        columns=["feature", "variable", "test", "q_value"]))

    overview_html, findings = _overview(inputs, profiles, k)
    vowel_figs = _vowel_figures(inputs, profiles, k, associations)
    structure_figs, crosstabs, structure_findings = _structure(inputs, profiles, k,
                                                               associations)
    assoc_figs, assoc_table, assoc_findings = _associations(inputs, profiles, k)
    effect_figs, effect_findings, n_hidden = _effects(inputs, profiles, k)
    prediction_figs, prediction_findings = _predictions(inputs)

    def section(title: str, figures: list[_Figure], extra: str = "", empty: str = "") -> str:
        body = "".join(_figure_html(f) for f in figures) + extra
        return f"<section><h2>{html.escape(title)}</h2>{body or empty}</section>"

    missing = '<p class="note">Not available in this store\'s models/.</p>'
    # Main findings: the strongest association of each profile variable first, then the
    # next strongest overall, ten in all (a sorted list would be all gender and F0).
    firsts = list({f["variable"]: f for f in reversed(assoc_findings)}.values())[::-1]
    firsts = sorted(firsts, key=assoc_findings.index)
    rest = [f for f in assoc_findings if f not in firsts]
    top = (firsts + rest)[:10] + prediction_findings + effect_findings
    summary = "".join(f"<li>{html.escape(f['sentence'])}</li>" for f in top) or \
        "<li>No association reaches q &lt; 0.05.</li>"
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<h1>Speech and speaker profiles: {html.escape(store.name)}</h1>",
        f'<p class="note">speech-profile {html.escape(__version__)}, {created}; '
        f"groups under {k} speakers suppressed.</p>",
        f"<section><h2>Main findings</h2><ul>{summary}</ul></section>",
        f"<section><h2>Corpus overview</h2>{overview_html}</section>",
        section("Vowel space", vowel_figs, empty=f'<p class="note">No vowel chart: no '
                f"education or gender group has {k} or more speakers with vowel tokens.</p>"),
        section("Structure: PCA and clustering", structure_figs, crosstabs, missing),
        section("Associations (q < 0.05, sorted by q)", assoc_figs, assoc_table, missing),
        section("Regression effects", effect_figs, empty=missing),
        section("Prediction of profiles from speech", prediction_figs, empty=missing),
        f"<section><h2>Methods and caveats</h2>{_methods(inputs, k, n_hidden)}</section>",
    ]
    n_figures = sum(len(f) for f in (vowel_figs, structure_figs, assoc_figs, effect_figs,
                                     prediction_figs))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"figures\" content=\"{n_figures}\">"
            f"<title>speech-profile report: {html.escape(store.name)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.html"
    _write_atomic(report, page)
    all_findings = findings + structure_findings + assoc_findings + effect_findings \
        + prediction_findings
    _register(store, out)
    _write_atomic(out / "findings.json", json.dumps(
        {"store": str(store), "k_anonymity": k, "n_figures": n_figures,
         "main": [f["sentence"] for f in top], "findings": all_findings},
        indent=2, default=str) + "\n")
    return report


def rebuild_report(store: Path | str, out: Path | str) -> Path:
    """Write the report in ``out`` again, with the k its ``findings.json`` recorded."""
    findings = Path(out) / "findings.json"
    k = (json.loads(findings.read_text(encoding="utf-8")).get("k_anonymity", 5)
         if findings.is_file() else 5)
    return build_report(store, out, k_anonymity=k)
