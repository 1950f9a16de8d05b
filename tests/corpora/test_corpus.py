"""Corpus discovery: the DESIGN.md layout into Recording / Corpus, ids cross-checked."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from corpora.corpus import format_channels, parse_channels, read_corpus
from corpora.problems import CorpusError
from tests.conftest import SR, tone


def test_reads_the_layout(corpus_dir):
    corpus = read_corpus(corpus_dir)
    assert corpus.config.name == "tiny"
    assert set(corpus.recordings) == {"S01_interview", "S01_u01", "S02_interview", "S03_u01"}
    interview = corpus.recordings["S02_interview"]
    assert interview.kind == "interview" and interview.n_speakers == 2
    assert dict(interview.channels) == {0: "S02", 1: "INT1"}
    assert interview.transcript.name == "S02_interview.vtt"
    assert corpus.recordings["S01_u01"].transcript is None
    assert corpus.consented["speaker_id"].tolist() == ["S01", "S02"]
    table = corpus.recordings_table()
    assert table.loc[table.recording_id == "S02_interview", "channels"].item() == "0:S02;1:INT1"


def test_recording_decodes_on_request(corpus_dir):
    recording = read_corpus(corpus_dir).recordings["S02_interview"]
    y, sr = recording.load(offset_s=0.5, duration_s=1.0, voice="INT1")
    expected = tone(3.0, 120, channels=2)[int(0.5 * SR) : int(1.5 * SR), 1]
    assert sr == SR and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, atol=1e-4)  # PCM_16 quantisation
    with pytest.raises(KeyError, match="no channel for voice 'S99'"):
        recording.load(voice="S99")
    assert recording.info().num_channels == 2


def test_without_recordings_csv_each_file_is_an_utterance(corpus_dir):
    (corpus_dir / "recordings.csv").unlink()
    shutil.rmtree(corpus_dir / "transcripts")
    corpus = read_corpus(corpus_dir)
    assert {r.kind for r in corpus} == {"utterance"}
    assert corpus.recordings["S01_u01"].speaker_id == "S01"
    assert len(corpus) == 4


def test_without_recordings_csv_folder_must_name_a_speaker(corpus_dir):
    (corpus_dir / "recordings.csv").unlink()
    shutil.rmtree(corpus_dir / "transcripts")
    (corpus_dir / "audio/S09").mkdir()
    sf.write(corpus_dir / "audio/S09/x.wav", tone(0.5), SR)
    with pytest.raises(CorpusError, match=r"audio/S09/x\.wav: folder names a speaker not in"):
        read_corpus(corpus_dir)


def test_recordings_csv_problems_are_all_listed(corpus_dir):
    (corpus_dir / "recordings.csv").write_text(
        "recording_id,path,kind,speaker_id,n_speakers,channels\n"
        "r1,audio/S01/S01_u01.flac,lecture,S01,1,\n"
        "r1,audio/S01/none.wav,utterance,S01,1,\n"
        "r3,audio/S01/S01_interview.wav,interview,S01,two,0:S01;0:INT1\n"
        "r4,audio/S03/S03_u01.wav,utterance,S03,1,1:INT1\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as info:
        read_corpus(corpus_dir)
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith("recordings.csv:2: column 'kind'") for p in found)
    assert any(p.startswith("recordings.csv:3: column 'recording_id': duplicate") for p in found)
    assert any(p.startswith("recordings.csv:3: column 'path': audio file not found") for p in found)
    assert any(p.startswith("recordings.csv:4: column 'n_speakers'") for p in found)
    assert any(p.startswith("recordings.csv:4: column 'channels': channel 0 mapped twice")
               for p in found)
    assert any(p.startswith("recordings.csv:5: column 'channels'") and "S03" in p for p in found)
    # transcripts of recordings that are no longer listed
    assert any(p.startswith("transcripts/S01_interview.TextGrid: transcript names no known")
               for p in found)


def test_corpus_toml_unknown_keys_are_refused(corpus_dir):
    (corpus_dir / "corpus.toml").write_text('name = "x"\nvowles = ["a"]\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"corpus\.toml: unknown key"):
        read_corpus(corpus_dir)


def test_channel_map_round_trip():
    assert parse_channels("0:S01; 1:INT1") == {0: "S01", 1: "INT1"}
    assert format_channels(parse_channels("1:B;0:A")) == "0:A;1:B"
    assert parse_channels("") == {}
    for bad in ("S01", "x:S01", "0:", "0:A;1:A"):
        with pytest.raises(ValueError):
            parse_channels(bad)
