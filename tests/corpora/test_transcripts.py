"""Specifications for corpora.transcripts: every format lands in one table; problems name lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from praatio import textgrid
from praatio.data_classes.interval_tier import IntervalTier
from praatio.data_classes.point_tier import PointTier
from pympi.Elan import Eaf

from corpora.problems import CorpusError
from corpora.transcripts import (
    TRANSCRIPT_COLUMNS,
    read_csv_transcript,
    read_eaf,
    read_srt,
    read_textgrid,
    read_transcript,
    read_vtt,
)


def rows(df: pd.DataFrame) -> list[tuple]:
    return list(df.itertuples(index=False, name=None))


def assert_table(df: pd.DataFrame) -> None:
    """The shared contract: exact columns, dtypes, sort order, no blank labels."""
    assert tuple(df.columns) == TRANSCRIPT_COLUMNS
    assert df["start_s"].dtype == "float64"
    assert df["end_s"].dtype == "float64"
    for c in ("speaker", "tier", "level", "label"):
        assert pd.api.types.is_string_dtype(df[c])
    assert df["level"].isin(["words", "phones", "turns"]).all()
    assert (df["label"].str.strip() != "").all()
    order = df.sort_values(["speaker", "level", "start_s"], kind="stable")
    assert order.index.tolist() == list(range(len(df)))


# --------------------------------------------------------------------------- TextGrid


def write_mfa_textgrid(path: Path, fmt: str = "long_textgrid") -> Path:
    tg = textgrid.Textgrid()
    tg.addTier(
        IntervalTier("S01 - words", [(0.0, 0.4, "hola"), (0.4, 0.6, ""), (0.6, 1.0, "casa")], 0, 2)
    )
    tg.addTier(IntervalTier("S01 - phones", [(0.0, 0.1, "o"), (0.1, 0.2, "l")], 0, 2))
    tg.addTier(IntervalTier("INT1 - words", [(1.2, 1.5, "bueno")], 0, 2))
    tg.addTier(IntervalTier("words", [(1.6, 1.9, "sí")], 0, 2))
    tg.addTier(PointTier("events", [(0.5, "cough")], 0, 2))
    tg.save(str(path), format=fmt, includeBlankSpaces=True)
    return path


@pytest.mark.parametrize("fmt", ["long_textgrid", "short_textgrid"])
def test_textgrid_mfa_tiers_give_speaker_and_level(tmp_path, fmt):
    df = read_transcript(write_mfa_textgrid(tmp_path / "a.TextGrid", fmt))
    assert_table(df)
    assert rows(df) == [
        ("", "words", "words", 1.6, 1.9, "sí"),
        ("INT1", "INT1 - words", "words", 1.2, 1.5, "bueno"),
        ("S01", "S01 - phones", "phones", 0.0, 0.1, "o"),
        ("S01", "S01 - phones", "phones", 0.1, 0.2, "l"),
        ("S01", "S01 - words", "words", 0.0, 0.4, "hola"),
        ("S01", "S01 - words", "words", 0.6, 1.0, "casa"),
    ]


def test_textgrid_plain_tiers_are_turns_of_that_speaker(tmp_path):
    tg = textgrid.Textgrid()
    tg.addTier(IntervalTier("S01", [(0.0, 2.0, "pues trabajo en casa")], 0, 5))
    tg.addTier(IntervalTier("INT1", [(1.5, 3.0, "¿y cuántas horas?")], 0, 5))
    path = tmp_path / "b.textgrid"  # extension matched case-insensitively
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)
    df = read_transcript(path)
    assert rows(df) == [
        ("INT1", "INT1", "turns", 1.5, 3.0, "¿y cuántas horas?"),
        ("S01", "S01", "turns", 0.0, 2.0, "pues trabajo en casa"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a textgrid at all\n",
        b'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 2\n'
        b'tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n        class = "IntervalTier"\n'
        b'        name = "S01"\n        xmin = 0\n        xmax = 2\n        intervals: size = 3\n'
        b"        intervals [1]:\n            xmin = 0\n            xm",
    ],
    ids=["garbage", "truncated"],
)
def test_malformed_textgrid_is_a_corpus_error_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.TextGrid"
    path.write_bytes(content)
    with pytest.raises(CorpusError) as err:
        read_textgrid(path)
    assert str(path) in str(err.value)
    assert err.value.__cause__ is not None


def test_truncated_real_textgrid_is_a_corpus_error(tmp_path):
    path = write_mfa_textgrid(tmp_path / "cut.TextGrid")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(CorpusError, match=r"cut\.TextGrid"):
        read_transcript(path)


# --------------------------------------------------------------------------- ELAN


def test_eaf_participant_is_the_speaker_and_ms_become_seconds(tmp_path):
    eaf = Eaf()
    eaf.add_tier("interviewee", part="S01")
    eaf.add_annotation("interviewee", 1000, 2500, "trabajo desde casa")
    eaf.add_annotation("interviewee", 3000, 3500, "  ")  # blank: a pause, dropped
    eaf.add_tier("INT1")  # no participant: the tier name is the speaker
    eaf.add_annotation("INT1", 2000, 3000, "¿desde cuándo?")
    eaf.add_tier("S01 - words", part="S01")
    eaf.add_annotation("S01 - words", 1000, 1400, "trabajo")
    path = tmp_path / "a.eaf"
    eaf.to_file(str(path))

    df = read_transcript(path)
    assert_table(df)
    # pympi's Eaf() starts with a "default" tier, empty here, hence absent
    assert rows(df) == [
        ("INT1", "INT1", "turns", 2.0, 3.0, "¿desde cuándo?"),
        ("S01", "interviewee", "turns", 1.0, 2.5, "trabajo desde casa"),
        ("S01", "S01 - words", "words", 1.0, 1.4, "trabajo"),
    ]


def test_eaf_overlapping_annotations_of_one_participant_are_an_error(tmp_path):
    eaf = Eaf()
    eaf.add_tier("a", part="S01")
    eaf.add_annotation("a", 0, 2000, "uno")
    eaf.add_tier("b", part="S01")
    eaf.add_annotation("b", 1000, 3000, "dos")
    path = tmp_path / "o.eaf"
    eaf.to_file(str(path))
    with pytest.raises(CorpusError, match=r"o\.eaf.*overlap"):
        read_eaf(path)


def test_eaf_garbage_is_a_corpus_error(tmp_path):
    path = tmp_path / "bad.eaf"
    path.write_text("<ANNOTATION_DOCUMENT><TIER", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.eaf"):
        read_eaf(path)


# --------------------------------------------------------------------------- WebVTT / SRT

ZOOM_VTT = """WEBVTT

1
00:00:01.000 --> 00:00:04.500
Ana García: Hola, ¿me oyes bien?

2
00:00:04.000 --> 00:00:06.250
Entrevistadora Uno: Sí, perfectamente.

3
00:00:07.000 --> 00:00:09.000
sin hablante identificado
"""

TEAMS_VTT = """WEBVTT

6f1b9c2a-1
00:00:00.500 --> 00:00:02.000
<v Ana García>Buenos días.</v>

6f1b9c2a-2
00:00:02.000 --> 00:00:03.750
<v Entrevistadora Uno>Buenos días, Ana.</v>
"""


def test_zoom_vtt_speaker_prefix(tmp_path):
    path = tmp_path / "zoom.vtt"
    path.write_text(ZOOM_VTT, encoding="utf-8")
    df = read_transcript(path)
    assert_table(df)
    # overlapping cues of two different speakers are fine
    assert rows(df) == [
        ("", "", "turns", 7.0, 9.0, "sin hablante identificado"),
        ("Ana García", "Ana García", "turns", 1.0, 4.5, "Hola, ¿me oyes bien?"),
        ("Entrevistadora Uno", "Entrevistadora Uno", "turns", 4.0, 6.25, "Sí, perfectamente."),
    ]


def test_teams_vtt_voice_spans(tmp_path):
    path = tmp_path / "teams.VTT"
    path.write_text(TEAMS_VTT, encoding="utf-8")
    df = read_transcript(path)
    assert rows(df) == [
        ("Ana García", "Ana García", "turns", 0.5, 2.0, "Buenos días."),
        ("Entrevistadora Uno", "Entrevistadora Uno", "turns", 2.0, 3.75, "Buenos días, Ana."),
    ]


def test_speakers_mapping_replaces_real_names_everywhere(tmp_path):
    path = tmp_path / "teams.vtt"
    path.write_text(TEAMS_VTT, encoding="utf-8")
    df = read_vtt(path, speakers={"Ana García": "S01", "Entrevistadora Uno": "INT1"})
    assert rows(df) == [
        ("INT1", "INT1", "turns", 2.0, 3.75, "Buenos días, Ana."),
        ("S01", "S01", "turns", 0.5, 2.0, "Buenos días."),
    ]
    assert not df[["speaker", "tier"]].isin(["Ana García", "Entrevistadora Uno"]).any().any()


def test_speakers_mapping_renames_mfa_tier_names(tmp_path):
    df = read_textgrid(
        write_mfa_textgrid(tmp_path / "a.TextGrid"), speakers={"S01": "P7", "INT1": "I1"}
    )
    assert set(df["speaker"]) == {"", "P7", "I1"}
    assert set(df["tier"]) == {"words", "P7 - words", "P7 - phones", "I1 - words"}


def test_unmapped_speaker_is_an_error_not_a_leak(tmp_path):
    path = tmp_path / "teams.vtt"
    path.write_text(TEAMS_VTT, encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        read_vtt(path, speakers={"Ana García": "S01"})
    assert "Entrevistadora Uno" in str(err.value)
    assert "teams.vtt" in str(err.value)


def test_vtt_overlapping_cues_of_one_speaker_name_both_lines(tmp_path):
    text = """WEBVTT

1
00:00:01.000 --> 00:00:04.000
Ana García: primera

2
00:00:05.000 --> 00:00:06.000
Otra Persona: en medio

3
00:00:03.500 --> 00:00:08.000
Ana García: se solapa con la primera
"""
    path = tmp_path / "overlap.vtt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError) as err:
        read_vtt(path)
    message = str(err.value)
    assert "overlap.vtt" in message
    assert "line 4" in message
    assert "line 12" in message
    assert len(err.value.problems) == 1
    assert err.value.problems[0].line == 12


def test_vtt_bad_timing_is_a_corpus_error(tmp_path):
    path = tmp_path / "bad.vtt"
    path.write_text("WEBVTT\n\n00:00:0x.000 --> 00:00:02.000\nhola\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.vtt"):
        read_vtt(path)
    path.write_text("not a vtt file\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.vtt"):
        read_vtt(path)


def test_vtt_end_before_start_names_the_line(tmp_path):
    path = tmp_path / "rev.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA: bien\n\n"
        "00:00:05.000 --> 00:00:04.000\nA: al revés\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as err:
        read_vtt(path)
    [problem] = err.value.problems
    assert problem.line == 6
    assert "rev.vtt:6" in str(err.value)


def test_srt_with_speaker_prefix(tmp_path):
    path = tmp_path / "a.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,500\nAna: hola\n\n"
        "2\n00:00:02,500 --> 00:00:04,000\nAna: otra vez\n\n"
        "3\n00:00:03,000 --> 00:00:05,000\nsin nombre\n",
        encoding="utf-8",
    )
    df = read_transcript(path, speakers={"Ana": "S01"})
    assert_table(df)
    assert rows(df) == [
        ("", "", "turns", 3.0, 5.0, "sin nombre"),
        ("S01", "S01", "turns", 1.0, 2.5, "hola"),
        ("S01", "S01", "turns", 2.5, 4.0, "otra vez"),
    ]


def test_srt_overlap_names_cue_lines(tmp_path):
    path = tmp_path / "o.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nAna: uno\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\nAna: dos\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as err:
        read_srt(path)
    assert "line 2" in str(err.value)
    assert "line 6" in str(err.value)


# --------------------------------------------------------------------------- CSV


def test_csv_transcript(tmp_path):
    path = tmp_path / "a.CSV"
    path.write_text(
        "start,end,speaker,text\n"
        "0.5,1.25,S01,hola\n"
        "1.0,2.0,INT1,buenas\n"
        "2.0,2.5,S01,\n"  # blank: dropped
        "3,4,S01,adiós\n",
        encoding="utf-8",
    )
    df = read_transcript(path)
    assert_table(df)
    assert rows(df) == [
        ("INT1", "INT1", "turns", 1.0, 2.0, "buenas"),
        ("S01", "S01", "turns", 0.5, 1.25, "hola"),
        ("S01", "S01", "turns", 3.0, 4.0, "adiós"),
    ]


def test_csv_lists_every_bad_row_with_line_and_value(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "start,end,speaker,text\n"
        "0.5,1.0,S01,bien\n"
        "1.2,uno,S01,mal\n"  # line 3: non-numeric end
        "-1,0.5,S01,negativo\n"  # line 4
        "4,3,S01,al revés\n",  # line 5
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as err:
        read_csv_transcript(path)
    lines = sorted(p.line for p in err.value.problems)
    assert lines == [3, 4, 5]
    message = str(err.value)
    assert "bad.csv:3" in message
    assert "'uno'" in message
    assert "column 'end'" in message


def test_csv_missing_column_is_an_error(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("start,end,text\n0,1,hola\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"cols\.csv:1.*speaker"):
        read_csv_transcript(path)


def test_csv_overlap_of_one_speaker(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("start,end,speaker,text\n0,2,S01,uno\n1,3,S01,dos\n1,3,INT1,ok\n")
    with pytest.raises(CorpusError) as err:
        read_csv_transcript(path)
    [problem] = err.value.problems
    assert problem.line == 3
    assert "line 2" in str(err.value)


# --------------------------------------------------------------------------- dispatch


def test_unsupported_extension_and_missing_file(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_text("x")
    with pytest.raises(CorpusError, match=r"notes\.docx.*\.TextGrid"):
        read_transcript(path)
    with pytest.raises(CorpusError, match="not found"):
        read_transcript(tmp_path / "missing.vtt")
