"""Dask distributed: a real scheduler and two workers on loopback give the same
tables as a local run, and a recording that kills its worker is isolated."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from corpora.corpus import read_corpus
from speech.executors import WORKER_DIED
from speech.extract import CRASH_HOOK_ENV, extract
from speech.store import TABLES, Store
from tests.speech.test_concurrency import _assert_erased, _forget_during_extract
from tests.speech.test_faults import tables

distributed = pytest.importorskip("distributed")

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process group (nanny and its worker), SIGKILL what lingers."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for process in processes:  # no leftover worker processes either
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-thread workers (with nannies), as subprocesses.

    Yields the scheduler's address. ``allowed-failures=1``: a task whose worker
    dies is tried on one more worker, then reported as KilledWorker (quicker
    than the default 3 retries, same path)."""
    where = tmp_path_factory.mktemp("dask")
    scheduler_file = where / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    options = {"cwd": where, "env": env, "start_new_session": True,
               "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", scheduler_file], **options)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            assert processes[0].poll() is None, "the Dask scheduler exited"
            time.sleep(0.2)
        for _ in range(2):
            processes.append(subprocess.Popen(
                [BIN / "dask", "worker", "--scheduler-file", scheduler_file, "--nworkers", "1",
                 "--nthreads", "1", "--no-dashboard", "--local-directory", where], **options))
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        _stop(processes)


def test_extract_on_a_dask_cluster_writes_the_tables_of_a_local_run(
        cluster, synthetic_corpus, tmp_path):
    assert cluster.startswith("tcp://127.0.0.1:")
    local = tmp_path / "local"
    extract(read_corpus(synthetic_corpus), Store(local), jobs=2)
    remote = tmp_path / "remote"
    run = subprocess.run(
        [BIN / "speech-profile", "extract", synthetic_corpus, "--store", remote,
         "--scheduler", cluster],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    got, want = tables(remote), tables(local)
    assert len(want["segments"]) and len(want["vowels"]) and want["errors"].empty
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)


def test_a_recording_that_kills_its_dask_worker_becomes_an_error_row(
        cluster, three_recordings, tmp_path, monkeypatch):
    root = three_recordings
    listing = pd.read_csv(root / "recordings.csv", dtype=str, keep_default_na=False)
    victim, *others = sorted(listing["recording_id"])
    monkeypatch.setenv(CRASH_HOOK_ENV, victim)

    store = Store(tmp_path / "store")
    summary = extract(read_corpus(root), store, scheduler=cluster)
    assert summary.failed == [victim] and sorted(summary.computed) == others
    errors = store.read_table("errors")
    assert errors[["recording_id", "stage", "error"]].to_numpy().tolist() == [
        [victim, "worker", WORKER_DIED]]
    # (jobs=1 without a scheduler would run in-process, where the hook does nothing)
    assert errors["message"].iloc[0].startswith("the Dask worker process died")
    status = store.read_table("recordings").set_index("recording_id")["status"].to_dict()
    assert status == {victim: "error", **dict.fromkeys(others, "ok")}
    # the nannies restart the killed workers: the cluster is whole again
    with distributed.Client(cluster, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)


def test_an_unreachable_scheduler_is_a_clear_bad_input(synthetic_corpus, tmp_path):
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    run = subprocess.run(
        [BIN / "speech-profile", "extract", synthetic_corpus, "--store", tmp_path / "s",
         "--scheduler", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert run.returncode == 2
    assert "Cannot reach the cluster" in run.stderr and "127.0.0.1:9" in run.stderr


def test_forget_during_an_extract_on_dask_holds(cluster, planted, tmp_path):
    assert cluster.startswith("tcp://127.0.0.1:")
    store = tmp_path / "store"
    outputs = _forget_during_extract(planted, store, tmp_path / "holds",
                                     ["--scheduler", cluster])
    _assert_erased(store, *outputs)


