"""Faults: a run killed at random moments loses and duplicates nothing; a recording
that kills its worker process is isolated in the errors table; the others finish."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from corpora.corpus import read_corpus
from corpora.synth import write_corpus
from speech.executors import WORKER_DIED, TaskFailed, death_message, run_tasks
from speech.extract import CRASH_HOOK_ENV, extract
from speech.store import TABLES, Store

CLI = str(Path(sys.executable).with_name("speech-profile"))
#: Sort keys of every table: together they identify a row (checked: no duplicates).
KEYS = {
    "recordings": ["recording_id"],
    "segments": ["recording_id", "segment_id"],
    "vowels": ["recording_id", "segment_id", "start_s"],
    "sibilants": ["recording_id", "segment_id", "start_s"],
    "errors": ["recording_id", "stage"],
    "speakers": ["speaker_id"],
}
KILLS = 10
SEED = 7


def tables(root: Path) -> dict[str, pd.DataFrame]:
    """Every table of a store, rows sorted by their keys, keys asserted unique."""
    store, found = Store(root), {}
    for name in TABLES:
        frame = store.read_table(name)
        if len(frame):
            assert not frame.duplicated(KEYS[name]).any(), f"duplicate rows in {name}"
            frame = frame.sort_values(KEYS[name], ignore_index=True)
            if "word_id" in frame:
                # Word ids are keyed per store: two stores agree when the ids name the
                # same partition of the tokens (codes in order of first appearance).
                frame["word_id"] = pd.factorize(frame["word_id"])[0]
        found[name] = frame
    return found


def assert_same_tables(got: Path, expected: Path) -> None:
    want = tables(expected)
    for name, frame in tables(got).items():
        pd.testing.assert_frame_equal(frame, want[name], check_exact=True, obj=name)


def temporary_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]


def assert_consistent(root: Path) -> None:
    """What a killed run leaves: a parseable manifest (if any), whole Parquet files
    under their final names, and nothing else but hidden temporaries."""
    for name in ("manifest.json", "manifest.backup.json", "privacy.json"):
        if (root / name).exists():
            json.loads((root / name).read_text(encoding="utf-8"))
    for path in root.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert path.name in ("manifest.json", "manifest.backup.json", "privacy.json") \
                or path.suffix == ".parquet", path
            if path.suffix == ".parquet":
                pq.read_table(path)  # a partial file would not read


def _start(corpus: Path, store: Path) -> subprocess.Popen:
    # A session of its own, so the kill reaches the pool's workers too.
    return subprocess.Popen(
        [CLI, "extract", str(corpus), "--store", str(store), "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def _kill_group(process: subprocess.Popen) -> bool:
    """SIGKILL the whole process group; False when the run had already finished."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        process.wait()
        return False
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # orphaned pool workers die too
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    raise AssertionError(f"processes of group {process.pid} survived SIGKILL")


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults") / "corpus"
    write_corpus(root, n_speakers=2, seed=SEED, minutes_per_speaker=0.25, jobs=1)
    return root


@pytest.mark.slow
def test_sigkill_at_random_moments_then_a_rerun_gives_the_uninterrupted_tables(
        small_corpus, tmp_path):
    reference = tmp_path / "reference"
    started = time.perf_counter()
    subprocess.run([CLI, "extract", str(small_corpus), "--store", str(reference), "--jobs", "2"],
                   check=True, capture_output=True)
    duration = time.perf_counter() - started

    rng = np.random.default_rng(SEED)
    store, landed, completed, midway, leftovers = tmp_path / "killed", 0, 0, 0, 0
    n_recordings = len(read_corpus(small_corpus))
    for _ in range(4 * KILLS):  # a bound, never reached in practice
        if landed == KILLS:
            break
        # Spread over a whole run: start-up, the pool at work, writes, speakers table.
        delay = rng.uniform(0.0, duration)
        process = _start(small_corpus, store)
        try:
            process.wait(timeout=delay)
            finished = True
        except subprocess.TimeoutExpired:
            finished = not _kill_group(process)
        if finished:
            # The chain of killed runs resumed to the end: check it, start a new chain.
            assert process.returncode == 0
            assert_same_tables(store, reference)
            assert not temporary_files(store)
            shutil.rmtree(store)
            completed += 1
        else:
            landed += 1
            assert_consistent(store)
            leftovers += len(temporary_files(store))
            midway += 0 < len(Store(store).recording_ids()) < n_recordings
    print(f"run {duration:.1f} s; {landed} kills landed ({midway} with the pool midway), "
          f"{completed} chains resumed to the end, {leftovers} temporary files left by kills")
    assert landed == KILLS and midway >= 1

    subprocess.run([CLI, "extract", str(small_corpus), "--store", str(store), "--jobs", "2"],
                   check=True, capture_output=True)
    assert_same_tables(store, reference)
    assert not temporary_files(store), "partial or temporary files left in the store"
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["recordings"]) == set(read_corpus(small_corpus).recordings)


def test_a_recording_that_kills_its_pool_worker_is_isolated_and_retried_next_run(
        three_recordings, tmp_path, monkeypatch):
    corpus = read_corpus(three_recordings)
    victim, *others = sorted(corpus.recordings)  # the first partition: the error row's schema
    store = Store(tmp_path / "store")
    monkeypatch.setenv(CRASH_HOOK_ENV, victim)
    summary = extract(corpus, store, jobs=2)
    assert summary.failed == [victim] and sorted(summary.computed) == others

    errors = store.read_table("errors")
    assert errors[["recording_id", "stage", "error"]].to_numpy().tolist() == [
        [victim, "worker", WORKER_DIED]]
    message = errors["message"].iloc[0]
    assert "worker process died" in message and "signal 9 (SIGKILL)" in message
    recordings = store.read_table("recordings").set_index("recording_id")["status"]
    assert recordings.to_dict() == {victim: "error", **dict.fromkeys(others, "ok")}
    assert set(store.read_table("segments")["recording_id"]) == set(others)

    # A worker death may be transient: the next run (no crash now) retries it alone.
    monkeypatch.delenv(CRASH_HOOK_ENV)
    again = extract(read_corpus(three_recordings), store, jobs=2)
    assert again.computed == [victim] and sorted(again.unchanged) == others
    assert store.read_table("errors").empty
    assert set(store.read_table("segments")["recording_id"]) == {victim, *others}


def test_the_crash_hook_is_ignored_in_process(three_recordings, tmp_path, monkeypatch):
    corpus = read_corpus(three_recordings)
    monkeypatch.setenv(CRASH_HOOK_ENV, sorted(corpus.recordings)[0])
    summary = extract(corpus, Store(tmp_path / "store"), jobs=1)  # we are still alive
    assert summary.failed == [] and len(summary.computed) == 3


# ---------------------------------------------------------------- the executor alone
def _square_or_die(x: int) -> int:
    if x == 3:
        os._exit(139)  # what a segfault in native code reports through a shell
    if x == 5:
        raise ValueError("five is refused")
    time.sleep(0.05)
    return x * x


def test_a_dead_worker_breaks_the_pool_but_only_its_task_fails():
    results = dict(run_tasks(_square_or_die, {x: (x,) for x in range(8)}, jobs=2))
    assert set(results) == set(range(8))
    assert results[3] == TaskFailed(WORKER_DIED, death_message(139))
    assert "exit code 139" in results[3].message
    assert results[5] == TaskFailed("ValueError", "five is refused")
    assert {x: results[x] for x in (0, 1, 2, 4, 6, 7)} == {x: x * x for x in (0, 1, 2, 4, 6, 7)}


def test_in_process_tasks_report_exceptions_the_same_way():
    results = dict(run_tasks(_square_or_die, {x: (x,) for x in (1, 5)}, jobs=1))
    assert results == {1: 1, 5: TaskFailed("ValueError", "five is refused")}


def test_death_messages_name_the_signal_or_the_exit_code():
    assert "signal 9 (SIGKILL)" in death_message(-signal.SIGKILL)
    assert "out-of-memory" in death_message(-signal.SIGKILL)
    assert "signal 11 (SIGSEGV)" in death_message(-signal.SIGSEGV)
    assert "exit code 1" in death_message(1)
    assert "unknown" in death_message(None)
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        list(run_tasks(_square_or_die, {1: (1,)}, jobs=0))
