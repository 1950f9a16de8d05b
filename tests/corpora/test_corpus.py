"""Corpus discovery: the layout (docs/architecture.md) into Recording / Corpus, ids checked."""

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


# --- The read-speech (TIMIT) layout: the same prompt names in every speaker folder (#14) --


def padded_tone(duration_s, f0_hz=150.0):
    """A tone with 0.3 s of digital silence on each side (a gated read prompt)."""
    pad = np.zeros(int(0.3 * SR), dtype=np.float32)
    return np.concatenate([pad, tone(duration_s, f0_hz), pad])


def timit_like(root):
    """audio/<speaker>/sa1.flac for two speakers (no recordings.csv), one transcript
    mirroring audio/ and one named by id, and a file already named after its speaker."""
    (root / "recordings.csv").unlink()
    shutil.rmtree(root / "audio")
    shutil.rmtree(root / "transcripts")
    for speaker, f0 in (("S01", 200.0), ("S02", 120.0)):
        (root / "audio" / speaker).mkdir(parents=True)
        sf.write(root / "audio" / speaker / "sa1.flac", padded_tone(1.0, f0), SR)
        sf.write(root / "audio" / speaker / "sx12.wav", padded_tone(0.8, f0), SR,
                 subtype="PCM_16")
    sf.write(root / "audio/S01/S01_free.wav", padded_tone(0.5), SR, subtype="PCM_16")
    (root / "transcripts/S01").mkdir(parents=True)
    (root / "transcripts/S01/sa1.csv").write_text("start,end,speaker,text\n0.1,0.9,S01,ella\n")
    (root / "transcripts/S02_sa1.csv").write_text("start,end,speaker,text\n0.1,0.9,S02,ella\n")
    return root


def test_timit_layout_ids_are_unique_stable_and_prefixed(corpus_dir):
    corpus = read_corpus(timit_like(corpus_dir))
    assert set(corpus.recordings) == {"S01_sa1", "S02_sa1", "S01_sx12", "S02_sx12", "S01_free"}
    assert corpus.recordings["S02_sa1"].speaker_id == "S02"
    assert corpus.recordings["S02_sa1"].path.parent.name == "S02"
    assert corpus.recordings["S01_sa1"].transcript.as_posix().endswith("transcripts/S01/sa1.csv")
    assert corpus.recordings["S02_sa1"].transcript.name == "S02_sa1.csv"
    assert corpus.recordings["S01_sx12"].transcript is None
    # Same corpus, same ids; and adding a speaker renames nobody.
    assert list(read_corpus(corpus_dir).recordings) == list(corpus.recordings)
    (corpus_dir / "audio/S03").mkdir()
    sf.write(corpus_dir / "audio/S03/sa1.flac", tone(1.0, 210.0), SR)
    assert set(read_corpus(corpus_dir).recordings) == set(corpus.recordings) | {"S03_sa1"}


def test_timit_layout_collision_after_prefixing_names_both_files(corpus_dir):
    timit_like(corpus_dir)
    sf.write(corpus_dir / "audio/S01/S01_sa1.wav", tone(0.5), SR, subtype="PCM_16")
    with pytest.raises(CorpusError) as info:
        read_corpus(corpus_dir)
    (problem,) = info.value.problems
    assert problem.path in ("audio/S01/sa1.flac", "audio/S01/S01_sa1.wav")
    assert "'S01_sa1'" in str(problem)
    assert "audio/S01/sa1.flac" in str(problem) and "audio/S01/S01_sa1.wav" in str(problem)


def test_timit_layout_transcript_problems_name_the_file(corpus_dir):
    timit_like(corpus_dir)
    (corpus_dir / "transcripts/S01_sa1.csv").write_text(
        "start,end,speaker,text\n0.1,0.9,S01,ella\n")
    (corpus_dir / "transcripts/S02/").mkdir()
    (corpus_dir / "transcripts/S02/sx99.csv").write_text(
        "start,end,speaker,text\n0.1,0.9,S02,x\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(corpus_dir)
    found = sorted(str(p) for p in info.value.problems)
    assert len(found) == 2
    assert found[0].startswith("transcripts/S01_sa1.csv: a second transcript for the same "
                               "recording 'S01_sa1' (also transcripts/S01/sa1.csv)")
    assert found[1].startswith("transcripts/S02/sx99.csv: transcript names no known recording")
    assert "S02_sx99" in found[1]


def test_folder_layout_transcript_by_a_unique_file_stem_still_serves(corpus_dir):
    (corpus_dir / "recordings.csv").unlink()
    shutil.rmtree(corpus_dir / "transcripts")
    (corpus_dir / "transcripts").mkdir()
    sf.write(corpus_dir / "audio/S02/take1.wav", tone(0.5), SR, subtype="PCM_16")
    (corpus_dir / "transcripts/take1.csv").write_text("start,end,speaker,text\n0.1,0.4,S02,si\n")
    corpus = read_corpus(corpus_dir)
    assert corpus.recordings["S02_take1"].transcript.name == "take1.csv"


def _per_participant(corpus_dir, rows: str) -> None:
    """Replace S02's interview by two files, one per participant (the interviewer's at
    8 kHz, starting 0.5 s after the interviewee's), listed by ``rows``."""
    sf.write(corpus_dir / "audio/S02/S02_me.wav", tone(3.0, 120), SR, subtype="PCM_16")
    sf.write(corpus_dir / "audio/S02/S02_int.wav", tone(2.0, 200)[::2], SR // 2,
             subtype="PCM_16")
    (corpus_dir / "recordings.csv").write_text(
        "recording_id,path,kind,speaker_id,n_speakers,channels,offset_s\n"
        "S01_u01,audio/S01/S01_u01.flac,utterance,S01,1,,\n" + rows, encoding="utf-8")
    (corpus_dir / "transcripts/S01_interview.TextGrid").unlink()


def test_rows_sharing_a_recording_id_are_the_files_of_one_recording(corpus_dir):
    _per_participant(corpus_dir,
                     "S02_interview,audio/S02/S02_me.wav,interview,S02,2,0:S02,0\n"
                     "S02_interview,audio/S02/S02_int.wav,interview,S02,2,0:INT1,0.5\n")
    corpus = read_corpus(corpus_dir)
    interview = corpus.recordings["S02_interview"]
    assert [(s.path.name, dict(s.channels), s.offset_s) for s in interview.sources] == [
        ("S02_me.wav", {0: "S02"}, 0.0), ("S02_int.wav", {0: "INT1"}, 0.5)]
    assert dict(interview.channels) == {0: "S02", 1: "INT1"}  # stacked in file order
    info = interview.info()
    # The highest rate; the timeline ends where the last file does (0.5 + 2.0 < 3.0).
    assert (info.sample_rate, info.num_channels, info.duration_s) == (SR, 2, 3.0)
    table = corpus.recordings_table()
    assert table.loc[table.recording_id == "S02_interview", "offset_s"].tolist() == [0.0, 0.5]


def test_files_of_one_recording_decode_onto_one_timeline(corpus_dir):
    _per_participant(corpus_dir,
                     "S02_interview,audio/S02/S02_me.wav,interview,S02,2,0:S02,0\n"
                     "S02_interview,audio/S02/S02_int.wav,interview,S02,2,0:INT1,0.5\n")
    interview = read_corpus(corpus_dir).recordings["S02_interview"]
    y, sr = interview.load(mono=False)
    assert sr == SR and y.shape == (2, 3 * SR)
    np.testing.assert_allclose(y[0], tone(3.0, 120), atol=1e-4)
    assert not y[1, : SR // 2].any() and not y[1, int(2.5 * SR) :].any()  # before / after
    # The 8 kHz file, resampled, starts at 0.5 s: the 200 Hz tone's period lines up.
    np.testing.assert_allclose(y[1, SR // 2 + 800 : SR // 2 + 1600], tone(0.1, 200)[:800],
                               atol=5e-3)
    voice, _ = interview.load(voice="INT1", offset_s=0.25, duration_s=0.5)
    expected = y[1, SR // 4 : 3 * SR // 4]
    assert voice.shape == expected.shape
    # Resampled on its own: equal but for the resampler's edge at the excerpt's end.
    np.testing.assert_allclose(voice[:-200], expected[:-200], atol=1e-4)
    streamed = np.concatenate(list(interview.iter_blocks(block_s=0.7, sr=SR, mono=False)), 1)
    np.testing.assert_allclose(streamed, y, atol=2e-3)  # one resampler per file, streamed


def test_per_participant_rows_are_checked(corpus_dir):
    _per_participant(corpus_dir,
                     "S02_interview,audio/S02/S02_me.wav,interview,S02,2,0:S02,-1\n"
                     "S02_interview,audio/S02/S02_int.wav,utterance,S01,2,0:S02,x\n"
                     "S02_interview,audio/S02/S02_me.wav,interview,S02,2,0:INT1,0\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(corpus_dir)
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith("recordings.csv:3: column 'offset_s'") and "'-1'" in p
               for p in found)
    assert any(p.startswith("recordings.csv:4: column 'offset_s'") and "'x'" in p for p in found)
    assert any(p.startswith("recordings.csv:4: column 'kind': differs from line 3") for p in found)
    assert any(p.startswith("recordings.csv:4: column 'speaker_id': differs from line 3")
               for p in found)
    assert any(p.startswith("recordings.csv:4: column 'channels': voice 'S02' is already mapped")
               for p in found)
    assert any(p.startswith("recordings.csv:5: column 'path': the same file is already")
               for p in found)


def test_a_repeated_id_without_channel_maps_is_a_duplicate(corpus_dir):
    _per_participant(corpus_dir,
                     "S02_interview,audio/S02/S02_me.wav,interview,S02,2,0:S02,0\n"
                     "S02_interview,audio/S02/S02_int.wav,interview,S02,2,,0.5\n")
    with pytest.raises(CorpusError, match=r"recordings\.csv:4: column 'recording_id': duplicate"):
        read_corpus(corpus_dir)
