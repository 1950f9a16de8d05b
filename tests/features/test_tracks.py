"""Specifications of the intensity and pitch tracks (features.tracks)."""

from __future__ import annotations

import numpy as np
import pytest

from features.frames import n_frames
from features.tracks import (
    INTENSITY_FLOOR_DB,
    VOWEL_BAND_HZ,
    intensity_db,
    pitch_track,
    remove_dc,
)

SR = 16000


def harmonic(f0: float, duration_s: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(duration_s * sr)) / sr
    return amp * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))


def test_full_scale_sine_reads_minus_3_db_on_the_grid():
    y = np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    level = intensity_db(y, SR)
    assert level.shape == (n_frames(SR, SR),)
    np.testing.assert_allclose(level, -3.01, atol=0.1)  # edges too: weights renormalised


def test_intensity_is_immune_to_dc_offset():
    y = 0.1 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)
    np.testing.assert_allclose(intensity_db(y + 0.4, SR), intensity_db(y, SR), atol=0.05)
    f0_dc, _ = pitch_track(harmonic(150, 1.0) + 0.3, SR)
    assert np.nanmedian(f0_dc) == pytest.approx(150, rel=0.01)


def test_intensity_follows_a_step_within_a_frame_or_two():
    y = np.concatenate([np.zeros(SR), 0.5 * np.sin(2 * np.pi * 300 * np.arange(SR) / SR)])
    level = intensity_db(y, SR)
    onset = np.flatnonzero(level > -40)[0] * 0.01
    assert onset == pytest.approx(1.0, abs=0.03)
    assert level[:50].max() == INTENSITY_FLOOR_DB


def test_vowel_band_intensity_drops_energy_outside_the_band():
    t = np.arange(SR) / SR
    low, mid = np.sin(2 * np.pi * 100 * t), np.sin(2 * np.pi * 1000 * t)
    assert np.median(intensity_db(mid, SR, band_hz=VOWEL_BAND_HZ)) == pytest.approx(-3, abs=0.5)
    assert np.median(intensity_db(low, SR, band_hz=VOWEL_BAND_HZ)) < -30


def test_pitch_of_a_harmonic_tone_and_none_for_noise():
    f0, strength = pitch_track(harmonic(180, 1.0), SR)
    assert f0.shape == strength.shape == (n_frames(SR, SR),)
    voiced = ~np.isnan(f0)
    assert voiced.mean() > 0.9
    np.testing.assert_allclose(f0[voiced], 180, rtol=0.01)
    assert strength[voiced].min() > 0.9
    noise = np.random.default_rng(0).standard_normal(SR) * 0.1
    f0_noise, _ = pitch_track(noise, SR)
    assert np.isnan(f0_noise).mean() > 0.9


def test_pitch_is_on_the_common_grid():
    # Voicing starts at 0.5 s: the first voiced frame is the one centred near 0.5 s.
    y = np.concatenate([np.zeros(SR // 2), harmonic(150, 0.5)])
    f0, _ = pitch_track(y, SR)
    first = np.flatnonzero(~np.isnan(f0))[0]
    assert abs(first * 0.01 - 0.5) <= 0.03


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
def test_other_sample_rates(sr):
    y = harmonic(120, 1.0, sr=sr)
    f0, _ = pitch_track(y, sr)
    level = intensity_db(y, sr, band_hz=VOWEL_BAND_HZ)
    assert f0.shape == level.shape == (n_frames(y.size, sr),)
    assert np.nanmedian(f0) == pytest.approx(120, rel=0.01)


@pytest.mark.parametrize("n", [0, 1, 100, 799])
def test_very_short_signals_give_sensible_tracks(n):
    y = np.random.default_rng(1).standard_normal(n) * 0.1
    level = intensity_db(y, SR)
    f0, strength = pitch_track(y, SR)
    assert level.shape == f0.shape == strength.shape == (n_frames(n, SR),)
    assert np.all(np.isfinite(level)) and np.all(np.isnan(f0))


def test_all_zero_signal():
    y = np.zeros(SR)
    assert np.all(intensity_db(y, SR) == INTENSITY_FLOOR_DB)
    f0, strength = pitch_track(y, SR)
    assert np.all(np.isnan(f0)) and np.all(strength == 0)


def test_clipped_speech_is_measured():
    y = np.clip(harmonic(150, 1.0, amp=3.0), -1, 1)
    f0, _ = pitch_track(y, SR)
    assert np.nanmedian(f0) == pytest.approx(150, rel=0.01)
    assert np.all(intensity_db(y, SR) < 0.5)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros((2, 100)), "mono"),
        (np.array([0.0, np.nan, 0.0]), "finite"),
        (np.array(["a", "b"]), "real numbers"),
    ],
)
def test_invalid_signals_are_refused_with_the_offending_value(y, match):
    with pytest.raises(ValueError, match=match):
        intensity_db(y, SR)


def test_remove_dc_high_pass():
    t = np.arange(SR) / SR
    y = 0.5 + 0.2 * np.sin(2 * np.pi * 5 * t) + 0.1 * np.sin(2 * np.pi * 500 * t)
    x = remove_dc(y, SR, highpass_hz=40.0)
    assert abs(x.mean()) < 1e-3
    assert np.std(x) == pytest.approx(0.1 / np.sqrt(2), rel=0.05)
