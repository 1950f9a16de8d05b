"""Hostile audio files: each is refused with an error naming the file (and the time,
where there is one) or processed with a documented warning; the good utterances of
the same batch always finish."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from corpora.audio import iter_blocks
from corpora.check import check_corpus

BAD = "audio/S001/bad.wav"


def _plant(hostile, write, path: str = BAD, **kwargs) -> Path:
    target = hostile.root / path
    write(target)
    hostile.add_recording("bad", path, **kwargs)
    return target


def _refused(hostile, expected: str) -> str:
    """check lists the file with ``expected``; extract records it and finishes the rest."""
    report = check_corpus(hostile.root)
    assert [p.path for p in report.problems] == [Path(hostile.root / BAD).relative_to(
        hostile.root).as_posix()], report.problems
    assert expected in str(report.problems[0])
    assert set(report.durations_s) >= {"S001_u01", "S002_u01"}
    result = hostile.extract()
    result.assert_good_finished()
    assert result.row("bad")["status"] == "error"
    message = result.error_for("bad")
    assert "bad.wav" in message and expected in message
    return message


# ---------------------------------------------------------------- broken files


def test_zero_length_file_is_refused(hostile):
    _plant(hostile, lambda p: p.write_bytes(b""))
    _refused(hostile, "empty audio file (0 bytes)")


def test_header_only_wav_is_refused_as_truncated(hostile):
    y, sr = hostile.good_audio

    def header_only(p):
        sf.write(p, y, sr, subtype="PCM_16")
        p.write_bytes(p.read_bytes()[:44])  # the RIFF/fmt/data headers, no samples

    _plant(hostile, header_only)
    _refused(hostile, "only 0 are present")


def test_truncated_wav_is_refused_with_the_missing_bytes(hostile):
    y, sr = hostile.good_audio

    def truncate(p):
        sf.write(p, y, sr, subtype="PCM_16")
        p.write_bytes(p.read_bytes()[: 44 + y.size])  # half the samples

    _plant(hostile, truncate)
    _refused(hostile, f"claims {2 * y.size} bytes but only {y.size} are present")


def test_text_file_named_wav_is_refused(hostile):
    _plant(hostile, lambda p: p.write_text("speaker_id,age\nS001,31\n" * 40))
    _refused(hostile, "cannot read audio header (corrupt or not audio)")


@pytest.mark.parametrize("fmt, name", [("WAV", "audio/S001/bad.mp3"),
                                       ("MP3", "audio/S001/bad.wav")])
def test_wrong_extension_is_decoded_by_content(hostile, fmt, name):
    """libsndfile recognises WAV and MP3 by their headers, not by the extension:
    a WAV named .mp3 and an MP3 named .wav are decoded as what they are."""
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, y, sr, format=fmt), path=name,
           transcript_from="S001_u01")
    assert check_corpus(hostile.root).ok
    result = hostile.extract()
    result.assert_good_finished()
    assert result.row("bad")["status"] == "ok"
    assert result.row("bad")["n_segments"] >= 1
    assert result.row("bad")["duration_s"] == pytest.approx(y.size / sr, abs=0.06)


# ---------------------------------------------------------------- bad samples


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused_with_their_time(hostile, bad_value):
    """NaN or Inf in a float WAV: refused, naming the first bad sample's time (not
    clipped to full scale, which would hide it)."""
    y, sr = hostile.good_audio
    y = y.copy()
    y[int(1.25 * sr)] = bad_value
    y[int(2.0 * sr)] = np.nan
    _plant(hostile, lambda p: sf.write(p, y, sr, subtype="FLOAT"))
    message = _refused(hostile, "non-finite sample at 1.250 s")
    assert repr(str(np.float32(bad_value))) in message


def test_digital_silence_is_no_speech_not_an_error(hostile):
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, np.zeros_like(y), sr, subtype="PCM_16"))
    assert check_corpus(hostile.root).ok
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "no_speech"
    assert bad["n_segments"] == 0
    assert "no signal" in bad["warnings"]
    assert not (result.segments["recording_id"] == "bad").any()


def test_clipping_is_processed_with_a_warning(hostile):
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, np.clip(8 * y, -1, 1), sr, subtype="PCM_16"),
           transcript_from="S001_u01")
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "ok" and bad["n_segments"] >= 1
    assert "clipped" in bad["warnings"] and "biased" in bad["warnings"]
    # The good recordings carry no such warning: it is not raised by default.
    assert not result.row("S001_u01")["warnings"]


def test_dc_offset_is_removed_before_analysis_with_a_warning(hostile):
    """A +0.3 DC offset: the same segments and F0 as the clean file (the offset is
    removed before analysis), and a warning saying so."""
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, 0.5 * y + 0.3, sr, subtype="PCM_16"),
           transcript_from="S001_u01")
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "ok"
    assert "DC offset +0.300" in bad["warnings"] and "removed" in bad["warnings"]
    segs = result.segments.set_index("recording_id")
    clean, shifted = segs.loc[["S001_u01"]], segs.loc[["bad"]]
    assert len(shifted) == len(clean)
    np.testing.assert_allclose(shifted["start_s"], clean["start_s"], atol=0.02)
    np.testing.assert_allclose(shifted["f0_median_st"], clean["f0_median_st"], atol=0.3)


# ---------------------------------------------------------------- rates and channels


def test_8khz_is_processed_with_a_narrow_band_warning(hostile):
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, soxr.resample(y, sr, 8000), 8000, subtype="PCM_16"),
           transcript_from="S001_u01")
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "ok" and bad["n_segments"] >= 1
    assert bad["source_sample_rate"] == 8000 and bad["sample_rate"] == 16000
    assert "narrow band" in bad["warnings"]
    f0 = result.segments.set_index("recording_id")["f0_median_st"]  # semitones re 100 Hz
    assert f0.loc["bad"].item() == pytest.approx(f0.loc["S001_u01"].item(), abs=0.5)


def test_8khz_has_no_sibilant_realisation(hostile):
    """Telephone audio holds nothing above 4 kHz, where [s] has its energy: classifying
    /s/ there would make every speaker look aspirated."""
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, soxr.resample(y, sr, 8000), 8000, subtype="PCM_16"),
           transcript_from="S001_u01")
    hostile.extract()
    import pandas as pd

    sibilants = pd.read_parquet(hostile.store / "sibilants")
    bad = sibilants[sibilants["recording_id"] == "bad"]
    warnings = pd.read_parquet(hostile.store / "recordings").set_index("recording_id")
    assert "sibilant" in warnings.loc["bad", "warnings"]
    assert bad.empty or bad["realisation"].isna().all()


def test_96khz_is_resampled_to_the_analysis_rate(hostile):
    y, sr = hostile.good_audio
    _plant(hostile, lambda p: sf.write(p, soxr.resample(y, sr, 96000), 96000, subtype="PCM_24"),
           transcript_from="S001_u01")
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "ok" and not bad["warnings"]
    assert bad["source_sample_rate"] == 96000 and bad["sample_rate"] == 16000
    segs = result.segments.set_index("recording_id")
    np.testing.assert_allclose(segs.loc[["bad"], "f0_median_st"],
                               segs.loc[["S001_u01"], "f0_median_st"], atol=0.2)


def test_six_channels_without_a_map_are_mixed_to_mono(hostile):
    y, sr = hostile.good_audio
    six = np.stack([y * (0.2 + 0.1 * c) for c in range(6)], axis=1)
    _plant(hostile, lambda p: sf.write(p, six, sr, subtype="PCM_16"),
           transcript_from="S001_u01")
    result = hostile.extract()
    result.assert_good_finished()
    bad = result.row("bad")
    assert bad["status"] == "ok" and bad["num_channels"] == 6
    assert bad["n_segments"] == result.row("S001_u01")["n_segments"]


def test_long_file_streams_in_bounded_memory(tmp_path):
    """A 20-minute file goes through iter_blocks one block at a time: traced memory
    stays near a few 10-s blocks, far below the 77 MB the whole file takes as float32."""
    sr, minutes = 16000, 20
    path = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for _ in range(minutes):
            f.write((0.1 * rng.standard_normal(60 * sr)).astype(np.float32))
    whole_bytes = minutes * 60 * sr * 4
    for out_sr in (16000, 22050):  # native, and through the streaming resampler
        tracemalloc.start()
        n = 0
        for block in iter_blocks(path, block_s=10.0, sr=out_sr):
            n += block.size
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert n == pytest.approx(minutes * 60 * out_sr, abs=out_sr // 100)
        assert peak < whole_bytes / 8, f"peak {peak / 1e6:.1f} MB at {out_sr} Hz"
