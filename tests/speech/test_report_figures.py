"""Disclosure control in the report's figures: every combination of profile values a
figure shows, read back from the drawn marks (dendrogram strip cells, biplot point
sets, vowel-chart means, forest-plot terms), is shared by at least k speakers.

The marks are read from the Matplotlib figures the report draws (``report_figures``);
the speakers sharing what a mark shows are counted from the store's own tables, not
from the report's code. The same reading of the dendrogram the report drew before
disclosure control covered combinations finds speakers alone in theirs.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle
from scipy.cluster.hierarchy import dendrogram

from models.plots import dendrogram_figure
from speech.disclosure import suppress_levels, suppressed_label
from speech.report import ReportFigure, build_report, report_figures
from speech.store import Store
from tests.speech.test_report import REGIONS, make_store, strip_images, write_models, write_tables

K = 5
POOL = suppressed_label(K)


def _profiles(store: Path) -> pd.DataFrame:
    speakers = Store(store).read_table("speakers")
    region = {c: r for r, cs in REGIONS.items() for c in cs}
    return pd.DataFrame({"speaker_id": speakers["speaker_id"].astype(str),
                         "education": speakers["education"].astype(str),
                         "gender": speakers["gender"].astype(str),
                         "region": speakers["country"].map(region).astype(str)})


def strip_leaves(figure) -> pd.DataFrame:
    """The dendrogram's strips as drawn: one row per leaf (left to right), one column per
    strip, the value each cell names (its gid)."""
    columns = {}
    for ax in figure.axes[1:]:
        variable = ax.get_yticklabels()[0].get_text()
        cells = sorted((p for p in ax.patches if isinstance(p, Rectangle)), key=Rectangle.get_x)
        columns[variable] = [p.get_gid().split("|", 1)[1] for p in cells]
    return pd.DataFrame(columns)


def dendrogram_marks(figure, store: Path) -> list[tuple[str, int]]:
    """Per leaf: its cluster (the tree shows it) and shown values, and how many leaves
    show the same; leaves that show no profile value are left out."""
    models = store / "models"
    structure = pd.read_parquet(models / "speaker_structure.parquet")
    link = pd.read_parquet(models / "linkage.parquet").to_numpy(float)
    leaves = dendrogram(link, no_plot=True)["leaves"]
    clusters = structure["cluster"].to_numpy()[leaves]
    strips = strip_leaves(figure)
    if strips.empty:  # no strip drawn: the leaves show no profile value
        return []
    shown = [tuple((v, x) for v, x in row.items() if x != POOL) for _, row in strips.iterrows()]
    combos = [(int(c), s) for c, s in zip(clusters, shown, strict=True)]
    sizes = Counter(combos)
    return [(f"cluster {c}: {dict(s)}", sizes[(c, s)]) for c, s in combos if s]


def figure_marks(figures: list[ReportFigure], store: Path) -> list[tuple[str, str, int]]:
    """(figure, what one mark shows, speakers sharing it) for every mark of every figure."""
    profiles = _profiles(store)
    tokens = pd.read_parquet(store / "models" / "vowel_tokens.parquet").merge(
        profiles, on="speaker_id")
    marks = []
    for f in figures:
        ax = f.figure.axes[0]
        if f.title == "Dendrogram":
            marks += [(f.title, shown, n) for shown, n in dendrogram_marks(f.figure, store)]
        elif f.title == "PCA biplot":
            marks += [(f.title, c.get_label(), len(c.get_offsets())) for c in ax.collections
                      if isinstance(c, PathCollection)]
        elif f.title.startswith("Vowel space by"):
            variable = f.title.rsplit(" ", 1)[1]
            for line in ax.lines:
                if line.get_gid():
                    vowel, level = line.get_gid().split("|", 1)
                    cell = tokens[(tokens["vowel"] == vowel) & (tokens[variable] == level)]
                    marks.append((f.title, line.get_gid(), cell["speaker_id"].nunique()))
        elif f.title == "Regression effects":
            for axes in f.figure.axes:
                for label in axes.get_yticklabels():
                    for level in re.findall(r"\[T\.([^\]]+)\]", label.get_text()):
                        n = int((profiles.drop(columns="speaker_id") == level).any(axis=1).sum())
                        marks.append((f.title, label.get_text(), n))
    return marks


@pytest.fixture(scope="module")
def larger(tmp_path_factory) -> Path:
    """120 speakers: enough for the strips to show values at k = 5."""
    return make_store(tmp_path_factory.mktemp("larger"), n=120, small_gender=3)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("small"), small_gender=3)


@pytest.fixture(scope="module")
def rare_education(tmp_path_factory) -> Path:
    """40 speakers, 3 of them the only ones with short higher education."""
    store = tmp_path_factory.mktemp("rare") / "store"
    speakers = write_tables(store)
    education = speakers["education"].astype(str).replace("short_higher", "bachelor")
    education[:3] = "short_higher"
    speakers["education"] = pd.Categorical(education, categories=speakers[
        "education"].cat.categories, ordered=True)
    Store(store).write_table("speakers", speakers)
    write_models(store, speakers)
    return store


def test_a_rare_level_is_not_a_grey_set_of_its_own(rare_education):
    """Old biplot: the 3 short-higher speakers as a grey set of 3, the one level missing
    from the legend. Now the smallest shown level joins them."""
    figure = next(f for f in report_figures(rare_education, k_anonymity=K)
                  if f.title == "PCA biplot")
    sets = {c.get_label(): len(c.get_offsets()) for c in figure.figure.axes[0].collections
            if isinstance(c, PathCollection)}
    assert sets[POOL] >= K and sum(sets.values()) == 40
    assert not any(label.startswith("short_higher") for label in sets)
    assert all(n >= K for n in sets.values())


@pytest.mark.parametrize("which", ["small", "larger", "rare_education"])
def test_every_combination_a_figure_shows_is_shared_by_k_speakers(which, request):
    store = request.getfixturevalue(which)
    figures = report_figures(store, k_anonymity=K)
    marks = figure_marks(figures, store)
    kinds = {title for title, _, _ in marks}
    assert {"PCA biplot", "Vowel space by education", "Vowel space by gender",
            "Regression effects"} <= kinds
    if which == "larger":
        assert "Dendrogram" in kinds  # the strips show values: the check is not vacuous
    small_marks = [m for m in marks if m[2] < K]
    assert small_marks == []


def test_the_old_strips_showed_speakers_alone_in_their_combination(small):
    """What the report drew before: each strip suppressed level by level only."""
    structure = pd.read_parquet(small / "models" / "speaker_structure.parquet")
    profiles = _profiles(small).set_index("speaker_id").loc[structure["speaker_id"]]
    strips = pd.DataFrame({v: suppress_levels(profiles[v].reset_index(drop=True), K)
                           for v in ("education", "gender", "region")})
    assert (strips.apply(lambda c: c[c != POOL].value_counts().min()) >= K).all()
    old = dendrogram_figure(pd.read_parquet(small / "models" / "linkage.parquet"), strips)
    marks = figure_marks([ReportFigure("Dendrogram", old, "")], small)
    alone = [m for m in marks if m[2] == 1]
    assert len(alone) >= 5, marks  # each level alone respects k; their combination does not
    # The report's own dendrogram of the same store shows no such leaf.
    new = next(f for f in report_figures(small, k_anonymity=K) if f.title == "Dendrogram")
    assert all(n >= K for _, _, n in figure_marks([new], small))


def test_strips_show_no_count_the_cluster_tables_hide(larger, tmp_path):
    page = strip_images(build_report(larger, tmp_path / "out", k_anonymity=K).read_text())
    figure = next(f for f in report_figures(larger, k_anonymity=K) if f.title == "Dendrogram")
    structure = pd.read_parquet(larger / "models" / "speaker_structure.parquet")
    link = pd.read_parquet(larger / "models" / "linkage.parquet").to_numpy(float)
    clusters = structure["cluster"].to_numpy()[dendrogram(link, no_plot=True)["leaves"]]
    strips = strip_leaves(figure.figure).assign(cluster=clusters)
    checked = 0
    for variable in strips.columns.drop("cluster"):
        table = page.split(f"<h3>clusters x {variable}</h3>")[1].split("</table>")[0]
        header = re.findall(r"<th>cluster (\d+)</th>", table)
        rows = {cells[0]: dict(zip(header, cells[1:], strict=True)) for cells in (
            re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", table))
            if cells}
        visible = strips[strips[variable] != POOL].groupby([variable, "cluster"]).size()
        for (level, cluster), n in visible.items():
            printed = rows[level][str(cluster)]
            assert printed.isdigit() and int(printed) >= n, (variable, level, cluster, printed)
            checked += 1
    assert checked >= 3


def test_a_regression_term_is_hidden_only_for_a_small_profile_level():
    from speech.report_sections import _hidden_term

    profiles = pd.DataFrame({"speaker_id": list("abcdefgh"),
                             "gender": ["F"] * 5 + ["M"] * 2 + ["diverse"]})
    assert not _hidden_term("C(gender)[T.F]", profiles, K)
    assert _hidden_term("C(gender)[T.M]", profiles, K)  # 2 speakers
    assert _hidden_term("C(gender)[T.X]", profiles, K)  # nobody (erased, say)
    # The vowels' own levels are phonetics, not profiles: their interactions stay.
    assert not _hidden_term("C(vowel)[T.e]:education_rank", profiles, K)
    assert _hidden_term("C(vowel)[T.e]:C(gender)[T.M]", profiles, K)
