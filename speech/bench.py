"""Speed of the full extraction against openSMILE's eGeMAPSv02 functionals.

Both run on the same audio, one CPU each, alternately, ``repeats`` times; the
medians and their ratio are reported. One CPU means the process pinned to one
(Linux CPU affinity, :func:`one_cpu`), not only BLAS/OpenMP threads limited to 1:
Praat's pitch analysis starts one thread per hardware CPU whatever those limits
say, so without the pin a "one core" timing of ours used every core the machine
has. The result records whether the pin was possible.

Our extraction is timed twice per round: in full, and as the feature core
without vowel and /s/ tokens (Fast Track's formant analyses, one per candidate
ceiling and voice, are most of the full time, and eGeMAPS's single formant track
is no counterpart to them). A timed unit test would be noise on shared machines:
this is the place for speed claims.
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from threadpoolctl import threadpool_limits

from corpora.corpus import Recording
from speech.segmentation import SegmentationConfig, segment_recording


@dataclass(frozen=True)
class BenchResult:
    """Wall times (s) of each timed run: the full extraction, the feature core (the same
    without vowel and /s/ tokens, i.e. what eGeMAPS also measures: segmentation,
    attribution, pitch, voice quality, spectra, rhythm) and openSMILE."""

    audio_s: float
    ours_s: list[float]
    opensmile_s: list[float] | None
    core_s: list[float] = field(default_factory=list)
    #: Whether both ran pinned to one CPU (False where the OS offers no affinity).
    pinned: bool = False

    @property
    def ours_median_s(self) -> float:
        return statistics.median(self.ours_s)

    @property
    def core_median_s(self) -> float:
        return statistics.median(self.core_s)

    @property
    def core_rt(self) -> float:
        return self.audio_s / self.core_median_s

    @property
    def opensmile_median_s(self) -> float | None:
        return statistics.median(self.opensmile_s) if self.opensmile_s else None

    @property
    def ours_rt(self) -> float:
        return self.audio_s / self.ours_median_s

    @property
    def opensmile_rt(self) -> float | None:
        median = self.opensmile_median_s
        return None if median is None else self.audio_s / median


def _thread_ids() -> list[int]:
    """Ids of this process's threads (Linux ``/proc``); ``[0]`` (this thread) elsewhere."""
    tasks = Path("/proc/self/task")
    return [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]


@contextmanager
def one_cpu() -> Iterator[bool]:
    """Run the block on one CPU; yields whether the process could be pinned.

    BLAS/OpenMP pools are limited to one thread, and where the OS allows it
    (``os.sched_setaffinity``, Linux) every thread of the process is pinned to one
    of its CPUs. Threads started inside inherit the pin, so the threads Praat's
    pitch analysis starts (one per hardware CPU) share that CPU too. Each thread's
    previous affinity is restored afterwards (threads started inside keep the pin).
    """
    with threadpool_limits(limits=1):
        if not hasattr(os, "sched_setaffinity"):
            yield False
            return
        cpu = {min(os.sched_getaffinity(0))}
        before = {}
        for tid in _thread_ids():
            with suppress(ProcessLookupError):  # the thread has ended meanwhile
                before[tid] = os.sched_getaffinity(tid)
                os.sched_setaffinity(tid, cpu)
        try:
            yield True
        finally:
            for tid, cpus in before.items():
                with suppress(ProcessLookupError):  # the thread has ended
                    os.sched_setaffinity(tid, cpus)


def synthetic_speech(path: Path, seconds: float = 600.0, *, seed: int = 0) -> Path:
    """Write ``seconds`` of synthetic two-voice interview speech (16 kHz) to ``path``."""
    from corpora.synth import write_corpus

    with tempfile.TemporaryDirectory() as tmp:
        n = max(1, int(np.ceil(seconds / 90)))
        write_corpus(Path(tmp) / "c", n_speakers=n, seed=seed, minutes_per_speaker=2.0)
        parts = sorted((Path(tmp) / "c" / "audio").rglob("*_interview.wav"))
        # The interviews one after the other, repeated until `seconds` (np.resize's
        # order), streamed part by part: a 3-hour file never sits in memory (as three
        # float32 copies it was 2 GB, more than the extraction measured on it).
        left = int(seconds * 16000)
        with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
            for part in itertools.cycle(parts):
                if left <= 0:
                    break
                y = sf.read(part, dtype="float32", frames=left)[0]
                out.write(y)
                left -= y.size
    return path


def run_bench(audio: Path, *, repeats: int = 3, n_speakers: int = 2,
              formant_ceilings: int = 10, engine: str = "vectorised") -> BenchResult:
    """Time our extraction (with ``engine``, see :class:`SegmentationConfig`) and
    openSMILE (if installed) on ``audio``, one CPU each (see :func:`one_cpu`)."""
    info = sf.info(audio)
    recording = Recording(audio.stem, audio, "interview" if n_speakers > 1 else "utterance",
                          "BENCH", n_speakers)
    config = SegmentationConfig(formant_ceilings=formant_ceilings, engine=engine)
    try:
        import opensmile

        smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                feature_level=opensmile.FeatureLevel.Functionals, num_workers=1)
    except ImportError:
        smile = None
    core_config = SegmentationConfig(token_voices="none", engine=engine)
    ours, core, theirs = [], [], []
    with one_cpu() as pinned:
        segment_recording(recording, config)  # warm-up: imports, Praat, numba
        if smile is not None:
            smile.process_file(str(audio), end=1.0)
        for _ in range(repeats):
            for times, cfg in ((ours, config), (core, core_config)):
                started = time.perf_counter()
                result = segment_recording(recording, cfg)
                times.append(time.perf_counter() - started)
                if not result.errors.empty:
                    raise RuntimeError(f"extraction failed: {result.errors.to_dict('records')}")
            if smile is not None:
                started = time.perf_counter()
                smile.process_file(str(audio))
                theirs.append(time.perf_counter() - started)
    return BenchResult(info.frames / info.samplerate, ours, theirs or None, core, pinned)
