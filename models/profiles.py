"""Speaker profiles for modelling: ordered education, regions, explicit missing values.

:func:`speaker_profiles` turns the profile columns of the store's ``speakers``
table into analysable variables; :func:`profile_variables` says which of them
can be tested and how (binary, nominal, ordinal or numeric).

Missing values
--------------
A missing answer stays missing (``<NA>``): nothing is imputed, because a
speaker who did not state an education level is not a typical speaker of any
level. Each association test uses the speakers with a value for the variable
tested and reports how many it used (``n_speakers``); a speaker lacking one
variable still counts in the tests of the others. :func:`missing_counts`
gives the count per variable.

Regions
-------
Countries are grouped into dialect regions, by default the five macro-regions of
the reference study (after Lipski 1994 and Moreno-Fernández 2009: Spain, Mexico
and Central America, the Caribbean, the Southern Cone, the Andes). A country
missing from the mapping falls in ``"other"`` (it is not dropped, and not
guessed); a missing country gives a missing region.

References
----------
Lipski, J. M. (1994). Latin American Spanish. London: Longman.
Moreno-Fernández, F. (2009). La lengua española en su geografía. Madrid: Arco/Libros.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib.resources import files

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_REGIONS",
    "EDUCATION_ORDER",
    "PROFILE_COLUMNS",
    "missing_counts",
    "profile_variables",
    "speaker_profiles",
]

# The vocabulary's one home is the data-only package ``vocabulary`` (corpora reads the
# same file), so models and corpora agree on it without importing each other.
VOCABULARY: dict = tomllib.loads(files("vocabulary").joinpath("profiles.toml").read_text("utf-8"))

EDUCATION_ORDER: tuple[str, ...] = tuple(VOCABULARY["education"]["levels"])

DEFAULT_REGIONS: dict[str, tuple[str, ...]] = {
    region: tuple(codes) for region, codes in VOCABULARY["regions"].items()
}

#: Profile columns carried into the profiles table when the speakers table has them.
PROFILE_COLUMNS: tuple[str, ...] = tuple(
    c for c in VOCABULARY["columns"]["profile"] if c != "speaker_id"
)

#: Variables :func:`profile_variables` considers, in this order.
DEFAULT_VARIABLES: tuple[str, ...] = (
    "gender", "age", "region", "education", "student", "main_income", "income_band",
)  # fmt: skip

_YES = frozenset(VOCABULARY["yes_no"]["yes"])
_NO = frozenset(VOCABULARY["yes_no"]["no"])
_GENDER = {spelling: code for code, spellings in VOCABULARY["gender"].items()
           for spelling in spellings}
# "<250", "250-500", "1000-2000", ">2000", "2000+": income bands that order themselves.
_BAND = re.compile(r"^\s*(?:[<>]\s*)?(\d+(?:[.,]\d+)?)\s*(?:[-–]\s*\d+(?:[.,]\d+)?|\+)?\s*$")


def _country_regions(regions: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for region, countries in regions.items():
        if isinstance(countries, str):
            raise TypeError(f"region {region!r}: give a sequence of country codes, "
                            f"not the string {countries!r}")
        for code in countries:
            code_up = str(code).strip().upper()
            if code_up in lookup and lookup[code_up] != region:
                raise ValueError(f"country {code_up!r} is in two regions: "
                                 f"{lookup[code_up]!r} and {region!r}")
            lookup[code_up] = region
    return lookup


def _education(values: pd.Series) -> pd.Categorical:
    text = values.astype("string").str.strip().str.lower()
    bad = sorted(set(text.dropna()) - set(EDUCATION_ORDER))
    if bad:
        raise ValueError(f"unknown education level(s) {bad}; use one of "
                         f"{', '.join(EDUCATION_ORDER)} (or leave the value missing)")
    return pd.Categorical(text.to_numpy(dtype=object, na_value=None),
                          categories=EDUCATION_ORDER, ordered=True)


def _gender(values: pd.Series) -> pd.Series:
    """Gender codes F / M / X from any spelling of the vocabulary (e.g. "mujer", "male")."""
    text = values.astype("string").str.strip().str.lower()
    bad = sorted(set(text.dropna()) - set(_GENDER))
    if bad:
        raise ValueError(f"unknown gender value(s) {bad}; use F, M or X "
                         "(or leave the value missing)")
    return text.map(_GENDER, na_action="ignore").astype("string")


def _boolean(values: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values.dtype):
        bad = sorted(set(values.dropna()) - {0, 1})
        if bad:
            raise ValueError(f"column {name!r} must be yes/no; got {bad}")
        return values.astype("Float64").astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    bad = sorted(set(text.dropna()) - _YES - _NO)
    if bad:
        raise ValueError(f"column {name!r} must be yes/no (true/false, yes/no, si/no, t/f, "
                         f"1/0); got {bad}")
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_YES).fillna(False)] = True
    out[text.isin(_NO).fillna(False)] = False
    return out


def _income_band(values: pd.Series) -> pd.Series | pd.Categorical:
    """Ordered when it already is, or when every label is a numeric band."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values
    text = values.astype("string").str.strip()
    labels = list(pd.unique(text.dropna()))
    keys = {}
    for label in labels:
        match = _BAND.match(label)
        if match is None:
            return text
        bound = float(match.group(1).replace(",", "."))
        # "<250" sorts before "250-500", ">2000" after "1000-2000".
        keys[label] = (bound, 0 if label.lstrip().startswith("<") else 1)
    if len(labels) < 2:
        return text
    order = sorted(labels, key=keys.__getitem__)
    return pd.Series(pd.Categorical(text.to_numpy(dtype=object, na_value=None),
                                    categories=order, ordered=True), index=values.index)


def speaker_profiles(
    speakers: pd.DataFrame,
    *,
    regions: Mapping[str, tuple[str, ...]] | None = DEFAULT_REGIONS,
) -> pd.DataFrame:
    """One analysable profile row per speaker.

    Parameters
    ----------
    speakers : pd.DataFrame
        The store's ``speakers`` table (or any table with ``speaker_id`` and
        some of :data:`PROFILE_COLUMNS`); other columns (features) are ignored.
    regions : mapping of str to tuple of str, optional
        Region name -> ISO 3166-1 alpha-2 country codes (any case). A country in
        no region gets ``"other"``. Default :data:`DEFAULT_REGIONS`; None means
        the default too.

    Returns
    -------
    pd.DataFrame
        Index 0..n-1, one row per speaker in input order: ``speaker_id``,
        ``gender`` (string F / M / X), ``age`` (Float64), ``country`` (upper-case
        string), ``region`` (string), ``education`` (ordered Categorical over
        :data:`EDUCATION_ORDER`), ``education_rank`` (Int64, 0 = secondary ..
        3 = master_phd), ``student`` and ``main_income`` (nullable boolean),
        ``income_band`` (ordered Categorical when its labels are numeric bands),
        and the other profile columns present. Missing values stay ``<NA>``.

    Raises
    ------
    ValueError
        If ``speaker_id`` is missing or duplicated, an education level or a
        gender is unknown (the message names it), a yes/no column holds another value,
        or a country is mapped to two regions.
    """
    if not isinstance(speakers, pd.DataFrame):
        raise TypeError(f"speaker_profiles takes a DataFrame, got {type(speakers).__name__}")
    if "speaker_id" not in speakers.columns:
        raise ValueError(f"speakers lack a 'speaker_id' column; they have {list(speakers.columns)}")
    ids = speakers["speaker_id"].astype("string")
    if ids.isna().any():
        raise ValueError(f"{int(ids.isna().sum())} speaker(s) have no speaker_id")
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        raise ValueError(f"speaker_id values are not unique: {duplicated[:10]}")
    lookup = _country_regions(DEFAULT_REGIONS if regions is None else regions)

    out = pd.DataFrame({"speaker_id": ids.to_numpy(dtype=object)})
    if "gender" in speakers:
        out["gender"] = _gender(speakers["gender"]).to_numpy()
        out["gender"] = out["gender"].astype("string")
    if "age" in speakers:
        age = pd.to_numeric(speakers["age"], errors="raise").astype("Float64")
        out["age"] = age.reset_index(drop=True)
    if "country" in speakers:
        country = speakers["country"].astype("string").str.strip().str.upper()
        out["country"] = country.to_numpy()
        out["country"] = out["country"].astype("string")
        region = country.map(lambda c: lookup.get(c, "other"), na_action="ignore")
        out["region"] = pd.array(region.to_numpy(dtype=object, na_value=None), dtype="string")
    if "education" in speakers:
        education = _education(speakers["education"])
        out["education"] = education
        codes = np.asarray(education.codes, dtype=float)
        out["education_rank"] = pd.array(np.where(codes < 0, np.nan, codes)).astype("Int64")
    for name in ("student", "main_income", "consent"):
        if name in speakers:
            out[name] = _boolean(speakers[name], name).to_numpy()
            out[name] = out[name].astype("boolean")
    if "income_band" in speakers:
        band = _income_band(speakers["income_band"])
        out["income_band"] = band.set_axis(out.index) if isinstance(band, pd.Series) else band
    for name in ("languages", "field", "platforms"):
        if name in speakers:
            values = speakers[name].astype("string").str.strip()
            # An empty answer is a missing answer, not a category of its own.
            out[name] = values.mask(values.eq("")).set_axis(out.index)
    return out


def profile_variables(
    profiles: pd.DataFrame, *, variables: tuple[str, ...] = DEFAULT_VARIABLES
) -> dict[str, str]:
    """The analysable profile variables and their kind.

    Parameters
    ----------
    profiles : pd.DataFrame
        Output of :func:`speaker_profiles`.
    variables : tuple of str
        Candidate columns, in the order wanted.

    Returns
    -------
    dict of str to str
        Variable -> ``"binary"`` (two observed values), ``"nominal"``
        (unordered, three or more), ``"ordinal"`` (ordered categorical) or
        ``"numeric"``. A candidate absent from ``profiles`` or with fewer than
        two distinct observed values (nothing to compare) is left out.
    """
    kinds: dict[str, str] = {}
    for name in variables:
        if name not in profiles.columns:
            continue
        column = profiles[name]
        observed = column.dropna()
        if observed.nunique() < 2:
            continue
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            kinds[name] = "ordinal"
        elif pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "binary"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[name] = "numeric"
        elif observed.nunique() == 2:
            kinds[name] = "binary"
        else:
            kinds[name] = "nominal"
    return kinds


def missing_counts(profiles: pd.DataFrame, variables: Mapping[str, str] | None = None) -> dict:
    """Number of speakers with a missing value, per variable (all columns by default)."""
    names = list(variables) if variables is not None else list(profiles.columns)
    return {name: int(profiles[name].isna().sum()) for name in names}
