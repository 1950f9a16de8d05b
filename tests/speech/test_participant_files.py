"""One file per participant, end to end: extract attributes each voice from its own
file (the other's leak not counted as speech), and every file is an input of the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from corpora.corpus import read_corpus
from corpora.synth import write_corpus
from speech.conditions import condition_table, measure_conditions
from speech.evaluate import evaluate, load_reference
from speech.extract import extract
from speech.segmentation import SegmentationConfig
from speech.store import Store

#: The features are not what is under test here.
CHANNEL = SegmentationConfig(features=False)


@pytest.fixture(scope="module")
def participants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two interviews, one file per participant: the other voice leaks at -20 dB a few
    ms late, and the files start up to 1.5 s apart and end at different times."""
    root = tmp_path_factory.mktemp("participants") / "corpus"
    write_corpus(root, n_speakers=2, seed=8, minutes_per_speaker=0.5, jobs=1,
                 per_participant=True, crosstalk_db=-20, max_offset_s=1.5)
    for grid in (root / "transcripts").glob("*_interview.TextGrid"):
        grid.unlink()  # attribution from the files, as without a transcript
    return root


def _cross_credited(segments: pd.DataFrame, reference: pd.DataFrame) -> int:
    """Segments labelled with another voice than the one they overlap most in the truth."""
    wrong = 0
    for rid, est in segments.groupby("recording_id"):
        ref = reference[reference["recording_id"] == rid]
        overlap = np.clip(
            np.minimum(est["end_s"].to_numpy()[:, None], ref["end_s"].to_numpy()[None])
            - np.maximum(est["start_s"].to_numpy()[:, None], ref["start_s"].to_numpy()[None]),
            0, None)  # fmt: skip
        truth = ref["speaker_id"].to_numpy()[overlap.argmax(axis=1)]
        wrong += int(np.sum((overlap.max(axis=1) > 0) & (truth != est["speaker_id"].to_numpy())))
    return wrong


def test_extract_credits_each_voice_to_its_own_file(participants, tmp_path):
    store = Store(tmp_path / "store")
    summary = extract(read_corpus(participants), store, config=CHANNEL)
    assert not summary.failed
    recordings = store.read_table("recordings").set_index("recording_id")
    assert (recordings.loc[["S001_interview", "S002_interview"], "method"] == "channel").all()
    assert (recordings.loc[["S001_interview", "S002_interview"], "num_channels"] == 2).all()
    per_recording, _, scores = evaluate(store, participants)
    interviews = per_recording[per_recording["kind"] == "interview"]
    assert interviews["correct"].sum() / interviews["attributed"].sum() >= 0.97
    assert interviews["profiled_identified"].all()
    segments = store.read_table("segments")
    reference, _ = load_reference(participants)
    assert _cross_credited(segments[segments["recording_id"].str.endswith("interview")],
                           reference) == 0
    assert scores["boundary_f1"] >= 0.85


def test_every_file_is_an_input_and_a_changed_one_recomputes(participants, tmp_path):
    corpus = read_corpus(participants)
    store = Store(tmp_path / "store")
    extract(corpus, store, config=CHANNEL)
    entry = store.read_manifest()["recordings"]["S001_interview"]
    assert set(entry["inputs"]) == {"audio", "audio_1"}
    assert [s["offset_s"] for s in entry["recording"]["sources"]] == [
        s.offset_s for s in corpus.recordings["S001_interview"].sources]
    assert extract(read_corpus(participants), store, config=CHANNEL).computed == []
    # The second file of one interview changes: that interview alone is recomputed.
    second = corpus.recordings["S001_interview"].sources[1].path
    copy = tmp_path / "corpus"
    shutil.copytree(participants, copy)
    changed = copy / second.relative_to(participants)
    y, sr = sf.read(changed, dtype="float32")
    sf.write(changed, y * 0.5, sr, subtype="PCM_16")
    store_copy = Store(tmp_path / "store")  # the same store, fed from the changed corpus
    redo = extract(read_corpus(copy), store_copy, config=CHANNEL)
    assert redo.computed == ["S001_interview"]


def test_check_measures_the_condition_of_every_file(participants):
    interview = read_corpus(participants).recordings["S001_interview"]
    table = condition_table([interview]).set_index("recording_id")
    first_file_only = measure_conditions(interview.sources[0].path)
    whole = table.loc["S001_interview"]
    assert np.isfinite(whole["snr_db"])
    # The timeline holds both voices: its estimates are not the first file's alone.
    assert any(whole[k] != v for k, v in first_file_only.items())
