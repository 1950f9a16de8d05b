"""Property tests for every transcript reader: whatever the bytes, a reader returns the
interval table or raises CorpusError (never another exception); valid interval sets
written by each format's own writer read back unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from praatio import textgrid
from pympi.Elan import Eaf

from corpora.problems import CorpusError
from corpora.transcripts import TRANSCRIPT_COLUMNS, TRANSCRIPT_EXTENSIONS, read_transcript

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _read(suffix: str, data: bytes) -> pd.DataFrame | None:
    """Write ``data`` to a file with ``suffix`` and read it: the table, or None after a
    CorpusError whose every problem names the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{suffix}"
        path.write_bytes(data)
        try:
            table = read_transcript(path)
        except CorpusError as e:
            assert all(str(path) in p.path for p in e.problems)
            return None
    assert tuple(table.columns) == TRANSCRIPT_COLUMNS
    assert (table["end_s"] > table["start_s"]).all() and (table["start_s"] >= 0).all()
    assert table["label"].str.strip().ne("").all()
    return table


# Fragments of every format, so that random text often gets deep into the parsers.
_FRAGMENTS = st.sampled_from([
    "WEBVTT", "\n", "\n\n", "00:00:01.000 --> 00:00:02.000", "00:00:02,500 --> 00:00:01,000",
    "1", "<v Ana>", "</v>", "Ana García: ", "hola", "-->", "99:99:99.999", "NOTE x",
    'File type = "ooTextFile"', 'Object class = "TextGrid"', "xmin = 0", "xmax = 2",
    "tiers? <exists>", "size = 1", "item []:", 'class = "IntervalTier"', 'name = "S1 - words"',
    "intervals: size = 1", "intervals [1]:", 'text = "a"', "xmin = -1", "xmax = nan",
    "start,end,speaker,text", "0.1,0.5,S1,hola", "1e309,2,S1,x", ",,,", '"', "level",
    '<?xml version="1.0"?>', "<ANNOTATION_DOCUMENT>", "<TIME_ORDER>",
    '<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="100"/>', "</TIME_ORDER>",
    '<TIER TIER_ID="S1">', '<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" '
    'TIME_SLOT_REF2="ts2">', "<ANNOTATION_VALUE>hola</ANNOTATION_VALUE>", "</TIER>", "\x00",
    "\ufeff", "ñ", "🙂", "\r\n",
])
_TEXT = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=8)), max_size=30).map("".join)
_SUFFIXES = st.sampled_from([*TRANSCRIPT_EXTENSIONS, ".TEXTGRID", ".VTT"])


@FUZZ
@given(suffix=_SUFFIXES, data=st.binary(max_size=400))
def test_arbitrary_bytes_never_escape_corpus_error(suffix, data):
    _read(suffix, data)


@FUZZ
@given(suffix=_SUFFIXES, text=_TEXT,
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
def test_format_like_text_never_escapes_corpus_error(suffix, text, encoding):
    _read(suffix, text.encode(encoding, errors="replace"))


# ------------------------------------------------------------------ round trips

_LABEL = st.text(alphabet="abcdefghijklmnñopqrstuvwxyzáéíóú", min_size=1, max_size=10)


@st.composite
def interval_sets(draw, *, resolution: float = 0.001):
    """Per speaker, non-overlapping labelled intervals on a grid of ``resolution`` s."""
    speakers = draw(st.lists(st.sampled_from(["S001", "S002", "INT1"]), min_size=1,
                             max_size=3, unique=True))
    rows = []
    for speaker in speakers:
        cuts = draw(st.lists(st.integers(1, 60_000), min_size=2, max_size=12, unique=True))
        cuts = sorted(cuts)
        for a, b in zip(cuts[::2], cuts[1::2], strict=False):
            rows.append((speaker, a * resolution, b * resolution, draw(_LABEL)))
    return rows


def _expected(rows, level: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["speaker", "start_s", "end_s", "label"])
    table["level"] = level
    return table.sort_values(["speaker", "level", "start_s"]).reset_index(drop=True)


def _compare(table: pd.DataFrame, rows, level: str, *, atol: float) -> None:
    expected = _expected(rows, level)
    assert table["speaker"].tolist() == expected["speaker"].tolist()
    assert table["label"].tolist() == expected["label"].tolist()
    assert (table["level"] == level).all()
    pd.testing.assert_series_equal(table["start_s"], expected["start_s"], atol=atol,
                                   check_names=False)
    pd.testing.assert_series_equal(table["end_s"], expected["end_s"], atol=atol,
                                   check_names=False)


@FUZZ
@given(rows=interval_sets(), short=st.booleans())
def test_textgrid_round_trip_through_praatio(rows, short):
    tg = textgrid.Textgrid()
    end = max(r[2] for r in rows) + 1
    for speaker in sorted({r[0] for r in rows}):
        entries = [(s, e, lab) for who, s, e, lab in rows if who == speaker]
        tg.addTier(textgrid.IntervalTier(f"{speaker} - words", entries, 0, end))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.TextGrid"
        tg.save(str(path), format="short_textgrid" if short else "long_textgrid",
                includeBlankSpaces=True)
        table = read_transcript(path)
    _compare(table, rows, "words", atol=1e-9)


@FUZZ
@given(rows=interval_sets())
def test_eaf_round_trip_through_pympi(rows):
    eaf = Eaf()
    for speaker in sorted({r[0] for r in rows}):
        eaf.add_tier(speaker, part=speaker)
        for who, s, e, lab in rows:
            if who == speaker:
                eaf.add_annotation(speaker, round(s * 1000), round(e * 1000), lab)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.eaf"
        eaf.to_file(str(path))
        table = read_transcript(path)
    _compare(table, rows, "turns", atol=5e-4)


@FUZZ
@given(rows=interval_sets())
def test_vtt_round_trip_through_webvtt(rows):
    vtt = webvtt.WebVTT()
    for speaker, s, e, lab in sorted(rows, key=lambda r: r[1]):
        stamp = [f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}" for t in (s, e)]
        vtt.captions.append(webvtt.Caption(stamp[0], stamp[1], f"{speaker}: {lab}"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.vtt"
        vtt.save(str(path))
        table = read_transcript(path)
    _compare(table, rows, "turns", atol=5e-4)


@FUZZ
@given(rows=interval_sets(), bom=st.booleans(), crlf=st.booleans())
def test_csv_round_trip_through_pandas(rows, bom, crlf):
    frame = pd.DataFrame(rows, columns=["speaker", "start", "end", "text"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.csv"
        frame[["start", "end", "speaker", "text"]].to_csv(
            path, index=False, encoding="utf-8-sig" if bom else "utf-8",
            lineterminator="\r\n" if crlf else "\n")
        table = read_transcript(path)
    _compare(table, rows, "turns", atol=1e-12)
