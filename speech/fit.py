"""``speech-profile fit STORE``: the sociolinguistic models, written under ``STORE/models/``.

Reads the store's ``speakers`` and ``vowels`` tables, keeps the consented
speakers, and runs

1. the reference analysis (:func:`reference_analysis`): speaker profiles
   (:mod:`models.profiles`), the speaker x feature matrix
   (:mod:`models.speaker_features`), PCA and Ward clustering
   (:mod:`models.structure`) and the association of every feature, component and
   the cluster labels with every profile variable (:mod:`models.associations`);
2. token-level mixed models of Lobanov-normalised F1 and F2 (vowel x education
   rank + gender, random intercepts per speaker, a variance component per word
   when the vowels table has ``word_id``) and speaker-level regressions with
   robust errors (:mod:`models.regression`); the normalised tokens those mixed
   models rest on are written as ``vowel_tokens.parquet`` (speaker_id, vowel,
   f1_lobanov, f2_lobanov), from which the report draws its vowel charts;
3. prediction of education, region, gender and main income from the speech
   features under speaker-grouped cross-validation (:mod:`models.prediction`).

Every output is a Parquet file (or ``fit.json``) written under a temporary name
and renamed into place; the file list and columns are the contract read by the
report (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models.associations import associations
from models.profiles import DEFAULT_REGIONS, missing_counts, profile_variables, speaker_profiles
from models.regression import lobanov_tokens
from models.speaker_features import DEFAULT_FEATURES, clean_vowel_tokens, speaker_feature_matrix
from models.structure import SpeakerStructure
from speech import __version__
from speech.store import Store, _atomic_write_bytes, fingerprint

__all__ = ["MIN_SPEAKERS", "FitInputError", "ReferenceAnalysis", "fit_store", "reference_analysis"]

MIN_SPEAKERS = 6
MODELS_DIR = "models"
EFFECT_COLUMNS = ("model", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value",
                  "effect_size", "n_speakers", "n_obs")
#: Targets of the prediction models (those the profiles have are used).
PREDICTION_TARGETS = ("education", "region", "gender", "main_income")
#: Speaker-level regressions: response -> predictors (those present are used).
SPEAKER_REGRESSIONS = {
    "vowel_reduction_index": ("education_rank", "gender", "age"),
    "articulation_rate_syll_s": ("region", "gender", "age"),
}
MIXED_RESPONSES = ("f1_lobanov", "f2_lobanov")
#: ``vowel_tokens.parquet``: the tokens the mixed models were fitted on (the report's
#: vowel charts draw exactly these).
VOWEL_TOKEN_COLUMNS = ("speaker_id", "vowel", "f1_lobanov", "f2_lobanov")
#: Covariates of the adjusted association tests: the demographic core of the design.
ADJUST_FOR = ("gender", "age", "region", "education")


class FitInputError(ValueError):
    """The store cannot be fitted (no speakers table, too few speakers): bad input, exit 2."""


@dataclass
class ReferenceAnalysis:
    """Everything the reference analysis computed, in memory."""

    profiles: pd.DataFrame            # consented speakers with features, one row each
    variables: dict[str, str]         # profile variable -> kind
    features: pd.DataFrame            # speaker_id + unstandardised features used
    dropped: dict[str, str]           # feature left out -> reason
    structure: SpeakerStructure
    associations: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> n speakers


def _consented(speakers: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    if "consent" not in speakers.columns:
        return speakers, 0
    # Missing consent is no consent (docs/architecture.md): such a speaker is never analysed.
    ok = speakers["consent"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return speakers[ok].reset_index(drop=True), int((~ok).sum())


def reference_analysis(
    speakers: pd.DataFrame,
    vowels: pd.DataFrame | None,
    *,
    regions: Mapping[str, tuple[str, ...]] | None = None,
    random_state: int = 0,
    n_permutations: int = 9999,
    features: tuple[str, ...] = DEFAULT_FEATURES,
) -> ReferenceAnalysis:
    """Profiles, features, PCA + Ward clustering and associations of a speakers table.

    Parameters
    ----------
    speakers, vowels : pd.DataFrame
        The store's tables (vowels may be None or empty: no vowel means).
    regions : mapping, optional
        Country grouping (default :data:`models.profiles.DEFAULT_REGIONS`).
    random_state, n_permutations
        Seed and B of the permutation tests.
    features : tuple of str
        Passed to :func:`models.speaker_features.speaker_feature_matrix`.

    Raises
    ------
    FitInputError
        Fewer than :data:`MIN_SPEAKERS` consented speakers with any feature.
    """
    if speakers is None or speakers.empty:
        raise FitInputError("the store has no speakers table: run `speech-profile extract` first")
    consented, n_refused = _consented(speakers)
    profiles = speaker_profiles(consented, regions=regions)
    matrix = speaker_feature_matrix(consented, vowels, features=features)
    dropped = dict(matrix.attrs.get("dropped", {}))
    values = matrix.drop(columns="speaker_id")
    has_any = values.notna().any(axis=1).to_numpy() if values.shape[1] else np.zeros(len(matrix),
                                                                                     dtype=bool)
    n_ok = int(has_any.sum())
    if n_ok < MIN_SPEAKERS:
        raise FitInputError(
            f"{n_ok} consented speaker(s) with features; the models need at least "
            f"{MIN_SPEAKERS} ({n_refused} without consent, {len(consented) - n_ok} "
            "consented without any feature)")
    matrix = matrix[has_any].reset_index(drop=True)
    matrix.attrs["dropped"] = dropped
    profiles = profiles.set_index("speaker_id").loc[matrix["speaker_id"]].reset_index()
    variables = profile_variables(profiles)

    structure = SpeakerStructure(random_state=random_state).fit(matrix)
    scores = structure.scores_.reset_index(drop=True)
    tested = pd.concat([matrix, scores], axis=1)
    tested["cluster"] = structure.labels_
    # Each continuous feature x variable test is adjusted for the design's demographic
    # core (a null variable unbalanced over region or education otherwise shows their
    # effects); adjusting for every survey column as well spends the few dozen speakers'
    # degrees of freedom for nothing. The reference study's plain tests stay as
    # p_marginal, q_marginal.
    table = associations(tested, profiles, variables, n_permutations=n_permutations,
                         random_state=random_state, adjust=ADJUST_FOR)
    return ReferenceAnalysis(
        profiles=profiles, variables=variables, features=matrix, dropped=dropped,
        structure=structure, associations=table,
        excluded={"no_consent": n_refused, "no_features": int(len(has_any) - n_ok)},
    )  # fmt: skip


# ---------------------------------------------------------------------------- models
def vowel_tokens(vowels: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Clean labelled tokens of the analysed speakers with Lobanov F1, F2 and the profile.

    Columns: speaker_id, vowel, f1_lobanov, f2_lobanov, education_rank (float),
    gender (str), word_id when the store has it. Tokens of speakers whose
    education or gender is missing are left out (the model needs both).
    """
    own = vowels[vowels["speaker_id"].astype(str).isin(set(profiles["speaker_id"]))]
    tokens = lobanov_tokens(clean_vowel_tokens(own), min_tokens=1)
    keep = ["speaker_id", "vowel", *(["word_id"] if "word_id" in tokens.columns else []),
            "f1_lobanov", "f2_lobanov"]
    out = tokens[keep].reset_index(drop=True)
    profile = pd.DataFrame({
        "speaker_id": profiles["speaker_id"].astype(str).to_numpy(),
        "education_rank": profiles["education_rank"].astype("Float64").to_numpy(
            dtype=float, na_value=np.nan) if "education_rank" in profiles else np.nan,
        "gender": profiles["gender"].astype(object).to_numpy() if "gender" in profiles
        else None,
    })  # fmt: skip
    out = out.merge(profile, on="speaker_id", how="inner")
    out = out[out["education_rank"].notna() & out["gender"].notna()]
    if "word_id" in out.columns:
        out = out[out["word_id"].notna()]
    out["gender"] = out["gender"].astype(str)
    return out.reset_index(drop=True)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Numpy dtypes (float, object) for statsmodels formulas and scikit-learn."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = frame[name]
        if name == "speaker_id":
            out[name] = column.astype(str).to_numpy(dtype=object)
        elif isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
                column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            out[name] = column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
        else:
            out[name] = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return out


def _effects(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    rows = rows.copy()
    # One naming scheme for every model ("mixed: f1_lobanov", "ols: ..."): the report keys on it.
    rows["model"] = model
    missing = [c for c in EFFECT_COLUMNS if c not in rows.columns]
    if missing:
        raise RuntimeError(f"{model}: the model's rows lack contract column(s) {missing}")
    return rows[[*EFFECT_COLUMNS, *(c for c in rows.columns if c not in EFFECT_COLUMNS)]]


def _regression_effects(analysis: ReferenceAnalysis, tokens: pd.DataFrame | None,
                        random_state: int, log: dict[str, Any]) -> pd.DataFrame:
    from models.regression import mixed_vowel_model, speaker_regression

    parts = []
    if tokens is not None:
        has_gender = tokens["gender"].nunique() >= 2
        fixed = "C(vowel) * education_rank" + (" + C(gender)" if has_gender else "")
        components = {"word": "0 + C(word_id)"} if "word_id" in tokens.columns else None
        for response in MIXED_RESPONSES:
            name = f"mixed: {response}"
            try:
                rows = mixed_vowel_model(tokens, response=response, fixed=fixed,
                                         variance_components=components)
            except ValueError as e:  # e.g. too few speakers: recorded, the others go on
                log[name] = f"skipped: {e}"
                continue
            parts.append(_effects(rows, name))
            log[name] = {"fixed": fixed, "variance_components": components,
                         "n_obs": len(tokens)}
    speakers = analysis.profiles.merge(analysis.features, on="speaker_id", how="inner")
    for response, candidates in SPEAKER_REGRESSIONS.items():
        if response not in speakers.columns:
            log[f"ols: {response}"] = "skipped: the feature is not in the store"
            continue
        predictors = [p for p in candidates
                      if p in speakers.columns and speakers[p].dropna().nunique() >= 2]
        frame = _plain(speakers[["speaker_id", response, *predictors]]).dropna()
        name = f"ols: {response}"
        try:
            rows = speaker_regression(frame, response, predictors, random_state=random_state)
        except ValueError as e:  # e.g. more coefficients than speakers: recorded, go on
            log[name] = f"skipped: {e}"
            continue
        parts.append(_effects(rows, name))
        log[name] = {"predictors": predictors, "n_speakers": len(frame)}
    if not parts:
        return pd.DataFrame(columns=list(EFFECT_COLUMNS))
    return pd.concat(parts, ignore_index=True)


#: The linear models only: each permutation refits every fold, and a random forest
#: made that step ~50x slower (14 min on 40 speakers) for no gain at this sample size.
PREDICTION_MODELS = ("logistic", "ridge")


def _predictions(analysis: ReferenceAnalysis, n_permutations: int,
                 random_state: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from models.prediction import predict_profiles

    targets = {t: analysis.variables[t] for t in PREDICTION_TARGETS if t in analysis.variables}
    profiles = analysis.profiles[["speaker_id", *targets]]
    return predict_profiles(analysis.features, profiles, targets,
                            n_permutations=n_permutations, random_state=random_state,
                            models=PREDICTION_MODELS)


# ---------------------------------------------------------------------------- writing
def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    _atomic_write_bytes(path, lambda tmp: pq.write_table(table, tmp))


def _write_json(path: Path, payload: Mapping[str, Any]) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
    _atomic_write_bytes(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _tables_fingerprint(root: Path, tables: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for table in tables:
        for part in sorted((root / table).rglob("*.parquet")):
            if part.name.startswith("."):
                continue
            digest.update(str(part.relative_to(root)).encode())
            digest.update(fingerprint(part).encode())
    return f"sha256:{digest.hexdigest()}"


def structure_tables(analysis: ReferenceAnalysis) -> dict[str, pd.DataFrame]:
    """The PCA and clustering outputs as the contract's tables (file stem -> frame)."""
    st = analysis.structure
    names = list(st.component_names_)
    scores = st.scores_.reset_index(drop=True)
    structure = pd.concat([analysis.features[["speaker_id"]], scores], axis=1)
    structure["cluster"] = st.labels_.astype("int64")
    link = pd.DataFrame(st.linkage_, columns=["left", "right", "distance", "size"])
    link = link.astype({"left": "int64", "right": "int64", "size": "int64"})
    return {
        "pca_variance": pd.DataFrame({
            "component": names, "explained_variance_ratio": st.explained_variance_ratio_,
            "eigenvalue": st.eigenvalues_[: len(names)]}),
        "pca_loadings": st.loadings_.reset_index(),
        "speaker_structure": structure,
        "linkage": link,
        "silhouette": pd.DataFrame({"n_clusters": list(st.silhouette_),
                                    "silhouette": list(st.silhouette_.values())}),
    }  # fmt: skip


def fit_store(
    store: str | Path,
    *,
    random_state: int = 0,
    n_permutations: int = 9999,
    regions: Mapping[str, tuple[str, ...]] | None = None,
    progress: Callable[[str], None] | None = None,
    n_prediction_permutations: int | None = None,
) -> Path:
    """Fit every model on a store and write the results under ``STORE/models/``.

    Parameters
    ----------
    store : str or Path
        A store written by ``speech-profile extract``.
    random_state : int
        Seed of every random step (permutations, bootstrap, cross-validation).
    n_permutations : int
        B of the association permutation tests.
    regions : mapping, optional
        Country grouping (default :data:`models.profiles.DEFAULT_REGIONS`).
    progress : callable, optional
        Called with the name of each step as it starts.
    n_prediction_permutations : int, optional
        Permutations of the prediction tests (each refits every cross-validation
        fold, so far fewer than for the rank tests); default ``min(n_permutations, 200)``.

    Returns
    -------
    Path
        ``STORE/models``.

    Raises
    ------
    FitInputError
        No speakers table, or fewer than :data:`MIN_SPEAKERS` consented speakers with features.
    """
    root = Path(store)
    say = progress or (lambda step: None)
    say("reading the store")
    st = Store(root)
    speakers = st.read_table("speakers") if root.is_dir() else pd.DataFrame()
    if speakers.empty:
        raise FitInputError(f"{root}: no speakers table; run `speech-profile extract` first")
    vowels = st.read_table("vowels")
    out = root / MODELS_DIR
    regions = dict(DEFAULT_REGIONS if regions is None else regions)

    say("profiles, features, PCA, clustering, associations")
    analysis = reference_analysis(speakers, vowels, regions=regions, random_state=random_state,
                                  n_permutations=n_permutations)
    say("mixed-effects and speaker regressions")
    models_log: dict[str, Any] = {}
    # One token set for the mixed models and the report's vowel charts (written below).
    tokens = (vowel_tokens(vowels, analysis.profiles) if vowels is not None and not vowels.empty
              else None)
    effects = _regression_effects(analysis, tokens, random_state, models_log)
    say("prediction under speaker-grouped cross-validation")
    prediction_permutations = (min(int(n_permutations), 200) if n_prediction_permutations is None
                               else int(n_prediction_permutations))
    predictions, importances = _predictions(analysis, prediction_permutations, random_state)

    say("writing results")
    tables = {
        "associations": analysis.associations,
        **structure_tables(analysis),
        "effects": effects,
        "predictions": predictions,
        "importances": importances,
        "speaker_features": analysis.features,
        "vowel_tokens": (tokens if tokens is not None else pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("speaker_id", "vowel") else float)
             for c in VOWEL_TOKEN_COLUMNS}))[list(VOWEL_TOKEN_COLUMNS)],
    }
    for name, frame in tables.items():
        _write_parquet(out / f"{name}.parquet", frame)
    manifest = st.read_manifest()
    struct = analysis.structure
    _write_json(out / "fit.json", {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "feature_set_version": manifest.get("feature_set_version"),
        "input_fingerprint": _tables_fingerprint(root, ("speakers", "vowels")),
        "settings": {
            "seed": random_state, "n_permutations": int(n_permutations),
            "prediction_n_permutations": prediction_permutations,
            "prediction_models": list(PREDICTION_MODELS),
            "regions": {k: list(v) for k, v in regions.items()},
            "associations": {
                "adjust_for": list(ADJUST_FOR),
                "method": "feature ranks residualised on the other core variables (Quade "
                          "1967), Freedman-Lane permutation p; cluster tests unadjusted",
                "marginal_columns": ["p_marginal", "q_marginal"],
            },
        },
        "speakers": {"analysed": len(analysis.features), "excluded": analysis.excluded,
                     "missing": missing_counts(analysis.profiles, analysis.variables)},
        "features": {"used": [c for c in analysis.features.columns if c != "speaker_id"],
                     "dropped": analysis.dropped,
                     "imputed": {k: int(v) for k, v in struct.n_imputed_.items() if v}},
        "variables": analysis.variables,
        "structure": {"n_components": len(struct.component_names_),
                      "component_rule": "Kaiser (eigenvalue > 1, at least 2)",
                      "n_clusters": int(struct.n_clusters_),
                      "imputation": "feature median (per feature counts in features.imputed)"},
        "models": models_log,
        "files": sorted(f"{name}.parquet" for name in tables),
    })  # fmt: skip
    return out


def refit_store(store: str | Path) -> Path:
    """Fit ``store`` again with the settings its ``models/fit.json`` recorded (after an
    erasure, say), so that the results differ only by what the store lost."""
    root = Path(store)
    settings = json.loads((root / MODELS_DIR / "fit.json").read_text(encoding="utf-8"))["settings"]
    return fit_store(root, random_state=settings["seed"],
                     n_permutations=settings["n_permutations"],
                     n_prediction_permutations=settings.get("prediction_n_permutations"),
                     regions={k: tuple(v) for k, v in settings["regions"].items()})
