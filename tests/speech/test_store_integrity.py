"""The store under damage and concurrency (issue #17): one writer at a time, a lock
that dies with its holder, verified partitions, a manifest that is recovered or
rebuilt, readers that name the damaged file, erasure requests obeyed before each commit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import speech.extract as extract_module
from corpora.corpus import read_corpus
from speech.cli import app
from speech.extract import extract
from speech.lock import StoreBusy, holder_of, is_locked, store_lock
from speech.privacy import REQUESTS_DIR, request_erasure
from speech.store import PART, Store, StoreDamaged
from tests.speech.test_faults import assert_same_tables

HOLD = """
import sys, time
from speech.lock import store_lock
with store_lock(sys.argv[1], "extract"):
    print("held", flush=True)
    time.sleep(120)
"""


def _holder(root: Path) -> subprocess.Popen:
    """Another process that holds the store's lock until killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert process.stdout.readline().strip() == "held"
    return process


# ------------------------------------------------------------------------ the lock
def test_a_second_writer_is_refused_with_the_holder_and_a_killed_holder_blocks_nothing(
        tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    Store(root).write_manifest({"recordings": {}})
    process = _holder(root)
    try:
        assert is_locked(root)
        with pytest.raises(StoreBusy) as busy, store_lock(root, "forget", wait=False):
            pass
        assert f"pid {process.pid}" in busy.value.holder and "`extract`" in busy.value.holder
        assert "since 20" in busy.value.holder
        result = CliRunner().invoke(app, ["forget", str(root), "S001", "--no-wait"])
        assert result.exit_code == 2 and f"pid {process.pid}" in result.output
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # SIGKILL: the OS released the lock; the next writer gets it at once
    started = time.monotonic()
    with store_lock(root, "extract", wait=False):
        assert "`extract`" in holder_of(root) and f"pid {os.getpid()}" in holder_of(root)
        with store_lock(root, "fit", wait=False):  # reentrant within a process
            pass
    assert time.monotonic() - started < 1.0
    assert not (root / ".lock").exists() and not is_locked(root)


def test_a_waiting_writer_says_so_and_starts_when_the_holder_dies(tmp_path):
    root = tmp_path / "store"
    process = _holder(root)
    told: list[str] = []

    def kill_soon(holder: str) -> None:
        told.append(holder)
        process.send_signal(signal.SIGKILL)  # the blocking wait now ends

    with store_lock(root, "forget", on_wait=kill_soon):
        assert f"pid {os.getpid()}" in holder_of(root)
    process.wait()
    assert len(told) == 1 and f"pid {process.pid}" in told[0]


def test_a_forked_worker_does_not_keep_the_lock_of_a_dead_parent(tmp_path):
    root = tmp_path / "store"
    with store_lock(root, "extract"):
        child = os.fork()
        if child == 0:  # a pool worker forked while the lock is held
            time.sleep(5)
            os._exit(0)
    try:  # the parent released it; the orphan-to-be must not hold it
        with store_lock(root, "extract", wait=False):
            pass
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


# ------------------------------------------------------------------------ damage
@pytest.fixture(scope="module")
def reference(tmp_path_factory, synthetic_corpus):
    """Three short recordings and their undamaged store."""
    import pandas as pd

    root = tmp_path_factory.mktemp("integrity")
    corpus = root / "corpus"
    shutil.copytree(synthetic_corpus, corpus)
    listing = pd.read_csv(corpus / "recordings.csv", dtype=str, keep_default_na=False)
    listing = listing[listing["kind"] == "utterance"].head(3)
    listing.to_csv(corpus / "recordings.csv", index=False)
    for transcript in (corpus / "transcripts").iterdir():
        if transcript.stem not in set(listing["recording_id"]):
            transcript.unlink()
    extract(read_corpus(corpus), Store(root / "store"))
    return corpus, root / "store"


@pytest.fixture
def damaged(reference, tmp_path):
    corpus, store = reference
    shutil.copytree(store, tmp_path / "store")
    return corpus, tmp_path / "store"


def _truncate(path: Path, keep: int = 100) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def test_a_truncated_partition_is_named_by_check_and_readers_then_recomputed_alone(
        reference, damaged):
    corpus, root = damaged
    rid = sorted(Store(root).recording_ids())[1]
    victim = Store(root).partition_dir("segments", rid) / PART
    _truncate(victim)
    where = victim.relative_to(root).as_posix()

    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 2
    size = json.loads((root / "manifest.json").read_text())["recordings"][rid]["files"][
        "segments"]["size"]
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("x")]
    assert lines == [f"x {where}: size 100 bytes, the manifest says {size} (truncated or "
                     "replaced)"]
    with pytest.raises(StoreDamaged, match=rf"^{victim}: damaged \(Parquet magic bytes"):
        Store(root).read_table("segments")
    query = CliRunner().invoke(app, ["query", str(root), "select count(*) from segments"])
    assert query.exit_code == 2 and str(victim) in query.output
    assert "Traceback" not in query.output

    summary = extract(read_corpus(corpus), Store(root))
    assert summary.computed == [rid] and list(summary.repaired) == [rid]
    assert summary.repaired[rid].startswith(where)
    assert len(summary.unchanged) == 2
    assert_same_tables(root, reference[1])
    assert CliRunner().invoke(app, ["check", str(root)]).exit_code == 0


def test_a_changed_byte_inside_a_partition_is_caught_by_the_checksum(damaged):
    corpus, root = damaged
    rid = sorted(Store(root).recording_ids())[0]
    victim = Store(root).partition_dir("recordings", rid) / PART
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, same footer
    victim.write_bytes(bytes(data))
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 2 and "checksum differs" in result.output
    assert extract(read_corpus(corpus), Store(root)).computed == [rid]


def test_a_damaged_speakers_table_is_rewritten_without_recomputing_recordings(
        reference, damaged):
    corpus, root = damaged
    _truncate(root / "speakers" / PART)
    with pytest.raises(StoreDamaged, match=r"speakers/part-0\.parquet: damaged"):
        Store(root).read_table("speakers")
    summary = extract(read_corpus(corpus), Store(root))
    assert summary.computed == [] and list(summary.repaired) == ["speakers"]
    assert summary.repaired["speakers"].startswith("speakers/part-0.parquet: size 100 bytes")
    assert_same_tables(root, reference[1])


def test_orphaned_and_temporary_files_are_listed_one_line_each(damaged):
    _, root = damaged
    stray = root / "segments" / "recording_id=ghost"
    stray.mkdir()
    (stray / PART).write_bytes(b"PAR1")
    (root / "vowels" / ".part-0.parquet.abc.tmp").write_bytes(b"x")
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 2
    assert "segments/recording_id=ghost/part-0.parquet: orphaned" in result.output
    assert "vowels/.part-0.parquet.abc.tmp: temporary file" in result.output


def test_a_truncated_manifest_is_recovered_and_every_recording_stays_unchanged(
        reference, damaged):
    corpus, root = damaged
    _truncate(root / "manifest.json", 200)
    before = {p: p.read_bytes() for p in root.rglob("*.parquet")}
    summary = extract(read_corpus(corpus), Store(root))
    assert summary.computed == [] and len(summary.unchanged) == 3
    assert "recovered from manifest.backup.json" in summary.manifest_recovery
    assert {p: p.read_bytes() for p in root.rglob("*.parquet")} == before
    json.loads((root / "manifest.json").read_text())  # saved whole again
    assert_same_tables(root, reference[1])


def test_with_both_manifest_copies_torn_it_is_rebuilt_from_the_partitions(reference, damaged):
    corpus, root = damaged
    key = json.loads((root / "manifest.json").read_text())["key"]
    for name in ("manifest.json", "manifest.backup.json"):
        _truncate(root / name, 200)
    summary = extract(read_corpus(corpus), Store(root))
    assert summary.computed == [] and len(summary.unchanged) == 3
    assert "rebuilt from the metadata of 3 recordings" in summary.manifest_recovery
    assert json.loads((root / "manifest.json").read_text())["key"] == key  # privacy.json
    assert_same_tables(root, reference[1])


def test_without_any_copy_of_the_key_extract_refuses_instead_of_mixing_keys(damaged):
    corpus, root = damaged
    for name in ("manifest.json", "manifest.backup.json", "privacy.json"):
        (root / name).unlink()
    result = CliRunner().invoke(app, ["extract", str(corpus), "--store", str(root)])
    assert result.exit_code == 2 and "key was lost" in result.output


# ------------------------------------------------------------------------ erasure
def test_an_erasure_requested_before_a_commit_withholds_the_speakers_rows(
        reference, damaged, monkeypatch):
    """A result computed before the request (a worker started earlier) is not written."""
    corpus, root = damaged
    store = Store(root)
    rids = sorted(store.recording_ids())
    victim = rids[-1]
    speaker = read_corpus(corpus).recordings[victim].speaker_id
    real = extract_module._hold_for_tests

    def request_at_the_last_moment(rid: str) -> None:
        real(rid)
        if rid == victim:
            assert request_erasure(store, speaker)

    monkeypatch.setattr(extract_module, "_hold_for_tests", request_at_the_last_moment)
    for path in root.glob("*/recording_id=*"):  # every recording is computed again
        shutil.rmtree(path)
    summary = extract(read_corpus(corpus), store)
    assert summary.withheld == [victim] and victim not in summary.computed
    assert victim not in store.recording_ids("recordings")
    assert speaker not in set(store.read_table("speakers")["speaker_id"])
    assert victim not in store.read_manifest()["recordings"]
    (request,) = (root / REQUESTS_DIR).glob("*.json")
    assert json.loads(request.read_text()) == {"withheld_recordings": 1}
