"""The report's sections over fit's results: structure (PCA, dendrogram, cluster tables),
associations, regression effects and predictions.

Each section function takes the tables ``speech-profile fit`` wrote (``models``: file
stem -> DataFrame) and returns its figures (:class:`ReportFigure`), the blocks that
follow them (:class:`Table`, :class:`Block`) and its findings (dicts with a sentence and
the numbers). What a figure may show is decided by :mod:`speech.disclosure`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.profiles import EDUCATION_ORDER
from speech.captions import (
    EFFECT_NAMES,
    TEST_NAMES,
    count_legend,
    feature_label,
    fmt,
    fmt_p,
    prediction_sentence,
    variable_label,
)
from speech.disclosure import (
    count_text,
    disclosed_count,
    pool_levels,
    protect_combinations,
    protected_counts,
    suppress_levels,
    suppressed_label,
)

AGE_BANDS = ((0, 25, "under 25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"),
             (55, 200, "55 and over"))
#: Strips under the dendrogram's leaves, in order of importance (the last is greyed first).
STRIP_VARIABLES = ("education", "gender", "region")
#: Cluster x profile tables.
CROSSTAB_VARIABLES = ("education", "gender", "region", "age_band", "main_income")
#: Terms of a regression that concern the speakers' profiles (the rest is phonetics).
PROFILE_TERMS = ("education", "gender", "age", "region", "country", "student", "income",
                 "field", "languages", "platforms")
MISSING_COLOUR = "#DDDDDD"

Sentence = Callable[[Mapping], str]
Models = Mapping[str, pd.DataFrame]


@dataclass
class ReportFigure:
    """One figure of the report: the Matplotlib figure, its title and caption."""

    title: str
    figure: object
    caption: str
    alt: str = ""

    def __post_init__(self) -> None:
        self.alt = self.alt or self.title


@dataclass
class Table:
    """One table of the page: ``numeric`` holds the indices of right-aligned columns."""

    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    numeric: Sequence[int] = ()
    title: str | None = None


@dataclass
class Block:
    """What follows a section's figures: one table, a row of tables, or a note."""

    kind: str  # "table", "tables" or "note"
    tables: Sequence[Table] = field(default_factory=tuple)
    text: str = ""


def level_order(variable: str, values: pd.Series, k: int) -> list[object]:
    """Display order of a variable's levels: its natural order, then "missing" and the
    suppressed class last."""
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


def _palette(variable: str, values: pd.Series, k: int) -> tuple[list[object], dict]:
    from models.plots import group_colours

    order = level_order(variable, values, k)
    colours = group_colours(order, suppressed=suppressed_label(k))
    if "missing" in colours:
        colours["missing"] = MISSING_COLOUR
    return order, colours


# --------------------------------------------------------------------------- structure
def _variance_figure(variance: pd.DataFrame) -> tuple[ReportFigure, dict]:
    from models.plots import variance_plot

    ratios = variance.set_index("component")["explained_variance_ratio"]
    cumulative = ratios.cumsum()
    n80 = min(int((cumulative < 0.8).sum()) + 1, len(ratios))
    caption = (f"PC1 explains {100 * ratios.iloc[0]:.0f}% of the variance of the "
               f"standardised speaker features"
               + (f", PC2 {100 * ratios.iloc[1]:.0f}%" if len(ratios) > 1 else "")
               + f"; {n80} components reach {100 * min(cumulative.iloc[n80 - 1], 1):.0f}%.")
    finding = {"kind": "pca", "sentence": caption,
               "explained_variance_ratio": [round(float(v), 4) for v in ratios]}
    return ReportFigure("PCA explained variance", variance_plot(ratios), caption), finding


def _biplot(models: Models, profiles: pd.DataFrame, k: int, associations: pd.DataFrame,
            sentence: Sentence) -> ReportFigure:
    """Speakers coloured by education: only the levels a count table would print; the
    others join one grey class of k speakers or more (:func:`pool_levels`)."""
    from models.plots import pca_biplot

    structure, loadings = models["speaker_structure"], models["pca_loadings"]
    merged = structure.merge(profiles, on="speaker_id", how="left")
    colour = order = palette = None
    if "education" in merged:
        colour = pool_levels(merged["education"], k, missing="missing")
        order, palette = _palette("education", colour, k)
    fig = pca_biplot(structure, loadings, models["pca_variance"].set_index("component")[
        "explained_variance_ratio"], color_by=colour, order=order, palette=palette,
        legend_title="education")
    load = loadings.set_index("feature")
    top1 = load["PC1"].abs().sort_values(ascending=False).index[:3]
    caption = ("Speakers (points, coloured by education) on the first two principal "
               "components; arrows are the features with the largest loadings. PC1 is "
               "driven mostly by " + ", ".join(
                   f"{feature_label(f)} ({load.loc[f, 'PC1']:+.2f})" for f in top1) + ".")
    hits = associations[associations["feature"].isin(["PC1", "PC2"])
                        & associations["variable"].isin(["education", "education_rank"])] \
        if not associations.empty else associations
    if not hits.empty:
        caption += " " + sentence(hits.sort_values("q_value").iloc[0])
    return ReportFigure("PCA biplot", fig, caption)


def cluster_tables(merged: pd.DataFrame, k: int) -> tuple[dict[str, pd.DataFrame],
                                                           pd.DataFrame]:
    """The protected cluster x level tables, and the dendrogram strips they allow.

    Parameters
    ----------
    merged : DataFrame
        One row per clustered speaker (the linkage's order): ``cluster`` and the profile.
    k : int

    Returns
    -------
    tables : dict variable -> DataFrame (levels x clusters) of printed cells
    strips : DataFrame, one row per speaker, one column per :data:`STRIP_VARIABLES`
        present: the speaker's level, or the suppressed class where the table hides the
        speaker's cluster x level cell, or where the leaf's combination of cluster and
        shown values would be shared by fewer than ``k`` leaves
        (:func:`speech.disclosure.protect_combinations`).
    """
    tables, strips = {}, pd.DataFrame(index=merged.index)
    for variable in CROSSTAB_VARIABLES:
        if variable not in merged:
            continue
        groups = suppress_levels(merged[variable], k, missing="missing")
        counts = pd.crosstab(groups, merged["cluster"]).reindex(
            level_order(variable, groups, k)).fillna(0).astype(int)
        # The levels' totals (counts tables) and the clusters' sizes are both published.
        shown = protected_counts(counts, k).astype(str)
        tables[variable] = shown
        if variable in STRIP_VARIABLES:
            hidden = ~shown.map(str.isdigit).to_numpy(dtype=bool)
            in_hidden_cell = hidden[shown.index.get_indexer(groups),
                                    shown.columns.get_indexer(merged["cluster"])]
            strips[variable] = groups.where(~in_hidden_cell, suppressed_label(k))
    return tables, protect_combinations(strips, k, key=merged["cluster"])


def _dendrogram(models: Models, merged: pd.DataFrame, strips: pd.DataFrame, k: int,
                associations: pd.DataFrame, sentence: Sentence) -> tuple[ReportFigure, dict]:
    from models.plots import dendrogram_figure

    # A strip that shows nothing (all grey) is left out, not drawn.
    strips = strips.loc[:, (strips != suppressed_label(k)).any(axis=0)]
    colours = {v: _palette(v, strips[v], k)[1] for v in strips.columns}
    fig = dendrogram_figure(models["linkage"], strips if strips.shape[1] else None, colours)
    silhouette = models.get("silhouette")
    n_clusters = int(merged["cluster"].nunique())
    caption = "Ward clustering of the speakers on their component scores (leaves unlabelled)"
    if strips.shape[1]:
        caption += (f"; the strips show each speaker's {', '.join(strips.columns)} (grey: not "
                    f"shown, because the cluster tables hide that count or fewer than {k} "
                    f"leaves would share the leaf's combination of cluster and values)")
    else:
        caption += (f"; no profile strip: at k = {k} no leaf's profile could be shown "
                    f"without a count the cluster tables hide or a combination of values "
                    f"that fewer than {k} leaves share")
    caption += f". {n_clusters} clusters"
    if silhouette is not None and not silhouette.empty:
        s = silhouette.set_index("n_clusters")["silhouette"]
        caption += f" chosen by silhouette ({fmt(float(s.get(n_clusters, s.max())))}"
        others = s.drop(n_clusters, errors="ignore")
        if not others.empty:
            caption += f"; next best k = {int(others.idxmax())}: {fmt(float(others.max()))}"
        caption += ")"
    caption += "."
    hits = associations[associations["feature"] == "cluster"] \
        if not associations.empty else associations
    if not hits.empty:
        caption += " " + sentence(hits.sort_values("q_value").iloc[0])
    finding = {"kind": "clusters", "sentence": caption, "n_clusters": n_clusters}
    return ReportFigure("Dendrogram", fig, caption), finding


def structure_section(models: Models, profiles: pd.DataFrame, k: int,
                      associations: pd.DataFrame, sentence: Sentence
                      ) -> tuple[list[ReportFigure], list[Block], list[dict]]:
    """Scree plot, biplot, dendrogram with strips and the cluster tables."""
    figures, blocks, findings = [], [], []
    variance, structure = models.get("pca_variance"), models.get("speaker_structure")
    if variance is not None and not variance.empty:
        figure, finding = _variance_figure(variance)
        figures.append(figure)
        findings.append(finding)
    if structure is not None and models.get("pca_loadings") is not None \
            and variance is not None:
        figures.append(_biplot(models, profiles, k, associations, sentence))
    if structure is None or models.get("linkage") is None:
        return figures, blocks, findings
    merged = structure[["speaker_id", "cluster"]].merge(profiles, on="speaker_id", how="left")
    tables, strips = cluster_tables(merged, k)
    figure, finding = _dendrogram(models, merged, strips, k, associations, sentence)
    figures.append(figure)
    findings.append(finding)
    sizes = protected_counts(merged["cluster"].value_counts().sort_index(), k).astype(str)
    printed = [Table(["cluster", "speakers"], [(f"cluster {c}", n) for c, n in sizes.items()],
                     numeric=(1,), title="clusters")]
    for variable, shown in tables.items():
        header = [variable_label(variable), *(f"cluster {c}" for c in shown.columns)]
        printed.append(Table(header, [[lvl, *shown.loc[lvl]] for lvl in shown.index],
                             numeric=tuple(range(1, len(header))),
                             title=f"clusters x {variable_label(variable)}"))
    blocks += [Block("tables", printed), Block("note", text=count_legend(k))]
    return figures, blocks, findings


# --------------------------------------------------------------------------- associations
def association_section(models: Models, sentence: Sentence, k: int,
                        caveats: Mapping[str, str] | None = None,
                        ) -> tuple[list[ReportFigure], list[Block], list[dict]]:
    """The associations at q < 0.05; ``caveats`` (feature -> warning, from
    :func:`speech.conditions.condition_caveats`) adds a caution line for each shown
    association whose feature the corpus's recording conditions make unreliable."""
    from models.plots import association_heatmap

    table = models.get("associations")
    if table is None or table.empty:
        return [], [Block("note", text="No associations table.")], []
    # Sorted by q; permutation p-values tie at 1 / (B + 1), so ties go by |effect size|.
    significant = table[table["q_value"] < 0.05].assign(
        _strength=lambda t: -t["effect_size"].abs()).sort_values(
        ["q_value", "p_value", "_strength"], kind="stable").drop(columns="_strength")
    findings, rows = [], []
    for _, row in significant.iterrows():
        effect = EFFECT_NAMES.get(row["effect_size_name"], row["effect_size_name"])
        rows.append((feature_label(row["feature"]), variable_label(row["variable"]),
                     TEST_NAMES.get(row["test"], row["test"]),
                     f"{effect} = {fmt(float(row['effect_size']))}",
                     fmt_p(float(row["p_value"])), fmt_p(float(row["q_value"])),
                     count_text(int(row["n_speakers"]), k)))
        findings.append({"kind": "association", "sentence": sentence(row),
                         "feature": str(row["feature"]), "variable": str(row["variable"]),
                         "test": str(row["test"]),
                         "effect_size_name": str(row["effect_size_name"]),
                         "effect_size": round(float(row["effect_size"]), 4),
                         "q_value": float(row["q_value"]),
                         "n_speakers": disclosed_count(int(row["n_speakers"]), k)})
        if caveats and row["feature"] in caveats:
            findings[-1]["caution"] = caveats[row["feature"]]
    block = (Block("table", [Table(["feature", "profile variable", "test", "effect size", "p",
                                    "q", "speakers"], rows, numeric=(4, 5, 6))]) if rows
             else Block("note", text="No association reaches q < 0.05."))
    cautions = list(dict.fromkeys(f"Caution, {feature_label(f['feature'])}: {f['caution']}."
                                  for f in findings if "caution" in f))
    caption = (f"Strength of association (|effect size|) between each speaker feature and "
               f"each profile variable; {len(significant)} of {len(table)} tests reach "
               f"q < 0.05 (Benjamini-Hochberg over the whole table).")
    if rows:
        caption += " Strongest: " + findings[0]["sentence"]
    figure = ReportFigure("Associations between speech and profile", association_heatmap(
        table, features=list(pd.unique(table["feature"]))), caption)
    return [figure], [block, *(Block("note", text=c) for c in cautions)], findings


# --------------------------------------------------------------------------- effects
#: A categorical term of a statsmodels formula: ``C(gender)[T.M]`` or ``gender[T.M]``.
LEVEL_TERM = re.compile(r"(?:C\()?(\w+)\)?\[(?:T\.)?([^\]]+)\]")


def _hidden_term(term: str, profiles: pd.DataFrame, k: int) -> bool:
    """Whether a term names a profile level held by fewer than ``k`` speakers (none
    included: a level no analysed speaker holds any more, after an erasure say)."""
    for variable, level in LEVEL_TERM.findall(term):
        if variable in profiles.columns and variable != "speaker_id":
            held = profiles[variable].astype(object).dropna().astype(str)
            if int((held == level).sum()) < k:
                return True
    return False


def _strongest_terms(shown: pd.DataFrame, k: int) -> tuple[list[str], list[dict]]:
    """Per model, the profile term with the largest |estimate / SE| at p < 0.05."""
    findings, parts = [], []
    for name, rows in shown.groupby("model", sort=False):
        # Findings are about speakers' profiles: a vowel's own effect on F1 is phonetics.
        social = rows["term"].astype(str).str.contains(
            "|".join(PROFILE_TERMS), case=False, regex=True)
        sig = rows[(rows["p_value"] < 0.05) & social]
        if sig.empty:
            parts.append(f"{name}: no profile term at p < 0.05 "
                         f"({count_text(int(rows['n_speakers'].max()), k)} speakers)")
            continue
        best = sig.loc[(sig["estimate"] / sig["std_error"].replace(0, np.nan)).abs().idxmax()] \
            if "std_error" in sig else sig.iloc[0]
        sentence = (f"{name}: {best['term']} = {fmt(float(best['estimate']))} "
                    f"[{fmt(float(best['ci_low']))}, {fmt(float(best['ci_high']))}], "
                    f"p = {fmt_p(float(best['p_value']))}, "
                    f"{count_text(int(best['n_speakers']), k)} speakers, "
                    f"{int(best['n_obs'])} observations")
        parts.append(sentence)
        findings.append({"kind": "effect", "sentence": sentence + ".", "model": str(name),
                         "term": str(best["term"]), "estimate": float(best["estimate"]),
                         "ci_low": float(best["ci_low"]), "ci_high": float(best["ci_high"]),
                         "p_value": float(best["p_value"])})
    return parts, findings


def effect_section(models: Models, profiles: pd.DataFrame, k: int
                   ) -> tuple[list[ReportFigure], list[Block], list[dict], int]:
    """Forest plot of the profile terms; terms of a level under k speakers are hidden."""
    from models.plots import forest_plot

    effects = models.get("effects")
    if effects is None or effects.empty:
        return [], [], [], 0
    # Only terms about the speakers' profiles: intercepts, variance components and the
    # vowels' own effects (phonetics, and on a scale that would flatten the rest) are left out.
    terms = effects["term"].astype(str)
    shown = effects[terms.str.contains("|".join(PROFILE_TERMS), case=False, regex=True)
                    & ~terms.str.contains(r"Group Var| Var$", case=False, regex=True)]
    hidden = shown["term"].astype(str).map(lambda t: _hidden_term(t, profiles, k))
    n_hidden = int(hidden.sum())
    shown = shown[~hidden].dropna(subset=["estimate"])
    if shown.empty:
        return [], [], [], n_hidden
    parts, findings = _strongest_terms(shown, k)
    caption = ("Estimates of the profile terms with 95% confidence intervals, in units of "
               "each model's response (coloured: p < 0.05; intercepts and vowel main effects "
               "not shown). Strongest profile term per model: " + "; ".join(parts) + ".")
    if n_hidden:
        caption += (f" {n_hidden} terms for groups of fewer than {k} speakers are not shown "
                    "(k-anonymity).")
    return [ReportFigure("Regression effects", forest_plot(shown), caption)], [], findings, \
        n_hidden


# --------------------------------------------------------------------------- predictions
def prediction_section(models: Models, k: int
                       ) -> tuple[list[ReportFigure], list[Block], list[dict]]:
    from models.plots import prediction_plot

    table = models.get("predictions")
    if table is None or table.empty:
        return [], [], []
    # A target fit could not score (e.g. a class too small for the folds) has no score.
    skipped = table[table["score"].isna()]
    table = table.dropna(subset=["score"]).reset_index(drop=True)
    # The fit's own reason may quote a class size under k: say why in general terms only.
    notes = [f"{variable_label(str(t)).capitalize()} was not predicted (too few speakers in "
             "a class for speaker-grouped cross-validation)."
             for t in pd.unique(skipped["target"])]
    if table.empty:
        return [], [], []
    sentences = [prediction_sentence(row, k) for _, row in table.iterrows()]
    findings = [{"kind": "prediction", "sentence": s, "target": str(r["target"]),
                 "model": str(r["model"]), "metric": str(r["metric"]),
                 "score": float(r["score"]), "chance": float(r["chance"]),
                 "p_value": float(r["p_value"])}
                for s, (_, r) in zip(sentences, table.iterrows(), strict=True)
                if float(r["p_value"]) < 0.05]
    caption = ("Cross-validated scores (speaker-grouped folds, bars: mean, whiskers: SD over "
               "folds) against chance (black tick). " + " ".join(sentences + notes))
    importances = models.get("importances")
    if importances is not None and not importances.empty and findings:
        first = findings[0]
        rows = importances[(importances["target"] == first["target"])
                           & (importances["model"] == first["model"])]
        if not rows.empty:
            top = rows.sort_values("importance_mean", ascending=False).head(3)
            caption += (f" Most useful features for {first['target']}: " + ", ".join(
                f"{feature_label(f)} ({fmt(float(v), 3)})" for f, v in
                zip(top["feature"], top["importance_mean"], strict=True))
                + " (permutation importance).")
    figure = ReportFigure("Prediction of profiles from speech", prediction_plot(table), caption)
    return [figure], [], findings
