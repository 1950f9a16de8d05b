"""The bench's "one CPU" is one CPU: Praat's own threads included."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import parselmouth
import pytest

from speech.bench import one_cpu

pinnable = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"),
                              reason="this OS has no CPU affinity")


@pinnable
def test_one_cpu_pins_the_process_and_restores_its_affinity():
    before = os.sched_getaffinity(0)
    with one_cpu() as pinned:
        assert pinned
        assert len(os.sched_getaffinity(0)) == 1
        assert os.sched_getaffinity(0) <= before
        # Threads started inside (as Praat starts its own) inherit the pin.
        seen = []
        thread = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))
        thread.start()
        thread.join()
        assert seen == [os.sched_getaffinity(0)]
    assert os.sched_getaffinity(0) == before


@pinnable
def test_one_cpu_pins_threads_that_were_already_running():
    """Threads started before the block (a pool, a progress bar) count in the
    process's CPU time too: they are pinned for the block and released after."""
    release, started = threading.Event(), threading.Event()
    affinities = {}

    def worker():
        started.set()
        release.wait()
        affinities["during"] = os.sched_getaffinity(0)

    thread = threading.Thread(target=worker)
    before = os.sched_getaffinity(0)
    thread.start()
    started.wait()
    tid = thread.native_id
    with one_cpu():
        assert len(os.sched_getaffinity(tid)) == 1
        release.set()
        thread.join()
    assert len(affinities["during"]) == 1
    assert os.sched_getaffinity(0) == before


@pinnable
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity")
                    else True, reason="needs 2 CPUs to see Praat's threads")
def test_praats_pitch_threads_are_held_to_the_one_cpu():
    """Praat's pitch analysis starts one thread per hardware CPU (unpinned, its CPU
    time here is about twice its wall time on 2 CPUs); pinned, CPU time cannot
    exceed wall time."""
    rng = np.random.default_rng(0)
    sound = parselmouth.Sound(rng.standard_normal(16000 * 60), sampling_frequency=16000)
    with one_cpu():
        wall, cpu = time.perf_counter(), time.process_time()
        sound.to_pitch_ac(time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0)
        assert (time.process_time() - cpu) / (time.perf_counter() - wall) < 1.1


def test_synthetic_speech_writes_exactly_the_seconds_asked(tmp_path):
    import soundfile as sf

    from speech.bench import synthetic_speech

    info = sf.info(synthetic_speech(tmp_path / "a.wav", 30.5))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.frames == 30.5 * 16000
    y = sf.read(tmp_path / "a.wav", dtype="float32")[0]
    assert np.sqrt(np.mean(y**2)) > 1e-3  # speech, not an empty or silent file
