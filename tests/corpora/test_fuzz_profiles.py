"""Property tests for the profile validator: any table of strings, and any bytes as a
speakers.csv, give a validated table or a CorpusError naming the file (never another
exception); valid profiles written by pandas read back with the same values."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpora.problems import CorpusError
from corpora.profiles import EDUCATION_LEVELS, PROFILE_COLUMNS, read_speakers, validate_speakers

FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# Cells that reach every branch: valid values, near misses, personal data, empties.
_CELLS = st.one_of(
    st.sampled_from([
        "", " ", "S001", "S 01", "F", "mujer", "q", "31", "13", "31.5", "1e3", "nan", "ES",
        "es", "XX", "bachelor", "Bachelor", "phd", "true", "sí", "maybe", "en;pt", "en;zz",
        "500-1000", "ana@example.com", "+34 600 123 456", "María Pérez", "Appen;Toloka",
        "\ufeff", "🙂", "0", "-1",
    ]),
    st.text(max_size=12),
)
_HEADERS = st.sampled_from([*PROFILE_COLUMNS, "name", "email", "dialect", "", "speaker_id "])


@settings(max_examples=80, deadline=None)
@given(columns=st.lists(_HEADERS, min_size=1, max_size=6), data=st.data())
def test_validate_speakers_raises_only_corpus_error(columns, data):
    n_rows = data.draw(st.integers(0, 5))
    cells = [[data.draw(_CELLS) for _ in columns] for _ in range(n_rows)]
    raw = pd.DataFrame(cells, columns=columns, dtype=object)
    try:
        table = validate_speakers(raw)
    except CorpusError as e:
        assert all(p.path == "speakers.csv" for p in e.problems)
        return
    assert table["speaker_id"].is_unique
    assert table["consent"].dtype == bool
    assert len(table) == n_rows


@FUZZ
@given(data=st.one_of(st.binary(max_size=300),
                      st.lists(st.one_of(_CELLS, st.sampled_from([",", "\n", "\r\n", '"'])),
                               max_size=40).map(lambda xs: "".join(xs).encode())))
def test_read_speakers_on_arbitrary_bytes_raises_only_corpus_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speakers.csv"
        path.write_bytes(b"speaker_id,gender,age\n" + data if data[:1].isalpha() else data)
        try:
            read_speakers(path, name="speakers.csv")
        except CorpusError as e:
            assert all(p.path == "speakers.csv" for p in e.problems)


_PROFILES = st.fixed_dictionaries({
    "gender": st.sampled_from(["F", "M", "X"]),
    "age": st.integers(14, 100),
    "country": st.sampled_from(["ES", "MX", "VE", "AR", "CO"]),
    "education": st.sampled_from(EDUCATION_LEVELS),
    "student": st.booleans(),
    "consent": st.booleans(),
    "languages": st.sampled_from(["", "en", "en;pt", "fr;de;it"]),
    "dialect_score": st.integers(-5, 5),
})


@FUZZ
@given(profiles=st.lists(_PROFILES, min_size=1, max_size=6), bom=st.booleans(),
       crlf=st.booleans())
def test_valid_profiles_round_trip_through_pandas(profiles, bom, crlf):
    frame = pd.DataFrame(profiles)
    frame.insert(0, "speaker_id", [f"S{i:03d}" for i in range(len(frame))])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speakers.csv"
        frame.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8",
                     lineterminator="\r\n" if crlf else "\n")
        table = read_speakers(path)
    assert table["speaker_id"].tolist() == frame["speaker_id"].tolist()
    for c in ("gender", "country", "languages"):
        assert table[c].fillna("").tolist() == frame[c].tolist()
    assert table["age"].tolist() == frame["age"].tolist()
    assert table["education"].astype(str).tolist() == frame["education"].tolist()
    assert table["student"].tolist() == frame["student"].tolist()
    assert table["consent"].tolist() == frame["consent"].tolist()
    assert table["dialect_score"].tolist() == frame["dialect_score"].tolist()  # kept, numeric
