"""The HTML report: one self-contained page over a store and its ``models/`` results.

:func:`build_report` reads the store's tables (``speakers``, ``vowels``,
``recordings``, ``errors``) and what ``speech-profile fit`` wrote under
``STORE/models/`` (see docs/architecture.md), draws the figures with
:mod:`models.plots`, and writes ``OUT/report.html`` (figures embedded as base64
PNG, inline CSS, no script, no external URL) and ``OUT/findings.json`` (the main
findings as sentences with their numbers).

The numbers shown are those ``fit`` wrote: the vowel charts draw the Lobanov tokens
the mixed models were fitted on (``models/vowel_tokens.parquet``), the structure
figures the PCA, clusters and linkage it saved; nothing is re-analysed here. The
prose comes from :mod:`speech.captions`, the page from the Jinja2 template
``speech/templates/report.html.j2`` (autoescaped).

Privacy (k-anonymity): every table cell, every plotted group and every combination
of profile values a figure shows stands for at least ``k`` speakers, or it is
suppressed; the rules live in :mod:`speech.disclosure`. Speaker ids never appear
(dendrogram leaves and biplot points are unlabelled); no audio, transcript text or
name is read.

The report's directory is recorded in the store's manifest (``reports``), so that
``speech-profile forget`` rebuilds or deletes it when a speaker is erased.
"""

from __future__ import annotations

import base64
import io
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from models.profiles import DEFAULT_REGIONS, EDUCATION_ORDER
from speech import __version__
from speech.captions import (
    association_sentence,
    count_legend,
    fmt,
    methods,
    variable_label,
)
from speech.conditions import condition_caveats
from speech.disclosure import (
    count_text,
    disclosed_count,
    protected_counts,
    suppress_levels,
    suppressed_label,
)
from speech.privacy import REPORTS_FIELD
from speech.report_sections import (
    AGE_BANDS,
    Block,
    ReportFigure,
    Table,
    association_section,
    effect_section,
    level_order,
    prediction_section,
    structure_section,
)
from speech.store import Store

__all__ = ["EDUCATION_ORDER", "ReportFigure", "build_report", "rebuild_report",
           "report_figures"]

#: Profile variables shown as groups (overview counts, cross-tabs, dendrogram strips).
GROUP_VARIABLES = ("gender", "age_band", "region", "education", "student", "main_income",
                   "income_band")
MODEL_TABLES = ("associations", "predictions", "importances", "pca_variance", "pca_loadings",
                "speaker_structure", "linkage", "silhouette", "effects", "speaker_features",
                "vowel_tokens")
TEMPLATE = "report.html.j2"


# --------------------------------------------------------------------------- page parts
@dataclass
class Section:
    title: str
    figures: list[ReportFigure] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    empty: str = "Not available in this store's models/."


# --------------------------------------------------------------------------- inputs
@dataclass
class _Inputs:
    speakers: pd.DataFrame
    vowels: pd.DataFrame
    recordings: pd.DataFrame
    errors: pd.DataFrame
    models: dict[str, pd.DataFrame] = field(default_factory=dict)
    fit: dict = field(default_factory=dict)

    def feature_values(self, feature: str) -> pd.Series | None:
        """The speaker-level values of a feature, as fit wrote them, indexed by speaker_id."""
        for name in ("speaker_features", "speaker_structure"):
            table = self.models.get(name)
            if table is not None and feature in table.columns:
                return table.set_index("speaker_id")[feature]
        if feature in self.speakers.columns:
            return self.speakers.set_index("speaker_id")[feature]
        return None


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


# --------------------------------------------------------------------------- vowel charts
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


def _vowel_groups(tokens: pd.DataFrame, profiles: pd.DataFrame, variable: str, k: int
                  ) -> tuple[pd.DataFrame, list[object], bool]:
    """The tokens a vowel chart by ``variable`` may draw, its levels, and whether any
    speaker was left out: a level, or a vowel of a level, with fewer than ``k`` speakers
    (among those with tokens) is not drawn."""
    raw = profiles.set_index("speaker_id")[variable]
    groups = suppress_levels(raw[raw.index.isin(set(tokens["speaker_id"]))], k)
    data = tokens.assign(**{variable: tokens["speaker_id"].map(groups)}).dropna(
        subset=[variable])
    data = data[data[variable] != suppressed_label(k)]
    speakers = data.groupby([variable, "vowel"], observed=True)["speaker_id"].transform(
        "nunique")
    drawn = data[speakers >= k]
    left_out = drawn["speaker_id"].nunique() < tokens["speaker_id"].nunique() or len(
        drawn) < len(data)
    order = [v for v in level_order(variable, groups, k) if (drawn[variable] == v).any()]
    return drawn, order, left_out


def _vowel_figures(inputs: _Inputs, profiles: pd.DataFrame, k: int,
                   associations: pd.DataFrame) -> list[ReportFigure]:
    from models.plots import vowel_chart

    tokens = inputs.models.get("vowel_tokens")
    if tokens is None or tokens.empty:
        return []
    tokens = tokens[tokens["speaker_id"].isin(set(profiles["speaker_id"]))]
    figures = []
    for variable in ("education", "gender"):
        if variable not in profiles.columns:
            continue
        data, order, left_out = _vowel_groups(tokens, profiles, variable, k)
        if not order:
            continue
        title = f"Vowel space by {variable_label(variable)}"
        fig = vowel_chart(data, group=variable, order=order, title=title)
        spread = _vowel_space_spread(data, variable)
        n = data.groupby(variable, observed=True)["speaker_id"].nunique()
        parts = [f"{lvl} {spread[lvl]:.2f} ({n[lvl]} speakers)" for lvl in order
                 if lvl in spread]
        caption = (f"Mean F2 x F1 position of each vowel (Lobanov z-scores, the tokens of the "
                   f"mixed models) by {variable_label(variable)}, with 1-SD ellipses of the "
                   f"speaker means. Spread of the vowel means around their centre: "
                   f"{', '.join(parts)}.")
        if len(spread) >= 2:
            caption += (f" The vowel space is widest for {spread.idxmax()} and narrowest for "
                        f"{spread.idxmin()}.")
        hits = associations[(associations["variable"].isin([variable, f"{variable}_rank"]))
                            & associations["feature"].str.startswith("vowel_")] \
            if not associations.empty else associations
        if not hits.empty:
            caption += " " + association_sentence(hits.sort_values("q_value").iloc[0], profiles,
                                                  k, inputs.feature_values)
        if left_out:
            caption += (f" Groups, and vowels of a group, with fewer than {k} speakers are not "
                        "drawn (k-anonymity).")
        figures.append(ReportFigure(title, fig, caption))
    return figures


# --------------------------------------------------------------------------- overview
def _counts_table(profiles: pd.DataFrame, variable: str, k: int) -> Table:
    groups = suppress_levels(profiles[variable], k, missing="missing")
    order = level_order(variable, groups, k)
    counts = groups.value_counts().reindex(order, fill_value=0)
    cells = protected_counts(counts, k).astype(str).tolist()
    rows = [(lvl, cell, f"{100 * n / len(groups):.0f}%" if cell.isdigit() else "")
            for lvl, n, cell in zip(order, counts, cells, strict=True)]
    label = variable_label(variable)
    return Table([label, "speakers", "share"], rows, numeric=(1, 2), title=label)


def _overview(inputs: _Inputs, profiles: pd.DataFrame, k: int) -> tuple[Section, dict]:
    rec = inputs.recordings
    ids = set(profiles["speaker_id"])
    n_rec = len(rec)
    hours = float(rec["duration_s"].sum()) / 3600 if "duration_s" in rec else float("nan")
    speech_h = (float(pd.to_numeric(profiles["speech_s"], errors="coerce").sum()) / 3600
                if "speech_s" in profiles else float("nan"))
    n_tokens = int(inputs.vowels["speaker_id"].isin(ids).sum()) if not inputs.vowels.empty else 0
    kinds = rec["kind"].value_counts().to_dict() if "kind" in rec else {}
    n_speakers = count_text(len(profiles), k)
    facts = [("speakers analysed (consented)", n_speakers),
             ("recordings", n_rec),
             ("recordings by kind", ", ".join(f"{v} {kd}" for kd, v in sorted(kinds.items()))),
             ("audio (hours)", fmt(hours, 2)),
             ("speech by the analysed speakers (hours)", fmt(speech_h, 2)),
             ("vowel tokens of the analysed speakers", n_tokens),
             ("failed items (errors table)", len(inputs.errors))]
    counts = [_counts_table(profiles, v, k) for v in GROUP_VARIABLES if v in profiles.columns]
    section = Section("Corpus overview", blocks=[
        Block("table", [Table(["", ""], facts)]), Block("tables", counts),
        Block("note", text=count_legend(k))])
    finding = {"kind": "corpus",
               "sentence": f"{n_speakers} speakers, {n_rec} recordings, "
                           f"{fmt(hours, 2)} hours of audio, {n_tokens} vowel tokens, "
                           f"{len(inputs.errors)} failed items.",
               "speakers": disclosed_count(len(profiles), k), "recordings": n_rec,
               "hours": None if not np.isfinite(hours) else round(hours, 3),
               "errors": len(inputs.errors)}
    return section, finding


# --------------------------------------------------------------------------- assembly
@dataclass
class _Report:
    sections: list[Section]
    main: list[str]
    findings: list[dict]
    methods: list[str]

    @property
    def figures(self) -> list[ReportFigure]:
        return [f for s in self.sections for f in s.figures]


def _main_findings(assoc: list[dict], predictions: list[dict], effects: list[dict]
                   ) -> list[dict]:
    """The strongest association of each profile variable first, then the next strongest
    overall, ten in all (a sorted list would be all gender and F0); then predictions above
    chance and the strongest profile term of each regression."""
    firsts = list({f["variable"]: f for f in reversed(assoc)}.values())[::-1]
    firsts = sorted(firsts, key=assoc.index)
    rest = [f for f in assoc if f not in firsts]
    return (firsts + rest)[:10] + predictions + effects


def _compose(store: Path, k: int) -> _Report:
    inputs = _read_inputs(store)
    profiles = _profiles(inputs.speakers, inputs.fit)
    associations = inputs.models.get("associations", pd.DataFrame(
        columns=["feature", "variable", "test", "q_value"]))
    sentence = partial(association_sentence, profiles=profiles, k=k,
                       values=inputs.feature_values)

    overview, corpus = _overview(inputs, profiles, k)
    vowels = Section("Vowel space", _vowel_figures(inputs, profiles, k, associations),
                     empty=f"No vowel chart: no education or gender group has {k} or more "
                           "speakers with vowel tokens in models/vowel_tokens.parquet.")
    *structure, structure_findings = structure_section(inputs.models, profiles, k,
                                                       associations, sentence)
    *assoc, assoc_findings = association_section(inputs.models, sentence, k,
                                                 condition_caveats(inputs.recordings))
    *effects, effect_findings, n_hidden = effect_section(inputs.models, profiles, k)
    *predictions, prediction_findings = prediction_section(inputs.models, k)
    sections = [overview, vowels,
                Section("Structure: PCA and clustering", *structure),
                Section("Associations (q < 0.05, sorted by q)", *assoc),
                Section("Regression effects", *effects),
                Section("Prediction of profiles from speech", *predictions)]
    main = _main_findings(assoc_findings, prediction_findings, effect_findings)
    settings = inputs.fit.get("settings", {}) if isinstance(inputs.fit, Mapping) else {}
    return _Report(sections=sections, main=[f["sentence"] for f in main],
                   findings=[corpus, *structure_findings, *assoc_findings, *effect_findings,
                             *prediction_findings],
                   methods=methods(settings, k, n_hidden))


def report_figures(store: Path | str, *, k_anonymity: int = 5) -> list[ReportFigure]:
    """The report's figures as it draws them (Matplotlib figures with their captions), for
    notebooks and for checking what they show."""
    return _compose(Path(store), _check_k(k_anonymity)).figures


# --------------------------------------------------------------------------- writing
def _png(fig) -> str:
    buffer = io.BytesIO()
    # No creation date in the PNG: the same store gives a byte-identical report.
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class _Embedded:
    title: str
    png: str
    caption: str
    alt: str


def _render(report: _Report, store: Path, k: int) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("speech", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    sections = [Section(s.title, [_Embedded(f.title, _png(f.figure), f.caption, f.alt)
                                  for f in s.figures], s.blocks, s.empty)
                for s in report.sections]
    return environment.get_template(TEMPLATE).render(
        store_name=store.name, version=__version__, k=k,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_figures=len(report.figures), main_findings=report.main, sections=sections,
        methods=report.methods)



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


def _check_k(k_anonymity: int) -> int:
    if int(k_anonymity) < 1:
        raise ValueError(f"k_anonymity must be at least 1, got {k_anonymity!r}")
    return int(k_anonymity)


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
        Smallest group of speakers that may be shown (default 5); see
        :mod:`speech.disclosure`.

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
    k = _check_k(k_anonymity)
    store, out = Path(store), Path(out)
    report = _compose(store, k)
    page = _render(report, store, k)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    _write_atomic(path, page)
    _register(store, out)
    _write_atomic(out / "findings.json", json.dumps(
        {"store": str(store), "k_anonymity": k, "n_figures": len(report.figures),
         "main": report.main, "findings": report.findings},
        indent=2, default=str) + "\n")
    return path


def rebuild_report(store: Path | str, out: Path | str) -> Path:
    """Write the report in ``out`` again, with the k its ``findings.json`` recorded."""
    findings = Path(out) / "findings.json"
    k = (json.loads(findings.read_text(encoding="utf-8")).get("k_anonymity", 5)
         if findings.is_file() else 5)
    return build_report(store, out, k_anonymity=k)

