"""`speech-profile fit`: every file of the contract under STORE/models/, exit 2 on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from speech.cli import app
from speech.fit import FitInputError, fit_store, reference_analysis
from speech.store import Store

SMALL_STORE = Path("/tmp/small_store")
CONTRACT = {
    "associations": ["feature", "variable", "test", "statistic", "effect_size",
                     "effect_size_name", "p_value", "q_value", "n_speakers"],
    "predictions": ["target", "model", "metric", "score", "score_sd", "chance", "p_value",
                    "n_speakers", "n_splits"],
    "importances": ["target", "model", "feature", "importance_mean", "importance_sd"],
    "pca_variance": ["component", "explained_variance_ratio"],
    "pca_loadings": ["feature", "PC1", "PC2"],
    "speaker_structure": ["speaker_id", "PC1", "PC2", "cluster"],
    "linkage": ["left", "right", "distance", "size"],
    "silhouette": ["n_clusters", "silhouette"],
    "effects": ["model", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value",
                "effect_size", "n_speakers", "n_obs"],
    "speaker_features": ["speaker_id", "vowel_reduction_index", "f0_median_st"],
    "vowel_tokens": ["speaker_id", "vowel", "f1_lobanov", "f2_lobanov"],
}  # fmt: skip


@pytest.fixture(scope="module")
def source_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-speaker store: the prepared one when present, else synthesised and extracted."""
    if (SMALL_STORE / "speakers").is_dir():
        return SMALL_STORE
    from corpora.corpus import read_corpus
    from corpora.synth import write_corpus
    from speech import extract as batch
    from speech.segmentation import SegmentationConfig

    root = tmp_path_factory.mktemp("fit")
    write_corpus(root / "corpus", n_speakers=6, seed=0, minutes_per_speaker=0.5, jobs=1)
    batch.extract(read_corpus(root / "corpus"), Store(root / "store"),
                  config=SegmentationConfig(), jobs=1)
    return root / "store"


@pytest.fixture()
def store(source_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(source_store, copy, ignore=shutil.ignore_patterns("models"))
    return copy


@pytest.mark.slow
def test_fit_writes_every_contract_file(store: Path):
    steps: list[str] = []
    out = fit_store(store, n_permutations=199, n_prediction_permutations=19,
                    progress=steps.append)
    assert out == store / "models" and len(steps) >= 4
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in CONTRACT}
    for name, columns in CONTRACT.items():
        missing = [c for c in columns if c not in tables[name].columns]
        assert not missing, (name, missing)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left

    structure = tables["speaker_structure"]
    n = len(structure)
    assert n == 6 and structure["speaker_id"].is_unique
    assert structure["cluster"].min() == 1 and structure["cluster"].dtype == "int64"
    link = tables["linkage"]
    assert len(link) == n - 1 and link["size"].iloc[-1] == n
    assert np.all(np.diff(link["distance"]) >= -1e-12)
    components = tables["pca_variance"]["component"].tolist()
    assert components == [f"PC{i}" for i in range(1, len(components) + 1)]
    assert tables["pca_variance"]["explained_variance_ratio"].sum() <= 1 + 1e-9
    assert tables["pca_loadings"]["feature"].tolist() == [
        c for c in tables["speaker_features"].columns if c != "speaker_id"]

    assoc = tables["associations"]
    assert {"PC1", "cluster", "vowel_reduction_index"} <= set(assoc["feature"])
    assert {"education", "region", "gender", "main_income"} <= set(assoc["variable"])
    assert assoc["q_value"].between(0, 1).all()
    assert (assoc["p_value"] >= 1 / 200).all()  # B = 199
    assert set(assoc["test"]) <= {"spearman", "kruskal", "mannwhitney", "chi2", "fisher"}
    assert (assoc["n_speakers"] == 6).all()

    effects = tables["effects"]
    assert {"mixed: f1_lobanov", "mixed: f2_lobanov", "ols: vowel_reduction_index"} <= set(
        effects["model"])
    assert set(tables["predictions"]["target"]) == {"education", "region", "gender",
                                                    "main_income"}

    meta = json.loads((out / "fit.json").read_text())
    assert meta["settings"]["seed"] == 0 and meta["settings"]["n_permutations"] == 199
    assert meta["settings"]["regions"]["caribbean"] == ["VE", "DO", "PA", "CU", "PR"]
    assert meta["variables"]["education"] == "ordinal"
    assert meta["input_fingerprint"].startswith("sha256:")
    assert set(meta["features"]["used"]) == set(tables["speaker_features"].columns) - {
        "speaker_id"}
    assert sorted(meta["files"]) == sorted(f"{name}.parquet" for name in CONTRACT)
    # The report's vowel charts rest on the very tokens the mixed models were fitted on.
    tokens = tables["vowel_tokens"]
    assert len(tokens) == meta["models"]["mixed: f1_lobanov"]["n_obs"] > 0
    assert set(tokens["speaker_id"]) <= set(structure["speaker_id"])
    assert tokens[["f1_lobanov", "f2_lobanov"]].notna().all().all()
    # every model either ran or says why not
    assert all(isinstance(v, dict) or v.startswith("skipped: ") for v in meta["models"].values())


def test_reference_analysis_is_reproducible(store: Path):
    st = Store(store)
    speakers, vowels = st.read_table("speakers"), st.read_table("vowels")
    a = reference_analysis(speakers, vowels, n_permutations=99, random_state=4)
    b = reference_analysis(speakers, vowels, n_permutations=99, random_state=4)
    pd.testing.assert_frame_equal(a.associations, b.associations)
    np.testing.assert_array_equal(a.structure.labels_, b.structure.labels_)


def test_missing_profile_value_leaves_the_speaker_out_of_that_variable_only(store: Path):
    st = Store(store)
    speakers = st.read_table("speakers")
    speakers["education"] = speakers["education"].astype(object)
    speakers.loc[0, "education"] = None
    table = reference_analysis(speakers, st.read_table("vowels"), n_permutations=19).associations
    assert (table.loc[table["variable"] == "education", "n_speakers"] == 5).all()
    assert (table.loc[table["variable"] == "gender", "n_speakers"] == 6).all()


def test_fit_without_speakers_table_is_bad_input(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "no speakers table" in result.output


def test_fit_with_too_few_consented_speakers_is_bad_input(store: Path):
    st = Store(store)
    speakers = st.read_table("speakers")
    speakers.loc[0, "consent"] = False
    st.write_table("speakers", speakers)
    with pytest.raises(FitInputError, match="5 consented speaker"):
        fit_store(store, n_permutations=9)
    result = CliRunner().invoke(app, ["fit", str(store), "--permutations", "9"])
    assert result.exit_code == 2
    assert "at least 6" in result.output
    assert not (store / "models").exists()


def test_cli_fit_prints_a_summary_and_writes_the_results(store: Path):
    result = CliRunner().invoke(app, ["fit", str(store), "--permutations", "9", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "Fitted 6 speakers" in result.output and "association tests" in result.output
    meta = json.loads((store / "models" / "fit.json").read_text())
    assert meta["settings"]["seed"] == 2 and meta["settings"]["n_permutations"] == 9
    assert (store / "models" / "associations.parquet").is_file()
