"""Profiling one recording without a corpus (speech.profile, ``speech-profile profile``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speech.extract import aggregate_segments
from speech.profile import ProfileError, profile_recording
from speech.segmentation import SegmentationConfig, segment_recording

ALSA = Path("/usr/share/sounds/alsa/Front_Center.wav")  # a man saying "front center", 48 kHz


def test_one_real_voice_is_profiled():
    result = profile_recording(ALSA)
    assert result.file == "Front_Center.wav"
    assert result.duration_s == pytest.approx(sf.info(ALSA).duration, abs=1e-3)
    assert list(result.voices["speaker_id"]) == ["V1"]
    voice = result.voices.iloc[0]
    assert 0.3 < voice["speech_s"] <= result.duration_s
    assert 80 < 100 * 2 ** (voice["f0_median_st"] / 12) < 200  # a male voice, in Hz


def test_profile_is_the_corpus_pipeline_on_one_file():
    from corpora.corpus import Recording

    result = profile_recording(ALSA)
    direct = segment_recording(Recording(ALSA.stem, ALSA, "utterance", "V1", 1),
                               SegmentationConfig())
    expected = aggregate_segments(direct.segments)
    assert result.voices.equals(expected)
    record = result.as_dict()
    assert json.loads(json.dumps(record)) == record  # plain JSON: NaN became null
    assert record["voices"][0]["speaker_id"] == "V1" and record["file"] == ALSA.name


def test_two_voices_are_named_v1_and_v2(synthetic_corpus):
    wav = next((synthetic_corpus / "audio").rglob("*_interview.wav"))
    result = profile_recording(wav, speakers=2)
    assert sorted(result.voices["speaker_id"]) == ["V1", "V2"]


def test_missing_silent_and_undecodable_files_say_why(tmp_path):
    with pytest.raises(ProfileError, match="file not found"):
        profile_recording(tmp_path / "missing.wav")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 2), 16000)
    with pytest.raises(ProfileError, match="no speech found"):
        profile_recording(silent)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not audio at all")
    with pytest.raises(ProfileError) as info:
        profile_recording(broken)
    assert str(broken) in info.value.title
