"""Figures from result tables: vowel charts, PCA biplot, dendrogram, forest and prediction plots.

Every function takes DataFrames (or arrays), draws on its own non-interactive Agg
canvas (pyplot's global backend is left alone) and returns a
:class:`matplotlib.figure.Figure`; nothing is shown or saved, so the caller
decides (the report embeds them as PNG). Nothing here knows about privacy
rules: the caller passes only what may be drawn (the report drops or relabels
groups, and greys out strip values, by the rules of ``speech.disclosure``
before calling). Each mark that stands for a group or a value carries a ``gid``
naming it, so that a test can list what a figure shows.

Colours: the Okabe & Ito (2008) palette, distinguishable under the common
colour-vision deficiencies; grey (:data:`NEUTRAL`) is reserved for "suppressed"
or "not significant".

References
----------
Okabe, M. & Ito, K. (2008). Color universal design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
Gabriel, K. R. (1971). The biplot graphic display of matrices with application to
principal component analysis. Biometrika 58(3), 453-467.
Lewis, S. & Clarke, M. (2001). Forest plots: trying to see the wood and the trees.
BMJ 322, 1479-1480.
Johnson, K. (2011). Acoustic and Auditory Phonetics, 3rd ed., ch. 6 (the F2 x F1
vowel chart with reversed axes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Patch, Rectangle
from scipy.cluster.hierarchy import dendrogram
from scipy.stats import chi2

#: Okabe & Ito (2008) colour-blind-safe palette; yellow late (weak on white), black last.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442",
             "#000000")
#: Colour of suppressed groups and non-significant results.
NEUTRAL = "#BBBBBB"

__all__ = [
    "NEUTRAL", "OKABE_ITO", "association_heatmap", "dendrogram_figure", "forest_plot",
    "group_colours", "pca_biplot", "prediction_plot", "variance_plot", "vowel_chart",
]


def _figure(width: float, height: float) -> Figure:
    # Figure() on its own Agg canvas rather than pyplot.figure(): no global backend switch
    # (a notebook keeps its own), nothing to close, safe in worker threads.
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _clean(ax) -> None:
    """No chart junk: drop the top and right spines."""
    ax.spines[["top", "right"]].set_visible(False)


def _unit_label(column: str) -> str:
    """Axis unit from a column name: ``f1_hz`` -> "Hz", ``f1_lobanov`` -> "Lobanov z"."""
    name = column.lower()
    if name.endswith("_hz"):
        return "Hz"
    for suffix, unit in (("lobanov", "Lobanov z"), ("nearey1", "Nearey, log units"),
                         ("nearey2", "Nearey, log units"), ("wattfabricius", "ratio to centroid"),
                         ("deltaf", "ratio to ΔF"), ("bark", "Bark")):
        if name.endswith(suffix):
            return unit
    return "normalised"


def group_colours(levels: Sequence[object], *, suppressed: str | None = None,
                  palette: Sequence[str] = OKABE_ITO) -> dict[object, str]:
    """Map group levels to palette colours, in order; ``suppressed`` gets :data:`NEUTRAL`.

    Parameters
    ----------
    levels : sequence
        Group labels in display order (e.g. the education ranks).
    suppressed : str or None
        The label standing for suppressed groups, drawn in grey.
    palette : sequence of str
        Colours cycled over the other levels.

    Returns
    -------
    dict level -> colour
    """
    colours: dict[object, str] = {}
    i = 0
    for level in levels:
        if suppressed is not None and level == suppressed:
            colours[level] = NEUTRAL
        else:
            colours[level] = palette[i % len(palette)]
            i += 1
    return colours


def _ellipse_params(points: np.ndarray, *, kind: str) -> tuple[float, float, float] | None:
    """Width, height (full axes) and angle (degrees) of the ellipse of a 2-D point cloud.

    ``kind="sd"``: the 1-SD ellipse of the points (axes 2 sqrt(eigenvalue) of the sample
    covariance); ``kind="ci95"``: the 95 % confidence ellipse of their mean (covariance / n,
    scaled by the chi-square quantile with 2 df, sqrt(5.991) = 2.45). None under 3 points.
    """
    if len(points) < 3:
        return None
    cov = np.cov(points, rowvar=False)
    if kind == "ci95":
        cov = cov / len(points) * chi2.ppf(0.95, df=2)
    elif kind != "sd":
        raise ValueError(f"ellipse must be 'sd' or 'ci95', got {kind!r}")
    eigval, eigvec = np.linalg.eigh(cov)
    eigval = np.clip(eigval, 0.0, None)
    major = eigvec[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    return 2 * float(np.sqrt(eigval[1])), 2 * float(np.sqrt(eigval[0])), angle


def vowel_chart(
    vowels: pd.DataFrame,
    *,
    group: str | None = None,
    f1: str = "f1_lobanov",
    f2: str = "f2_lobanov",
    vowel: str = "vowel",
    speaker: str = "speaker_id",
    basis: str = "speakers",
    ellipse: str = "sd",
    order: Sequence[object] | None = None,
    palette: Mapping[object, str] | None = None,
    title: str | None = None,
    width: float = 6.5,
    height: float = 5.5,
) -> Figure:
    """F2 x F1 vowel chart in phonetic orientation, one mean and one ellipse per vowel x group.

    Both axes are reversed (F2 falls to the right, F1 falls upwards), so front vowels
    sit on the left and high vowels at the top, as in the IPA vowel quadrilateral.

    Parameters
    ----------
    vowels : DataFrame
        One row per token: ``speaker``, ``vowel``, ``f1``, ``f2`` and ``group`` columns.
        Tokens with a missing vowel label, formant or group are left out.
    group : str or None
        Column of the speaker's group (e.g. ``"education"``); None draws one group.
    f1, f2 : str
        Formant columns, Hz (``*_hz``) or normalised (e.g. ``*_lobanov``, z-scores):
        the axis labels follow the name.
    vowel, speaker : str
        Vowel label and speaker columns.
    basis : {"speakers", "tokens"}
        ``"speakers"`` (default): each speaker's mean per vowel is one observation, so a
        talkative speaker weighs no more than a quiet one; the point is the mean of
        those speaker means and the ellipse comes from their covariance.
        ``"tokens"``: every token is one observation.
    ellipse : {"sd", "ci95"}
        ``"sd"``: 1-SD ellipse of the observations (their spread); ``"ci95"``: 95 %
        confidence ellipse of the mean (covariance / n, chi-square 2 df).
        A vowel x group cell with fewer than 3 observations gets its mean but no ellipse
        (so a one-speaker chart needs ``basis="tokens"``).
    order : sequence or None
        Group levels to draw, in legend order (default: as they come, categorical
        order first); levels absent from ``order`` are not drawn.
    palette : mapping or None
        Level -> colour (default: :func:`group_colours`).
    title : str or None
    width, height : float
        Figure size, inches.

    Returns
    -------
    Figure
        One axes; ``ax.patches`` holds the ellipses and ``ax.lines`` the mean markers (both
        with ``gid`` = ``"vowel|group"``), ``ax.texts`` the vowel labels at the means.

    References
    ----------
    Lobanov (1971) for the normalisation; Johnson (2011) for the chart.
    """
    if basis not in ("speakers", "tokens"):
        raise ValueError(f"basis must be 'speakers' or 'tokens', got {basis!r}")
    if ellipse not in ("sd", "ci95"):
        raise ValueError(f"ellipse must be 'sd' or 'ci95', got {ellipse!r}")
    needed = [speaker, vowel, f1, f2] + ([group] if group else [])
    missing = [c for c in needed if c not in vowels.columns]
    if missing:
        raise ValueError(f"vowel_chart: missing column(s) {missing}; have {list(vowels.columns)}")
    data = vowels[needed].copy()
    if group is None:
        group = "__all"
        data[group] = "all"
    data = data.dropna(subset=[vowel, f1, f2, group])
    data = data[data[vowel].astype(str) != ""]
    data[f1] = data[f1].astype(float)
    data[f2] = data[f2].astype(float)

    if order is None:
        column = vowels[group] if group in vowels.columns else data[group]
        if isinstance(column.dtype, pd.CategoricalDtype):
            order = [c for c in column.cat.categories if (data[group] == c).any()]
        else:
            order = list(pd.unique(data[group]))
    order = list(order)
    colours = dict(palette) if palette is not None else group_colours(order)
    data = data[data[group].isin(order)]
    if basis == "speakers":
        obs = data.groupby([group, vowel, speaker], observed=True)[[f1, f2]].mean().reset_index()
    else:
        obs = data

    fig = _figure(width, height)
    ax = fig.add_subplot()
    handles = []
    single = len(order) == 1
    for level in order:
        colour = "#333333" if single and palette is None else colours.get(level, NEUTRAL)
        cell = obs[obs[group] == level]
        if cell.empty:
            continue
        n_speakers = data.loc[data[group] == level, speaker].nunique()
        for v, tokens in cell.groupby(vowel, observed=True):
            points = tokens[[f2, f1]].to_numpy(float)
            mean = points.mean(axis=0)
            params = _ellipse_params(points, kind=ellipse)
            if params is not None:
                w, h, angle = params
                ax.add_patch(Ellipse(tuple(mean), w, h, angle=angle, facecolor=colour,
                                     alpha=0.15, edgecolor=colour, linewidth=1.2,
                                     gid=f"{v}|{level}"))
            ax.plot(mean[0], mean[1], "o", color=colour, markersize=4, gid=f"{v}|{level}")
            ax.annotate(str(v), tuple(mean), xytext=(4, 4), textcoords="offset points",
                        color=colour if colour != NEUTRAL else "#555555", fontsize=12,
                        fontweight="bold")
        # A suppressed (grey) group's size is exactly what k-anonymity hides.
        label = str(level) if colour == NEUTRAL else f"{level} ({n_speakers} speakers)"
        handles.append(Line2D([], [], color=colour, marker="o", linestyle="-", label=label))
    ax.autoscale_view()
    ax.invert_xaxis()
    ax.invert_yaxis()
    unit = _unit_label(f1)
    ax.set_xlabel(f"F2 ({_unit_label(f2)})")
    ax.set_ylabel(f"F1 ({unit})")
    # Phonetic charts put the axes on the top and right, like the vowel quadrilateral.
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.yaxis.set_label_position("right")
    ax.yaxis.tick_right()
    ax.spines[["bottom", "left"]].set_visible(False)
    what = "speaker means" if basis == "speakers" else "tokens"
    shape = "1-SD ellipses" if ellipse == "sd" else "95% confidence ellipses of the mean"
    if handles and not single:
        ax.legend(handles=handles, title=None if group == "__all" else group, frameon=False,
                  loc="lower left", fontsize=9)
    ax.set_title(title or f"Vowel means and {shape} ({what})", fontsize=11, loc="left", pad=24)
    return fig


def variance_plot(explained: Sequence[float] | pd.Series, *, width: float = 6.0,
                  height: float = 3.5) -> Figure:
    """Scree plot: explained variance ratio per component (bars) and cumulative (line).

    Parameters
    ----------
    explained : sequence of float or Series
        Explained variance ratio per component, 0..1 (a Series indexed by component name
        labels the bars with it, else PC1, PC2...).
    width, height : float
        Inches.

    Returns
    -------
    Figure
        One axes: one bar per component, one cumulative line; y in percent.

    References
    ----------
    Cattell, R. B. (1966). The scree test for the number of factors. Multivariate
    Behavioral Research 1(2), 245-276.
    """
    values = np.asarray(explained, dtype=float) * 100
    names = ([str(i) for i in explained.index] if isinstance(explained, pd.Series)
             else [f"PC{i + 1}" for i in range(len(values))])
    fig = _figure(width, height)
    ax = fig.add_subplot()
    x = np.arange(len(values))
    ax.bar(x, values, color=OKABE_ITO[3], width=0.7, label="component")
    ax.plot(x, np.cumsum(values), "o-", color=OKABE_ITO[4], markersize=4, label="cumulative")
    ax.set_xticks(x, names, fontsize=8, rotation=0 if len(names) < 12 else 90)
    ax.set_ylabel("explained variance (%)")
    ax.set_ylim(0, 105)
    ax.legend(frameon=False, fontsize=8, loc="center right")
    _clean(ax)
    return fig


def pca_biplot(
    scores: pd.DataFrame,
    loadings: pd.DataFrame,
    explained: Sequence[float] | pd.Series,
    *,
    color_by: pd.Series | Sequence[object] | None = None,
    components: tuple[str, str] = ("PC1", "PC2"),
    n_arrows: int = 8,
    order: Sequence[object] | None = None,
    palette: Mapping[object, str] | None = None,
    legend_title: str | None = None,
    width: float = 7.0,
    height: float = 6.0,
) -> Figure:
    """PCA biplot (Gabriel 1971): speaker scores as points, feature loadings as arrows.

    Parameters
    ----------
    scores : DataFrame
        One row per speaker, columns ``components`` (other columns ignored). No
        labels are drawn next to the points (speaker ids never appear).
    loadings : DataFrame
        One row per feature: a ``feature`` column (or the index) and the component columns.
    explained : sequence of float or Series
        Explained variance ratio per component (0..1), in component order, or a Series
        indexed by component name.
    color_by : Series or sequence, optional
        Group of each speaker (aligned with ``scores`` rows); None draws one colour.
    components : (str, str)
        The two components on x and y.
    n_arrows : int
        Arrows for the features with the largest loadings on the two components.
    order, palette : optional
        Group levels in legend order and their colours (default: :func:`group_colours`).
    legend_title : str or None
    width, height : float
        Inches.

    Returns
    -------
    Figure
        One axes: one scatter collection per drawn group, one arrow per feature shown.
    """
    cx, cy = components
    for c in components:
        if c not in scores.columns or c not in loadings.columns:
            raise ValueError(f"pca_biplot: component {c!r} missing from scores or loadings")
    if isinstance(explained, pd.Series):
        ratio = {str(k): float(v) for k, v in explained.items()}
    else:
        ratio = {f"PC{i + 1}": float(v) for i, v in enumerate(explained)}
    load = loadings.set_index("feature") if "feature" in loadings.columns else loadings
    fig = _figure(width, height)
    ax = fig.add_subplot()
    xy = scores[[cx, cy]].to_numpy(float)
    if color_by is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=28, color=OKABE_ITO[3], alpha=0.85, linewidths=0)
    else:
        groups = pd.Series(np.asarray(color_by, dtype=object))
        if len(groups) != len(xy):
            raise ValueError(f"color_by has {len(groups)} values for {len(xy)} speakers")
        if order is None:
            order = list(pd.unique(groups.dropna()))
        colours = dict(palette) if palette is not None else group_colours(order)
        for level in order:
            mask = (groups == level).to_numpy()
            if mask.any():
                colour = colours.get(level, NEUTRAL)
                # A suppressed (grey) group's size is exactly what k-anonymity hides.
                label = str(level) if colour == NEUTRAL else f"{level} ({int(mask.sum())})"
                ax.scatter(xy[mask, 0], xy[mask, 1], s=28, color=colour, alpha=0.9,
                           linewidths=0, label=label)
        ax.legend(title=legend_title, frameon=False, fontsize=9, loc="best")
    # Arrows scaled so the longest reaches ~90% of the score cloud's extent.
    strength = np.hypot(load[cx].to_numpy(float), load[cy].to_numpy(float))
    top = np.argsort(strength)[::-1][:n_arrows]
    extent = np.nanmax(np.abs(xy)) if len(xy) else 1.0
    scale = 0.9 * extent / max(float(strength[top].max()) if len(top) else 1.0, 1e-12)
    tips = [np.zeros(2)]
    for i in top:
        lx, ly = float(load[cx].iloc[i]) * scale, float(load[cy].iloc[i]) * scale
        ax.annotate("", xy=(lx, ly), xytext=(0, 0),
                    arrowprops=dict(arrowstyle="->", color="#444444", linewidth=1))
        ax.text(lx * 1.08, ly * 1.08, str(load.index[i]), fontsize=8, color="#333333",
                ha="left" if lx >= 0 else "right", va="bottom" if ly >= 0 else "top")
        tips.append(np.array([lx, ly]) * 1.15)
    # Annotations do not take part in autoscaling: fit the limits to points and arrow tips.
    cloud = np.vstack([xy, *tips]) if len(xy) else np.vstack(tips)
    low, high = np.nanmin(cloud, axis=0), np.nanmax(cloud, axis=0)
    pad = 0.08 * (high - low + 1e-9)
    ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
    ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    ax.axhline(0, color="#DDDDDD", linewidth=0.8, zorder=0)
    ax.axvline(0, color="#DDDDDD", linewidth=0.8, zorder=0)
    ax.set_xlabel(f"{cx} ({100 * ratio.get(cx, np.nan):.0f}% of variance; standardised units)")
    ax.set_ylabel(f"{cy} ({100 * ratio.get(cy, np.nan):.0f}% of variance; standardised units)")
    _clean(ax)
    return fig


def dendrogram_figure(
    linkage: np.ndarray | pd.DataFrame,
    labels: pd.DataFrame | None = None,
    colors: Mapping[str, Mapping[object, str]] | None = None,
    *,
    width: float = 9.0,
    height: float = 5.0,
) -> Figure:
    """Ward dendrogram with one colour strip per profile variable under the leaves.

    Parameters
    ----------
    linkage : ndarray (n - 1, 4) or DataFrame
        A SciPy linkage matrix, or a DataFrame with columns left, right, distance, size.
    labels : DataFrame or None
        One row per observation (row i = observation i of the linkage), one column per
        profile variable to show as a strip (values = group labels). Leaves themselves are
        never labelled: the strips say who is in which group, not who is who.
    colors : mapping or None
        Variable -> (level -> colour); default :func:`group_colours` per variable.
    width, height : float
        Inches.

    Returns
    -------
    Figure
        Axes 0: the tree (y = Ward merge distance); one strip axes per variable below it
        (one rectangle per leaf, in leaf order, ``gid`` = ``"variable|value"``) and a
        legend per strip.
    """
    if isinstance(linkage, pd.DataFrame):
        z = linkage[["left", "right", "distance", "size"]].to_numpy(float)
    else:
        z = np.asarray(linkage, dtype=float)
    n = z.shape[0] + 1
    variables = list(labels.columns) if labels is not None else []
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} rows for a linkage of {n} observations")
    fig = _figure(width, height)
    ratios = [6] + [0.45] * len(variables)
    axes = fig.subplots(len(ratios), 1, gridspec_kw={"height_ratios": ratios}, squeeze=False)
    tree = axes[0, 0]
    dn = dendrogram(z, ax=tree, no_labels=True, color_threshold=0,
                    above_threshold_color="#555555", link_color_func=lambda _k: "#555555")
    leaves = dn["leaves"]
    tree.set_ylabel("Ward merge distance (standardised units)")
    tree.set_xticks([])
    _clean(tree)
    tree.spines["bottom"].set_visible(False)
    for row, variable in enumerate(variables, start=1):
        ax = axes[row, 0]
        values = labels[variable].astype(object).to_numpy()
        levels = list(pd.unique(pd.Series(values).dropna()))
        palette = dict(colors[variable]) if colors and variable in colors else group_colours(
            levels)
        # Leaf positions in scipy's dendrogram are 5, 15, 25...: one 10-wide cell per leaf.
        for j, i in enumerate(leaves):
            colour = palette.get(values[i], NEUTRAL) if values[i] is not None else "#FFFFFF"
            ax.add_patch(Rectangle((10 * j, 0), 10, 1, facecolor=colour, edgecolor="white",
                                   linewidth=0.3, gid=f"{variable}|{values[i]}"))
        ax.set_xlim(tree.get_xlim())
        ax.set_ylim(0, 1)
        ax.set_yticks([0.5], [variable])
        ax.set_xticks([])
        ax.spines[:].set_visible(False)
        handles = [Patch(color=palette.get(level, NEUTRAL), label=str(level)) for level in
                   (list(colors[variable]) if colors and variable in colors else levels)
                   if level in set(values)]
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                  fontsize=8, ncol=min(len(handles), 3) if handles else 1)
    return fig


def forest_plot(
    effects: pd.DataFrame,
    *,
    model: str = "model",
    term: str = "term",
    estimate: str = "estimate",
    low: str = "ci_low",
    high: str = "ci_high",
    p_value: str = "p_value",
    alpha: float = 0.05,
    width: float = 7.0,
) -> Figure:
    """Forest plot (Lewis & Clarke 2001): one panel per model, estimate and CI per term.

    Parameters
    ----------
    effects : DataFrame
        Tidy coefficient rows (the ``effects.parquet`` contract): model, term, estimate,
        ci_low, ci_high and optionally p_value. Rows without an estimate are left out.
    model, term, estimate, low, high, p_value : str
        Column names.
    alpha : float
        Terms with p < alpha are drawn in colour, the others in grey.
    width : float
        Inches; the height grows with the number of terms.

    Returns
    -------
    Figure
        One axes per model (titled with the model name), a vertical zero line in each,
        one horizontal CI line and one point per term.
    """
    data = effects.dropna(subset=[estimate])
    models = list(pd.unique(data[model]))
    if not models:
        raise ValueError("forest_plot: no effect with an estimate to draw")
    sizes = [max(int((data[model] == m).sum()), 1) for m in models]
    fig = _figure(width, 0.9 + 0.28 * sum(sizes) + 0.5 * len(models))
    axes = fig.subplots(len(models), 1, gridspec_kw={"height_ratios": sizes}, squeeze=False)
    for ax, name in zip(axes[:, 0], models, strict=True):
        rows = data[data[model] == name].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        est = rows[estimate].to_numpy(float)
        lo = rows[low].to_numpy(float) if low in rows else est
        hi = rows[high].to_numpy(float) if high in rows else est
        sig = (rows[p_value].to_numpy(float) < alpha) if p_value in rows else np.ones(len(rows),
                                                                                      bool)
        colours = np.where(sig, OKABE_ITO[3], NEUTRAL)
        ax.hlines(y, lo, hi, colors=colours, linewidth=2)
        ax.scatter(est, y, color=colours, s=30, zorder=3)
        ax.axvline(0, color="#333333", linewidth=0.8, linestyle="--")
        ax.set_yticks(y, rows[term].astype(str).tolist(), fontsize=8)
        ax.set_title(str(name), fontsize=10, loc="left")
        ax.set_xlabel("estimate with 95% CI (units of the model's response)", fontsize=8)
        _clean(ax)
    return fig


def prediction_plot(
    predictions: pd.DataFrame,
    *,
    alpha: float = 0.05,
    width: float = 7.0,
) -> Figure:
    """Cross-validated score per target and model, with its SD over folds, against chance.

    Parameters
    ----------
    predictions : DataFrame
        The ``predictions.parquet`` contract: target, model, metric, score, score_sd,
        chance, p_value. One panel per metric (balanced accuracy and R² have different
        scales).
    alpha : float
        Scores with permutation p < alpha in colour, others grey.
    width : float
        Inches.

    Returns
    -------
    Figure
        Per metric one axes: one horizontal bar per target x model, SD error bars, a chance
        tick per bar (black vertical line segment) and the p-value written at the bar end.

    References
    ----------
    Ojala, M. & Garriga, G. C. (2010). Permutation tests for studying classifier
    performance. JMLR 11, 1833-1863.
    """
    metrics = list(pd.unique(predictions["metric"]))
    if not metrics:
        raise ValueError("prediction_plot: no prediction to draw")
    sizes = [int((predictions["metric"] == m).sum()) for m in metrics]
    fig = _figure(width, 1.0 + 0.35 * sum(sizes) + 0.6 * len(metrics))
    axes = fig.subplots(len(metrics), 1, gridspec_kw={"height_ratios": sizes}, squeeze=False)
    labels = {"balanced_accuracy": "balanced accuracy (0-1)", "r2": "R² (cross-validated)"}
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        rows = predictions[predictions["metric"] == metric].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        score = rows["score"].to_numpy(float)
        sd = rows["score_sd"].to_numpy(float) if "score_sd" in rows else np.zeros(len(rows))
        p = rows["p_value"].to_numpy(float)
        colours = np.where(p < alpha, OKABE_ITO[2], NEUTRAL)
        ax.barh(y, score, xerr=sd, color=colours, height=0.6, error_kw={"ecolor": "#333333",
                                                                         "capsize": 3})
        chance = rows["chance"].to_numpy(float)
        ax.vlines(chance, y - 0.4, y + 0.4, colors="black", linewidth=2,
                  label="chance")
        for yi, s, e, pv in zip(y, score, sd, p, strict=True):
            ax.text(max(s + (e if np.isfinite(e) else 0), 0) + 0.02, yi, f"p = {pv:.3g}",
                    va="center", fontsize=8)
        ax.set_yticks(y, [f"{t} ({m})" for t, m in zip(rows["target"], rows["model"],
                                                        strict=True)], fontsize=8)
        ax.set_xlabel(labels.get(metric, metric))
        ax.axvline(0, color="#999999", linewidth=0.6)
        low = min(0.0, float(np.nanmin(score - np.nan_to_num(sd))) - 0.05)
        ax.set_xlim(low, max(1.0, float(np.nanmax(score + np.nan_to_num(sd)))) + 0.2)
        ax.legend(frameon=False, fontsize=8, loc="lower right")
        _clean(ax)
    return fig


def association_heatmap(
    associations: pd.DataFrame,
    *,
    q_threshold: float = 0.05,
    features: Sequence[str] | None = None,
    width: float | None = None,
) -> Figure:
    """Feature x profile-variable heatmap of |effect size|, significant cells marked.

    Parameters
    ----------
    associations : DataFrame
        The ``associations.parquet`` contract (feature, variable, effect_size,
        effect_size_name, q_value). Effect sizes of different kinds (|rho|, epsilon²,
        |rank-biserial|, Cramér's V) all lie in 0..1, so one colour scale serves.
    q_threshold : float
        Cells with q below it get an asterisk.
    features : sequence or None
        Rows to show, in order (default: all, in the table's order).
    width : float or None
        Inches (default from the number of variables).

    Returns
    -------
    Figure
        One axes with one image (``ax.images[0]``) of shape (n_features, n_variables).
    """
    table = associations.pivot_table(index="feature", columns="variable",
                                     values="effect_size", aggfunc="first", sort=False).abs()
    qs = associations.pivot_table(index="feature", columns="variable", values="q_value",
                                  aggfunc="first", sort=False)
    if features is not None:
        table = table.reindex(list(features))
        qs = qs.reindex(list(features))
    qs = qs.reindex(index=table.index, columns=table.columns)
    n_f, n_v = table.shape
    fig = _figure(width or 2.5 + 0.9 * n_v, 1.2 + 0.25 * n_f)
    ax = fig.add_subplot()
    image = ax.imshow(table.to_numpy(float), aspect="auto", cmap="viridis", vmin=0, vmax=1)
    q_values = qs.to_numpy(float)
    for i in range(n_f):
        for j in range(n_v):
            q = q_values[i, j]
            if np.isfinite(q) and q < q_threshold:
                # viridis is light at the top: black on light cells, white on dark ones.
                light = np.nan_to_num(table.to_numpy(float)[i, j]) > 0.6
                ax.text(j, i, "*", ha="center", va="center", fontsize=11, fontweight="bold",
                        color="black" if light else "white")
    ax.set_xticks(range(n_v), [str(c) for c in table.columns], rotation=30, ha="right",
                  fontsize=8)
    ax.set_yticks(range(n_f), [str(c) for c in table.index], fontsize=7)
    cbar = fig.colorbar(image, ax=ax, shrink=0.6)
    cbar.set_label("|effect size| (rho, epsilon², rank-biserial or Cramér's V)", fontsize=8)
    ax.set_title(f"* q < {q_threshold:g} (Benjamini-Hochberg)", fontsize=9, loc="left")
    return fig
