"""`forget` during a running `extract` (issue #17): after both finish, no byte of the
store names the erased speaker, whether the recordings ran in a local pool or on a
Dask cluster; and two writers never interleave their commits.

Deterministic, not timing-lucky: extract pauses before committing a chosen
recording (the test-only HOLD_HOOK_ENV) while the test starts the other command,
and every wait is bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from speech.extract import HOLD_HOOK_ENV
from speech.privacy import REQUESTS_DIR
from speech.store import Store
from tests.speech.conftest import PLANTED_ID
from tests.speech.test_faults import tables
from tests.speech.test_privacy import _texts

CLI = str(Path(sys.executable).with_name("speech-profile"))
ERASED = PLANTED_ID  # owns two of the three recordings (tests/speech/conftest.py)
TIMEOUT_S = 240

pytestmark = pytest.mark.slow


def naming(root: Path, needle: str) -> list[str]:
    """Files of ``root`` whose bytes (or, for Parquet, values and metadata) name ``needle``."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".png"):
        if needle.lower() in _texts(path).lower():
            found.append(path.relative_to(root).as_posix())
    return found


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _forget_during_extract(corpus: Path, store: Path, holds: Path, where: list[str]):
    """extract (paused before committing the erased speaker's second recording), then
    forget while it is paused; returns both completed processes' outputs.

    The speaker's first recording is committed by an earlier run over the corpus
    without the held one: workers finish in any order (a pool, Dask's
    as_completed), so within one run the held recording could arrive first and the
    other would then wait behind it, uncommitted."""
    held = f"{ERASED}_u02"
    listing = pd.read_csv(corpus / "recordings.csv", dtype=str, keep_default_na=False)
    listing[listing["recording_id"] != held].to_csv(corpus / "recordings.csv", index=False)
    transcript = corpus / "transcripts" / f"{held}.TextGrid"
    aside = transcript.rename(corpus / f"{held}.TextGrid")
    first = subprocess.run([CLI, "extract", str(corpus), "--store", str(store), "--keep-text",
                            *where], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert first.returncode == 0, first.stderr
    listing.to_csv(corpus / "recordings.csv", index=False)
    aside.rename(transcript)
    holds.mkdir()
    (holds / f"{held}.hold").touch()
    env = {**os.environ, HOLD_HOOK_ENV: str(holds)}
    extract = subprocess.Popen([CLI, "extract", str(corpus), "--store", str(store),
                                "--keep-text", *where], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: (holds / f"{held}.waiting").exists(), "extract to pause")
        assert naming(store, ERASED), "the scan must see the speaker's committed recording"
        forget = subprocess.Popen([CLI, "forget", str(store), ERASED], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait_for(lambda: any((store / REQUESTS_DIR).glob("*.json")), "the erasure request")
        assert forget.poll() is None, "forget must wait for the running extract"
        (holds / f"{held}.hold").unlink()  # extract goes on, then forget
        out_extract = extract.communicate(timeout=TIMEOUT_S)
        out_forget = forget.communicate(timeout=TIMEOUT_S)
    finally:
        for process in (extract, locals().get("forget")):
            if process is not None and process.poll() is None:
                process.kill()
    assert extract.returncode == 0, out_extract[1]
    assert forget.returncode == 0, out_forget[1]
    return out_extract, out_forget


def _assert_erased(store: Path, out_extract, out_forget) -> None:
    assert "1 recordings withheld" in out_extract[1]
    assert "Waiting" in out_forget[1] and "`extract` (pid" in out_forget[1]
    assert "Erased: 2 recordings" in out_forget[0]
    assert naming(store, ERASED) == []
    assert not (store / REQUESTS_DIR).exists() and not (store / ".lock").exists()
    # the other speaker's recording stays (its rows naming the erased id went)
    assert Store(store).recording_ids("recordings") == ["S002_u01"]


def test_forget_during_a_local_extract_holds(planted, tmp_path):
    store = tmp_path / "store"
    outputs = _forget_during_extract(planted, store, tmp_path / "holds", ["--jobs", "2"])
    _assert_erased(store, *outputs)
    # the scan does find the planted word where text is kept and nobody was erased
    control = tmp_path / "control"
    subprocess.run([CLI, "extract", str(planted), "--store", str(control), "--keep-text"],
                   check=True, capture_output=True, timeout=TIMEOUT_S)
    texts = Store(control).read_table("segments")
    planted_rows = texts[texts["text"].fillna("").str.contains(ERASED)]
    assert len(planted_rows) and ERASED not in set(planted_rows["speaker_id"])


def test_two_writers_never_interleave_and_the_second_one_waits(three_recordings, tmp_path):
    reference = tmp_path / "reference"
    subprocess.run([CLI, "extract", str(three_recordings), "--store", str(reference)],
                   check=True, capture_output=True, timeout=TIMEOUT_S)
    store, holds = tmp_path / "store", tmp_path / "holds"
    holds.mkdir()
    first_rid = sorted(pd.read_csv(three_recordings / "recordings.csv")["recording_id"])[0]
    (holds / f"{first_rid}.hold").touch()
    env = {**os.environ, HOLD_HOOK_ENV: str(holds)}
    command = [CLI, "extract", str(three_recordings), "--store", str(store)]
    first = subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    second = None
    try:
        _wait_for(lambda: (holds / f"{first_rid}.waiting").exists(), "the first to pause")
        refused = subprocess.run([*command, "--no-wait"], capture_output=True, text=True,
                                 timeout=TIMEOUT_S)
        assert refused.returncode == 2
        assert f"`extract` (pid {first.pid}" in refused.stderr and "since" in refused.stderr
        before = {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()}
        said = tmp_path / "second.err"
        with said.open("w") as err:
            second = subprocess.Popen(command, text=True, stdout=subprocess.PIPE, stderr=err)
        _wait_for(lambda: "Waiting" in said.read_text(), "the second writer to wait")
        time.sleep(1)  # it waits: it writes nothing meanwhile
        assert second.poll() is None
        assert {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()} == before
        (holds / f"{first_rid}.hold").unlink()
        out_first = first.communicate(timeout=TIMEOUT_S)
        out_second = (second.communicate(timeout=TIMEOUT_S)[0], said.read_text())
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
    assert first.returncode == 0, out_first[1]
    assert second.returncode == 0 and "Waiting" in out_second[1], out_second[1]
    assert "3 unchanged" in out_second[0]
    got, want = tables(store), tables(reference)
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)

