"""Specifications for corpora.audio: formats decode, spans and blocks agree, errors name files.

Every input is written by the test itself: a 2-channel signal with a 440 Hz tone on
channel 0 and a 1 kHz tone on channel 1, so that a swapped, mixed or shifted channel
shows up in its spectrum.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from corpora.audio import (
    SUPPORTED_EXTENSIONS,
    AudioInfo,
    audio_info,
    iter_blocks,
    load_audio,
    verify_audio,
)
from corpora.problems import CorpusError

TONES_HZ = (440.0, 1000.0)
DURATION_S = 1.5


def stereo_tones(sr: int, duration_s: float = DURATION_S) -> np.ndarray:
    """(2, n) float32: 440 Hz on channel 0, 1 kHz on channel 1, amplitude 0.5."""
    t = np.arange(round(sr * duration_s)) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in TONES_HZ]).astype(np.float32)


def write_soundfile(path: Path, x: np.ndarray, sr: int, **kw) -> Path:
    sf.write(path, x.T, sr, **kw)
    return path


def write_pyav(
    path: Path, x: np.ndarray, sr: int, codec: str, options: dict[str, str] | None = None
) -> Path:
    """Encode (channels, n) float32 with FFmpeg through PyAV (container from the extension)."""
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=sr, layout="stereo")
        for i in range(0, x.shape[1], 1024):
            # PyAV's encoder regroups frames to the codec's frame size and sample format.
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(x[:, i : i + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate = sr
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def dominant_hz(y: np.ndarray, sr: int) -> float:
    """Frequency of the largest Hann-windowed spectral peak of a 1-D signal."""
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return float(np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spectrum)])


# (extension, writer, sample rate, whether lossless, padding tolerance in samples).
# Lossy tolerances: one codec frame (MP3 1152, AAC 1024, Opus 960 at 48 kHz, Vorbis <= 2048).
FORMATS = [
    ("wav", lambda p, x, sr: write_soundfile(p, x, sr, subtype="PCM_16"), 44100, True, 0),
    ("flac", lambda p, x, sr: write_soundfile(p, x, sr, subtype="PCM_16"), 44100, True, 0),
    ("ogg", lambda p, x, sr: write_soundfile(p, x, sr, subtype="VORBIS"), 44100, False, 2048),
    (
        "mp3",
        lambda p, x, sr: write_soundfile(p, x, sr, format="MP3", subtype="MPEG_LAYER_III"),
        44100,
        False,
        1152,
    ),
    ("m4a", lambda p, x, sr: write_pyav(p, x, sr, "aac"), 44100, False, 1024),
    ("mp4", lambda p, x, sr: write_pyav(p, x, sr, "aac"), 16000, False, 1024),
    ("webm", lambda p, x, sr: write_pyav(p, x, sr, "libopus"), 48000, False, 960),
]


@pytest.mark.parametrize(("ext", "write", "sr", "lossless", "pad"), FORMATS, ids=lambda v: v)
def test_each_format_decodes_with_right_rate_channels_length_and_tones(
    tmp_path, ext, write, sr, lossless, pad
):
    x = stereo_tones(sr)
    path = write(tmp_path / f"tones.{ext}", x, sr)

    info = audio_info(path)
    assert isinstance(info, AudioInfo)
    assert (info.sample_rate, info.num_channels) == (sr, 2)
    # WebM gives its duration to the millisecond plus the last block: allow 0.1 s more.
    header_tol = pad if info.frames_exact else pad + round(0.1 * sr)
    assert abs(info.num_frames - x.shape[1]) <= header_tol

    y, out_sr = load_audio(path, mono=False)
    assert out_sr == sr
    assert y.dtype == np.float32
    assert y.shape[0] == 2
    assert abs(y.shape[1] - x.shape[1]) <= pad
    assert np.abs(y).max() <= 1.0
    for ch, tone in enumerate(TONES_HZ):
        # Skip the first and last 0.1 s where encoders ramp; bin width is < 1 Hz.
        core = y[ch, sr // 10 : -sr // 10]
        assert dominant_hz(core, sr) == pytest.approx(tone, abs=2.0)
    if lossless:
        assert y.shape == x.shape
        np.testing.assert_allclose(y, x, atol=1 / 2**15)  # 16-bit PCM quantisation

    checked = verify_audio(path)
    assert checked.frames_exact
    assert checked.num_frames == y.shape[1]


def test_mono_averages_channels_and_channel_selection_picks_one(tmp_path):
    sr = 16000
    x = stereo_tones(sr)
    path = write_soundfile(tmp_path / "a.wav", x, sr, subtype="FLOAT")

    mono, _ = load_audio(path)
    assert mono.shape == (x.shape[1],)
    np.testing.assert_allclose(mono, x.mean(axis=0), atol=1e-6)

    right, _ = load_audio(path, channels=[1])
    assert right.shape == (x.shape[1],)
    np.testing.assert_array_equal(right, x[1])
    # a single selected channel is 1-D whatever `mono` says
    right2, _ = load_audio(path, channels=[1], mono=False)
    np.testing.assert_array_equal(right2, x[1])

    swapped, _ = load_audio(path, channels=[1, 0], mono=False)
    np.testing.assert_array_equal(swapped, x[::-1])


def test_mono_file_with_mono_false_keeps_a_channel_axis(tmp_path):
    sr = 8000
    path = write_soundfile(tmp_path / "m.wav", stereo_tones(sr)[:1], sr, subtype="FLOAT")
    y, _ = load_audio(path, mono=False)
    assert y.shape == (1, round(sr * DURATION_S))


def test_resampling_44k1_to_16k_keeps_the_tone_and_length(tmp_path):
    x = stereo_tones(44100)
    path = write_soundfile(tmp_path / "a.flac", x, 44100)
    y, sr = load_audio(path, sr=16000, channels=[0])
    assert sr == 16000
    assert y.shape == (round(DURATION_S * 16000),)
    assert dominant_hz(y, sr) == pytest.approx(440.0, abs=1.0)


def test_no_resampling_when_rate_already_matches(tmp_path):
    x = stereo_tones(16000)
    path = write_soundfile(tmp_path / "a.wav", x, 16000, subtype="FLOAT")
    y, _ = load_audio(path, sr=16000, mono=False)
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("ext", ["wav", "m4a"])
@pytest.mark.parametrize("sr_out", [None, 16000])
def test_iter_blocks_concatenate_to_load_audio(tmp_path, ext, sr_out):
    sr = 44100
    x = stereo_tones(sr)
    if ext == "wav":
        path = write_soundfile(tmp_path / "a.wav", x, sr, subtype="FLOAT")
    else:
        path = write_pyav(tmp_path / "a.m4a", x, sr, "aac")
    whole, out_sr = load_audio(path, sr=sr_out, mono=False)
    blocks = list(iter_blocks(path, block_s=0.4, sr=sr_out, mono=False))

    block_n = round(0.4 * out_sr)
    assert all(b.shape == (2, block_n) for b in blocks[:-1])
    assert 0 < blocks[-1].shape[1] <= block_n
    joined = np.concatenate(blocks, axis=-1)
    assert joined.shape == whole.shape
    np.testing.assert_allclose(joined, whole, atol=1e-5)


def test_iter_blocks_mono_and_channel_selection(tmp_path):
    x = stereo_tones(16000)
    path = write_soundfile(tmp_path / "a.wav", x, 16000, subtype="FLOAT")
    blocks = list(iter_blocks(path, block_s=0.5, channels=[1]))
    assert [b.shape for b in blocks] == [(8000,)] * 3
    np.testing.assert_array_equal(np.concatenate(blocks), x[1])


@pytest.mark.parametrize("ext", ["wav", "flac", "m4a"])
def test_offset_and_duration_equal_slicing_the_full_signal(tmp_path, ext):
    sr = 44100
    x = stereo_tones(sr)
    if ext == "m4a":
        path = write_pyav(tmp_path / "a.m4a", x, sr, "aac")
    else:
        path = write_soundfile(tmp_path / f"a.{ext}", x, sr)
    full, _ = load_audio(path, mono=False)
    part, _ = load_audio(path, offset_s=0.75, duration_s=0.5, mono=False)
    start = round(0.75 * sr)
    assert part.shape == (2, round(0.5 * sr))
    # AAC after a seek is decoded from 0.2 s of pre-roll, so it matches to float noise.
    np.testing.assert_allclose(part, full[:, start : start + part.shape[1]], atol=1e-4)


def test_span_past_the_end_is_cut_short(tmp_path):
    x = stereo_tones(8000)
    path = write_soundfile(tmp_path / "a.wav", x, 8000, subtype="FLOAT")
    y, _ = load_audio(path, offset_s=1.0, duration_s=5.0, channels=[0])
    np.testing.assert_array_equal(y, x[0, 8000:])


def test_webm_seek_lands_within_a_millisecond(tmp_path):
    # WebM timestamps are milliseconds: a seek is placed to +-0.5 ms, not to the sample.
    sr = 48000
    path = write_pyav(tmp_path / "a.webm", stereo_tones(sr), sr, "libopus")
    full, _ = load_audio(path, channels=[0])
    part, _ = load_audio(path, offset_s=0.8, duration_s=0.3, channels=[0])
    start = round(0.8 * sr)
    lags = range(-48, 49)
    errors = [np.abs(full[start + lag : start + lag + part.size] - part).max() for lag in lags]
    best = lags[int(np.argmin(errors))]
    assert abs(best) <= sr // 1000
    assert min(errors) < 0.05


# --------------------------------------------------------------------------- errors


def assert_names(err: pytest.ExceptionInfo[CorpusError], path: Path, *words: str) -> None:
    message = str(err.value)
    assert str(path) in message
    assert all(p.path == str(path) for p in err.value.problems)
    for word in words:
        assert word in message


def test_truncated_wav_is_an_error_naming_the_file(tmp_path):
    path = write_soundfile(tmp_path / "cut.wav", stereo_tones(16000), 16000)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(CorpusError) as err:
        verify_audio(path)
    assert_names(err, path, "truncated")
    with pytest.raises(CorpusError):
        audio_info(path)


def test_truncated_flac_fails_verification(tmp_path):
    path = write_soundfile(tmp_path / "cut.flac", stereo_tones(16000), 16000)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(CorpusError) as err:
        verify_audio(path)
    assert_names(err, path)


def test_garbage_flac_is_an_error_chained_to_libsndfile(tmp_path):
    path = tmp_path / "noise.flac"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CorpusError) as err:
        audio_info(path)
    assert_names(err, path)
    assert isinstance(err.value.__cause__, sf.LibsndfileError)


@pytest.mark.parametrize("movflags", ["", "faststart"])
def test_truncated_m4a_is_an_error(tmp_path, movflags):
    # FFmpeg writes the index (moov) last, so half a file has none; with faststart it
    # comes first, and half a file has an index promising samples that are not there.
    options = {"movflags": movflags} if movflags else None
    path = write_pyav(tmp_path / "cut.m4a", stereo_tones(44100), 44100, "aac", options)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(CorpusError) as err:
        verify_audio(path)
    assert_names(err, path)


def test_unsupported_extension_lists_the_supported_ones(tmp_path):
    path = tmp_path / "talk.aiff"
    path.write_bytes(b"x")
    with pytest.raises(CorpusError) as err:
        load_audio(path)
    assert_names(err, path, ".aiff", *SUPPORTED_EXTENSIONS)


def test_missing_and_empty_files(tmp_path):
    missing = tmp_path / "nope.wav"
    with pytest.raises(CorpusError) as err:
        load_audio(missing)
    assert_names(err, missing, "not found")

    empty = tmp_path / "empty.m4a"
    empty.touch()
    with pytest.raises(CorpusError) as err:
        audio_info(empty)
    assert_names(err, empty, "empty")


def test_zero_frame_wav_is_an_error(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(CorpusError) as err:
        verify_audio(path)
    assert_names(err, path, "no audio")


def test_video_without_audio_stream_is_an_error(tmp_path):
    path = tmp_path / "video.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(CorpusError) as err:
        load_audio(path)
    assert_names(err, path, "no audio stream")


@pytest.mark.parametrize("channels", [[2], [-1], []])
def test_channel_out_of_range_is_an_error(tmp_path, channels):
    path = write_soundfile(tmp_path / "a.wav", stereo_tones(8000), 8000)
    with pytest.raises(CorpusError) as err:
        load_audio(path, channels=channels)
    assert_names(err, path, "channel")
    with pytest.raises(CorpusError):
        next(iter_blocks(path, channels=channels))


def test_negative_offset_and_offset_past_end_are_errors(tmp_path):
    path = write_soundfile(tmp_path / "a.wav", stereo_tones(8000), 8000)
    with pytest.raises(CorpusError) as err:
        load_audio(path, offset_s=-0.5)
    assert_names(err, path, "offset", "-0.5")
    with pytest.raises(CorpusError) as err:
        load_audio(path, offset_s=10.0)
    assert_names(err, path, "beyond the end")
