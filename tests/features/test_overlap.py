"""Overlapping speech: detection in channel-per-voice recordings and in mono mixes
built from synthetic single-voice recordings with exactly known overlap, and the
span bookkeeping that leaves overlap out of the measures."""

from __future__ import annotations

import numpy as np
import pytest

from corpora.synth import Voice, plan_ipu, synthesize_ipu
from corpora.synth.text import draw_phrase, make_lexicon
from features.activity import voice_activity
from features.attribution import spans_mask
from features.overlap import (
    channel_overlap,
    double_voicing,
    mixed_overlap,
    overlap_from_evidence,
    overlap_share,
    pool_spans,
    split_spans,
)
from features.tracks import intensity_db, pitch_track

SR = 16000
HOP = 0.01
FEMALE = Voice("F", "F", 210.0, 0.84, 5.5, 0.12, 0.008, 0.04, -26.0, 0.6, 0.08)
MALE = Voice("M", "M", 115.0, 1.00, 5.8, 0.12, 0.006, 0.03, -28.0, 0.6, 0.08)


def voice_track(voice, rng, lexicon, starts_s, n_words, total_s):
    """One voice's IPUs at ``starts_s`` on a silent track: (signal, IPU spans)."""
    y, spans, pad = np.zeros(int(total_s * SR)), [], round(0.05 * SR)
    for t0, n in zip(starts_s, n_words, strict=True):
        words = draw_phrase(lexicon, rng, n_words=n)
        sig, _ = synthesize_ipu(plan_ipu(words, voice, rng=rng), voice, rng=rng, pad_s=0.05)
        sig = sig.astype(np.float64)
        sig *= 0.1 / np.sqrt(np.mean(sig[pad:-pad] ** 2))
        i = int(t0 * SR)
        if i + sig.size > y.size:
            break
        y[i : i + sig.size] += sig
        spans.append(((i + pad) / SR, (i + sig.size - pad) / SR))
    return y, np.array(spans)


def dialogue(a: Voice, b: Voice, seed: int, total_s: float = 45.0):
    """A's turns; after each, B takes the floor early (overlapping A's end), or gives
    a one-word backchannel inside A's turn, or answers after a pause."""
    rng = np.random.default_rng(seed)
    lexicon = make_lexicon(rng, n_words=150)
    starts, n_words, t = [], [], 0.3
    while t < total_s - 6:
        n = int(rng.integers(3, 8))
        starts.append(t)
        n_words.append(n)
        t += n * 0.45 + rng.uniform(1.5, 3.5)
    ya, spans_a = voice_track(a, rng, lexicon, starts, n_words, total_s)
    starts_b, words_b = [], []
    for s, e in spans_a:
        draw = rng.uniform()
        if draw < 0.4:
            starts_b.append(e - rng.uniform(0.2, 0.8))
            words_b.append(int(rng.integers(2, 5)))
        elif draw < 0.7:
            starts_b.append(rng.uniform(s, max(s, e - 0.5)))
            words_b.append(1)
        else:
            starts_b.append(e + rng.uniform(0.3, 0.8))
            words_b.append(int(rng.integers(2, 5)))
    yb, spans_b = voice_track(b, rng, lexicon, starts_b, words_b, total_s)
    return ya, yb, spans_a, spans_b


@pytest.fixture(scope="module")
def two_voices():
    """A female and a male voice (seed not used to choose the settings)."""
    ya, yb, spans_a, spans_b = dialogue(FEMALE, MALE, seed=11)
    n = 1 + ya.size // round(HOP * SR)
    a, b = spans_mask(spans_a, n, HOP), spans_mask(spans_b, n, HOP)
    return ya, yb, a, b


def found_and_false(detected, a, b):
    both = a & b
    single = (a | b) & ~both
    return detected[both].mean(), detected[single].mean()


def test_mixed_overlap_finds_most_overlap_and_little_single_voice_time(two_voices):
    ya, yb, a, b = two_voices
    rng = np.random.default_rng(0)
    y = ya + yb + 1e-4 * rng.standard_normal(ya.size)
    f0, _ = pitch_track(y, SR, hop_s=HOP, pitch_floor_hz=60.0, pitch_ceiling_hz=500.0)
    n = min(f0.size, a.size)
    detected = mixed_overlap(y, SR, f0[:n], (a | b)[:n], hop_s=HOP)
    assert (a & b).sum() * HOP > 3.0  # seconds of overlap to find
    found, false = found_and_false(detected, a[:n], b[:n])
    assert found >= 0.8, found
    assert false < 0.05, false


def test_one_voice_leaves_little_residual_and_no_overlap(two_voices):
    ya, _, a, _ = two_voices
    y = ya + 1e-4 * np.random.default_rng(1).standard_normal(ya.size)
    f0, _ = pitch_track(y, SR, hop_s=HOP, pitch_floor_hz=60.0, pitch_ceiling_hz=500.0)
    n = min(f0.size, a.size)
    evidence = double_voicing(y, SR, f0[:n], hop_s=HOP)
    assert np.nanmedian(evidence) < 0.06
    assert mixed_overlap(y, SR, f0[:n], a[:n], hop_s=HOP)[a[:n]].mean() < 0.02


def test_cancellation_removes_the_tracked_voice_and_keeps_a_second():
    t = np.arange(SR) / SR
    harmonics = np.arange(1, 11)[:, None]

    def tone(f0_hz):  # ten harmonics, 1/h amplitudes
        return 0.1 * np.sum(np.sin(2 * np.pi * f0_hz * harmonics * t) / harmonics, axis=0)

    one = tone(125.0)  # a period of 128 samples: cancelled exactly
    two = one + tone(187.0)
    f0 = np.full(100, 125.0)
    inner = slice(10, 90)
    assert np.nanmax(double_voicing(one, SR, f0)[inner]) < 1e-9
    # The comb passes the second tone with a gain between 0 and 2 per harmonic.
    assert np.nanmin(double_voicing(two, SR, f0)[inner]) > 0.25
    assert np.isnan(double_voicing(one, SR, np.full(100, np.nan))).all()


@pytest.mark.parametrize("gain_db", [0.0, -10.0], ids=["equal-gains", "quiet-second-mic"])
def test_channel_overlap_counts_own_voices_not_crosstalk(two_voices, gain_db):
    ya, yb, a, b = two_voices
    leak = 10 ** (-20 / 20)  # the other participant 20 dB down
    rng = np.random.default_rng(2)
    ch0 = ya + leak * yb + 1e-4 * rng.standard_normal(ya.size)
    ch1 = (yb + leak * ya) * 10 ** (gain_db / 20) + 1e-4 * rng.standard_normal(ya.size)
    levels = np.stack([intensity_db(ch, SR, hop_s=HOP) for ch in (ch0, ch1)])
    n = min(levels.shape[1], a.size)
    detected = channel_overlap(levels[:, :n], hop_s=HOP)
    found, false = found_and_false(detected, a[:n], b[:n])
    assert found >= 0.9, found
    assert false < 0.03, false


def test_channel_overlap_takes_the_mix_activity_the_segmenter_has(two_voices):
    ya, yb, a, b = two_voices
    leak = 10 ** (-20 / 20)
    rng = np.random.default_rng(3)
    channels = [ya + leak * yb, yb + leak * ya]
    channels = [ch + 1e-4 * rng.standard_normal(ya.size) for ch in channels]
    levels = np.stack([intensity_db(ch, SR, hop_s=HOP) for ch in channels])
    n = min(levels.shape[1], a.size)
    levels = levels[:, :n]
    # Cross-talk makes each channel's own activity that of the mix.
    mix_active = voice_activity(intensity_db(channels[0] + channels[1], SR, hop_s=HOP)[:n], None)
    own = channel_overlap(levels, hop_s=HOP)
    given = channel_overlap(levels, hop_s=HOP, active=mix_active)
    assert not (given & ~mix_active).any()
    np.testing.assert_allclose(
        found_and_false(given, a[:n], b[:n]), found_and_false(own, a[:n], b[:n]), atol=0.005
    )
    assert (given != own).mean() < 0.005


def test_one_channel_has_no_overlap():
    assert not channel_overlap(np.full((1, 50), 60.0)).any()


def test_a_reverberant_burst_is_not_overlap_but_a_held_second_voice_is():
    # One reverberant voice: residual around 0.12; a 0.25 s burst at 0.22 crosses
    # the threshold (median + 0.07) but never the seed level (+ 0.4 x median); a
    # second voice holds 0.35 for 0.5 s.
    rng = np.random.default_rng(4)
    evidence = 0.12 + 0.01 * rng.standard_normal(600)
    evidence[100:125] = 0.22
    evidence[300:350] = 0.35
    speech = np.ones(600, bool)
    found = overlap_from_evidence(evidence, speech)
    assert not found[100:125].any()
    assert found[305:345].all() and found.sum() <= 60
    assert overlap_from_evidence(evidence, speech, seed_over=0.0)[105:120].all()


def test_overlap_share_of_spans():
    overlap = np.zeros(100, bool)
    overlap[20:30] = True
    share = overlap_share(overlap, np.array([[0.145, 0.345], [0.5, 0.6], [0.7, 0.7]]))
    np.testing.assert_allclose(share[:2], [0.5, 0.0])  # frames 15-34: 10 of 20
    assert np.isnan(share[2])


def test_split_spans_keeps_the_stretches_outside_overlap():
    overlap = np.zeros(100, bool)
    overlap[20:30] = True
    pieces, owner = split_spans(np.array([[0.145, 0.345], [0.5, 0.6]]), overlap)
    np.testing.assert_allclose(pieces, [[0.145, 0.195], [0.295, 0.345], [0.5, 0.6]], atol=1e-12)
    np.testing.assert_array_equal(owner, [0, 0, 1])
    pieces, owner = split_spans(np.array([[0.2, 0.3]]), overlap)  # overlapped throughout
    assert pieces.shape == (0, 2) and owner.size == 0


def test_pool_spans_weights_and_skips_missing_values():
    pooled = pool_spans(
        np.array([1.0, 3.0, np.nan, 5.0]), np.array([1.0, 3.0, 2.0, 0.0]), np.array([0, 0, 1, 2]), 4
    )
    np.testing.assert_allclose(pooled[0], 2.5)
    assert np.isnan(pooled[1:]).all()
