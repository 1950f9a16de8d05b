"""Hostile corpus metadata: ids, consent, paths that leave the corpus, encodings.

A problem in recordings.csv makes that recording a problem (check lists it with the
line and value; it is never opened) while the rest are still verified and extracted.
A problem in speakers.csv stops analysis altogether: without valid profiles consent
cannot be established, so nothing is decoded for analysis (check still verifies
every audio file)."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf

from corpora.check import check_corpus
from corpora.corpus import read_corpus
from corpora.problems import CorpusError
from corpora.profiles import read_speakers

SPEAKERS = "speakers.csv"


def _speakers_text(hostile) -> str:
    return (hostile.root / SPEAKERS).read_text(encoding="utf-8")


def _problems(hostile) -> list[str]:
    return [str(p) for p in check_corpus(hostile.root).problems]


# ---------------------------------------------------------------- ids and consent


def test_duplicate_speaker_id_names_both_lines(hostile):
    text = _speakers_text(hostile)
    first_row = text.splitlines()[1]
    (hostile.root / SPEAKERS).write_text(text + first_row + "\n", encoding="utf-8")
    report = check_corpus(hostile.root)
    assert [str(p) for p in report.problems] == [
        "speakers.csv:4: column 'speaker_id': duplicate speaker id (first on line 2) "
        "(got 'S001')"]
    assert set(report.durations_s) == {"S001_u01", "S002_u01"}  # audio still verified
    with pytest.raises(CorpusError, match="duplicate speaker id"):
        read_corpus(hostile.root)


def test_duplicate_recording_id_keeps_the_first_and_the_others_finish(hostile):
    shutil.copy(hostile.root / "audio/S001/S001_u01.wav", hostile.root / "audio/S001/copy.wav")
    hostile.add_recording("S002_u01", "audio/S001/copy.wav")
    assert _problems(hostile) == [
        "recordings.csv:4: column 'recording_id': duplicate recording id (first on line 3); "
        "the files of one recording share an id only when each row has a channel map naming "
        "its voice (e.g. 0:S01) (got 'S002_u01')"]
    result = hostile.extract_scanned()
    result.assert_good_finished()
    assert len(result.recordings) == 2


@pytest.mark.parametrize("edit", ["drop_column", "false", "empty"])
def test_missing_or_false_consent_is_never_analysed(hostile, edit):
    lines = _speakers_text(hostile).splitlines()
    header = lines[0].split(",")
    k = header.index("consent")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        if row[0] == "S001" or edit == "drop_column":
            if edit == "drop_column":
                del row[k]
            else:
                row[k] = "false" if edit == "false" else ""
    if edit == "drop_column":
        del header[k]
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    (hostile.root / SPEAKERS).write_text(text, encoding="utf-8")
    corpus = read_corpus(hostile.root)
    assert not corpus.speakers.set_index("speaker_id").loc["S001", "consent"]
    # S001's audio is made unreadable: had it been decoded, it would be an error row.
    (hostile.root / "audio/S001/S001_u01.wav").write_bytes(b"RIFF....")
    result = hostile.extract(corpus)
    expected = set() if edit == "drop_column" else {"S002_u01"}
    assert set(result.recordings.get("recording_id", [])) == expected
    assert result.errors.empty
    assert result.summary.skipped_no_consent == 2 - len(expected)


# ---------------------------------------------------------------- paths out of the corpus


@pytest.mark.parametrize("path", ["../../etc/passwd", "../outside.wav", "/etc/passwd",
                                  "ABSOLUTE_OUTSIDE"])
def test_path_traversal_is_refused_and_never_opened(hostile, tmp_path, path):
    outside = tmp_path / "outside.wav"
    shutil.copy(hostile.root / "audio/S001/S001_u01.wav", outside)
    path = str(outside) if path == "ABSOLUTE_OUTSIDE" else path
    hostile.add_recording("bad", path)
    problems = _problems(hostile)
    assert problems == [f"recordings.csv:4: column 'path': path leads outside the corpus "
                        f"directory; audio must lie inside it (give the path relative to the "
                        f"corpus root) (got {path!r})"]
    result = hostile.extract_scanned()
    result.assert_good_finished()
    assert "bad" not in set(result.recordings["recording_id"])


def test_absolute_path_inside_the_corpus_is_accepted(hostile):
    hostile.add_recording("bad", str(hostile.root / "audio/S001/S001_u01.wav"))
    assert _problems(hostile) == []


def test_symlinked_audio_file_leading_out_is_refused(hostile, tmp_path):
    outside = tmp_path / "elsewhere.wav"
    shutil.copy(hostile.root / "audio/S001/S001_u01.wav", outside)
    (hostile.root / "audio/S001/link.wav").symlink_to(outside)
    hostile.add_recording("bad", "audio/S001/link.wav")
    (problem,) = _problems(hostile)
    assert problem.startswith("recordings.csv:4: column 'path': symbolic link leading outside "
                              f"the corpus (to {outside})")
    result = hostile.extract_scanned()
    result.assert_good_finished()
    assert "bad" not in set(result.recordings["recording_id"])


def test_symlink_inside_the_corpus_is_accepted(hostile):
    (hostile.root / "audio/S001/link.wav").symlink_to(hostile.root / "audio/S001/S001_u01.wav")
    hostile.add_recording("bad", "audio/S001/link.wav")
    assert _problems(hostile) == []


def test_symlinked_directory_leading_out_is_refused(hostile, tmp_path):
    outside = tmp_path / "shared"
    outside.mkdir()
    shutil.copy(hostile.root / "audio/S001/S001_u01.wav", outside / "x.wav")
    (hostile.root / "audio/S001/shared").symlink_to(outside)
    hostile.add_recording("bad", "audio/S001/shared/x.wav")
    (problem,) = _problems(hostile)
    assert "symbolic link leading outside the corpus" in problem and "line" not in problem
    assert problem.startswith("recordings.csv:4: column 'path'")


def test_symlinked_directory_without_recordings_csv_is_reported(hostile, tmp_path):
    """audio/<speaker>/<file> layout: a linked speaker folder is reported, not skipped."""
    (hostile.root / "recordings.csv").unlink()
    outside = tmp_path / "S002_elsewhere"
    outside.mkdir()
    shutil.copy(hostile.root / "audio/S002/S002_u01.wav", outside / "S002_u02.wav")
    shutil.rmtree(hostile.root / "audio/S002")
    (hostile.root / "audio/S002").symlink_to(outside)
    problems = check_corpus(hostile.root).problems
    # Its transcript is left without a recording: reported too.
    assert [p.path for p in problems] == ["audio/S002", "transcripts/S002_u01.TextGrid"]
    assert "symbolic link leading outside the corpus" in problems[0].message


def test_symlinked_transcript_leading_out_is_refused(hostile, tmp_path):
    outside = tmp_path / "S001_u01.TextGrid"
    shutil.move(hostile.root / "transcripts/S001_u01.TextGrid", outside)
    (hostile.root / "transcripts/S001_u01.TextGrid").symlink_to(outside)
    (problem,) = check_corpus(hostile.root).problems
    assert problem.path == "transcripts/S001_u01.TextGrid"
    assert "symbolic link leading outside the corpus" in problem.message


# ---------------------------------------------------------------- encodings and shapes


def test_bom_and_crlf_in_every_csv_are_read(hostile):
    for name in (SPEAKERS, "recordings.csv"):
        text = (hostile.root / name).read_text(encoding="utf-8")
        (hostile.root / name).write_bytes(text.replace("\n", "\r\n").encode("utf-8-sig"))
    corpus = read_corpus(hostile.root)
    assert list(corpus.speakers["speaker_id"]) == ["S001", "S002"]
    assert set(corpus.recordings) == {"S001_u01", "S002_u01"}
    assert corpus.speakers["platforms"].str.contains("\r").sum() == 0
    hostile.extract().assert_good_finished()


def test_latin1_csv_is_refused_naming_the_line(hostile):
    text = _speakers_text(hostile).replace("stem", "ingeniería", 1)
    (hostile.root / SPEAKERS).write_bytes(text.encode("latin-1"))
    (problem,) = _problems(hostile)
    assert problem.startswith("speakers.csv:2: not valid UTF-8 text (byte b'\\xed'")
    assert "re-save the file as UTF-8" in problem


def test_extra_unknown_column_is_kept(hostile):
    lines = _speakers_text(hostile).splitlines()
    text = "\n".join([lines[0] + ",dialect_zone"] + [f"{r},zone{i}" for i, r in
                                                      enumerate(lines[1:])]) + "\n"
    (hostile.root / SPEAKERS).write_text(text, encoding="utf-8")
    hostile.extract().assert_good_finished()
    import pandas as pd

    speakers = pd.read_parquet(hostile.store / "speakers")
    assert speakers.set_index("speaker_id")["dialect_zone"].to_dict() == {
        "S001": "zone0", "S002": "zone1"}


@pytest.mark.parametrize("content", [b"", b"\n\n", "\ufeff".encode()])
def test_empty_speakers_csv_is_a_clear_problem(tmp_path, content):
    path = tmp_path / SPEAKERS
    path.write_bytes(content)
    with pytest.raises(CorpusError) as err:
        read_speakers(path, name=SPEAKERS)
    assert str(err.value) == "speakers.csv: empty file: a header row is needed"


def test_header_only_speakers_csv_makes_every_recording_a_problem(hostile):
    header = _speakers_text(hostile).splitlines()[0]
    (hostile.root / SPEAKERS).write_text(header + "\n", encoding="utf-8")
    problems = _problems(hostile)
    assert len(problems) == 2
    assert all("speaker is not in speakers.csv" in p for p in problems)


def test_unsupported_audio_extension_is_a_problem(hostile):
    y, sr = sf.read(hostile.root / "audio/S001/S001_u01.wav")
    sf.write(hostile.root / "audio/S001/bad.aiff", y, sr)
    hostile.add_recording("bad", "audio/S001/bad.aiff")
    problems = _problems(hostile)
    assert problems[0].startswith("recordings.csv:4: column 'path': unsupported audio format")
    assert all("bad.aiff" in p for p in problems)
    result = hostile.extract_scanned()
    result.assert_good_finished()
    assert result.row("bad")["status"] == "error"
    assert "unsupported audio extension" in result.error_for("bad")
