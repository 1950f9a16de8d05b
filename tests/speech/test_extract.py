"""Batch extraction into the store: consent, erasure, no work twice, failures."""

import shutil

import pandas as pd
import pytest

from corpora.corpus import read_corpus
from speech.extract import extract
from speech.segmentation import SegmentationConfig
from speech.store import Store


@pytest.fixture
def corpus_copy(synthetic_corpus, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(synthetic_corpus, root)
    return root


def test_extract_writes_the_tables_and_manifest(corpus_copy, tmp_path):
    corpus = read_corpus(corpus_copy)
    store = Store(tmp_path / "store")
    summary = extract(corpus, store)
    assert len(summary.computed) == len(corpus) and not summary.failed
    recordings = store.read_table("recordings")
    segments = store.read_table("segments")
    assert set(recordings["recording_id"]) == set(corpus.recordings)
    assert (recordings["status"] == "ok").all()
    assert set(segments["recording_id"]) == set(corpus.recordings)
    assert segments["segment_id"].is_unique
    manifest = store.read_manifest()
    assert manifest["config"]["segmentation"]["min_pause_s"] == 0.2
    entry = manifest["recordings"][recordings["recording_id"].iloc[0]]
    assert entry["inputs"]["audio"].startswith("sha256:") and entry["status"] == "ok"


def test_a_second_run_does_no_work_and_a_change_recomputes_only_it(corpus_copy, tmp_path):
    store = Store(tmp_path / "store")
    extract(read_corpus(corpus_copy), store)
    before = {p: p.read_bytes() for p in (tmp_path / "store").rglob("*.parquet")}
    again = extract(read_corpus(corpus_copy), store)
    assert again.computed == []
    assert {p: p.read_bytes() for p in (tmp_path / "store").rglob("*.parquet")} == before
    # a changed transcript recomputes that recording alone
    grid = next((corpus_copy / "transcripts").glob("*_u01.TextGrid"))
    grid.write_text(grid.read_text().replace("\n", "\n", 1) + "\n")
    changed = extract(read_corpus(corpus_copy), store)
    assert changed.computed == [grid.stem]
    # a changed setting recomputes everything
    redo = extract(read_corpus(corpus_copy), store, config=SegmentationConfig(min_pause_s=0.25))
    assert len(redo.computed) == len(read_corpus(corpus_copy))


def test_withdrawn_consent_erases_the_speakers_rows(corpus_copy, tmp_path):
    store = Store(tmp_path / "store")
    extract(read_corpus(corpus_copy), store)
    speakers = pd.read_csv(corpus_copy / "speakers.csv", dtype=str, keep_default_na=False)
    gone = speakers["speaker_id"].iloc[0]
    speakers.loc[0, "consent"] = "false"
    speakers.to_csv(corpus_copy / "speakers.csv", index=False)
    summary = extract(read_corpus(corpus_copy), store)
    assert summary.skipped_no_consent > 0 and summary.removed
    assert all(rid.startswith(gone) for rid in summary.removed)
    for table in ("recordings", "segments"):
        assert not store.read_table(table)["recording_id"].str.startswith(gone).any()
    assert not any(rid.startswith(gone) for rid in store.read_manifest()["recordings"])
    assert not list((tmp_path / "store").rglob(f"*{gone}*"))


def test_one_bad_recording_does_not_stop_the_batch(corpus_copy, tmp_path):
    victim = next((corpus_copy / "audio").rglob("*_u02.wav"))
    victim.write_bytes(victim.read_bytes()[:44] + b"\xff" * 10)
    store = Store(tmp_path / "store")
    summary = extract(read_corpus(corpus_copy), store, jobs=2)
    assert summary.failed == [victim.stem]
    assert len(summary.computed) == len(read_corpus(corpus_copy)) - 1
    errors = store.read_table("errors")
    assert errors["recording_id"].tolist() == [victim.stem]
    assert victim.name in errors["message"].item()


def test_jobs_do_not_change_results(corpus_copy, tmp_path):
    corpus = read_corpus(corpus_copy)
    one, two = Store(tmp_path / "one"), Store(tmp_path / "two")
    extract(corpus, one, jobs=1)
    extract(corpus, two, jobs=2)
    key = ["recording_id", "segment_id"]
    a = one.read_table("segments").sort_values(key).reset_index(drop=True)
    b = two.read_table("segments").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
