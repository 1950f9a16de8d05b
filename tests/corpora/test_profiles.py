"""speakers.csv: types, codes, ordered education, consent, privacy; every problem reported."""

from pathlib import Path

import pandas as pd
import pytest

from corpora.problems import CorpusError
from corpora.profiles import EDUCATION_LEVELS, read_speakers
from tests.conftest import SPEAKERS_CSV


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "speakers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CorpusError) as info:
        read_speakers(path, name="speakers.csv")
    return [str(p) for p in info.value.problems]


def test_valid_profiles_are_typed(tmp_path):
    table = read_speakers(write(tmp_path, SPEAKERS_CSV))
    assert list(table["speaker_id"]) == ["S01", "S02", "S03"]
    assert table["age"].dtype == "Int64"
    assert list(table["country"]) == ["MX", "ES", "VE"]
    assert isinstance(table["education"].dtype, pd.CategoricalDtype)
    assert table["education"].cat.ordered
    assert list(table["education"].cat.categories) == list(EDUCATION_LEVELS)
    assert table["education"].iloc[1] > table["education"].iloc[0]  # master_phd > bachelor
    assert list(table["consent"]) == [True, True, False]
    assert table["main_income"].tolist() == [True, False, True]


def test_spanish_and_mixed_spellings_are_accepted(tmp_path):
    table = read_speakers(write(tmp_path, (
        "speaker_id,gender,country,consent,student\n"
        "a1,mujer,mx,Sí,no\n"
        "a2,Male,Es,YES,1\n"
    )))
    assert table["gender"].tolist() == ["F", "M"]
    assert table["country"].tolist() == ["MX", "ES"]
    assert table["consent"].tolist() == [True, True]
    assert table["student"].tolist() == [False, True]


def test_missing_consent_means_no_consent(tmp_path):
    table = read_speakers(write(tmp_path, "speaker_id,consent\nA,true\nB,\n"))
    assert table["consent"].tolist() == [True, False]
    table = read_speakers(write(tmp_path, "speaker_id,age\nA,30\n"))
    assert table["consent"].tolist() == [False]


def test_unknown_columns_are_kept_as_covariates(tmp_path):
    path = write(tmp_path, "speaker_id,hours_per_week,device\nA,12,laptop\nB,3.5,\n")
    table = read_speakers(path)
    assert table["hours_per_week"].tolist() == [12.0, 3.5]
    assert table["device"].iloc[0] == "laptop"


def test_every_problem_is_reported_with_line_and_value(tmp_path):
    found = problems_of(write(tmp_path, (
        "speaker_id,gender,age,country,education,consent\n"
        "S01,F,thirty,ES,bachelor,true\n"
        "S02,M,40,XX,college,true\n"
        "S01,F,22,MX,secondary,maybe\n"
    )))
    assert "speakers.csv:2: column 'age': age must be a whole number of years (got 'thirty')" in (
        found
    )
    assert any(p.startswith("speakers.csv:3: column 'country'") and "'XX'" in p for p in found)
    assert any(p.startswith("speakers.csv:3: column 'education'") and "'college'" in p
               for p in found)
    assert any(p.startswith("speakers.csv:4: column 'speaker_id'") and "duplicate" in p
               for p in found)
    assert any(p.startswith("speakers.csv:4: column 'consent'") and "'maybe'" in p for p in found)
    assert len(found) == 5


def test_age_outside_plausible_range(tmp_path):
    found = problems_of(write(tmp_path, "speaker_id,age\nA,7\nB,230\n"))
    assert len(found) == 2 and all("age outside" in p for p in found)


@pytest.mark.parametrize("header", ["email", "Nombre", "full_name", "telefono", "phone"])
def test_personal_data_columns_are_refused(tmp_path, header):
    found = problems_of(write(tmp_path, f"speaker_id,{header}\nS01,x\n"))
    assert any(f"column {header!r}" in p and "personal data" in p for p in found)


def test_email_values_are_refused_and_masked(tmp_path):
    found = problems_of(write(tmp_path, "speaker_id,contact\nS01,maria.perez@example.com\nS02,\n"))
    assert len(found) == 1
    assert "speakers.csv:2: column 'contact'" in found[0] and "e-mail" in found[0]
    assert "maria.perez" not in found[0]  # the error message must not spread the address


@pytest.mark.parametrize("phone", ["+34 612 345 678", "(55) 1234-5678", "+58-412-555-0199"])
def test_phone_values_are_refused(tmp_path, phone):
    found = problems_of(write(tmp_path, f"speaker_id,contact\nS01,{phone}\n"))
    assert "phone number" in found[0]


@pytest.mark.parametrize("value", ["1000-2000", "500-1000", "2024", "12.5"])
def test_numbers_and_ranges_are_not_phone_numbers(tmp_path, value):
    assert len(read_speakers(write(tmp_path, f"speaker_id,band\nS01,{value}\n"))) == 1


def test_name_like_columns_and_ids_are_refused(tmp_path):
    found = problems_of(write(tmp_path, "speaker_id,who\nS01,María Pérez\nS02,Juan Gómez\n"))
    assert any("column 'who'" in p and "names" in p for p in found)
    found = problems_of(write(tmp_path, "speaker_id\nMaría Pérez\n"))
    assert any("pseudonym" in p for p in found)


def test_missing_file_and_missing_id_column(tmp_path):
    assert "required" in problems_of(tmp_path / "speakers.csv")[0]
    assert "speaker_id" in problems_of(write(tmp_path, "id,age\nA,3\n"))[0]


def test_income_bands_order_from_config(tmp_path):
    path = write(tmp_path, "speaker_id,income_band\nA,low\nB,high\nC,huge\n")
    with pytest.raises(CorpusError, match="unknown income band"):
        read_speakers(path, income_bands=["low", "mid", "high"])
    path = write(tmp_path, "speaker_id,income_band\nA,low\nB,high\n")
    table = read_speakers(path, income_bands=["low", "mid", "high"])
    assert table["income_band"].cat.ordered
    assert table["income_band"].cat.codes.tolist() == [0, 2]
