"""Speaker attribution without a transcript (features.speakers): specifications.

Data: a two-voice dialogue of voices with the SAME F0 distribution and level,
differing only in vocal-tract length and breathiness (built IPU by IPU with the
synthesiser), and a small synthetic interview corpus.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from corpora.synth import Voice, plan_ipu, synthesize_ipu, write_corpus
from corpora.synth.text import draw_phrase, make_lexicon
from features.speakers import (
    attribute_speakers,
    cluster_speakers,
    embedding_names,
    segment_embeddings,
)

SR = 16000


def _accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
    """Two-voice accuracy under the best label permutation."""
    a = float(np.mean(labels == truth))
    return max(a, 1.0 - a)


@pytest.fixture(scope="module")
def equal_f0_dialogue():
    """~40 s, alternating IPUs of two male voices with equal F0, jitter, shimmer and
    level; B has a 4 % longer-formant (shorter) vocal tract and more aspiration noise."""
    rng = np.random.default_rng(7)
    a = Voice("A", "M", 120.0, 1.00, 5.8, 0.12, 0.006, 0.03, -28.0, 0.6, 0.08)
    b = replace(a, speaker_id="B", vtl_scale=1.04, aspiration_db=-20.0)
    lexicon = make_lexicon(rng, n_words=120)
    pad = round(0.05 * SR)
    pieces, segs, who = [np.zeros(round(0.3 * SR))], [], []
    n = pieces[0].size  # samples so far
    for i in range(24):
        voice = (a, b)[i % 2] if i % 5 else a  # A speaks a little more
        words = draw_phrase(lexicon, rng, n_words=int(rng.integers(3, 7)))
        sig, _ = synthesize_ipu(plan_ipu(words, voice, rng=rng), voice, rng=rng, pad_s=0.05)
        sig = sig.astype(np.float64)
        sig *= 0.1 / np.sqrt(np.mean(sig[pad:-pad] ** 2))  # equal speech RMS
        segs.append(((n + pad) / SR, (n + sig.size - pad) / SR))
        who.append(0 if voice is a else 1)
        gap = np.zeros(round(rng.uniform(0.15, 0.8) * SR))
        pieces += [sig, gap]
        n += sig.size + gap.size
    y = np.concatenate(pieces)
    y += 1e-4 * rng.standard_normal(y.size)
    segs = np.array(segs)
    return y.astype(np.float32), segs, np.array(who)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("spk") / "corpus"
    write_corpus(out, n_speakers=4, seed=5, minutes_per_speaker=0.75, jobs=1)
    return out


def test_equal_f0_voices_are_separated_by_vocal_tract_and_breathiness(equal_f0_dialogue):
    y, segs, who = equal_f0_dialogue
    labels, conf = attribute_speakers(y, SR, segs, n_speakers=2)
    assert _accuracy(labels, who) >= 0.9
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}
    assert np.all((conf >= 0) & (conf <= 1))


def test_label_zero_is_the_voice_with_most_speech(equal_f0_dialogue):
    y, segs, who = equal_f0_dialogue
    labels, _ = attribute_speakers(y, SR, segs, n_speakers=2)
    dur = segs[:, 1] - segs[:, 0]
    most = int(np.argmax(np.bincount(who, weights=dur)))
    assert np.mean(labels[who == most] == 0) >= 0.9


def test_equal_f0_track_adds_a_column_and_keeps_accuracy(equal_f0_dialogue):
    y, segs, who = equal_f0_dialogue
    n_frames = 1 + y.size // 160
    f0 = np.full(n_frames, 120.0)  # the same F0 for both voices: no cue at all
    emb = segment_embeddings(y, SR, segs, f0_hz=f0)
    assert emb.shape == (len(segs), len(embedding_names(with_f0=True)))
    np.testing.assert_allclose(emb[:, -1], 12 * np.log2(1.2))
    labels, _ = cluster_speakers(emb, n_speakers=2, durations_s=segs[:, 1] - segs[:, 0])
    assert _accuracy(labels, who) >= 0.9


def test_interviews_are_attributed_without_transcripts(corpus):
    ipus = pd.read_csv(corpus / "truth" / "ipus.csv")
    interviews = ipus[ipus.recording_id.str.endswith("_interview")]
    for rid, g in interviews.groupby("recording_id"):
        sid = rid.split("_")[0]
        y, sr = sf.read(corpus / "audio" / sid / f"{rid}.wav", dtype="float32")
        segs = g[["start_s", "end_s"]].to_numpy()
        truth = (g.speaker_id.to_numpy() != sid).astype(int)  # 0 = interviewee
        labels, _ = attribute_speakers(y, sr, segs, n_speakers=2)
        assert _accuracy(labels, truth) >= 0.9, rid
        dur = segs[:, 1] - segs[:, 0]
        most = int(np.argmax(np.bincount(truth, weights=dur)))
        assert np.mean(labels[truth == most] == 0) >= 0.9, rid


def test_a_segment_embedding_does_not_depend_on_the_other_segments(equal_f0_dialogue):
    y, segs, _ = equal_f0_dialogue
    all_at_once = segment_embeddings(y, SR, segs)
    one = segment_embeddings(y, SR, segs[[3]])
    np.testing.assert_allclose(one[0], all_at_once[3], atol=1e-9)


def test_embeddings_ignore_the_recording_level(equal_f0_dialogue):
    """A level change (-12 dB) moves the embeddings by rounding only: the float32 STFT
    and the GMM's EM iterations carry it (measured: 0.4% of the embeddings' norm, 3% of
    values beyond 1e-3, none beyond 5e-3)."""
    y, segs, _ = equal_f0_dialogue
    quiet, loud = segment_embeddings(0.25 * y, SR, segs), segment_embeddings(y, SR, segs)
    assert np.linalg.norm(quiet - loud) <= 0.01 * np.linalg.norm(loud)
    np.testing.assert_allclose(quiet, loud, atol=1e-2)


def test_embedding_shape_and_names():
    y = np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    emb = segment_embeddings(y, SR, np.array([[0.1, 0.5], [0.4, 0.9]]), n_mfcc=13, n_gaussians=4)
    assert emb.shape == (2, len(embedding_names(n_mfcc=13, n_gaussians=4)))
    assert emb.shape[1] == 4 * 12
    assert np.all(np.isfinite(emb))


@pytest.mark.parametrize(
    "segments",
    [
        np.array([[0.5, 1.5]]),  # one segment
        np.array([[0.2, 0.9], [1.2, 1.9]]),  # two segments
        np.array([[0.5, 0.53], [0.8, 0.8], [1.0, 1.04]]),  # < 50 ms, zero length
        np.array([[2.05, 2.4], [2.5, 2.9]]),  # silence only
        np.array([[1.9, 2.5], [2.9, 3.5]]),  # past the end of the signal
        np.zeros((0, 2)),  # no segment
    ],
)
@pytest.mark.parametrize("n_speakers", [1, 2, 3])
def test_degenerate_inputs_do_not_crash(segments, n_speakers):
    rng = np.random.default_rng(1)
    y = np.concatenate([0.1 * rng.standard_normal(2 * SR), np.zeros(SR)]).astype(np.float32)
    labels, conf = attribute_speakers(y, SR, segments, n_speakers=n_speakers)
    assert labels.shape == conf.shape == (len(segments),)
    assert np.all((labels >= 0) & (labels < max(1, min(n_speakers, len(segments)))))
    assert np.all(np.isfinite(conf) & (conf >= 0) & (conf <= 1))


def test_one_speaker_gets_label_zero_and_full_confidence():
    emb = np.random.default_rng(2).standard_normal((10, 5))
    labels, conf = cluster_speakers(emb, n_speakers=1)
    assert np.all(labels == 0) and np.all(conf == 1.0)


def test_constant_and_missing_features_do_not_crash():
    labels, conf = cluster_speakers(np.ones((6, 4)), n_speakers=2)
    assert np.all(labels == 0) and np.all(conf == 0.0)
    emb = np.random.default_rng(3).standard_normal((8, 3))
    emb[:, 1] = np.nan
    emb[2, 0] = np.nan
    labels, conf = cluster_speakers(emb, n_speakers=2)
    assert labels.shape == (8,) and np.all(np.isfinite(conf))


def test_clusters_are_ordered_by_total_duration():
    rng = np.random.default_rng(4)
    emb = np.vstack([rng.normal(0, 0.1, (6, 3)), rng.normal(5, 0.1, (3, 3))])
    dur = np.r_[np.full(6, 0.5), np.full(3, 3.0)]  # fewer but longer segments
    labels, conf = cluster_speakers(emb, n_speakers=2, durations_s=dur)
    np.testing.assert_array_equal(labels, [1] * 6 + [0] * 3)
    assert np.all(conf > 0.8)


def test_ward_links_at_most_max_linkage_segments_and_the_rest_follow(monkeypatch):
    """Ward's memory grows with the square of the segments: a long recording's core is
    linked on its longest segments, refined on all of them, with the same voices."""
    import features.speakers as speakers

    rng = np.random.default_rng(8)
    n = 3000
    truth = rng.integers(0, 2, n)
    emb = rng.normal(0, 1.0, (n, 6)) + 2.5 * truth[:, None]
    dur = rng.uniform(0.3, 4.0, n)
    linked_sizes = []
    real = speakers.AgglomerativeClustering

    class Recording(real):
        def fit_predict(self, x, y=None):
            linked_sizes.append(len(x))
            return super().fit_predict(x)

    monkeypatch.setattr(speakers, "AgglomerativeClustering", Recording)
    capped, _ = cluster_speakers(emb, n_speakers=2, durations_s=dur, max_linkage=400)
    full, _ = cluster_speakers(emb, n_speakers=2, durations_s=dur)
    assert linked_sizes == [400, n]
    assert np.mean(capped == full) > 0.99
    assert max(np.mean(capped == truth), np.mean(capped != truth)) > 0.95
    with pytest.raises(ValueError, match="max_linkage"):
        cluster_speakers(emb, n_speakers=2, max_linkage=3)


def test_boundary_segment_has_low_confidence():
    emb = np.array([[0.0], [0.1], [-0.1], [10.0], [10.1], [9.9], [5.2]])
    labels, conf = cluster_speakers(emb, n_speakers=2, min_duration_s=0.0)
    assert conf[-1] < 0.2 < conf[:-1].min()
    assert labels[0] != labels[3]


def test_invalid_inputs_raise():
    y = np.zeros(SR, dtype=np.float32)
    with pytest.raises(ValueError, match="mono"):
        segment_embeddings(np.zeros((2, SR)), SR, [[0, 1]])
    with pytest.raises(ValueError, match="real numbers"):
        segment_embeddings(np.zeros(SR, dtype=complex), SR, [[0, 1]])
    with pytest.raises(ValueError, match="finite"):
        segment_embeddings(np.full(SR, np.nan), SR, [[0, 1]])
    with pytest.raises(ValueError, match="ends before"):
        segment_embeddings(y, SR, [[0.5, 0.2]])
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        segment_embeddings(y, SR, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="n_speakers"):
        cluster_speakers(np.zeros((3, 2)), n_speakers=0)
    with pytest.raises(ValueError, match="durations_s"):
        cluster_speakers(np.zeros((3, 2)), n_speakers=2, durations_s=[1.0, 2.0])


def test_segments_pairwise_in_dialogue_fixture_do_not_overlap(equal_f0_dialogue):
    _, segs, _ = equal_f0_dialogue
    assert all(s1[1] <= s2[0] for s1, s2 in pairwise(segs))


def test_f0_column_is_the_median_in_semitones_and_ignores_octave_jumps():
    y = np.random.default_rng(5).standard_normal(SR).astype(np.float32)
    f0 = np.full(101, 200.0)
    f0[10:13] = 400.0  # octave errors
    f0[40:60] = np.nan  # unvoiced
    segs = np.array([[0.05, 0.3], [0.42, 0.57], [0.7, 0.9]])
    st = segment_embeddings(y, SR, segs, f0_hz=f0, n_gaussians=2)[:, -1]
    np.testing.assert_allclose(st[[0, 2]], 12 * np.log2(2.0))
    assert np.isnan(st[1])
