"""scripts/scaling.py: each run in a fresh store, and --pin holds J jobs to J CPUs."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("scaling", ROOT / "scripts" / "scaling.py")
scaling = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scaling)

# Stands in for `speech-profile extract CORPUS --store STORE --jobs J`: writes the
# recordings table the script reads and the CPUs it was allowed.
FAKE_CLI = f"""#!{sys.executable}
import os, sys
from pathlib import Path
import pandas as pd
store = Path(sys.argv[sys.argv.index("--store") + 1])
(store / "recordings").mkdir(parents=True)
pd.DataFrame({{"duration_s": [60.0, 30.0], "status": ["done", "error"]}}).to_parquet(
    store / "recordings" / "part.parquet")
Path(os.environ["CPUS_SEEN"]).write_text(" ".join(map(str, sorted(os.sched_getaffinity(0)))))
"""

pinnable = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity")


@pytest.fixture
def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    cli = tmp_path / "speech-profile"
    cli.write_text(FAKE_CLI)
    cli.chmod(0o755)
    seen = tmp_path / "cpus.txt"
    monkeypatch.setenv("CPUS_SEEN", str(seen))
    return str(cli), seen


@pinnable
def test_pinned_run_sees_only_its_cpus(fake_cli, tmp_path):
    cli, seen = fake_cli
    run = scaling.run_once(tmp_path, 1, cli, pin=True)
    assert run["pinned"] and run["audio_s"] == 90.0 and run["failed"] == 1
    assert seen.read_text() == str(min(os.sched_getaffinity(0)))


@pinnable
def test_unpinned_run_sees_every_cpu(fake_cli, tmp_path):
    cli, seen = fake_cli
    run = scaling.run_once(tmp_path, 1, cli)
    assert not run["pinned"]
    assert seen.read_text() == " ".join(map(str, sorted(os.sched_getaffinity(0))))


@pinnable
def test_pin_refuses_more_jobs_than_cpus(fake_cli, tmp_path):
    cli, _ = fake_cli
    with pytest.raises(SystemExit, match="CPUs"):
        scaling.run_once(tmp_path, len(os.sched_getaffinity(0)) + 1, cli, pin=True)
