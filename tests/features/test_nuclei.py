"""Specifications of syllable-nucleus detection (features.nuclei)."""

from __future__ import annotations

import numpy as np
import pytest

from features.frames import time_to_frames
from features.nuclei import syllable_nuclei
from features.tracks import VOWEL_BAND_HZ, intensity_db, pitch_track

SR = 16000


def syllables(n: int, rate_hz: float = 5.0, *, depth: float = 0.9, sr: int = SR):
    """n voiced 'syllables': a harmonic tone amplitude-modulated at rate_hz, 0.3 s pauses."""
    dur = n / rate_hz
    t = np.arange(int(dur * sr)) / sr
    env = 1 - depth * (0.5 + 0.5 * np.cos(2 * np.pi * rate_hz * t))
    tone = sum(np.sin(2 * np.pi * k * 130 * t) / k for k in range(1, 10))
    pad = np.zeros(int(0.3 * sr))
    return np.concatenate([pad, 0.2 * env * tone, pad]), 0.3 + (np.arange(n) + 0.5) / rate_hz


def nuclei_of(y, sr=SR, **kw):
    f0, _ = pitch_track(y, sr)
    return syllable_nuclei(intensity_db(y, sr, band_hz=VOWEL_BAND_HZ), ~np.isnan(f0), **kw)


@pytest.mark.parametrize("rate_hz", [3.0, 5.0, 7.0])
def test_one_nucleus_per_modulation_peak(rate_hz):
    y, peaks = syllables(10, rate_hz)
    est = nuclei_of(y)
    assert len(est) == 10
    np.testing.assert_allclose(est, peaks, atol=0.02)


def test_shallow_dips_are_not_syllable_boundaries():
    # A 1 dB ripple is below the 2 dB minimum dip: one long nucleus, not five.
    y, _ = syllables(5, depth=0.1)
    assert len(nuclei_of(y)) <= 2


def test_unvoiced_peaks_are_not_nuclei():
    rng = np.random.default_rng(0)
    t = np.arange(2 * SR) / SR
    y = 0.2 * rng.standard_normal(t.size) * (0.5 - 0.5 * np.cos(2 * np.pi * 4 * t))
    assert len(nuclei_of(y)) == 0


def test_speech_mask_restricts_nuclei():
    y, peaks = syllables(6)
    f0, _ = pitch_track(y, SR)
    level = intensity_db(y, SR, band_hz=VOWEL_BAND_HZ)
    speech = np.zeros(level.size, dtype=bool)
    speech[: time_to_frames(peaks[2]) + 5] = True
    assert len(syllable_nuclei(level, ~np.isnan(f0), speech=speech)) == 3


def test_degenerate_inputs():
    assert syllable_nuclei(np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)
    assert syllable_nuclei(np.full(2, -100.0), np.ones(2, dtype=bool)).shape == (0,)
    assert len(nuclei_of(np.zeros(SR))) == 0
    with pytest.raises(ValueError, match="shape"):
        syllable_nuclei(np.zeros(5), np.zeros(4, dtype=bool))


def test_nucleus_spans_stop_at_the_dip_the_drop_and_unvoiced_frames():
    from features.nuclei import nucleus_spans

    hop = 0.01
    level = np.full(100, -60.0)
    level[10:40] = -20.0  # a 300 ms vowel, peak at 20
    level[20] = -18.0
    level[40:45] = -30.0  # a dip (consonant)
    level[45:70] = -22.0  # a second vowel, peak at 55
    level[55] = -19.0
    voiced = level > -35
    voiced[65:] = False  # devoiced tail
    spans = nucleus_spans(level, np.array([0.20, 0.55]), voiced, hop_s=hop, drop_db=6.0,
                          max_half_s=0.5)
    np.testing.assert_allclose(spans, [[0.095, 0.395], [0.445, 0.645]], atol=1e-9)
    # at most max_half_s to a side, at least min_half_s
    narrow = nucleus_spans(level, np.array([0.20]), voiced, hop_s=hop, max_half_s=0.05)
    np.testing.assert_allclose(narrow, [[0.145, 0.255]], atol=1e-9)
    alone = nucleus_spans(level, np.array([0.80]), voiced, hop_s=hop, min_half_s=0.02)
    np.testing.assert_allclose(alone, [[0.775, 0.825]], atol=1e-9)
    assert nucleus_spans(level, np.zeros(0), voiced).shape == (0, 2)


def test_a_hard_onset_loudest_before_the_first_voiced_frame_is_a_nucleus():
    # A steady vowel loudest at its onset, one frame (10 ms) before the pitch
    # tracker's first voiced frame (its window is longer than the intensity's).
    level = np.r_[np.full(5, -80.0), -20.0, -16.0, np.linspace(-17, -22, 20), np.full(5, -80.0)]
    voiced = np.zeros(level.size, dtype=bool)
    voiced[7:27] = True
    assert syllable_nuclei(level, voiced) == pytest.approx([0.06])
    # strict voicing at the peak (the former rule) misses it; a peak 50 ms from
    # any voiced frame is no nucleus either way
    assert syllable_nuclei(level, voiced, voicing_tolerance_s=0.0).size == 0
    voiced[:] = False
    voiced[11:27] = True
    assert syllable_nuclei(level, voiced).size == 0
