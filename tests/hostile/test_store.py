"""A store that refuses writes (read-only, or full): a clear StoreError naming the
store, no partial or temporary files, the manifest intact, and a rerun after the
problem is fixed completes. Reading a read-only store works."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

import speech.store as store_module
from speech.store import Store, StoreError


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("code, advice", [
    (errno.ENOSPC, "no space left on the device"),
    (errno.EROFS, "read-only file system"),
    (errno.EACCES, "permission denied"),
])
def test_store_that_refuses_writes_midway(hostile, monkeypatch, code, advice):
    """The disk fills up (or turns read-only) while the second recording is written:
    the half-written temporary file is removed, the manifest on disk stays valid,
    and a rerun once space is back completes with every recording."""
    real = store_module.pq.write_table
    calls = {"n": 0}

    def failing_write(table, where, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= 4:  # recordings + segments + ... of the first, then fail
            store_module.Path(where).write_bytes(b"PAR1 half a parquet")  # a full disk's leftover
            raise OSError(code, os.strerror(code))
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(store_module.pq, "write_table", failing_write)
    with pytest.raises(StoreError) as err:
        hostile.extract()
    message = str(err.value)
    assert err.value.errno == code
    assert str(hostile.store) in message and advice in message
    assert "part-0.parquet" in message
    leftovers = [f for f in _files(hostile.store) if f.endswith(".tmp") or "/." in f]
    assert leftovers == []
    for path in hostile.store.rglob("*.parquet"):  # every parquet file that exists is whole
        store_module.pq.read_metadata(path)
    manifest = hostile.store / "manifest.json"
    if manifest.exists():
        json.loads(manifest.read_text())  # intact (the last complete one)

    monkeypatch.setattr(store_module.pq, "write_table", real)  # space is back
    result = hostile.extract()
    result.assert_good_finished()
    assert set(json.loads(manifest.read_text())["recordings"]) == {"S001_u01", "S002_u01"}


def test_full_disk_while_writing_the_manifest_keeps_the_old_one(hostile, monkeypatch):
    hostile.extract()
    manifest = hostile.store / "manifest.json"
    before = manifest.read_bytes()
    (hostile.root / "audio/S002/S002_u01.wav").write_bytes(
        (hostile.root / "audio/S001/S001_u01.wav").read_bytes())  # S002 changed
    real_replace = store_module.Path.replace

    def no_space(self, target):
        if str(target).endswith("manifest.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(self, target)

    monkeypatch.setattr(store_module.Path, "replace", no_space)
    with pytest.raises(StoreError, match=r"manifest\.json.*no space left"):
        hostile.extract()
    assert manifest.read_bytes() == before
    assert not [f for f in _files(hostile.store) if f.endswith(".tmp")]
    monkeypatch.undo()
    summary = hostile.extract().summary
    assert summary.computed == ["S002_u01"]


def test_read_only_store_is_refused_before_any_work_and_still_readable(hostile):
    """A real read-only directory where permissions apply (not as root); the same
    refusal simulated otherwise, so the test checks the same contract everywhere."""
    hostile.extract()
    store = Store(hostile.store)
    before = {f: (hostile.store / f).read_bytes() for f in _files(hostile.store)}
    modes = {p: p.stat().st_mode for p in [hostile.store, *hostile.store.rglob("*")]}
    for p in modes:
        p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        if os.access(hostile.store, os.W_OK):  # root ignores permissions: simulate EACCES
            def denied(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied")

            mp = pytest.MonkeyPatch()
            mp.setattr(store_module.tempfile, "mkstemp", denied)
        else:
            mp = None
        try:
            with pytest.raises(StoreError, match="permission denied") as err:
                store.check_writable()
            assert str(hostile.store) in str(err.value)
            # Reading needs no write: queries work on a read-only store.
            assert set(store.read_table("recordings")["recording_id"]) == {
                "S001_u01", "S002_u01"}
            assert len(store.read_table("segments")) >= 2
        finally:
            if mp is not None:
                mp.undo()
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert {f: (hostile.store / f).read_bytes() for f in _files(hostile.store)} == before


def test_cli_reports_a_full_store_in_one_line(hostile, monkeypatch):
    from typer.testing import CliRunner

    from speech.cli import app

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module.pq, "write_table", no_space)
    result = CliRunner().invoke(app, ["extract", str(hostile.root), "--store",
                                      str(hostile.store)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "no space left on the device" in result.output
    assert "Traceback" not in result.output
