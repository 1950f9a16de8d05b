"""Figures: each function returns a Figure with the artists it promises, in phonetic
orientation where that applies, and touches no global pyplot state."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Rectangle
from scipy.cluster.hierarchy import dendrogram, linkage

from models.plots import (
    NEUTRAL,
    OKABE_ITO,
    _ellipse_params,
    association_heatmap,
    dendrogram_figure,
    forest_plot,
    group_colours,
    pca_biplot,
    prediction_plot,
    variance_plot,
    vowel_chart,
)

TARGETS = {"a": (750, 1300), "e": (480, 1900), "i": (300, 2300), "o": (500, 950),
           "u": (330, 800)}


def tokens(n_speakers: int = 6, per_vowel: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_speakers):
        group = "low" if s % 2 else "high"
        shrink = 0.3 if group == "low" else 0.0  # "low" speakers reduce towards the centre
        for v, (f1, f2) in TARGETS.items():
            for _ in range(per_vowel):
                rows.append({"speaker_id": f"S{s}", "group": group, "vowel": v,
                             "f1_hz": f1 + shrink * (500 - f1) + rng.normal(0, 30),
                             "f2_hz": f2 + shrink * (1500 - f2) + rng.normal(0, 60)})
    return pd.DataFrame(rows)


def ellipses(fig: Figure) -> list[Ellipse]:
    return [p for p in fig.axes[0].patches if isinstance(p, Ellipse)]


def test_vowel_chart_is_in_phonetic_orientation_with_units():
    fig = vowel_chart(tokens(), f1="f1_hz", f2="f2_hz")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert x0 > x1 and y0 > y1  # F2 falls to the right, F1 falls upwards
    assert ax.get_xlabel() == "F2 (Hz)" and ax.get_ylabel() == "F1 (Hz)"
    # /i/ (high front) is drawn to the left of and above /a/ in screen terms.
    pos = {t.get_text(): ax.transData.transform(t.xy) for t in ax.texts}
    assert pos["i"][0] < pos["a"][0] and pos["i"][1] > pos["a"][1]
    assert pos["u"][0] > pos["i"][0]


def test_vowel_chart_draws_one_ellipse_and_label_per_vowel_and_group():
    fig = vowel_chart(tokens(), group="group", f1="f1_hz", f2="f2_hz")
    drawn = ellipses(fig)
    assert len(drawn) == 5 * 2
    assert {e.get_gid() for e in drawn} == {f"{v}|{g}" for v in TARGETS for g in ("low", "high")}
    means = [line.get_gid() for line in fig.axes[0].lines if line.get_gid()]
    assert sorted(means) == sorted(e.get_gid() for e in drawn)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(list(TARGETS) * 2)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["high (3 speakers)", "low (3 speakers)"]  # order of appearance
    colours = {e.get_gid().split("|")[1]: e.get_edgecolor()[:3] for e in drawn}
    assert colours["low"] != colours["high"]


def test_vowel_chart_means_are_means_of_speaker_means():
    data = tokens(n_speakers=6)
    # One speaker says /a/ many more times, with a very different F1: with basis="speakers"
    # the speaker still counts once.
    extra = pd.DataFrame({"speaker_id": "S0", "group": "high", "vowel": "a",
                          "f1_hz": np.full(60, 1000.0), "f2_hz": np.full(60, 1300.0)})
    data = pd.concat([data, extra], ignore_index=True)
    high = data[data["group"] == "high"]
    speaker_means = high[high.vowel == "a"].groupby("speaker_id")[["f2_hz", "f1_hz"]].mean()
    by_speakers = vowel_chart(data, group="group", f1="f1_hz", f2="f2_hz", order=["high"])
    centre = next(e.center for e in ellipses(by_speakers) if e.get_gid() == "a|high")
    np.testing.assert_allclose(centre, speaker_means.mean().to_numpy())
    by_tokens = vowel_chart(data, group="group", f1="f1_hz", f2="f2_hz", order=["high"],
                            basis="tokens")
    centre_t = next(e.center for e in ellipses(by_tokens) if e.get_gid() == "a|high")
    np.testing.assert_allclose(centre_t, high[high.vowel == "a"][["f2_hz", "f1_hz"]].mean())
    assert centre_t[1] > centre[1] + 50


def test_vowel_chart_draws_only_the_levels_in_order():
    fig = vowel_chart(tokens(), group="group", f1="f1_hz", f2="f2_hz", order=["high"])
    assert {e.get_gid().split("|")[1] for e in ellipses(fig)} == {"high"}
    assert len(fig.axes[0].texts) == 5


def test_vowel_chart_skips_the_ellipse_of_a_cell_under_three_observations():
    data = tokens(n_speakers=6)
    data = data[~((data.vowel == "u") & (data.group == "low") & (data.speaker_id != "S1"))]
    fig = vowel_chart(data, group="group", f1="f1_hz", f2="f2_hz")
    assert len(ellipses(fig)) == 9  # /u/ of "low": one speaker mean, a point but no ellipse
    assert sorted(t.get_text() for t in fig.axes[0].texts).count("u") == 2


def test_vowel_chart_confidence_ellipse_is_smaller_than_sd_ellipse():
    sd = {e.get_gid(): e.width for e in ellipses(vowel_chart(tokens(), f1="f1_hz",
                                                              f2="f2_hz", basis="tokens"))}
    ci = {e.get_gid(): e.width for e in ellipses(vowel_chart(tokens(), f1="f1_hz", f2="f2_hz",
                                                              basis="tokens", ellipse="ci95"))}
    # n = 36 tokens per vowel: CI half-axis = SD half-axis * sqrt(5.991 / 36) = 0.41 SD
    for gid, width in sd.items():
        assert ci[gid] == pytest.approx(width * np.sqrt(5.991 / 36), rel=1e-3)


def test_ellipse_axes_are_twice_the_standard_deviations_along_the_principal_axes():
    rng = np.random.default_rng(1)
    points = rng.multivariate_normal([0, 0], [[9, 0], [0, 1]], size=20000)
    width, height, angle = _ellipse_params(points, kind="sd")
    assert width == pytest.approx(6, rel=0.03) and height == pytest.approx(2, rel=0.03)
    assert abs(np.sin(np.radians(angle))) < 0.05  # major axis along x
    assert _ellipse_params(points[:2], kind="sd") is None


def test_vowel_chart_labels_normalised_units_and_rejects_bad_options():
    data = tokens().rename(columns={"f1_hz": "f1_lobanov", "f2_hz": "f2_lobanov"})
    fig = vowel_chart(data)
    assert fig.axes[0].get_ylabel() == "F1 (Lobanov z)"
    with pytest.raises(ValueError, match="basis"):
        vowel_chart(data, basis="words")
    with pytest.raises(ValueError, match="ellipse"):
        vowel_chart(data, ellipse="2sd")
    with pytest.raises(ValueError, match="missing column"):
        vowel_chart(data, group="education")


def structure(n: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    scores = pd.DataFrame(rng.normal(size=(n, 3)), columns=["PC1", "PC2", "PC3"])
    loadings = pd.DataFrame({"feature": [f"feat{i}" for i in range(10)],
                             "PC1": rng.normal(size=10), "PC2": rng.normal(size=10),
                             "PC3": rng.normal(size=10)})
    return scores, loadings, [0.4, 0.25, 0.1]


def test_pca_biplot_has_one_point_set_per_group_and_the_strongest_arrows():
    scores, loadings, explained = structure()
    groups = ["a"] * 12 + ["b"] * 13 + ["suppressed (< 5 speakers)"] * 5
    fig = pca_biplot(scores, loadings, explained, color_by=groups, n_arrows=4,
                     palette=group_colours(["a", "b", "suppressed (< 5 speakers)"],
                                           suppressed="suppressed (< 5 speakers)"))
    ax = fig.axes[0]
    sets = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in sets] == [12, 13, 5]
    assert tuple(sets[2].get_facecolor()[0][:3]) == pytest.approx(
        tuple(int(NEUTRAL[i:i + 2], 16) / 255 for i in (1, 3, 5)))
    strongest = np.hypot(loadings.PC1, loadings.PC2).sort_values(ascending=False).index[:4]
    labels = [t for t in ax.texts if t.get_text()]  # arrows are annotations without text
    assert len(ax.texts) == 2 * 4
    assert {t.get_text() for t in labels} == set(loadings.feature[strongest])
    assert "40% of variance" in ax.get_xlabel() and "25% of variance" in ax.get_ylabel()
    # Every arrow tip lies inside the axes (annotations do not autoscale by themselves).
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for t in labels:
        x, y = t.get_position()
        assert x0 < x < x1 and y0 < y < y1
    # the legend counts the shown groups, never the suppressed one (its size is hidden)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["a (12)", "b (13)", "suppressed (< 5 speakers)"]
    with pytest.raises(ValueError, match="color_by"):
        pca_biplot(scores, loadings, explained, color_by=groups[:-1])


def test_dendrogram_has_unlabelled_leaves_and_one_strip_cell_per_leaf():
    scores, _, _ = structure(n=12)
    z = linkage(scores.to_numpy(), method="ward")
    strips = pd.DataFrame({"education": ["bachelor"] * 6 + ["master_phd"] * 6,
                           "gender": ["F", "M"] * 6})
    colours = {"education": {"bachelor": OKABE_ITO[0], "master_phd": OKABE_ITO[1]}}
    fig = dendrogram_figure(z, strips, colours)
    tree, edu, gender = fig.axes[:3]
    assert [t.get_text() for t in tree.get_xticklabels()] == []
    assert len(tree.collections[0].get_segments()) == 11  # n - 1 merges
    cells = [p for p in edu.patches if isinstance(p, Rectangle)]
    assert len(cells) == 12
    assert {matplotlib_hex(p.get_facecolor()) for p in cells} == {OKABE_ITO[0].lower(),
                                                                   OKABE_ITO[1].lower()}
    assert len([p for p in gender.patches if isinstance(p, Rectangle)]) == 12
    # Each cell names what it shows, in leaf order: what a disclosure test reads back.
    leaves = dendrogram(z, no_plot=True)["leaves"]
    by_x = sorted(gender.patches, key=lambda p: p.get_x())
    assert [p.get_gid() for p in by_x] == [f"gender|{strips['gender'][i]}" for i in leaves]
    frame = pd.DataFrame(z, columns=["left", "right", "distance", "size"])
    assert len(dendrogram_figure(frame).axes) == 1
    with pytest.raises(ValueError, match="rows"):
        dendrogram_figure(z, strips.iloc[:5])


def matplotlib_hex(rgba) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


def test_forest_plot_has_a_panel_per_model_and_a_point_per_term():
    effects = pd.DataFrame({
        "model": ["mixed: f1_lobanov"] * 3 + ["ols: vowel_reduction_index"] * 2,
        "term": ["education_rank", "C(gender)[T.M]", "C(vowel)[T.e]", "education_rank", "age"],
        "estimate": [-0.1, 0.02, -1.1, -0.8, 0.05], "ci_low": [-0.15, -0.05, -1.2, -1.0, -0.1],
        "ci_high": [-0.05, 0.09, -1.0, -0.6, 0.2], "p_value": [0.001, 0.6, 1e-6, 1e-4, 0.5]})
    fig = forest_plot(effects)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["mixed: f1_lobanov",
                                                              "ols: vowel_reduction_index"]
    first = fig.axes[0]
    points = next(c for c in first.collections if isinstance(c, PathCollection))
    np.testing.assert_allclose(sorted(points.get_offsets()[:, 0]), sorted([-0.1, 0.02, -1.1]))
    assert [t.get_text() for t in first.get_yticklabels()] == ["education_rank",
                                                               "C(gender)[T.M]", "C(vowel)[T.e]"]
    assert any(np.allclose(line.get_xdata(), 0) for line in first.lines)  # the zero line
    with pytest.raises(ValueError, match="no effect"):
        forest_plot(effects.assign(estimate=np.nan))


def test_prediction_plot_shows_scores_chance_and_p_values():
    predictions = pd.DataFrame({
        "target": ["education", "gender", "age"], "model": ["logistic", "logistic", "ridge"],
        "metric": ["balanced_accuracy", "balanced_accuracy", "r2"],
        "score": [0.48, 0.93, -0.05], "score_sd": [0.08, 0.05, 0.1], "chance": [0.25, 0.5, 0.0],
        "p_value": [0.004, 0.005, 0.6]})
    fig = prediction_plot(predictions)
    assert len(fig.axes) == 2  # balanced accuracy and R2 on their own scales
    acc = fig.axes[0]
    assert sorted(round(b.get_width(), 2) for b in acc.patches) == [0.48, 0.93]
    chance = acc.collections[-1].get_segments()
    assert sorted(round(s[0][0], 2) for s in chance) == [0.25, 0.5]
    assert {t.get_text() for t in acc.texts} == {"p = 0.004", "p = 0.005"}
    assert acc.get_xlabel().startswith("balanced accuracy")
    assert fig.axes[1].get_xlabel().startswith("R²")


def test_heatmap_and_scree_plot():
    assoc = pd.DataFrame({"feature": ["a", "a", "b", "b"], "variable": ["x", "y", "x", "y"],
                          "effect_size": [-0.8, 0.1, 0.3, 0.05],
                          "q_value": [0.001, 0.5, 0.04, 0.9]})
    fig = association_heatmap(assoc)
    image = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(image, [[0.8, 0.1], [0.3, 0.05]])
    assert [t.get_text() for t in fig.axes[0].texts] == ["*", "*"]
    scree = variance_plot(pd.Series([0.5, 0.3, 0.2], index=["PC1", "PC2", "PC3"]))
    bars = scree.axes[0].patches
    assert [round(b.get_height()) for b in bars] == [50, 30, 20]
    assert "%" in scree.axes[0].get_ylabel()


def test_figures_leave_pyplot_alone_and_render_to_png():
    before = plt.get_fignums()
    fig = vowel_chart(tokens(), group="group", f1="f1_hz", f2="f2_hz")
    assert plt.get_fignums() == before
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"
