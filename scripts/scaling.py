"""Measure how ``speech-profile extract`` scales with worker processes.

Usage::

    python scripts/scaling.py CORPUS [--jobs 1 2] [--repeats 3] [--pin] [--json OUT.json]

Each measurement is one ``speech-profile extract CORPUS --store FRESH --jobs J``
in a subprocess (start-up, imports and the pool's warm-up included: what a user
waits for), into a fresh temporary store. The jobs settings are interleaved
(1, 2, 2, 1, 1, 2...) so that a change in the machine's load over time hits
every setting alike; the report gives medians, the speedup over the first
setting, and the throughput as times real time, overall and per core. The
CPU time of the run and its workers (user + system) is recorded too: audio
seconds per CPU second is the per-core rate a cluster budget needs, and unlike
wall time it hardly moves when other jobs share the machine. The 1-minute load
average before each run is recorded: on a shared machine, read the wall times
with it.

``--pin`` runs J jobs on J CPUs (Linux CPU affinity, CPUs 0..J-1): Praat's pitch
analysis starts one thread per hardware CPU inside every worker, so without it
a 1-job run borrows the idle CPUs and the speedup over it understates the
scaling with cores. Without ``--pin`` the runs measure what a user launching
``--jobs J`` on the whole machine gets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def _children_cpu_s() -> float:
    # Waited-for descendants only: the CLI and, through it, its pool's workers.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(corpus: Path, jobs: int, cli: str, *, pin: bool = False) -> dict:
    """One extraction into a fresh store: wall and CPU time (s), audio (s), load before.

    ``pin``: the run (and its workers, which inherit it) on CPUs 0..jobs-1 only.
    """
    if pin and not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--pin needs CPU affinity (Linux)")
    if pin and jobs > len(os.sched_getaffinity(0)):
        raise SystemExit(f"--pin: {jobs} jobs but only {len(os.sched_getaffinity(0))} CPUs")
    cpus = sorted(os.sched_getaffinity(0))[:jobs] if pin else None
    store = Path(tempfile.mkdtemp(prefix=f"scaling-j{jobs}-"))
    try:
        load = os.getloadavg()[0]
        cpu = _children_cpu_s()
        started = time.perf_counter()
        subprocess.run([cli, "extract", str(corpus), "--store", str(store), "--jobs", str(jobs)],
                       check=True, capture_output=True,
                       preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        wall = time.perf_counter() - started
        cpu = _children_cpu_s() - cpu
        recordings = pd.read_parquet(store / "recordings")
        failed = int((recordings["status"] == "error").sum())
        audio = float(recordings["duration_s"].sum())
    finally:
        shutil.rmtree(store, ignore_errors=True)
    return {"jobs": jobs, "wall_s": wall, "cpu_s": cpu, "audio_s": audio,
            "load_before": load, "failed": failed, "pinned": bool(cpus)}


def summarise(runs: list[dict]) -> pd.DataFrame:
    """Medians per jobs setting, speedup over the smallest, x real time per core."""
    table = (pd.DataFrame(runs).groupby("jobs")
             .agg(runs=("wall_s", "size"), wall_s=("wall_s", "median"),
                  wall_min_s=("wall_s", "min"), wall_max_s=("wall_s", "max"),
                  cpu_s=("cpu_s", "median"), audio_s=("audio_s", "median"),
                  load=("load_before", "median"))
             .reset_index())
    base = table["wall_s"].iloc[0]
    table["speedup"] = base / table["wall_s"]
    table["efficiency"] = table["speedup"] / (table["jobs"] / table["jobs"].iloc[0])
    table["x_real_time"] = table["audio_s"] / table["wall_s"]
    table["x_real_time_per_core"] = table["x_real_time"] / table["jobs"]
    # Audio seconds per CPU second: the per-core rate when the core is ours alone.
    table["x_real_time_per_cpu_s"] = table["audio_s"] / table["cpu_s"]
    # Core-hours per hour of audio, from wall time x cores (idle and shared time included).
    table["core_h_per_audio_h"] = table["jobs"] / table["x_real_time"]
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pin", action="store_true",
                        help="Run J jobs on J CPUs only (Linux CPU affinity).")
    parser.add_argument("--json", type=Path, help="Also write every run and the summary here.")
    args = parser.parse_args(argv)
    cli = str(Path(sys.executable).with_name("speech-profile"))
    if not Path(cli).exists():
        cli = shutil.which("speech-profile") or "speech-profile"

    runs = []
    for repeat in range(args.repeats):
        order = args.jobs if repeat % 2 == 0 else list(reversed(args.jobs))
        for jobs in order:
            run = run_once(args.corpus, jobs, cli, pin=args.pin)
            runs.append({**run, "repeat": repeat})
            print(f"repeat {repeat} jobs {jobs}: {run['wall_s']:.1f} s wall, "
                  f"{run['cpu_s']:.1f} s CPU (load {run['load_before']:.1f})",
                  file=sys.stderr, flush=True)
    table = summarise(runs)
    audio_h = table["audio_s"].iloc[0] / 3600
    print(f"corpus {args.corpus}: {audio_h:.3f} h of audio ({audio_h * 60:.1f} min), "
          f"{os.cpu_count()} CPUs, repeats {args.repeats}, interleaved, "
          + ("J jobs pinned to J CPUs" if args.pin else "every CPU available to each run"))
    print(table.to_markdown(index=False, floatfmt=".2f") if _has_tabulate()
          else table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": table.to_dict("records")},
                                        indent=2))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
