"""The speaker-profile vocabulary has one home (vocabulary/profiles.toml) that corpora and
models both read, without importing each other, and that the package ships."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from corpora import profiles as corpora_profiles
from corpora.synth import profiles as synth_profiles
from models import profiles as models_profiles

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "vocabulary" / "profiles.toml"


def test_corpora_and_models_read_the_same_vocabulary():
    on_disk = tomllib.loads(TOML.read_text(encoding="utf-8"))
    assert corpora_profiles.VOCABULARY == models_profiles.VOCABULARY == on_disk
    assert corpora_profiles.EDUCATION_LEVELS == models_profiles.EDUCATION_ORDER
    assert corpora_profiles.REGIONS == models_profiles.DEFAULT_REGIONS
    assert corpora_profiles.PROFILE_COLUMNS[1:] == models_profiles.PROFILE_COLUMNS


@pytest.mark.parametrize("spelling", sorted(corpora_profiles.YES | corpora_profiles.NO))
def test_every_yes_no_spelling_means_the_same_in_corpora_and_models(spelling):
    for variant in (spelling, spelling.upper(), f" {spelling.title()} "):
        expected = corpora_profiles.parse_bool(variant)
        assert expected is not None
        table = pd.DataFrame({"speaker_id": ["S1"], "student": [variant]})
        assert models_profiles.speaker_profiles(table)["student"].iloc[0] == expected


@pytest.mark.parametrize("spelling", sorted(corpora_profiles.GENDER_CODES))
def test_every_gender_spelling_means_the_same_in_corpora_and_models(spelling):
    raw = pd.DataFrame({"speaker_id": ["S1"], "gender": [spelling.upper()]}, dtype=object)
    from_corpora = corpora_profiles.validate_speakers(raw)["gender"].iloc[0]
    from_models = models_profiles.speaker_profiles(raw)["gender"].iloc[0]
    assert from_corpora == from_models == corpora_profiles.GENDER_CODES[spelling]


def test_models_refuses_what_corpora_refuses():
    with pytest.raises(ValueError, match="'maybe'"):
        models_profiles.speaker_profiles(pd.DataFrame({"speaker_id": ["S1"],
                                                       "student": ["maybe"]}))
    with pytest.raises(ValueError, match="'alien'"):
        models_profiles.speaker_profiles(pd.DataFrame({"speaker_id": ["S1"],
                                                       "gender": ["alien"]}))


def test_the_synthetic_corpus_draws_from_the_vocabulary():
    assert synth_profiles.PROFILE_COLUMNS == corpora_profiles.PROFILE_COLUMNS
    assert synth_profiles.EDUCATION_LEVELS == corpora_profiles.EDUCATION_LEVELS
    assert tuple(synth_profiles.REDUCTION_BY_EDUCATION) == corpora_profiles.EDUCATION_LEVELS
    assert list(synth_profiles.REGIONS) == list(corpora_profiles.REGIONS)
    assert set(synth_profiles.RATE_BY_REGION) == set(corpora_profiles.REGIONS)
    for region, countries in synth_profiles.REGIONS.items():
        # only the surveyed countries, in the vocabulary's order
        assert countries == tuple(c for c in corpora_profiles.REGIONS[region]
                                  if c in synth_profiles.SURVEY_COUNTRIES)
    assert len(synth_profiles.COUNTRY_REGION) == len(synth_profiles.SURVEY_COUNTRIES) == 18


@pytest.mark.parametrize(("package", "other"), [("corpora.profiles", "models"),
                                                ("models.profiles", "corpora")])
def test_neither_package_imports_the_other(package, other):
    code = (f"import sys, {package}; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] == {other!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_the_vocabulary_file_is_shipped():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]
    assert "vocabulary" in setuptools["packages"]["find"]["include"]
    assert "*.toml" in setuptools["package-data"]["vocabulary"]
    assert (ROOT / "vocabulary" / "__init__.py").is_file()
