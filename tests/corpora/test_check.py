"""`check_corpus`: each planted fault is found and named with its file (and line)."""

import pytest
import soundfile as sf

from corpora.check import check_corpus
from tests.conftest import SR, tone


def messages(root) -> list[str]:
    return [str(p) for p in check_corpus(root).problems]


def test_a_valid_corpus_passes_and_is_summarised(corpus_dir):
    report = check_corpus(corpus_dir)
    assert report.ok, report.problems
    assert report.durations_s["S01_interview"] == pytest.approx(3.0)
    assert sum(report.durations_s.values()) == pytest.approx(8.5)
    by_country = report.breakdown("country").set_index("country")
    assert by_country.loc["MX", "speakers"] == 1
    assert by_country.loc["MX", "hours"] == pytest.approx(4.5 / 3600)
    by_education = report.breakdown("education").set_index("education")
    assert by_education.loc["secondary", "consented"] == 0


def test_missing_speakers_csv(corpus_dir):
    (corpus_dir / "speakers.csv").unlink()
    found = messages(corpus_dir)
    assert any(p.startswith("speakers.csv: speakers.csv is required") for p in found)


def test_recording_of_unknown_speaker(corpus_dir):
    text = (corpus_dir / "recordings.csv").read_text().replace("S03_u01.wav,utterance,S03",
                                                               "S03_u01.wav,utterance,S07")
    (corpus_dir / "recordings.csv").write_text(text)
    found = messages(corpus_dir)
    assert ("recordings.csv:5: column 'speaker_id': speaker is not in speakers.csv (got 'S07')"
            in found)


def test_truncated_audio(corpus_dir):
    path = corpus_dir / "audio/S01/S01_interview.wav"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    found = messages(corpus_dir)
    assert any(p.startswith("audio/S01/S01_interview.wav") for p in found), found


def test_malformed_textgrid(corpus_dir):
    path = corpus_dir / "transcripts/S01_interview.TextGrid"
    path.write_text(path.read_text()[:300])
    found = messages(corpus_dir)
    assert any(p.startswith("transcripts/S01_interview.TextGrid") for p in found), found


def test_vtt_with_overlapping_cues_of_one_speaker(corpus_dir):
    (corpus_dir / "transcripts/S02_interview.vtt").write_text(
        "WEBVTT\n\n"
        "00:00:00.100 --> 00:00:01.500\n<v S02>Pues hace</v>\n\n"
        "00:00:01.200 --> 00:00:02.500\n<v S02>dos años.</v>\n",
        encoding="utf-8",
    )
    found = messages(corpus_dir)
    assert any(p.startswith("transcripts/S02_interview.vtt") and "overlap" in p for p in found), (
        found
    )


def test_transcript_without_the_recordings_speaker(corpus_dir):
    vtt = corpus_dir / "transcripts/S02_interview.vtt"
    vtt.write_text(vtt.read_text().replace("<v S02>", "<v Ana García>"))
    found = messages(corpus_dir)
    assert any("transcript has no speaker 'S02'" in p for p in found), found


def test_channel_beyond_the_files_channels(corpus_dir):
    text = (corpus_dir / "recordings.csv").read_text().replace("0:S02;1:INT1", "0:S02;3:INT1")
    (corpus_dir / "recordings.csv").write_text(text)
    found = messages(corpus_dir)
    assert any(p.startswith("audio/S02/S02_interview.wav") and "channel 3" in p for p in found)


def test_every_fault_at_once_is_listed(corpus_dir):
    speakers = corpus_dir / "speakers.csv"
    speakers.write_text(
        speakers.read_text().replace("bachelor", "college").replace("MX", "XX")
        .replace("platforms,consent", "platforms,consent,contact")
        .replace("Appen;Clickworker,true", "Appen;Clickworker,true,ana@example.org")
    )
    wav = corpus_dir / "audio/S03/S03_u01.wav"
    wav.write_bytes(wav.read_bytes()[:2000])
    found = messages(corpus_dir)
    assert any("'education'" in p and "college" in p for p in found)
    assert any("'country'" in p and "XX" in p for p in found)
    assert any("'contact'" in p and "e-mail" in p for p in found)
    assert any(p.startswith("audio/S03/S03_u01.wav") for p in found)


def test_check_verifies_every_file_of_a_recording(corpus_dir):
    sf.write(corpus_dir / "audio/S02/S02_me.wav", tone(3.0, 120), SR, subtype="PCM_16")
    (corpus_dir / "audio/S02/S02_int.wav").write_bytes(b"RIFF\x00\x00")  # corrupt
    (corpus_dir / "recordings.csv").write_text(
        "recording_id,path,kind,speaker_id,n_speakers,channels,offset_s\n"
        "S02_interview,audio/S02/S02_me.wav,interview,S02,2,0:S02,0\n"
        "S02_interview,audio/S02/S02_int.wav,interview,S02,2,1:INT1,0.5\n", encoding="utf-8")
    (corpus_dir / "transcripts/S01_interview.TextGrid").unlink()
    report = check_corpus(corpus_dir)
    found = [str(p) for p in report.problems]
    assert any(p.startswith("audio/S02/S02_int.wav") for p in found)
    sf.write(corpus_dir / "audio/S02/S02_int.wav", tone(1.0, 200), SR, subtype="PCM_16")
    report = check_corpus(corpus_dir)
    assert [str(p) for p in report.problems] == [
        "audio/S02/S02_int.wav: column 'channels': channel map names channel 1 but the file "
        "has 1"]
    assert report.durations_s["S02_interview"] == 3.0  # the timeline, to its last file's end
