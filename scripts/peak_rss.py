"""Peak memory (RSS) and time of one recording's extraction.

Usage::

    python scripts/peak_rss.py AUDIO [--minutes N] [--speakers 2] [--save DIR]
    python scripts/peak_rss.py --synth MINUTES [--speakers 2]

Runs ``speech.segmentation.segment_recording`` on ``AUDIO`` (its first ``N``
minutes, cut into a temporary 16-bit WAV, when ``--minutes`` is given) or on
``MINUTES`` of synthetic two-voice interview speech, with every thread pool
limited to one thread (a pipeline worker's setting), and prints:

* the peak resident set size of the process (``getrusage``'s ``ru_maxrss``, the
  figure ``/usr/bin/time -v`` reports as "Maximum resident set size") and the
  RSS after the imports, so the part that grows with the recording shows; the
  synthetic or cut audio is written by a child process, whose memory is not
  counted (the old in-process 3-hour synthesis made the peak 2.3 GB);
* the wall and CPU time of the extraction;
* with ``--where``, the main thread's call stack at the moment the sampled RSS
  (read from ``/proc/self/statm`` every ``--interval`` seconds) reached its
  maximum: the stage that sets the peak.

Issue #4's requirement: a 3-hour recording peaks at <= 1 GB. ``--save DIR``
writes the segments, vowels and sibilants tables as Parquet, to compare values
before and after a change.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE


def _peak_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Sampler(threading.Thread):
    """Polls the RSS; keeps the main thread's stack at the highest sample."""

    def __init__(self, interval_s: float) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.main_id = threading.main_thread().ident
        self.best = 0
        self.stack: list[str] = []
        self.stages: dict[str, int] = {}  # deepest pipeline line -> highest RSS seen there
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval_s):
            rss = _rss_bytes()
            frame = sys._current_frames().get(self.main_id)
            if frame is None:
                continue
            stack = [f"{s.filename.split('/')[-1]}:{s.lineno} {s.name}"
                     for s in traceback.extract_stack(frame)]
            if rss > self.best:
                self.best, self.stack = rss, stack
            stage = next((s for s in reversed(stack) if s.startswith("segmentation.py")), "-")
            self.stages[stage] = max(self.stages.get(stage, 0), rss)


def _cut(audio: Path, minutes: float, folder: Path) -> Path:
    import soundfile as sf

    info = sf.info(audio)
    frames = int(minutes * 60 * info.samplerate)
    y, sr = sf.read(audio, frames=frames, dtype="int16", always_2d=True)
    path = folder / f"{audio.stem}_{minutes:g}min.wav"
    sf.write(path, y, sr, subtype="PCM_16")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="?", type=Path, help="audio file")
    parser.add_argument("--minutes", type=float, help="cut the first N minutes of AUDIO")
    parser.add_argument("--synth", type=float, metavar="MINUTES",
                        help="synthesise MINUTES of two-voice interview speech instead")
    parser.add_argument("--speakers", type=int, default=2, help="voices in the recording")
    parser.add_argument("--save", type=Path, help="write segments/vowels/sibilants here")
    parser.add_argument("--where", action="store_true",
                        help="sample the RSS and print the stack at its peak")
    parser.add_argument("--interval", type=float, default=0.02, help="sampling period (s)")
    args = parser.parse_args(argv)
    if (args.audio is None) == (args.synth is None):
        parser.error("give AUDIO or --synth MINUTES")

    from threadpoolctl import threadpool_limits

    from corpora.corpus import Recording
    from speech.bench import synthetic_speech
    from speech.segmentation import SegmentationConfig, segment_recording

    imported_mib = _rss_bytes() / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        if args.synth is None and args.minutes is None:
            audio = args.audio
        else:
            # Written by a child process: ru_maxrss would otherwise keep the memory of
            # the synthesis (or the cut) as this process's peak, not the extraction's.
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                job = (pool.submit(synthetic_speech, Path(tmp) / "synth.wav", args.synth * 60)
                       if args.synth is not None
                       else pool.submit(_cut, args.audio, args.minutes, Path(tmp)))
                audio = job.result()
        kind = "interview" if args.speakers > 1 else "utterance"
        recording = Recording(audio.stem, audio, kind, "BENCH", args.speakers)
        sampler = _Sampler(args.interval) if args.where else None
        if sampler is not None:
            sampler.start()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with threadpool_limits(limits=1):
            result = segment_recording(recording, SegmentationConfig())
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if sampler is not None:
            sampler.done.set()
            sampler.join()
    if not result.errors.empty:
        print(result.errors.to_dict("records"), file=sys.stderr)
        return 1
    duration_s = float(result.recording["duration_s"].iloc[0])
    print(f"audio {duration_s / 60:.1f} min, {len(result.segments)} segments, "
          f"{0 if result.vowels is None else len(result.vowels)} vowel tokens")
    print(f"peak RSS {_peak_mib():.0f} MiB (after imports {imported_mib:.0f} MiB)")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s ({duration_s / max(cpu, 1e-9):.0f}x real time "
          "per core)")
    if sampler is not None:
        print(f"sampled peak {sampler.best / 2**20:.0f} MiB at:")
        for line in sampler.stack[-12:]:
            print("   ", line)
        print("highest sampled RSS by pipeline line (MiB):")
        for stage, rss in sampler.stages.items():
            print(f"    {rss / 2**20:6.0f}  {stage}")
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
        for name in ("segments", "vowels", "sibilants"):
            table = getattr(result, name)
            if table is not None:
                table.to_parquet(args.save / f"{name}.parquet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
