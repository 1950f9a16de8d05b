"""The segmenter marks overlapped speech on its segments and leaves it out of the
F0 and voice-quality measures, unless ``keep_overlap``."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from corpora.corpus import Recording
from corpora.synth import Voice, plan_ipu, synthesize_ipu
from corpora.synth.text import draw_phrase, make_lexicon
from features.frames import span_frames
from speech.segmentation import SegmentationConfig, segment_recording
from tests.conftest import write_mfa_textgrid

SR = 16000


def ipu(voice: Voice, rng, lexicon, n_words: int) -> np.ndarray:
    words = draw_phrase(lexicon, rng, n_words=n_words)
    y, _ = synthesize_ipu(plan_ipu(words, voice, rng=rng), voice, rng=rng, pad_s=0.05)
    return 0.1 * y / np.sqrt(np.mean(y.astype(np.float64) ** 2))


@pytest.fixture(scope="module")
def two_channel_interview(tmp_path_factory):
    """S01 on channel 0 speaks from 0.3 s; INT1 on channel 1 starts a long turn while
    S01 is still speaking; each leaks into the other's channel 20 dB down."""
    rng = np.random.default_rng(4)
    lexicon = make_lexicon(rng, n_words=80)
    a = ipu(
        Voice("S01", "F", 210.0, 0.84, 5.5, 0.12, 0.008, 0.04, -26.0, 0.6, 0.08), rng, lexicon, 7
    )
    b = ipu(
        Voice("INT1", "M", 115.0, 1.0, 5.8, 0.12, 0.006, 0.03, -28.0, 0.6, 0.08), rng, lexicon, 7
    )
    start_a, start_b = int(0.3 * SR), int(0.3 * SR) + a.size // 2
    n = start_b + b.size + SR // 2
    ch = np.zeros((2, n))
    ch[0, start_a : start_a + a.size] = a
    ch[1, start_b : start_b + b.size] = b
    ch += 0.1 * ch[::-1] + 1e-4 * rng.standard_normal(ch.shape)
    path = tmp_path_factory.mktemp("overlap") / "interview.wav"
    sf.write(path, ch.T, SR, subtype="FLOAT")
    overlap_s = ((start_b + 800) / SR, (start_a + a.size - 800) / SR)  # inside both IPUs
    return Recording("interview", path, "interview", "S01", 2, {0: "S01", 1: "INT1"}), overlap_s


def run(recording, **settings):
    result = segment_recording(recording, SegmentationConfig(**settings), keep_tracks=True)
    assert result.errors.empty, result.errors
    return result


def test_overlapped_stretch_is_marked_and_left_out_of_pitch_and_voice_quality(
    two_channel_interview,
):
    recording, (lo, hi) = two_channel_interview
    default, kept = run(recording), run(recording, keep_overlap=True)
    segments = default.segments
    assert segments["method"].eq("channel").all()
    first, end = span_frames(np.array([[lo, hi]]), default.tracks["overlap"].size)
    inside = slice(int(first[0]), int(end[0]))
    assert default.tracks["overlap"][inside].mean() > 0.9
    # The segments over the overlap carry its share (each frame goes to the louder
    # voice there, so the overlap is cut into short segments, each overlapped
    # throughout); the measures leave it out.
    over = segments[(segments["start_s"] < hi) & (segments["end_s"] > lo)]
    assert (over["overlap_ratio"] > 0).all()
    assert (over["overlap_ratio"].iloc[1:-1] == 1).all()
    assert np.isnan(default.tracks["f0_hz"][default.tracks["overlap"]]).all()
    assert np.isfinite(kept.tracks["f0_hz"][inside]).mean() > 0.3  # consonants of either voice
    ids = over["segment_id"]
    periods = segments.set_index("segment_id").loc[ids, "n_periods"]
    kept_periods = kept.segments.set_index("segment_id").loc[ids, "n_periods"]
    assert (periods.iloc[1:-1] == 0).all() and (kept_periods.iloc[1:-1] > 0).all()
    assert (periods.iloc[[0, -1]] < kept_periods.iloc[[0, -1]]).all()
    assert np.isnan(segments.set_index("segment_id").loc[ids[1:-1], "jitter_local_pct"]).all()
    assert kept.segments["overlap_ratio"].equals(segments["overlap_ratio"])
    # Vowel tokens inside the overlap keep their rows, flagged and without formants.
    for result, flagged in ((default, True), (kept, False)):
        vowels = result.vowels
        inside_vowels = vowels[(vowels["start_s"] >= lo) & (vowels["end_s"] <= hi)]
        assert len(inside_vowels) >= 2
        assert inside_vowels["qc"].str.contains("overlap").all() == flagged
        assert inside_vowels["f1_hz"].isna().all() == flagged
    assert default.vowels["f1_hz"].notna().sum() >= 10  # those outside keep theirs


def test_one_voice_recording_has_no_overlap(two_channel_interview, tmp_path):
    recording, _ = two_channel_interview
    y, _ = sf.read(recording.path)
    path = tmp_path / "mono.wav"
    sf.write(path, y[:, 0], SR, subtype="FLOAT")
    result = run(Recording("mono", path, "interview", "S01", 1), features=False)
    assert (result.segments["overlap_ratio"] == 0).all()


def test_mono_mix_of_two_voices_finds_the_overlap_acoustically(two_channel_interview, tmp_path):
    recording, (lo, hi) = two_channel_interview
    y, _ = sf.read(recording.path)
    path = tmp_path / "mix.wav"
    sf.write(path, y.sum(axis=1), SR, subtype="FLOAT")
    result = run(Recording("mix", path, "interview", "S01", 2), features=False)
    overlap = result.tracks["overlap"]
    first, end = span_frames(np.array([[lo, hi]]), overlap.size)
    assert overlap[int(first[0]) : int(end[0])].mean() > 0.8
    assert overlap.sum() < 1.3 * (end[0] - first[0])  # little beyond it
    # One IPU holds both voices (no pause between them): the overlap is a share of it.
    segment = result.segments.iloc[result.segments["duration_s"].argmax()]
    assert segment["overlap_ratio"] == pytest.approx(
        overlap.sum() / round(segment["duration_s"] / 0.01), abs=0.02
    )


def test_transcript_voices_that_overlap_mark_the_overlap(two_channel_interview, tmp_path):
    recording, _ = two_channel_interview
    y, _ = sf.read(recording.path)
    path = tmp_path / "mix.wav"
    sf.write(path, y.sum(axis=1), SR, subtype="FLOAT")
    transcript = tmp_path / "mix.TextGrid"
    duration = y.shape[0] / SR
    write_mfa_textgrid(
        transcript, duration, [("S01", 0.35, 2.5, "uno"), ("INT1", 2.0, duration - 0.6, "dos")]
    )
    result = run(
        Recording("mix", path, "interview", "S01", 2, transcript=transcript), features=False
    )
    assert result.segments["method"].eq("transcript").all()
    overlap = result.tracks["overlap"]
    first, end = span_frames(np.array([[2.0, 2.5]]), overlap.size)
    np.testing.assert_array_equal(np.flatnonzero(overlap), np.arange(first[0], end[0]))
