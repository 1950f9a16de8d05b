"""Specifications of one file per participant (corpora.synth.participants)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corpora.check import check_corpus
from corpora.corpus import read_corpus
from corpora.synth import draw_speakers, write_corpus
from corpora.synth import profiles as prof
from corpora.synth.corpus import lexicon_and_prompts
from corpora.synth.participants import render_participants
from corpora.synth.session import SR, plan_interview


@pytest.fixture(scope="module")
def plan():
    speaker = draw_speakers(1, seed=4)[0]
    lexicon, _ = lexicon_and_prompts(4)
    return plan_interview("X_interview", speaker.voice, prof.interviewer_for(0), lexicon,
                          target_s=10.0, rng=np.random.default_rng(4))


def _spans(plan, voice: str, offset_s: float = 0.0) -> np.ndarray:
    """Sample spans of one voice's IPUs in a file that starts at ``offset_s``."""
    first = round(offset_s * SR)
    return np.array([(ipu.start_ms * SR // 1000 - first, ipu.end_ms * SR // 1000 - first)
                     for ipu in plan.ipus if ipu.voice.speaker_id == voice])


def _rms_db(y: np.ndarray, spans: np.ndarray) -> float:
    x = np.concatenate([y[a:b] for a, b in spans]).astype(np.float64)
    return 10 * np.log10(np.mean(x**2))


@pytest.mark.parametrize("crosstalk_db", [-20.0, -30.0])
def test_each_file_holds_its_voice_and_the_other_at_the_crosstalk_level(plan, crosstalk_db):
    files = render_participants(plan, rng=np.random.default_rng(0), crosstalk_db=crosstalk_db)
    assert files.voices == tuple(v.speaker_id for v in plan.voices)
    assert files.offsets_s == (0.0, 0.0)
    for k, voice in enumerate(files.voices):
        y = files.signals[k]
        assert y.size == plan.duration_ms * SR // 1000
        assert np.max(np.abs(y)) == pytest.approx(10 ** (-3 / 20), abs=1e-4)  # -3 dBFS
        other = files.voices[1 - k]
        leak = _rms_db(y, _spans(plan, other)) - _rms_db(y, _spans(plan, voice))
        assert leak == pytest.approx(crosstalk_db, abs=1.0)


def test_truth_keeps_the_mixed_ids_and_each_voices_f0(plan):
    files = render_participants(plan, rng=np.random.default_rng(0))
    truth = files.truth
    assert [r.ipu_id for r in truth.ipus] == [f"X_interview_{k + 1:03d}"
                                              for k in range(len(plan.ipus))]
    assert [r.ipu for r in truth.ipus] == list(plan.ipus)
    t = np.arange(truth.f0_hz.size) * 0.01
    for voice in files.voices:
        frames = np.array(truth.f0_speaker) == voice
        assert frames.any()
        inside = np.zeros(t.size, bool)
        for ipu in plan.ipus:
            if ipu.voice.speaker_id == voice:
                inside |= (t >= ipu.start_ms / 1000) & (t < ipu.end_ms / 1000)
        assert inside[frames].all() and np.isfinite(truth.f0_hz[frames]).all()


def test_offsets_delay_the_files_but_never_cut_their_own_voice(plan):
    files = render_participants(plan, rng=np.random.default_rng(2), max_offset_s=1.5)
    timeline = files.truth.plan
    assert timeline.ipus[0].start_ms == plan.ipus[0].start_ms + 1700  # the lead of silence
    assert all(0 <= o <= 1.5 for o in files.offsets_s) and len(set(files.offsets_s)) == 2
    for k, voice in enumerate(files.voices):
        spans = _spans(timeline, voice, files.offsets_s[k])
        assert spans.min() >= 0 and spans.max() <= files.signals[k].size
    assert files.signals[0].size != files.signals[1].size  # unequal lengths too


def test_write_corpus_lists_one_row_per_participant_file(tmp_path: Path):
    out = tmp_path / "pp"
    write_corpus(out, n_speakers=2, seed=2, minutes_per_speaker=0.3, jobs=1,
                 per_participant=True, crosstalk_db=-25, max_offset_s=1.0)
    rows = pd.read_csv(out / "recordings.csv", dtype=str, keep_default_na=False)
    assert list(rows.columns)[-1] == "offset_s"
    interviews = rows[rows["kind"] == "interview"]
    assert interviews.groupby("recording_id").size().tolist() == [2, 2]
    for _, group in interviews.groupby("recording_id"):
        speaker = group["speaker_id"].iloc[0]
        own, other = sorted(group["channels"], key=lambda c: c != f"0:{speaker}")
        assert own == f"0:{speaker}" and other.startswith("0:INT")
    assert (rows.loc[rows["kind"] == "utterance", "offset_s"] == "0.000").all()
    report = check_corpus(out)
    assert report.ok, report.problems
    corpus = read_corpus(out)
    interview = corpus.recordings["S001_interview"]
    assert len(interview.sources) == 2 and "S001" in interview.channels.values()
