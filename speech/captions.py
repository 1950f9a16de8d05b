"""The report's prose: readable names of features and variables, and one sentence per result.

Every sentence is written from the numbers that ``speech-profile fit`` wrote (a sign, a
q-value, group medians of its speaker features), so a caption says what this store
shows, not what was expected. Only groups of at least ``k`` speakers are named
(:mod:`speech.disclosure`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from speech.disclosure import WITHHELD, count_text, suppress_levels, suppressed_label

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

#: Looks up the speaker-level values of a feature (indexed by speaker_id), or None.
FeatureValues = Callable[[str], "pd.Series | None"]


def fmt_p(p: float) -> str:
    """p or q value for prose: 3 decimals, two significant digits under 0.01."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.3f}" if p >= 0.01 else f"{p:.2g}"


def fmt(x: float, digits: int = 2) -> str:
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


def count_legend(k: int) -> str:
    return (f'"< {k}": fewer than {k} speakers. "{WITHHELD}": {k} or more, withheld so that '
            "no hidden count can be worked out from the totals.")


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _group_difference(feature: str, variable: str, profiles: pd.DataFrame, k: int,
                      values: FeatureValues, stats: str) -> str | None:
    """"<feature> differs by <variable>: highest for ..., lowest for ..." from group medians
    of groups of k speakers or more; None when fewer than two such groups."""
    what, var = feature_label(feature), variable_label(variable)
    speaker_values = values(feature)
    if speaker_values is None or variable not in profiles.columns:
        return None
    groups = suppress_levels(profiles.set_index("speaker_id")[variable], k)
    frame = pd.DataFrame({"v": speaker_values, "g": groups}).dropna()
    frame = frame[frame["g"] != suppressed_label(k)]
    medians = frame.groupby("g")["v"].median()
    if len(medians) < 2:
        return None
    hi, lo = medians.idxmax(), medians.idxmin()

    def name(level: object) -> str:
        level = str(level)
        return f"{var} = {level}" if level in ("yes", "no") else level.replace("_", " ")

    return (f"{_capital(what)} differs by {var}: highest for {name(hi)} (median "
            f"{fmt(medians[hi])}), lowest for {name(lo)} (median {fmt(medians[lo])}) "
            f"({stats}).")


def association_sentence(row: Mapping, profiles: pd.DataFrame, k: int,
                         values: FeatureValues) -> str:
    """One plain-language sentence stating an association with its numbers.

    The direction comes from the data (sign of rho; group medians for Kruskal-Wallis and
    Mann-Whitney, from ``values``), and only groups of at least ``k`` speakers are named.
    """
    feature, variable = str(row["feature"]), str(row["variable"])
    test = str(row["test"])
    stats = (f"{TEST_NAMES.get(test, test)} {EFFECT_NAMES.get(row['effect_size_name'], 'effect')}"
             f" = {fmt(float(row['effect_size']))}, q = {fmt_p(float(row['q_value']))}, "
             f"{count_text(int(row['n_speakers']), k)} speakers")
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
        return _group_difference(feature, variable, profiles, k, values, stats) or \
            f"{_capital(what)} differs by {var} ({stats})."
    return f"{_capital(what)} is associated with {var} ({stats})."


def prediction_sentence(row: Mapping, k: int) -> str:
    metric = "balanced accuracy" if row["metric"] == "balanced_accuracy" else "R²"
    verdict = "above chance" if float(row["p_value"]) < 0.05 else "no better than chance"
    return (f"{variable_label(str(row['target'])).capitalize()} is predicted from speech "
            f"{verdict} by {row['model']} ({metric} {fmt(float(row['score']))} ± "
            f"{fmt(float(row['score_sd']))} vs chance {fmt(float(row['chance']))}, "
            f"p = {fmt_p(float(row['p_value']))}, "
            f"{count_text(int(row['n_speakers']), k)} speakers).")


def methods(settings: Mapping, k: int, n_hidden: int) -> list[str]:
    """The methods and caveats section, one item per method (``settings``: fit.json's)."""
    n_perm = settings.get("n_permutations", "(not recorded)")
    seed = settings.get("seed", "(not recorded)")
    return [
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
        "Vowel charts: the Lobanov (1971) z-scored tokens the mixed models were fitted on "
        "(models/vowel_tokens.parquet); each point is the mean of the speaker means, each "
        "ellipse one standard deviation of the speaker means, so every speaker weighs the "
        f"same; a vowel is drawn for a group only where {k} or more of its speakers have it.",
        f"k-anonymity (k = {k}): any group or table cell standing for fewer than {k} speakers "
        f"is suppressed: such groups are pooled into \"{suppressed_label(k)}\" (grey in "
        f"figures, not drawn in vowel charts), such counts read \"< {k}\""
        + (f", and {n_hidden} regression terms of such groups are hidden" if n_hidden else "")
        + f". Secondary suppression: where a table's row or column total is published, "
        f"further counts read \"{WITHHELD}\" (each stands for {k} speakers or more), fewest "
        f"speakers first, until the hidden cells of every such row and column sum to at "
        f"least {k} speakers and no hidden count can be solved for exactly from the totals "
        f"(every hidden cell on a cycle of hidden cells: the shortest-path heuristic, "
        f"Hundepool et al. 2012); totals still bound a hidden count to an interval. "
        f"Figures: a grey class of individual speakers holds {k} or more (the smallest "
        f"levels join it until it does); the dendrogram's strips show no cluster x level "
        f"count that the cluster tables hide, and every combination of cluster and profile "
        f"values a leaf shows is shared by {k} leaves or more (values greyed out until it "
        f"is: local suppression, Hundepool et al. 2012, ch. 3). Speaker ids, audio, "
        f"transcripts and names never appear.",
        "Caveats: associations are not causes; profile variables are correlated (e.g. "
        "education with age and country); permutation p-values are bounded below by "
        "1 / (permutations + 1); small corpora give wide intervals.",
    ]
