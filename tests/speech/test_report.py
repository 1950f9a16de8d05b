"""The HTML report: self-contained, every figure present, captions from the data, and
k-anonymity (no group or cell under k speakers, no speaker id).

The fixture writes a store by hand: 40 speakers with planted effects (vowel reduction
falls with education, F0 differs by gender, /s/ aspiration by region), their vowel
tokens, recordings and one error, plus a ``models/`` directory that follows the
contract of ``speech-profile fit`` (computed here with NumPy/SciPy/scikit-learn, so the
report is tested without speech.fit).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from typer.testing import CliRunner

from speech.cli import app
from speech.report import EDUCATION_ORDER, build_report
from speech.store import Store

K = 5
VOWEL_TARGETS = {"a": (750, 1300), "e": (480, 1900), "i": (300, 2300), "o": (500, 950),
                 "u": (330, 800)}
REGIONS = {"spain": ["ES"], "mexico_central_america": ["MX", "GT"], "caribbean": ["VE", "DO"],
           "southern_cone": ["AR", "CL"], "andean": ["BO", "PE"]}
COUNTRIES = ["ES", "MX", "VE", "AR", "BO", "GT", "DO", "CL", "PE"]
FIGURES = 8  # 2 vowel charts, scree, biplot, dendrogram, heatmap, forest, prediction


# --------------------------------------------------------------------------- fixture builders
def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    out = np.empty_like(q)
    out[order] = q
    return out


def write_tables(store: Path, *, n: int = 40, seed: int = 0,
                 small_gender: int = 0) -> pd.DataFrame:
    """Write speakers, vowels, recordings and errors tables; return the speakers table.

    ``small_gender`` speakers get gender "diverse": a group under k to be suppressed.
    """
    rng = np.random.default_rng(seed)
    ids = [f"SPK{i:03d}" for i in range(1, n + 1)]
    education = rng.choice(EDUCATION_ORDER, size=n, p=[0.2, 0.2, 0.35, 0.25])
    rank = np.array([EDUCATION_ORDER.index(e) for e in education])
    gender = np.where(np.arange(n) % 2 == 0, "F", "M").astype(object)
    gender[:small_gender] = "diverse"
    country = np.array([COUNTRIES[i % len(COUNTRIES)] for i in range(n)])
    region = np.array([next(r for r, cs in REGIONS.items() if c in cs) for c in country])
    reduction = 0.9 - 0.12 * rank + rng.normal(0, 0.06, n)  # less reduction with education
    speakers = pd.DataFrame({
        "speaker_id": ids, "gender": pd.array(gender, dtype="string"),
        "age": pd.array(rng.integers(20, 60, n), dtype="Int64"),
        "country": pd.array(country, dtype="string"),
        "education": pd.Categorical(education, categories=EDUCATION_ORDER, ordered=True),
        "student": pd.array(rng.random(n) < 0.3, dtype="boolean"),
        "main_income": pd.array(rng.random(n) < 0.4, dtype="boolean"),
        "consent": True,
        "income_band": pd.array(rng.choice(["<250", "250-500", "500-1000", "1000-2000"], n),
                                dtype="string"),
        "speech_s": rng.uniform(60, 120, n),
        "vowel_reduction_index": reduction,
        "vowel_dispersion_f3_ratio": 0.3 - 0.2 * reduction + rng.normal(0, 0.01, n),
        "articulation_rate_syll_s": 5.5 + rng.normal(0, 0.4, n),
        "f0_median_st": np.where(gender == "M", 8.0, 18.0) + rng.normal(0, 1.5, n),
        "jitter_local_pct": rng.normal(1.0, 0.2, n),
        "hnr_db": rng.normal(15, 2, n),
        "coda_s_aspirated_ratio": np.where(np.isin(region, ["caribbean", "southern_cone"]),
                                           0.7, 0.15) + rng.normal(0, 0.08, n),
    })
    rows, recs = [], []
    for sid, red in zip(ids, reduction, strict=True):
        scale = rng.uniform(0.9, 1.15)
        for rec in (f"{sid}_interview", f"{sid}_u01", f"{sid}_u02"):
            recs.append({"recording_id": rec, "speaker_id": sid,
                         "kind": "interview" if rec.endswith("interview") else "utterance",
                         "duration_s": 120.0 if rec.endswith("interview") else 5.0,
                         "status": "ok"})
        for v, (f1, f2) in VOWEL_TARGETS.items():
            for t in range(8):
                # Reduction pulls every vowel towards the centre (500, 1500) Hz.
                rows.append({
                    "recording_id": f"{sid}_interview", "segment_id": f"{sid}-{t:03d}",
                    "speaker_id": sid, "vowel": v,
                    "f1_hz": scale * (f1 + red * 0.5 * (500 - f1)) + rng.normal(0, 40),
                    "f2_hz": scale * (f2 + red * 0.5 * (1500 - f2)) + rng.normal(0, 90),
                    "f3_hz": scale * 2600 + rng.normal(0, 80), "duration_s": 0.08, "qc": ""})
    # Interviewer tokens are in the vowels table but never analysed.
    rows += [{"recording_id": f"{ids[0]}_interview", "segment_id": "int", "speaker_id": "INT1",
              "vowel": "a", "f1_hz": 800.0 + i, "f2_hz": 1400.0, "f3_hz": 2700.0,
              "duration_s": 0.08, "qc": ""} for i in range(5)]
    vowels, recordings = pd.DataFrame(rows), pd.DataFrame(recs)
    tables = Store(store)
    tables.write_table("speakers", speakers)
    for rec, part in vowels.groupby("recording_id"):
        tables.write_partition("vowels", rec, part)
    for rec, part in recordings.groupby("recording_id"):
        tables.write_partition("recordings", rec, part)
    tables.write_partition("errors", f"{ids[1]}_u02", pd.DataFrame(
        [{"recording_id": f"{ids[1]}_u02", "stage": "decode", "error": "ValueError",
          "message": "truncated file"}]))
    return speakers


FEATURES = ["vowel_reduction_index", "vowel_dispersion_f3_ratio", "articulation_rate_syll_s",
            "f0_median_st", "jitter_local_pct", "hnr_db", "coda_s_aspirated_ratio"]


def write_models(store: Path, speakers: pd.DataFrame, *, seed: int = 0) -> None:
    """Write STORE/models/ as `speech-profile fit` would (contract in DESIGN/contract)."""
    rng = np.random.default_rng(seed)
    models = store / "models"
    models.mkdir(parents=True, exist_ok=True)
    features = [f for f in FEATURES if f in speakers and speakers[f].notna().all()]
    X = speakers[features].to_numpy(float)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    n_comp = min(4, Z.shape[1], Z.shape[0] - 1)
    pca = PCA(n_components=n_comp).fit(Z)
    scores = pca.transform(Z)
    pcs = [f"PC{i + 1}" for i in range(n_comp)]
    link = linkage(scores, method="ward")
    sil = {k: silhouette_score(scores, fcluster(link, k, "maxclust"))
           for k in range(2, min(8, len(Z) - 1) + 1)}
    best = max(sil, key=sil.get)
    clusters = fcluster(link, best, "maxclust")
    structure = pd.DataFrame(scores, columns=pcs).assign(cluster=clusters.astype(int))
    structure.insert(0, "speaker_id", speakers["speaker_id"].to_numpy())
    structure.to_parquet(models / "speaker_structure.parquet")
    pd.DataFrame(link, columns=["left", "right", "distance", "size"]).to_parquet(
        models / "linkage.parquet")
    pd.DataFrame({"n_clusters": list(sil), "silhouette": list(sil.values())}).to_parquet(
        models / "silhouette.parquet")
    pd.DataFrame({"component": pcs, "explained_variance_ratio": pca.explained_variance_ratio_}
                 ).to_parquet(models / "pca_variance.parquet")
    pd.DataFrame(pca.components_.T, columns=pcs).assign(feature=features)[
        ["feature", *pcs]].to_parquet(models / "pca_loadings.parquet")
    speakers[["speaker_id", *features]].to_parquet(models / "speaker_features.parquet")
    # The tokens of the mixed models: Lobanov z-scores per speaker (ddof 1), own speakers only.
    tokens = Store(store).read_table("vowels")
    tokens = tokens[tokens["speaker_id"].isin(set(speakers["speaker_id"]))]
    by_speaker = tokens.groupby("speaker_id")
    for formant in ("f1", "f2"):
        hz = by_speaker[f"{formant}_hz"]
        tokens[f"{formant}_lobanov"] = (tokens[f"{formant}_hz"] - hz.transform("mean")) / \
            hz.transform("std")
    tokens[["speaker_id", "vowel", "f1_lobanov", "f2_lobanov"]].to_parquet(
        models / "vowel_tokens.parquet")

    rows = []
    rank = speakers["education"].cat.codes.to_numpy(float)
    region = speakers["country"].map({c: r for r, cs in REGIONS.items() for c in cs})
    table = pd.concat([speakers[features], structure[pcs]], axis=1)
    for feature in table.columns:
        y = table[feature].to_numpy(float)
        rho, p = stats.spearmanr(y, rank)
        rows.append((feature, "education", "spearman", rho, rho, "rho", p))
        groups = [y[(region == r).to_numpy()] for r in pd.unique(region)]
        h, p = stats.kruskal(*groups)
        rows.append((feature, "region", "kruskal", h, (h - len(groups) + 1) / (len(y) - len(
            groups)), "epsilon2", p))
        is_f = (speakers["gender"] == "F").to_numpy()
        u, p = stats.mannwhitneyu(y[is_f], y[~is_f])
        rows.append((feature, "gender", "mannwhitney", u, 1 - 2 * u / (is_f.sum() * (
            ~is_f).sum()), "rank_biserial", p))
    chi, p, _, _ = stats.chi2_contingency(pd.crosstab(clusters, speakers["education"]))
    rows.append(("cluster", "education", "chi2", chi, np.sqrt(chi / len(clusters) / min(
        best - 1, 3)), "cramers_v", p))
    assoc = pd.DataFrame(rows, columns=["feature", "variable", "test", "statistic",
                                        "effect_size", "effect_size_name", "p_value"])
    assoc["p_value"] = assoc["p_value"].clip(lower=1 / 10000)
    assoc["q_value"] = bh(assoc["p_value"].to_numpy())
    assoc["n_speakers"] = len(speakers)
    assoc.to_parquet(models / "associations.parquet")

    pd.DataFrame([
        ("education", "logistic", "balanced_accuracy", 0.48, 0.08, 0.25, 0.004),
        ("gender", "logistic", "balanced_accuracy", 0.93, 0.05, 0.5, 0.005),
        ("age", "ridge", "r2", -0.06, 0.10, 0.0, 0.61),
    ], columns=["target", "model", "metric", "score", "score_sd", "chance", "p_value"]).assign(
        n_speakers=len(speakers), n_splits=5).to_parquet(models / "predictions.parquet")
    pd.DataFrame([("education", "logistic", f, abs(rng.normal(0.05, 0.03)), 0.01)
                  for f in features], columns=["target", "model", "feature", "importance_mean",
                                               "importance_sd"]).to_parquet(
        models / "importances.parquet")
    terms = [("mixed: f1_lobanov", "Intercept", 0.0, 0.05, 0.9),
             ("mixed: f1_lobanov", "C(vowel)[T.e]", -1.1, 0.06, 1e-6),
             ("mixed: f1_lobanov", "education_rank", -0.08, 0.03, 0.01),
             ("mixed: f1_lobanov", "C(gender)[T.M]", 0.02, 0.04, 0.6),
             ("mixed: f1_lobanov", "C(gender)[T.diverse]", 0.3, 0.2, 0.04),
             ("mixed: f1_lobanov", "Group Var", 0.1, 0.02, np.nan),
             ("ols: vowel_reduction_index", "education_rank", -0.85, 0.08, 1e-4),
             ("ols: vowel_reduction_index", "age", 0.03, 0.09, 0.74)]
    effects = pd.DataFrame(terms, columns=["model", "term", "estimate", "std_error", "p_value"])
    effects["ci_low"] = effects["estimate"] - 1.96 * effects["std_error"]
    effects["ci_high"] = effects["estimate"] + 1.96 * effects["std_error"]
    effects["effect_size"] = effects["estimate"]
    effects["n_speakers"] = len(speakers)
    effects["n_obs"] = np.where(effects["model"].str.startswith("mixed"), 40 * len(speakers),
                                len(speakers))
    effects.to_parquet(models / "effects.parquet")
    (models / "fit.json").write_text(json.dumps({
        "settings": {"seed": seed, "n_permutations": 9999, "regions": REGIONS,
                     "features": features}, "created_at": "2026-01-01T00:00:00Z"}))


def make_store(root: Path, **kwargs) -> Path:
    store = root / "store"
    speakers = write_tables(store, **kwargs)
    write_models(store, speakers)
    return store


def strip_images(page: str) -> str:
    """The page without its base64 payloads (random base64 text could spell anything)."""
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:", page)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("report")
    store = make_store(root, small_gender=3)
    path = build_report(store, root / "out", k_anonymity=K)
    return store, path, path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- tests
def test_report_is_self_contained(report):
    _, path, page = report
    assert path.name == "report.html"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()  # no external stylesheet: CSS is inline
    assert "<style>" in page


def test_every_figure_is_an_embedded_png(report):
    _, _, page = report
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == FIGURES == page.count("<figure>") == page.count("<figcaption>")
    for payload in images:
        data = base64.b64decode(payload)
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_sections_are_all_there(report):
    _, _, page = report
    for title in ("Corpus overview", "Vowel space", "Structure: PCA and clustering",
                  "Associations", "Regression effects", "Prediction", "Methods and caveats"):
        assert f"<h2>{title}" in page


def test_overview_counts_come_from_the_store(report):
    _, _, page = report
    text = strip_images(page)
    assert re.search(r"<td>speakers analysed \(consented\)</td><td>40</td>", text)
    assert re.search(r"<td>recordings</td><td>120</td>", text)
    assert re.search(r"<td>failed items \(errors table\)</td><td>1</td>", text)
    # 40 interviews of 120 s + 80 utterances of 5 s = 5200 s = 1.44 h
    assert "<td>audio (hours)</td><td>1.44</td>" in text


def test_captions_state_findings_with_numbers_from_the_data(report):
    store, path, page = report
    assoc = pd.read_parquet(store / "models" / "associations.parquet")
    row = assoc[(assoc.feature == "vowel_reduction_index") & (assoc.variable == "education")
                ].iloc[0]
    assert row.q_value < 0.05 and row.effect_size < 0  # the planted effect is in the fixture
    sentence = (f"Speakers with more education have a lower vowel reduction index (Spearman "
                f"rho = {row.effect_size:.2f}")
    assert sentence in page
    findings = json.loads((path.parent / "findings.json").read_text())
    sentences = [f["sentence"] for f in findings["findings"]]
    assert any(s.startswith(sentence) for s in sentences)
    first = next(f for f in findings["findings"] if f["kind"] == "association")
    assert first["q_value"] == pytest.approx(assoc["q_value"].min())
    # F0 by gender: the Mann-Whitney caption names the higher group from the medians.
    assert re.search(r"Median F0 \(st re 100 Hz\) differs by gender: highest for F", page)
    # Regression: the strongest *profile* term per model, not the vowel's own effect.
    assert "mixed: f1_lobanov: education_rank = -0.08 [-0.14, -0.02], p = 0.01" in page
    assert "ols: vowel_reduction_index: education_rank = -0.85" in page
    # Predictions: above chance for gender, not for age.
    assert "Gender is predicted from speech above chance" in page
    assert "Age is predicted from speech no better than chance" in page


def test_associations_table_lists_only_q_below_005_sorted_by_q(report):
    store, _, page = report
    assoc = pd.read_parquet(store / "models" / "associations.parquet")
    section = page.split("<h2>Associations")[1].split("<h2>")[0]
    table = strip_images(section).split("<table>")[1]
    qs = [float(q) for q in re.findall(r'<td class="n">([0-9.e-]+)</td><td class="n">\d+</td>',
                                       table)]
    assert len(qs) == int((assoc.q_value < 0.05).sum()) > 3
    assert qs == sorted(qs) and max(qs) < 0.05


def test_small_group_is_suppressed_everywhere(report):
    _, path, page = report
    text = strip_images(page)
    # The 3 "diverse" speakers: never named, never drawn, never given a regression term.
    assert "diverse" not in text
    assert "diverse" not in (path.parent / "findings.json").read_text()
    gender = text.split("<h3>gender</h3>")[1].split("</table>")[0]
    assert "<td>suppressed (&lt; 5 speakers)</td><td class=\"n\">&lt; 5</td>" in gender
    assert "Groups, and vowels of a group, with fewer than 5 speakers are not drawn" in text
    assert not re.search(r"\b3 speakers", text)  # the pooled group's size is what "< 5" hides
    assert "terms for groups of fewer than 5 speakers are not shown" in text


def test_no_table_cell_stands_for_fewer_than_k_speakers(report):
    _, _, page = report
    cells = re.findall(r'<td class="n">(\d+)</td>', strip_images(page))
    counts = [int(c) for c in cells]
    assert counts, "no count cells found"
    assert all(c >= K for c in counts), sorted(counts)[:5]
    assert "&lt; 5" in page  # the fixture's cross-tabs do have small cells


def test_no_speaker_id_appears(report):
    store, path, page = report
    ids = pd.read_parquet(store / "speakers")["speaker_id"]
    text = strip_images(page) + (path.parent / "findings.json").read_text()
    leaked = [s for s in ids if s in text]
    assert not leaked
    assert "INT1" not in text


def test_report_directory_is_registered_for_erasure(report):
    store, path, _ = report
    manifest = Store(store).read_manifest()
    assert str(path.parent.resolve()) in manifest["reports"]


def test_same_store_same_report_apart_from_the_date(report, tmp_path):
    store, _, page = report
    again = build_report(store, tmp_path / "again", k_anonymity=K).read_text()
    date = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert date.sub("", again) == date.sub("", page)


def test_larger_k_suppresses_more(report, tmp_path):
    store, _, _ = report
    page = build_report(store, tmp_path / "k12", k_anonymity=12).read_text()
    counts = [int(c) for c in re.findall(r'<td class="n">(\d+)</td>', strip_images(page))]
    assert all(c >= 12 for c in counts)
    assert "&lt; 12" in page


def test_missing_models_is_a_clear_error(tmp_path):
    store = tmp_path / "store"
    write_tables(store, n=8)
    with pytest.raises(FileNotFoundError, match="speech-profile fit"):
        build_report(store, tmp_path / "out")
    result = CliRunner().invoke(app, ["report", str(store), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "speech-profile fit" in result.output
    assert not (tmp_path / "out" / "report.html").exists()


def test_cli_writes_report_and_prints_findings(report, tmp_path):
    store, _, _ = report
    result = CliRunner().invoke(app, ["report", str(store), "--out", str(tmp_path / "o"),
                                      "--k", "5"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "report.html").is_file()
    assert "report.html" in result.output.replace("\n", "")
    assert "vowel reduction index" in result.output


def test_k_must_be_positive(report, tmp_path):
    store, _, _ = report
    with pytest.raises(ValueError, match="k_anonymity"):
        build_report(store, tmp_path / "o", k_anonymity=0)


def test_tiny_corpus_suppresses_nearly_everything(tmp_path):
    # 6 speakers: every profile level is under k, nothing may be drawn as a group.
    store = make_store(tmp_path, n=6)
    page = build_report(store, tmp_path / "out").read_text()
    text = strip_images(page)
    counts = [int(c) for c in re.findall(r'<td class="n">(\d+)</td>', text)]
    assert all(c >= K for c in counts)
    for level in ("secondary", "bachelor", "master_phd", "caribbean", "andean"):
        assert f"<td>{level}</td>" not in text


@pytest.mark.slow
def test_report_opens_in_headless_chromium(report, tmp_path):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is absent (CI installs it)")
    from PIL import Image
    from playwright.sync_api import sync_playwright

    _, path, _ = report
    copy = tmp_path / "report.html"  # a copy on its own: nothing beside it to load
    shutil.copy(path, copy)
    problems, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(copy.as_uri(), wait_until="load")
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert len(widths) == FIGURES and all(w > 0 for w in widths)
    assert shot.stat().st_size > 50_000
    pixels = np.asarray(Image.open(io.BytesIO(shot.read_bytes())).convert("L"), dtype=float)
    assert pixels.shape[0] > 3000  # the whole page, not one viewport
    assert pixels.std() > 20  # not blank


def _hidden_cells_parsed(page: str) -> dict[str, list[list[bool]]]:
    """Each count table of the page as rows of "hidden?" flags (header row and label
    column dropped; share columns ignored)."""
    tables = {}
    for title, body in re.findall(r"<h3>([^<]*)</h3><table>(.*?)</table>", strip_images(page)):
        rows = [re.findall(r'<td class="n">(.*?)</td>', r) for r in
                re.findall(r"<tr>(.*?)</tr>", body)]
        rows = [[c in ("&lt; 5", "x") for c in r if not c.endswith("%") and c != ""]
                for r in rows if r]
        tables[title] = rows
    return tables


def test_no_suppressed_count_is_alone_in_a_row_or_column(report):
    """With its row and column totals published elsewhere, a hidden count alone in
    its line could be recovered by subtraction."""
    _, _, page = report
    tables = _hidden_cells_parsed(page)
    crosstabs = {t: rows for t, rows in tables.items() if t.startswith("clusters x")}
    assert len(crosstabs) >= 4
    for title, rows in tables.items():
        flags = np.array(rows, dtype=bool)
        columns = [flags[:, j] for j in range(flags.shape[1])]
        lines = columns + ([flags[i] for i in range(flags.shape[0])]
                           if title in crosstabs else [])
        for line in lines:
            assert line.sum() != 1, (title, rows)
    assert "x" in re.findall(r'<td class="n">(.*?)</td>', page)  # the fixture needs some
    gender = strip_images(page).split("<h3>gender</h3>")[1].split("</table>")[0]
    assert '<td class="n">x</td>' in gender  # else N - shown = the 3 pooled speakers
    assert "withheld so that no hidden count can be worked out from the totals" in page
