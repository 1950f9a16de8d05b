"""Speaker profiles: ordered education, regions, explicit missing values."""

from __future__ import annotations

import pandas as pd
import pytest

from models.profiles import (
    DEFAULT_REGIONS,
    EDUCATION_ORDER,
    missing_counts,
    profile_variables,
    speaker_profiles,
)


def speakers_table() -> pd.DataFrame:
    return pd.DataFrame({
        "speaker_id": ["S1", "S2", "S3", "S4", "S5"],
        "gender": ["F", "M", "F", None, "M"],
        "age": pd.array([25, 40, None, 33, 51], dtype="Int64"),
        "country": ["es", "VE", "AR", "FR", None],
        "education": ["master_phd", "secondary", None, "Bachelor ", "short_higher"],
        "student": ["yes", "no", None, "si", "0"],
        "main_income": pd.array([True, False, None, True, False], dtype="boolean"),
        "income_band": [">2000", "<250", "500-1000", None, "250-500"],
        "f0_median_st": [12.0, 3.0, 11.0, 13.0, 2.0],  # a feature: not a profile column
    })  # fmt: skip


def test_education_is_ordered_and_ranked():
    p = speaker_profiles(speakers_table())
    assert list(p["education"].cat.categories) == list(EDUCATION_ORDER)
    assert p["education"].cat.ordered
    # comparisons follow the order, not the alphabet ("bachelor" < "short_higher" in letters)
    below_bachelor = (p["education"] < "bachelor").tolist()
    assert below_bachelor == [False, True, False, False, True]
    assert p["education"].min() == "secondary" and p["education"].max() == "master_phd"
    assert p["education_rank"].dtype == "Int64"
    assert p["education_rank"].tolist()[:2] == [3, 0]
    assert p["education_rank"].iloc[3] == 2  # case and spaces normalised
    assert pd.isna(p["education_rank"].iloc[2])


def test_unknown_education_names_the_value():
    table = speakers_table()
    table.loc[0, "education"] = "college"
    with pytest.raises(ValueError, match="college"):
        speaker_profiles(table)


def test_regions_default_custom_and_other():
    p = speaker_profiles(speakers_table())
    assert p["region"].tolist()[:4] == ["spain", "caribbean", "southern_cone", "other"]
    assert pd.isna(p["region"].iloc[4])  # no country: no region, not "other"
    assert p["country"].iloc[0] == "ES"
    custom = speaker_profiles(speakers_table(), regions={"europe": ("ES", "FR")})
    assert custom["region"].tolist()[:4] == ["europe", "other", "other", "europe"]
    every = [c for codes in DEFAULT_REGIONS.values() for c in codes]
    assert len(every) == len(set(every)) == 20


def test_country_in_two_regions_is_refused():
    with pytest.raises(ValueError, match="'ES'"):
        speaker_profiles(speakers_table(), regions={"a": ("ES",), "b": ("es", "MX")})


def test_missing_values_stay_missing_and_are_counted():
    p = speaker_profiles(speakers_table())
    assert pd.isna(p.loc[2, "age"]) and pd.isna(p.loc[3, "gender"])
    assert p["student"].tolist()[:2] == [True, False]
    assert pd.isna(p.loc[2, "student"]) and p.loc[3, "student"] and not p.loc[4, "student"]
    assert pd.isna(p.loc[2, "main_income"])
    counts = missing_counts(p, profile_variables(p))
    assert counts == {"gender": 1, "age": 1, "region": 1, "education": 1, "student": 1,
                      "main_income": 1, "income_band": 1}
    assert "f0_median_st" not in p.columns


def test_income_bands_order_themselves():
    p = speaker_profiles(speakers_table())
    assert list(p["income_band"].cat.categories) == ["<250", "250-500", "500-1000", ">2000"]
    assert p["income_band"].cat.ordered


def test_variable_kinds():
    p = speaker_profiles(speakers_table())
    assert profile_variables(p) == {
        "gender": "binary", "age": "numeric", "region": "nominal", "education": "ordinal",
        "student": "binary", "main_income": "binary", "income_band": "ordinal",
    }  # fmt: skip
    p.loc[1, "gender"] = "X"
    assert profile_variables(p)["gender"] == "nominal"
    # a variable with a single observed value cannot be tested
    assert "gender" not in profile_variables(p.assign(gender="F"))


def test_bad_yes_no_and_duplicates_are_refused():
    table = speakers_table()
    table.loc[0, "student"] = "maybe"
    with pytest.raises(ValueError, match="maybe"):
        speaker_profiles(table)
    with pytest.raises(ValueError, match="S1"):
        speaker_profiles(pd.concat([speakers_table(), speakers_table().iloc[:1]]))
