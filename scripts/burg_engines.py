"""The two Burg engines side by side: accuracy on the synthetic corpus, and speed.

Usage::

    python scripts/burg_engines.py accuracy [--speakers 4] [--minutes 0.5]
    python scripts/burg_engines.py speed [--repeats 3] [--seconds 600]

``accuracy``: a synthetic corpus (known formants) is measured by
:func:`features.formants.measure_vowels` with each engine (the pipeline's
settings: 10 ceilings per gender, Fast Track's choice); prints the median and
90th percentile error against the truth of F1 and F2 (vowels >= 50 ms), the
median |difference| between the engines per formant, and the share of tokens
whose chosen ceiling is the same.

``speed``: the vowel stage of ``speech-profile bench``'s interview (synthetic,
two voices): every ``measure_vowels`` call the extraction makes (all tokens, all
10 ceilings) is recorded once, then replayed with each engine, alternately,
pinned to one CPU (:func:`speech.bench.one_cpu`); prints each engine's times,
medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

import speech.pass_two as pass_two
import speech.segmentation as segmentation
from corpora.corpus import Recording
from corpora.synth import write_corpus
from features.formants import measure_vowels
from speech.bench import one_cpu, synthetic_speech


def accuracy(n_speakers: int, minutes: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        write_corpus(root, n_speakers=n_speakers, seed=11, minutes_per_speaker=minutes, jobs=1)
        tokens = pd.read_csv(root / "truth" / "tokens.csv")
        recs = pd.read_csv(root / "recordings.csv")
        genders = dict(pd.read_csv(root / "speakers.csv")[["speaker_id", "gender"]].to_numpy())
        vowels = tokens[tokens["is_vowel"].astype(bool) & tokens["speaker_id"].isin(genders)]
        out: dict[str, list[pd.DataFrame]] = {"vectorised": [], "praat": []}
        for rec in recs.itertuples():
            y, sr = sf.read(root / rec.path, dtype="float64")
            for sid, d in vowels[vowels["recording_id"] == rec.recording_id].groupby(
                    "speaker_id"):
                for engine, parts in out.items():
                    m = measure_vowels(y, sr, d[["start_s", "end_s"]].to_numpy(),
                                       gender=genders[sid], engine=engine)
                    m.index = d.index
                    parts.append(m.assign(true_f1=d["f1_hz"], true_f2=d["f2_hz"]))
    res = {k: pd.concat(v) for k, v in out.items()}
    long = res["vectorised"]["duration_s"] >= 0.05
    print(f"{int(long.sum())} vowel tokens >= 50 ms, {n_speakers} speakers")
    for engine, r in res.items():
        r = r[long]
        cells = []
        for k in (1, 2):
            e = (r[f"f{k}_hz"] - r[f"true_f{k}"]).abs() / r[f"true_f{k}"]
            cells.append(f"F{k} error median {100 * e.median():.2f}% p90 "
                         f"{100 * e.quantile(0.9):.2f}%")
        print(f"  {engine}: " + "; ".join(cells))
    a, b = res["vectorised"][long], res["praat"][long]
    for col in ("f1_hz", "f2_hz", "f3_hz", "b1_hz", "b2_hz", "b3_hz"):
        d = ((a[col] - b[col]).abs() / b[col]).dropna()
        print(f"  engines |diff| {col}: median {100 * d.median():.3f}% p90 "
              f"{100 * d.quantile(0.9):.2f}%")
    print(f"  same chosen ceiling: {100 * (a['ceiling_hz'] == b['ceiling_hz']).mean():.1f}%")


def speed(repeats: int, seconds: float) -> None:
    calls = []
    original = pass_two.measure_vowels

    def record(y, sr, tokens, **kwargs):
        calls.append((np.array(y), sr, np.array(tokens), kwargs))
        return original(y, sr, tokens, **kwargs)

    pass_two.measure_vowels = record
    with tempfile.TemporaryDirectory() as tmp:
        audio = synthetic_speech(Path(tmp) / "bench.wav", seconds)
        recording = Recording(audio.stem, audio, "interview", "BENCH", 2)
        segmentation.segment_recording(recording, segmentation.SegmentationConfig(
            engine="praat"))
    pass_two.measure_vowels = original
    n_tokens = sum(c[2].shape[0] for c in calls)
    print(f"{len(calls)} vowel-stage calls, {n_tokens} tokens, 10 ceilings each")
    times: dict[str, list[float]] = {"vectorised": [], "praat": []}
    with one_cpu() as pinned:
        for _ in range(repeats):
            for engine, spent in times.items():
                started = time.perf_counter()
                for y, sr, tokens, kwargs in calls:
                    measure_vowels(y, sr, tokens, **{**kwargs, "engine": engine})
                spent.append(time.perf_counter() - started)
    for engine, spent in times.items():
        print(f"  {engine}: " + ", ".join(f"{t:.2f}" for t in spent)
              + f" s; median {statistics.median(spent):.2f} s")
    ratio = statistics.median(times["praat"]) / statistics.median(times["vectorised"])
    print(f"  praat / vectorised: {ratio:.2f}x ({'pinned' if pinned else 'not pinned'})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("accuracy", "speed"))
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.part == "accuracy":
        accuracy(args.speakers, args.minutes)
    else:
        speed(args.repeats, args.seconds)


if __name__ == "__main__":
    main()
