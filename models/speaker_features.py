"""The speaker x feature matrix of the reference analysis.

:func:`normalised_vowel_means` gives each speaker's mean normalised F1 and F2
per vowel (Lobanov z-scores by default: vocal-tract size removed, so that the
means compare speakers of both sexes; Adank et al. 2004 found Lobanov the best
at keeping the sociolinguistic variation while removing the anatomical).
:func:`speaker_feature_matrix` joins them with chosen speaker-level measures of
the ``speakers`` table: vowel reduction and vowel space, timing, F0, voice
quality and coda /s/.

A feature the table lacks, one with no value for any speaker and one constant
across speakers are left out, each with its reason in ``frame.attrs["dropped"]``
(feature -> reason): nothing is dropped silently.

References
----------
Adank, P., Smits, R. & van Hout, R. (2004). A comparison of vowel normalization
procedures for language variation research. JASA 116(5), 3099-3107.
Lobanov, B. M. (1971). Classification of Russian vowels spoken by different speakers.
JASA 49(2B), 606-608.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.normalise import DeltaF, Lobanov, Nearey1, Nearey2, WattFabricius

__all__ = [
    "DEFAULT_FEATURES",
    "NORMALISED_VOWEL_MEANS",
    "NORMALISERS",
    "clean_vowel_tokens",
    "normalised_vowel_means",
    "speaker_feature_matrix",
]

#: Name standing for the normalised vowel means in a ``features`` list.
NORMALISED_VOWEL_MEANS = "normalised_vowel_means"

#: Speaker-level measures of the reference analysis (columns of the speakers table).
DEFAULT_FEATURES: tuple[str, ...] = (
    NORMALISED_VOWEL_MEANS,
    "vowel_reduction_index",      # distance of tokens from their peripheral targets (Hz)
    "vowel_dispersion_f3_ratio",  # vowel-space dispersion over median F3 (size-free)
    "vowel_fcr",                  # formant centralisation ratio (Sapir et al. 2010)
    "articulation_rate_syll_s",
    "speech_rate_syll_s",
    "pause_rate_per_min",
    "f0_median_st",
    "f0_sd_st",
    "jitter_local_pct",
    "shimmer_local_pct",
    "hnr_db",
    "cpps_median_db",
    "coda_s_aspirated_ratio",
)  # fmt: skip

#: normaliser name -> (class, column suffix). Label-free and labelled methods.
NORMALISERS = {
    "lobanov": (Lobanov, "lobanov"),
    "nearey1": (Nearey1, "nearey1"),
    "nearey2": (Nearey2, "nearey2"),
    "watt_fabricius": (WattFabricius, "wf"),
    "delta_f": (DeltaF, "deltaf"),
}


def clean_vowel_tokens(vowels: pd.DataFrame) -> pd.DataFrame:
    """Labelled tokens that passed the quality checks and have F1 and F2.

    ``qc`` empty (or missing) means no flag was raised (short, merger, silent).
    """
    needed = ["speaker_id", "vowel", "f1_hz", "f2_hz"]
    missing = [c for c in needed if c not in vowels.columns]
    if missing:
        raise ValueError(f"vowels lack column(s) {missing}; they have {list(vowels.columns)}")
    ok = vowels["vowel"].notna() & vowels["f1_hz"].notna() & vowels["f2_hz"].notna()
    if "qc" in vowels.columns:
        ok &= vowels["qc"].fillna("").astype(str).str.strip().eq("")
    out = vowels[ok.to_numpy()].copy()
    out["vowel"] = out["vowel"].astype(str)
    out["speaker_id"] = out["speaker_id"].astype(str)
    return out.reset_index(drop=True)


def normalised_vowel_means(
    vowels: pd.DataFrame,
    *,
    normaliser: str = "lobanov",
    min_tokens: int = 3,
    formants: Sequence[str] = ("f1_hz", "f2_hz"),
) -> pd.DataFrame:
    """Each speaker's mean normalised formants per vowel.

    Parameters
    ----------
    vowels : pd.DataFrame
        The store's ``vowels`` table (``speaker_id``, ``vowel``, ``f1_hz``,
        ``f2_hz``, ``qc``...). Only clean labelled tokens are used
        (:func:`clean_vowel_tokens`); each speaker is normalised over all of
        their clean tokens.
    normaliser : str
        One of :data:`NORMALISERS` (``models.normalise``).
    min_tokens : int
        A speaker's mean for a vowel needs at least this many tokens; fewer
        gives NaN (a missing value, not a noisy one).
    formants : sequence of str
        Formant columns (Hz).

    Returns
    -------
    pd.DataFrame
        One row per speaker (sorted): ``speaker_id`` and ``f1_<suffix>_<vowel>``,
        ``f2_<suffix>_<vowel>``... for each vowel of the inventory (sorted), e.g.
        ``f1_lobanov_a``. Units: those of the normaliser (z-scores for Lobanov).
    """
    if normaliser not in NORMALISERS:
        raise ValueError(f"unknown normaliser {normaliser!r}; use one of {sorted(NORMALISERS)}")
    if int(min_tokens) < 1:
        raise ValueError(f"min_tokens must be at least 1, got {min_tokens}")
    tokens = clean_vowel_tokens(vowels)
    cls, suffix = NORMALISERS[normaliser]
    bases = [f.removesuffix("_hz") for f in formants]
    columns = [f"{b}_{suffix}_{v}" for v in sorted(tokens["vowel"].unique()) for b in bases]
    if tokens.empty:
        return pd.DataFrame(columns=["speaker_id", *columns])
    kwargs = {"vowel": "vowel"} if cls is WattFabricius else {}
    model = cls(formants=tuple(formants), **kwargs)
    normalised = model.fit(tokens).transform(tokens)
    normalised.columns = bases
    normalised["speaker_id"] = tokens["speaker_id"].to_numpy()
    normalised["vowel"] = tokens["vowel"].to_numpy()
    grouped = normalised.groupby(["speaker_id", "vowel"], sort=True)
    means = grouped[bases].mean().where(grouped.size().ge(int(min_tokens)), axis=0)
    # unstack keeps the NaN cells that min_tokens made (pivot_table would drop them)
    wide = means.unstack("vowel")  # noqa: PD010
    wide.columns = [f"{b}_{suffix}_{v}" for b, v in wide.columns]
    return wide.reindex(columns=columns).reset_index()


def speaker_feature_matrix(
    speakers: pd.DataFrame,
    vowels: pd.DataFrame | None,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    normaliser: str = "lobanov",
    min_tokens: int = 3,
) -> pd.DataFrame:
    """Speaker x feature matrix: normalised vowel means and speaker-level measures.

    Parameters
    ----------
    speakers : pd.DataFrame
        The store's ``speakers`` table (only these speakers are kept, in this order).
    vowels : pd.DataFrame or None
        The store's ``vowels`` table (interviewers' tokens are ignored), needed
        when ``features`` names :data:`NORMALISED_VOWEL_MEANS`.
    features : sequence of str
        Columns of ``speakers`` and/or :data:`NORMALISED_VOWEL_MEANS`.
    normaliser, min_tokens
        Passed to :func:`normalised_vowel_means`.

    Returns
    -------
    pd.DataFrame
        ``speaker_id`` + one float column per feature kept (unstandardised, NaN
        where a speaker lacks the measure). ``attrs["dropped"]`` maps each
        feature left out to the reason.
    """
    if "speaker_id" not in speakers.columns:
        raise ValueError("speakers lack a 'speaker_id' column")
    ids = speakers["speaker_id"].astype(str)
    out = pd.DataFrame({"speaker_id": ids.to_numpy()})
    dropped: dict[str, str] = {}
    for name in features:
        if name == NORMALISED_VOWEL_MEANS:
            if vowels is None or vowels.empty:
                dropped[name] = "the store has no vowels table"
                continue
            own = vowels[vowels["speaker_id"].astype(str).isin(set(ids))]
            means = normalised_vowel_means(own, normaliser=normaliser, min_tokens=min_tokens)
            if means.shape[1] <= 1:
                dropped[name] = "no clean labelled vowel tokens"
                continue
            out = out.merge(means, on="speaker_id", how="left")
        elif name not in speakers.columns:
            dropped[name] = "not a column of the speakers table"
        else:
            values = pd.to_numeric(speakers[name], errors="raise").astype(float).to_numpy()
            out[name] = values
    for name in [c for c in out.columns if c != "speaker_id"]:
        values = out[name].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(values).all():
            dropped[name] = "no value for any speaker"
        elif np.nanmax(values) == np.nanmin(values):
            dropped[name] = "constant across speakers"
        else:
            out[name] = values
            continue
        out = out.drop(columns=name)
    out.attrs["dropped"] = dropped
    return out
