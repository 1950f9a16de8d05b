"""Where one recording's extraction spends its time, one CPU.

Usage::

    python scripts/stage_times.py [AUDIO] [--speakers 2] [--formant-ceilings 10]
                                  [--engine vectorised|praat]

Runs ``speech.segmentation.segment_recording`` on ``AUDIO`` (default: 10 minutes
of synthetic two-voice interview, as ``speech-profile bench``) pinned to one CPU
(:func:`speech.bench.one_cpu`), once as the feature core (no vowel or /s/
tokens) and once in full, after a warm-up, and prints the wall time of each
stage: the pitch analyses (the 10 ms passes and the voice-quality pitch, by
the vectorised engine or Praat's),
the glottal pulses (ours or Praat's point process), our HNR, the spectral and intensity tracks,
clustering, Fast Track's Burg analyses and ceiling choice, and /s/. Stages are
timed by wrapping the functions the pipeline calls, so a stage nested in
another counts in both; "rest" is what no wrapped stage covers.

These are the figures the README's speed section quotes.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

import parselmouth

import features.formants as formants
import features.tracks as tracks
import features.voice as voice
import features.voice_report as voice_report
import speech.pass_one as pass_one
import speech.pass_two as pass_two
import speech.segmentation as segmentation
from corpora.corpus import Recording
from speech.bench import one_cpu, synthetic_speech
from speech.segmentation import SegmentationConfig, segment_recording

spent: collections.defaultdict[str, float] = collections.defaultdict(float)


def _timed(label, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started
    return wrapper


def _instrument() -> None:
    pitch = parselmouth.Sound.to_pitch_ac

    def to_pitch_ac(sound, *args, **kwargs):
        label = ("Praat pitch, 10 ms passes" if "time_step" in kwargs
                 else "Praat pitch, voice-quality pitch")
        return _timed(label, pitch)(sound, *args, **kwargs)

    parselmouth.Sound.to_pitch_ac = to_pitch_ac
    tracks.pitch_ac = _timed("vectorised pitch, 10 ms passes", tracks.pitch_ac)
    voice_report.pitch_ac = _timed("vectorised pitch, voice-quality pitch",
                                   voice_report.pitch_ac)
    call = voice.call

    def praat_call(*args, **kwargs):
        command = next((a for a in args if isinstance(a, str)), "?")
        return _timed(f"Praat: {command}", call)(*args, **kwargs)

    voice.call = praat_call
    voice.harmonicity_cc = _timed("our HNR (cc)", voice.harmonicity_cc)
    voice.glottal_pulses = _timed("our pulses (cc)", voice.glottal_pulses)
    for module, name, label in ((pass_one, "spectral_tracks", "spectra"),
                                (pass_one, "intensity_db", "intensity"),
                                (pass_one, "voice_frames", "MFCC frames"),
                                (segmentation, "labels_from_clusters", "clustering"),
                                (pass_two, "sibilant_measures", "/s/ tokens")):
        setattr(module, name, _timed(label, getattr(module, name)))
    formants.formant_tracks = _timed("Fast Track: Burg analyses", formants.formant_tracks)
    formants.select_ceilings = _timed("Fast Track: ceiling choice", formants.select_ceilings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path, nargs="?")
    parser.add_argument("--speakers", type=int, default=2)
    parser.add_argument("--formant-ceilings", type=int, default=10)
    parser.add_argument("--engine", default="vectorised", choices=("vectorised", "praat"))
    args = parser.parse_args(argv)
    _instrument()
    with tempfile.TemporaryDirectory() as tmp:
        audio = args.audio or synthetic_speech(Path(tmp) / "bench.wav", 600.0)
        recording = Recording(audio.stem, audio, "interview" if args.speakers > 1
                              else "utterance", "BENCH", args.speakers)
        configs = {"feature core": SegmentationConfig(token_voices="none", engine=args.engine),
                   "full": SegmentationConfig(formant_ceilings=args.formant_ceilings,
                                              engine=args.engine)}
        with one_cpu() as pinned:
            segment_recording(recording, configs["full"])  # warm-up
            for name, config in configs.items():
                spent.clear()
                started = time.perf_counter()
                result = segment_recording(recording, config)
                total = time.perf_counter() - started
                if not result.errors.empty:
                    raise SystemExit(f"extraction failed: {result.errors.to_dict('records')}")
                print(f"{name}: {total:.2f} s ({'one CPU, pinned' if pinned else 'not pinned'})")
                for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
                    print(f"  {seconds:7.2f} s  {label}")
                print(f"  {total - sum(spent.values()):7.2f} s  rest (and overlaps, if < 0)")


if __name__ == "__main__":
    main()
