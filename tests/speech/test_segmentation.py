"""One recording -> segments: attribution methods, utterances, hostile recordings."""

import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from corpora.corpus import Recording, read_corpus
from speech.schema import REGISTRY, SEGMENT_COLUMNS
from speech.segmentation import SegmentationConfig, segment_recording


@pytest.fixture(scope="module")
def corpus(synthetic_corpus):
    return read_corpus(synthetic_corpus)


@pytest.fixture(scope="module")
def truth(synthetic_corpus):
    return pd.read_csv(synthetic_corpus / "truth" / "ipus.csv")


def interview(corpus):
    return next(r for r in corpus if r.kind == "interview")


def test_transcript_attribution_follows_the_speaker_tiers(corpus, truth):
    rec = interview(corpus)
    result = segment_recording(rec, SegmentationConfig(keep_text=True))
    seg = result.segments
    # every column is documented in the registry, in the registry's order
    assert list(seg.columns) == [s.name for s in REGISTRY if s.level == "segment"]
    assert list(seg.columns[: len(SEGMENT_COLUMNS)]) == list(SEGMENT_COLUMNS)
    assert seg["vocalic_pct"].between(20, 80).all()  # phones tiers give %V
    assert result.recording["status"].item() == "ok" and result.errors.empty
    assert set(seg["method"]) == {"transcript"} and set(seg["kind"]) == {"ipu"}
    ref = truth[truth.recording_id == rec.recording_id]
    assert set(seg["speaker_id"]) == set(ref["speaker_id"])
    assert len(seg) == len(ref)
    # every segment starts within 50 ms of a true IPU of the same speaker
    for row in seg.itertuples():
        same = ref[ref.speaker_id == row.speaker_id]
        assert np.abs(same["start_s"] - row.start_s).min() < 0.05
    assert seg["text"].notna().all() and (seg["confidence"] > 0.8).all()
    assert (seg["turn_id"].diff().fillna(0) >= 0).all()


def test_transcript_text_stays_out_of_the_outputs_unless_kept(corpus):
    rec = interview(corpus)
    hidden = segment_recording(rec, SegmentationConfig(text_key="k1"))
    kept = segment_recording(rec, SegmentationConfig(text_key="k1", keep_text=True))
    assert hidden.segments["text"].isna().all()
    assert kept.segments["text"].notna().all()
    for table in ("vowels", "sibilants"):
        plain, full = getattr(hidden, table), getattr(kept, table)
        assert "word" not in plain and "word" in full
        assert plain["word_id"].notna().all() and plain["word_id"].str.len().eq(16).all()
        # one id per word, one word per id: a pseudonym usable as a random factor
        pairs = full[["word", "word_id"]].drop_duplicates()
        assert pairs["word"].is_unique and pairs["word_id"].is_unique
        assert not set(plain["word_id"]) & set(full["word"])
    rekeyed = segment_recording(rec, SegmentationConfig(text_key="k2")).vowels
    assert not set(rekeyed["word_id"]) & set(hidden.vowels["word_id"])


def test_only_profiled_voices_have_their_tokens_measured_by_default(corpus):
    rec = interview(corpus)
    profiled = segment_recording(rec, SegmentationConfig())
    everyone = segment_recording(rec, SegmentationConfig(token_voices="all"))
    assert set(profiled.vowels["speaker_id"]) == {rec.speaker_id}
    assert set(profiled.sibilants["speaker_id"]) == {rec.speaker_id}
    assert set(everyone.vowels["speaker_id"]) == {rec.speaker_id, "INT1"}
    # the interviewee's tokens are the same either way
    mine = everyone.vowels[everyone.vowels["speaker_id"] == rec.speaker_id]
    np.testing.assert_allclose(mine["f1_hz"].to_numpy(), profiled.vowels["f1_hz"].to_numpy())
    # the segments (and their features) still cover every voice
    assert set(profiled.segments["speaker_id"]) == {rec.speaker_id, "INT1"}
    # "none" measures no token and leaves every segment feature as it was
    core = segment_recording(rec, SegmentationConfig(token_voices="none"))
    assert core.vowels is None and core.sibilants is None
    pd.testing.assert_frame_equal(core.segments, profiled.segments)


def test_cluster_attribution_names_the_interviewee(corpus, truth):
    rec = interview(corpus)
    seg = segment_recording(rec, SegmentationConfig(attribution="cluster")).segments
    assert set(seg["method"]) == {"cluster"}
    assert set(seg["speaker_id"]) == {rec.speaker_id, "INT1"}
    ref = truth[truth.recording_id == rec.recording_id]
    mids = (seg["start_s"] + seg["end_s"]) / 2
    true_speaker = [
        ref.loc[(ref.start_s <= m) & (ref.end_s >= m), "speaker_id"].iloc[0] for m in mids
    ]
    is_interviewee = np.array(true_speaker) == rec.speaker_id
    assert ((seg["speaker_id"] == rec.speaker_id).to_numpy() == is_interviewee).mean() >= 0.9
    assert seg["text"].isna().all()


def test_utterances_are_trimmed_to_speech(corpus, synthetic_corpus, truth):
    rec = next(r for r in corpus if r.kind == "utterance")
    seg = segment_recording(rec, SegmentationConfig()).segments
    ref = truth[truth.recording_id == rec.recording_id]
    assert len(seg) == 1 and seg["kind"].item() == "utterance"
    assert seg["start_s"].item() == pytest.approx(ref["start_s"].min(), abs=0.05)
    assert seg["end_s"].item() == pytest.approx(ref["end_s"].max(), abs=0.05)


def test_several_utterances_in_one_file_are_split_at_long_pauses(corpus, tmp_path):
    recs = [r for r in corpus if r.kind == "utterance"][:3]
    parts = [sf.read(r.path, dtype="float32")[0] for r in recs]
    silence = np.zeros(int(1.5 * 16000), np.float32)
    joined = np.concatenate([parts[0], silence, parts[1], silence, parts[2]])
    path = tmp_path / "three.wav"
    sf.write(path, joined, 16000)
    rec = Recording("three", path, "utterance", recs[0].speaker_id, 1)
    seg = segment_recording(rec, SegmentationConfig()).segments
    assert len(seg) == 3 and set(seg["method"]) == {"single"}


def hostile(tmp_path, name, y, sr=16000, **kwargs):
    path = tmp_path / f"{name}.wav"
    sf.write(path, y, sr)
    rec = Recording(name, path, kwargs.pop("kind", "utterance"), "S001", 1, **kwargs)
    return segment_recording(rec, SegmentationConfig())


@pytest.fixture(scope="module")
def speech_signal(corpus):
    rec = next(r for r in corpus if r.kind == "utterance")
    return sf.read(rec.path, dtype="float64")[0]


def test_silence_only(tmp_path):
    result = hostile(tmp_path, "silent", np.zeros(16000 * 2))
    assert result.recording["status"].item() == "no_speech"
    assert "no signal" in result.recording["warnings"].item() and result.segments.empty


def test_clipped_speech_is_segmented_and_reported(tmp_path, speech_signal):
    result = hostile(tmp_path, "clipped", np.clip(speech_signal * 8, -1, 1))
    assert "clipped" in result.recording["warnings"].item()
    assert len(result.segments) == 1


def test_dc_offset_is_removed_and_reported(tmp_path, speech_signal):
    result = hostile(tmp_path, "dc", speech_signal * 0.5 + 0.2)
    assert "DC offset +0.2" in result.recording["warnings"].item()
    assert len(result.segments) == 1


def test_telephone_band_8k(tmp_path, speech_signal):
    import soxr
    from scipy.signal import butter, sosfilt

    band = sosfilt(butter(8, [300, 3400], "bandpass", fs=16000, output="sos"), speech_signal)
    result = hostile(tmp_path, "phone", soxr.resample(band, 16000, 8000), sr=8000)
    row = result.recording.iloc[0]
    assert row["source_sample_rate"] == 8000 and "narrow band" in row["warnings"]
    assert len(result.segments) == 1
    # Formant ceilings below the source's 4 kHz Nyquist frequency (issue #14), said so.
    assert "formant ceilings kept at or below 3800 Hz" in row["warnings"]
    assert "/s/ (sibilant) measures unavailable" in row["warnings"]
    assert len(result.vowels) and result.vowels["ceiling_hz"].max() <= 3800.0


def test_stereo_with_one_dead_channel(tmp_path, speech_signal):
    stereo = np.stack([speech_signal, np.zeros_like(speech_signal)], axis=1)
    result = hostile(tmp_path, "stereo", stereo, channels={0: "S001", 1: "INT1"},
                     kind="interview")
    row = result.recording.iloc[0]
    assert "channel 1 is silent" in row["warnings"] and row["status"] == "ok"
    assert set(result.segments["speaker_id"]) == {"S001"}


def test_a_corrupt_file_becomes_an_error_row(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF" + b"\0" * 100)
    result = segment_recording(Recording("bad", path, "utterance", "S001", 1),
                               SegmentationConfig())
    assert result.recording["status"].item() == "error"
    error = result.errors.iloc[0]
    assert error["stage"] == "decode" and "bad.wav" in error["message"]


def test_forcing_an_unavailable_method_is_an_error_row(corpus, tmp_path):
    rec = interview(corpus)
    result = segment_recording(rec, SegmentationConfig(attribution="channel"))
    assert result.errors["message"].item().startswith("attribution 'channel' asked for")


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown vad"):
        SegmentationConfig(vad="webrtc")
    with pytest.raises(ValueError, match="min_pause_s must be positive"):
        SegmentationConfig(min_pause_s=0)


def test_real_names_in_transcripts_never_reach_the_segments(corpus, tmp_path):
    rec = interview(corpus)
    copy = tmp_path / "named.TextGrid"
    shutil.copy(rec.transcript, copy)
    text = copy.read_text().replace(f'"{rec.speaker_id} - ', '"Ana García - ')
    copy.write_text(text)
    named = Recording(rec.recording_id, rec.path, "interview", rec.speaker_id, 2,
                      transcript=copy)
    result = segment_recording(named, SegmentationConfig())
    assert "Ana" not in " ".join(result.segments["speaker_id"])
    assert "not a pseudonym" in result.recording["warnings"].item()
