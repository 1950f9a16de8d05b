"""Several files on one timeline (corpora.timeline): offsets, rates, lengths, formats."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from corpora.problems import CorpusError
from corpora.timeline import TimedFile, iter_timeline_blocks, load_timeline, timeline_info
from tests.corpora.test_audio import dominant_hz, write_pyav


def _tone(hz: float, seconds: float, sr: int) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture
def files(tmp_path):
    """A 16 kHz WAV (440 Hz, 2 s, from 0) and a 48 kHz stereo AAC export whose second
    channel holds the other voice (660 Hz, 1.5 s), starting 0.75 s later."""
    wav = tmp_path / "me.wav"
    sf.write(wav, _tone(440, 2.0, 16000), 16000, subtype="PCM_16")
    m4a = write_pyav(tmp_path / "them.m4a",
                     np.stack([_tone(220, 1.5, 48000), _tone(660, 1.5, 48000)]), 48000, "aac")
    return [TimedFile(wav, (0,), 0.0), TimedFile(m4a, (1,), 0.75)]


def test_timeline_info_spans_every_file(files):
    info = timeline_info(files)
    assert (info.sample_rate, info.num_channels) == (48000, 2)
    assert info.duration_s == pytest.approx(2.25, abs=0.03)  # 0.75 + the AAC's 1.5 s


def test_each_file_sits_at_its_offset_at_one_rate(files):
    y, sr = load_timeline(files, sr=16000, mono=False)
    assert sr == 16000 and y.shape[0] == 2
    assert y.shape[1] == pytest.approx(2.25 * sr, abs=0.03 * sr)
    assert dominant_hz(y[0, : sr], sr) == pytest.approx(440, abs=2)
    assert not y[0, 2 * sr + 10 :].any()  # after the WAV's end
    assert not y[1, : int(0.74 * sr)].any()  # before the AAC file starts
    assert dominant_hz(y[1, sr : 2 * sr], sr) == pytest.approx(660, abs=2)
    part, _ = load_timeline(files, sr=16000, offset_s=1.0, duration_s=0.5, mono=False)
    np.testing.assert_allclose(part[:, 400:-400], y[:, sr + 400 : sr + sr // 2 - 400],
                               atol=2e-3)


def test_streamed_blocks_equal_the_one_shot_timeline(files):
    y, _ = load_timeline(files, sr=16000, mono=False)
    blocks = list(iter_timeline_blocks(files, block_s=0.4, sr=16000, mono=False))
    assert all(b.shape == (2, 6400) for b in blocks[:-1])
    streamed = np.concatenate(blocks, axis=1)
    assert streamed.shape == y.shape
    np.testing.assert_allclose(streamed, y, atol=2e-3)
    mono = np.concatenate(list(iter_timeline_blocks(files, block_s=0.4, sr=16000)))
    np.testing.assert_allclose(mono, y.mean(axis=0), atol=2e-3)


def test_a_negative_offset_names_the_file(files):
    with pytest.raises(CorpusError, match=r"them\.m4a.*offset must be >= 0"):
        timeline_info([files[0], TimedFile(files[1].path, (1,), -0.5)])
