"""Specifications of frame-level speaker attribution (features.attribution): labels from
a transcript's spans, the loudest channel and IPU clusters, segments from labels, and
the joining of one voice's stretches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpora.synth import Voice, plan_ipu, synthesize_ipu
from corpora.synth.text import draw_phrase, make_lexicon
from features.activity import speech_intervals
from features.attribution import (
    fill_within_runs,
    join_spans,
    labels_from_channels,
    labels_from_clusters,
    labels_from_spans,
    segments_from_labels,
    spans_mask,
)
from features.frames import expand_ranges, span_frames
from features.overlap import channel_overlap
from features.speakers import attribute_from_frames, voice_frames

HOP = 0.01


def test_spans_mask_takes_frames_centred_in_each_span():
    mask = spans_mask(np.array([[0.015, 0.045], [0.08, 0.1], [0.09, 0.095]]), 12, HOP)
    assert np.flatnonzero(mask).tolist() == [2, 3, 4, 8, 9]


def test_fill_within_runs_stays_inside_a_run_and_skips_excluded_frames():
    active = np.array([1, 1, 1, 1, 0, 1, 1, 1], dtype=bool)
    labels = np.array([-1, 0, -1, -1, -2, -1, -1, 1])
    assert fill_within_runs(labels, active).tolist() == [0, 0, 0, 0, -2, 1, 1, 1]
    # A run with no labelled frame stays unlabelled.
    assert fill_within_runs(np.array([-1, -1]), np.array([True, True])).tolist() == [-1, -1]


def test_labels_from_spans_labels_speech_and_fills_its_edges():
    active = np.zeros(40, bool)
    active[5:30] = True
    spans = [np.array([[0.08, 0.15]]), np.array([[0.15, 0.25]])]
    labels, confidence = labels_from_spans(spans, active, hop_s=HOP)
    assert (labels[:5] == -1).all() and (labels[30:] == -1).all()
    # Frames 5-7 precede voice 0's words (VAD edge): filled from frame 8, confidence 0.
    assert labels[5:15].tolist() == [0] * 10 and labels[15:30].tolist() == [1] * 15
    assert confidence[5:8].tolist() == [0, 0, 0] and (confidence[8:25] == 1).all()
    assert (confidence[25:30] == 0).all()


def test_first_listed_voice_wins_an_overlap():
    labels, _ = labels_from_spans([np.array([[0.0, 0.1]]), np.array([[0.05, 0.2]])],
                                  np.ones(20, bool), hop_s=HOP)
    assert labels[:10].tolist() == [0] * 10 and labels[10:20].tolist() == [1] * 10


def test_labels_from_channels_takes_the_loudest_and_its_margin():
    rng = np.random.default_rng(0)
    n = 300
    levels = np.full((2, n), -80.0) + rng.normal(0, 0.5, (2, n))
    levels[0, 50:120] = -20.0  # voice 0 speaks, leaking 9 dB down into channel 1
    levels[1, 50:120] = -29.0
    levels[1, 180:260] = -22.0  # voice 1 speaks, leaking 3 dB down into channel 0
    levels[0, 180:260] = -25.0
    labels, confidence = labels_from_channels(levels, hop_s=HOP, reference_quantile=None)
    assert (labels[60:110] == 0).all() and (labels[190:250] == 1).all()
    assert (labels[:40] == -1).all()
    np.testing.assert_allclose(confidence[60:110], 1.0)
    np.testing.assert_allclose(confidence[190:250], 0.5)
    # Relative to each channel's own voice (channel 1 peaks 2 dB lower): margin 3 + 2 dB.
    labels, confidence = labels_from_channels(levels, hop_s=HOP)
    assert (labels[60:110] == 0).all() and (labels[190:250] == 1).all()
    np.testing.assert_allclose(confidence[190:250], 5 / 6)


def _two_files(gain_db: float, crosstalk_db: float, n: int = 600):
    """Levels of two participants' files: voice 0 speaks in frames 50-250, voice 1 in
    300-500, each leaking into the other's file ``crosstalk_db`` down; file 1 is
    recorded ``gain_db`` louder than file 0 (a hot microphone, or AGC)."""
    rng = np.random.default_rng(1)
    own = -20.0 + rng.normal(0, 3, n)  # a speaking voice's level, frame to frame
    levels = np.full((2, n), -75.0) + rng.normal(0, 0.5, (2, n))
    levels[0, 50:250] = own[50:250]
    levels[1, 50:250] = own[50:250] + crosstalk_db + gain_db
    levels[1, 300:500] = own[300:500] + gain_db
    levels[0, 300:500] = own[300:500] + crosstalk_db
    return levels


def test_labels_from_channels_gives_a_leaked_voice_to_its_own_file():
    # -20 and -30 dB crosstalk, equal gains: every speech frame goes to the speaker's file.
    for crosstalk_db in (-20.0, -30.0):
        labels, confidence = labels_from_channels(_two_files(0.0, crosstalk_db), hop_s=HOP)
        assert (labels[55:245] == 0).all() and (labels[305:495] == 1).all()
        assert (confidence[55:245] == 1).all()


def test_labels_from_channels_is_not_fooled_by_a_file_recorded_louder():
    # File 1 is 25 dB hotter: voice 0's leak into it (-20 dB) is 5 dB louder than voice 0
    # in its own file. Raw levels credit voice 0's speech to file 1; levels relative to
    # each file's own voice do not.
    levels = _two_files(25.0, -20.0)
    raw, _ = labels_from_channels(levels, hop_s=HOP, reference_quantile=None)
    assert np.mean(raw[55:245] == 1) > 0.9
    labels, _ = labels_from_channels(levels, hop_s=HOP)
    assert (labels[55:245] == 0).all() and (labels[305:495] == 1).all()


def test_segments_from_labels_runs_edges_and_mean_confidence():
    labels = np.array([-1, 0, 0, 0, -1, -1, 1, 1, 1, 1, 1, -1])
    confidence = np.array([0, 1, 1, 0.4, 0, 0, 1, 1, 1, 1, 0.5, 0])
    start, end, voice, conf = segments_from_labels(labels, confidence, hop_s=HOP,
                                                   min_speech_s=0.0)
    np.testing.assert_allclose(start, [0.005, 0.055])
    np.testing.assert_allclose(end, [0.035, 0.105])
    assert voice.tolist() == [0, 1]
    np.testing.assert_allclose(conf, [0.8, 0.9])


def test_segments_from_labels_merges_short_pauses_and_drops_short_runs():
    labels = np.r_[np.zeros(20, int), -np.ones(5, int), np.zeros(20, int), -np.ones(30, int),
                   np.zeros(3, int)]
    start, end, voice, _ = segments_from_labels(labels, np.ones(labels.size), hop_s=HOP,
                                                min_speech_s=0.1, merge_gap_s=0.1)
    np.testing.assert_allclose(np.c_[start, end], [[0.0, 0.445]])
    assert voice.tolist() == [0]
    assert segments_from_labels(np.full(5, -1), np.ones(5))[0].size == 0


def test_join_spans_keeps_each_stretch_and_its_context():
    sr = 1000
    y = np.arange(1000, dtype=np.float64)
    joined, spans = join_spans(y, sr, np.array([[0.1, 0.2], [0.5, 0.6]]), pad_s=0.01,
                               gap_s=0.005)
    # [90, 210) then 5 zeros, then [490, 610) then 5 zeros.
    np.testing.assert_array_equal(joined[:120], y[90:210])
    np.testing.assert_array_equal(joined[120:125], 0)
    np.testing.assert_array_equal(joined[125:245], y[490:610])
    np.testing.assert_allclose(spans, [[0.01, 0.11], [0.135, 0.235]])
    np.testing.assert_array_equal(joined[np.rint(spans[1] * sr).astype(int)], [500, 0.0 + 600])


@pytest.fixture(scope="module")
def two_voices():
    """Two alternating synthetic voices (harmonic series, F0 110 Hz vs 220 Hz, with
    different spectral tilts), 8 IPUs separated by 0.3 s of silence."""
    sr = 16000
    rng = np.random.default_rng(1)
    pieces, ipus, t = [], [], 0.0
    for i in range(8):
        voice = i % 2
        n = int(sr * 0.8)
        time = np.arange(n) / sr
        f0 = 110.0 if voice == 0 else 220.0
        x = sum(np.sin(2 * np.pi * f0 * k * time) / (k ** (1.0 + voice)) for k in range(1, 30))
        pieces += [0.1 * x + 0.001 * rng.standard_normal(n), np.zeros(int(0.3 * sr))]
        ipus.append([t, t + 0.8])
        t += 1.1
    return np.concatenate(pieces), sr, np.array(ipus)


def test_labels_from_clusters_spread_each_ipu_label_to_its_frames(two_voices):
    y, sr, ipus = two_voices
    mfcc, level = voice_frames(y, sr, hop_s=HOP)
    n = mfcc.shape[-1]
    labels, confidence = labels_from_clusters(mfcc, level, ipus, n, n_speakers=2, hop_s=HOP)
    ipu_labels, ipu_conf = attribute_from_frames(mfcc, level, ipus, n_speakers=2, hop_s=HOP)
    # (How well the voices are told apart is features.speakers' specification.)
    assert set(ipu_labels) <= {0, 1} and ((ipu_conf >= 0) & (ipu_conf <= 1)).all()
    for k, (start, end) in enumerate(ipus):
        inside = slice(int(np.ceil(start / HOP - 1e-9)), int(np.ceil(end / HOP - 1e-9)))
        assert (labels[inside] == ipu_labels[k]).all()
        assert (confidence[inside] == ipu_conf[k]).all()
    assert (labels[int(0.85 / HOP) : int(1.05 / HOP)] == -1).all()  # the pause


@settings(max_examples=80, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=300))
def test_ipu_spans_map_back_to_exactly_their_speech_frames(mask):
    # The segmenter's round trip: frames -> IPU seconds (speech_intervals) -> frames
    # (the frame rule) -> segments. Every speech frame, and no other, is in an IPU,
    # and the segments of one voice are the IPUs (the former rint rule put a silent
    # frame into some of them: round half to even of k - 0.5).
    active = np.array(mask)
    ipus = speech_intervals(active, hop_s=HOP)
    frames, _ = expand_ranges(*span_frames(ipus, active.size, HOP))
    np.testing.assert_array_equal(frames, np.flatnonzero(active))
    labels = np.full(active.size, -1)
    labels[frames] = 0
    start, end, _, _ = segments_from_labels(labels, np.ones(active.size), hop_s=HOP,
                                            min_speech_s=0.0)
    np.testing.assert_allclose(np.c_[start, end], ipus, atol=1e-12)


def test_labels_from_channels_gives_a_dropout_back_to_the_voice_around_it():
    # Voice 0 speaks frames 50-250; its own file drops 15 dB for 150 ms (lost packets)
    # at 120-135, so voice 0's leak in file 1 (-12 dB, pumped up by AGC) dominates.
    levels = _two_files(0.0, -12.0)
    levels[0, 120:135] -= 15.0
    raw, _ = labels_from_channels(levels, hop_s=HOP, min_switch_s=0.0, smooth_s=0.0)
    assert (raw[120:135] == 1).all()
    labels, confidence = labels_from_channels(levels, hop_s=HOP, smooth_s=0.0)
    assert (labels[55:245] == 0).all() and (confidence[120:135] == 0).all()
    assert (labels[305:495] == 1).all()


@pytest.mark.parametrize("crosstalk_db, gain_db", [(-20.0, 0.0), (-30.0, 0.0), (-20.0, 25.0)])
def test_channel_overlap_finds_two_voices_at_once_across_files(crosstalk_db, gain_db):
    # Voice 1 starts 0.5 s before voice 0 stops (frames 200-250): both files carry their
    # own voice there, each above what the other's leak predicts.
    levels = _two_files(gain_db, crosstalk_db)
    own = levels[1, 300:350].copy()
    levels[1, 200:250] = own + 0.0  # voice 1's own speech, over voice 0's leak
    levels[0, 200:250] = np.maximum(levels[0, 200:250], own - gain_db + crosstalk_db)
    active = np.zeros(levels.shape[1], bool)
    active[50:500] = True
    # The segmenter's channel overlap (features.overlap), on per-participant levels.
    overlap = channel_overlap(levels, hop_s=HOP, hold_s=0.0) & active
    assert overlap[200:250].mean() > 0.9
    assert not overlap[60:190].any() and not overlap[310:490].any()


@pytest.fixture(scope="module")
def overlapped_turn():
    """Two synthesised voices (a man at 120 Hz, a woman at 210 Hz) alternating in 10 IPUs
    with pauses, then one stretch where the woman starts 0.4 s before the man ends: one
    IPU to the voice activity. Returns the signal, the IPUs (the last: the stretch), the
    voice of each IPU (the stretch: the man's) and the stretch's hand-over time (s)."""
    sr = 16000
    rng = np.random.default_rng(11)
    man = Voice("A", "M", 120.0, 1.00, 5.8, 0.12, 0.006, 0.03, -28.0, 0.6, 0.08)
    woman = Voice("B", "F", 210.0, 1.15, 5.8, 0.12, 0.006, 0.03, -26.0, 0.6, 0.08)
    lexicon = make_lexicon(rng, n_words=120)

    def utterance(voice):
        words = draw_phrase(lexicon, rng, n_words=int(rng.integers(4, 8)))
        sig, _ = synthesize_ipu(plan_ipu(words, voice, rng=rng), voice, rng=rng, pad_s=0.0)
        return 0.1 * sig.astype(np.float64) / np.sqrt(np.mean(sig.astype(np.float64) ** 2))

    pieces, ipus, who, t = [np.zeros(sr // 2)], [], [], 0.5
    for i in range(10):
        sig = utterance((man, woman)[i % 2])
        pieces += [sig, np.zeros(round(0.6 * sr))]
        ipus.append([t, t + sig.size / sr])
        who.append(i % 2)
        t += sig.size / sr + 0.6
    first, second = utterance(man), utterance(woman)
    overlap = round(0.4 * sr)
    stretch = np.zeros(first.size + second.size - overlap)
    stretch[: first.size] += first
    stretch[first.size - overlap :] += second
    pieces += [stretch, np.zeros(sr // 2)]
    ipus.append([t, t + stretch.size / sr])
    who.append(0)
    y = np.concatenate(pieces) + 1e-4 * rng.standard_normal(sum(p.size for p in pieces))
    return y.astype(np.float32), sr, np.array(ipus), np.array(who), t + first.size / sr


def test_a_turn_that_starts_inside_a_speech_stretch_splits_it(overlapped_turn):
    y, sr, ipus, who, handover_s = overlapped_turn
    mfcc, level = voice_frames(y, sr, hop_s=HOP)
    n = mfcc.shape[-1]
    whole, _ = labels_from_clusters(mfcc, level, ipus, n, n_speakers=2, hop_s=HOP,
                                    split_turns=False)
    labels, confidence = labels_from_clusters(mfcc, level, ipus, n, n_speakers=2, hop_s=HOP)
    start, end = round(ipus[-1, 0] / HOP), round(ipus[-1, 1] / HOP)
    # Without the split the stretch is one voice's; with it, each voice has its own part.
    assert np.unique(whole[start + 1 : end - 1]).size == 1
    centres = [round(np.mean(span) / HOP) for span in ipus[:-1]]
    man, woman = labels[centres[0]], labels[centres[1]]
    assert man != woman and (labels[centres] == np.where(who[:-1] == 0, man, woman)).all()
    handover = round(handover_s / HOP)
    before, after = labels[start : handover - 45], labels[handover + 5 : end]
    assert np.mean(before == man) >= 0.9 and np.mean(after == woman) >= 0.9
    assert ((confidence >= 0) & (confidence <= 1)).all()
    # Two runs in the stretch, so segments_from_labels cuts it in two (the turn change).
    _, ends = segments_from_labels(labels[start:end], confidence[start:end], hop_s=HOP)[:2]
    assert ends.size == 2
