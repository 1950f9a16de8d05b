"""Hostile transcripts next to a good recording: corrupt files of every format, bad
times, exotic labels and encodings. A bad transcript fails its own recording (the
error names the file and the line or tier); the good utterances always finish."""

from __future__ import annotations

import shutil

import pytest

from corpora.check import check_corpus
from corpora.transcripts import read_transcript

BAD_AUDIO = "audio/S001/bad.wav"


def _with_transcript(hostile, name: str, content: str | bytes):
    shutil.copy(hostile.root / "audio/S001/S001_u01.wav", hostile.root / BAD_AUDIO)
    hostile.add_recording("bad", BAD_AUDIO)
    path = hostile.root / "transcripts" / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _fails_its_recording(hostile, name: str, expected: str) -> None:
    report = check_corpus(hostile.root)
    assert [p.path for p in report.problems] == [f"transcripts/{name}"] * len(report.problems)
    assert any(expected in str(p) for p in report.problems), report.problems
    result = hostile.extract()
    result.assert_good_finished()
    assert result.row("bad")["status"] == "error"
    message = result.error_for("bad")
    assert name in message and expected in message


@pytest.mark.parametrize("name, content, expected", [
    ("bad.TextGrid", 'File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = 0\nxmax = ',
     "cannot parse TextGrid"),
    ("bad.eaf", '<?xml version="1.0"?>\n<ANNOTATION_DOCUMENT><TIME_ORDER><TIME_SLOT',
     "cannot parse ELAN file"),
    ("bad.vtt", "WEBVTT\n\n00:00:01.000 --> banana\n<v S001>hola</v>\n", "cannot parse WebVTT"),
    ("bad.csv", "start,end,speaker,text\n0.5,zero,S001,hola\n", "time is not a number"),
])
def test_corrupt_transcript_fails_only_its_recording(hostile, name, content, expected):
    _with_transcript(hostile, name, content)
    _fails_its_recording(hostile, name, expected)


def test_corrupt_csv_names_the_line(hostile):
    _with_transcript(hostile, "bad.csv",
                     "start,end,speaker,text\n0.1,0.9,S001,hola\n1.0,x,S001,pues\n")
    report = check_corpus(hostile.root)
    assert str(report.problems[0]).startswith("transcripts/bad.csv:3: column 'end'")


def test_overlapping_intervals_of_one_speaker_are_refused(hostile):
    _with_transcript(hostile, "bad.csv",
                     "start,end,speaker,text\n0.1,1.5,S001,hola\n1.0,2.0,S001,pues\n")
    _fails_its_recording(hostile, "bad.csv", "overlap")


def test_negative_time_is_refused(hostile):
    _with_transcript(hostile, "bad.csv", "start,end,speaker,text\n-0.5,1.0,S001,hola\n")
    _fails_its_recording(hostile, "bad.csv", "negative start time")


def test_interval_past_the_end_of_the_audio(hostile):
    """check reports it; extract keeps the part that lies within the audio (what a
    transcriber's rounding or a codec's padding produce)."""
    _with_transcript(hostile, "bad.csv",
                     "start,end,speaker,text\n0.3,2.0,S001,hola\n3.0,99.0,S001,pues\n")
    report = check_corpus(hostile.root)
    assert len(report.problems) == 1
    assert "transcript ends at 99.000 s, after the end of the audio" in str(report.problems[0])
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "ok" and bad["method"] == "transcript"
    segs = result.segments[result.segments["recording_id"] == "bad"]
    assert len(segs) >= 1 and segs["end_s"].max() <= bad["duration_s"] + 1e-6


LABELS = ["¿Qué pasó? ñandú", "我们 说话", "🙂 jajaja 👍🏽", "a\u0301rbol"]


def test_unicode_and_emoji_labels_pass_through(hostile):
    rows = "".join(f'{0.1 + k:.1f},{0.9 + k:.1f},S001,"{label}"\n'
                   for k, label in enumerate(LABELS))
    _with_transcript(hostile, "bad.csv", "start,end,speaker,text\n" + rows)
    assert check_corpus(hostile.root).ok
    table = read_transcript(hostile.root / "transcripts/bad.csv")
    assert table["label"].tolist() == LABELS
    result = hostile.extract()
    result.assert_good_finished()
    assert result.row("bad")["status"] == "ok"


def _textgrid(label: str) -> str:
    return (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 4\n'
        'tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n        class = "IntervalTier"\n'
        '        name = "S001 - words"\n        xmin = 0\n        xmax = 4\n'
        '        intervals: size = 2\n        intervals [1]:\n            xmin = 0\n'
        '            xmax = 0.3\n            text = ""\n        intervals [2]:\n'
        f'            xmin = 0.3\n            xmax = 2.0\n            text = "{label}"\n'
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "latin-1"])
def test_textgrid_encodings_praat_reads(hostile, encoding):
    """Praat writes UTF-16 (with a byte-order mark) when a label is not ASCII, and old
    versions wrote Latin-1; both are read as Praat reads them."""
    _with_transcript(hostile, "bad.TextGrid", _textgrid("niño canción").encode(encoding))
    assert check_corpus(hostile.root).ok
    table = read_transcript(hostile.root / "transcripts/bad.TextGrid")
    assert table["label"].tolist() == ["niño canción"]
    assert table["speaker"].tolist() == ["S001"]
    if encoding == "utf-16":  # once through the whole pipeline
        result = hostile.extract()
        result.assert_good_finished()
        assert result.row("bad")["status"] == "ok"


def test_textgrid_crlf_line_endings(hostile):
    _with_transcript(hostile, "bad.TextGrid", _textgrid("hola").replace("\n", "\r\n"))
    assert read_transcript(hostile.root / "transcripts/bad.TextGrid")["label"].tolist() == [
        "hola"]
