"""Agreement of the default engine's pulses, jitter, shimmer and HNR with Praat's.

Usage::

    python scripts/pulse_agreement.py [--synthetic-s 120] [--speed]
    python scripts/pulse_agreement.py --pipeline-s 600

For each set -- the ALSA test recordings (/usr/share/sounds/alsa, 48 kHz, Noise
left out), real-es (../shared/data/real-es: MX1 16 kHz, CO1 8 kHz) and synthetic
two-voice speech (``speech.bench``, 16 kHz, cut into 30 s pieces) -- each
recording is analysed by both engines at Praat's voice-report settings (75-600 Hz):

* pulses: Praat's "To Pitch (ac)" + "To PointProcess (cc)" against
  :func:`features.pitch.pitch_ac` + :func:`features.pulses.glottal_pulses`
  (the share of Praat's pulses with one of ours within 0.1 ms, and the same the
  other way), and :func:`features.pulses.glottal_pulses` given Praat's own pitch
  (the largest time difference: same pitch, same pulses);
* on the voiced stretches (runs of voiced 10 ms frames of Praat's cc pitch of at
  least 0.1 s, as ``tests/features/test_voice.py``) and on the whole recording:
  ``voice_quality`` with the default engine against Praat's own commands ("Get
  jitter", "Get shimmer", "Harmonicity: Get mean" and the Voice report's HNR);
  the median and largest relative difference per measure.

With ``--speed``, our pulses and Praat's point process, from the same Praat
pitch, side by side on one CPU (medians of 3) per set. With ``--pipeline-s``, the
same on the inputs the pipeline hands ``voice_quality`` (each voice's joined
segments per block, with its adapted pitch range) for that much of the bench's
synthetic interview.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import parselmouth
from parselmouth.praat import call

from features.praat_agreement import (
    alsa_recordings,
    count_matched,
    hnr_relative_difference,
    own_pulses,
    praat_pulses,
    pulses_from_pitch,
    read_mono,
    real_es_recordings,
    voiced_stretches,
)
from features.pulses import glottal_pulses
from features.voice import voice_quality
from speech.bench import one_cpu, synthetic_speech

MEASURES = (
    "jitter_local_pct",
    "jitter_rap_pct",
    "jitter_ppq5_pct",
    "shimmer_local_pct",
    "shimmer_local_db",
    "shimmer_apq3_pct",
    "shimmer_apq5_pct",
    "hnr_db",
    "hnr_report_db",
)
PERIODS = (0.0001, 0.02, 1.3)


def praat_measures(sound, pitch, points, segments: np.ndarray) -> dict[str, np.ndarray]:
    """Praat's own values per segment (NaN where undefined)."""
    harmonicity = call(sound, "To Harmonicity (cc)", 0.01, 75.0, 0.1, 1.0)
    rows = []
    for start, end in segments:
        row = [
            100 * call(points, f"Get jitter ({k})", start, end, *PERIODS)
            for k in ("local", "rap", "ppq5")
        ]
        for kind in ("local", "local_dB", "apq3", "apq5"):
            v = call([sound, points], f"Get shimmer ({kind})", start, end, *PERIODS, 1.6)
            row.append(v if kind == "local_dB" else 100 * v)
        row.append(call(harmonicity, "Get mean", start, end))
        report = call(
            [sound, pitch, points], "Voice report", start, end, 75.0, 600.0, 1.3, 1.6, 0.03, 0.45
        )
        hit = re.search(r"Mean harmonics-to-noise ratio: (-?[\d.]+) dB", report)
        row.append(float(hit[1]) if hit else np.nan)
        rows.append(row)
    table = np.array(rows, dtype=np.float64).reshape(-1, len(MEASURES))
    return {k: table[:, j] for j, k in enumerate(MEASURES)}


def compare(signals: list[tuple[np.ndarray, float]]) -> dict:
    """Pulse matches and per-measure relative differences, pooled over ``signals``."""
    counts = {"praat": 0, "ours": 0, "praat_matched": 0, "ours_matched": 0, "stretches": 0}
    same_pitch_worst = 0.0
    rel: dict[str, list[np.ndarray]] = {k: [] for k in MEASURES}
    for y, sr in signals:
        sound = parselmouth.Sound(y, sampling_frequency=float(sr))
        ref_t, pitch, points = praat_pulses(y, sr)
        ours = own_pulses(y, sr)
        same = pulses_from_pitch(y, sr, pitch)
        if same.size != ref_t.size:
            raise AssertionError(f"same pitch, {same.size} pulses against Praat's {ref_t.size}")
        if same.size:
            same_pitch_worst = max(same_pitch_worst, float(np.max(np.abs(same - ref_t))))
        counts["praat"] += ref_t.size
        counts["ours"] += ours.size
        counts["praat_matched"] += count_matched(ref_t, ours)
        counts["ours_matched"] += count_matched(ours, ref_t)
        segments = voiced_stretches(y, sr)
        if segments.size == 0:
            continue
        segments = np.vstack([segments, [[0.0, y.size / sr]]])
        counts["stretches"] += segments.shape[0]
        got = voice_quality(y, sr, segments)
        ref = praat_measures(sound, pitch, points, segments)
        for key in MEASURES:
            both = np.isfinite(got[key]) & np.isfinite(ref[key])
            if key.startswith("hnr"):  # relative to max(|Praat's dB|, 1 dB)
                rel[key].append(hnr_relative_difference(got[key][both], ref[key][both]))
            else:
                rel[key].append(np.abs(got[key][both] / ref[key][both] - 1.0))
    return {
        "counts": counts,
        "same_pitch_worst_s": same_pitch_worst,
        "rel": {k: np.concatenate(v) if v else np.zeros(0) for k, v in rel.items()},
    }


def speed(
    signals: list[tuple[np.ndarray, float]], ranges: list[tuple[float, float]] | None = None
) -> tuple[float, float]:
    """Seconds (medians of 3, one CPU) of Praat's point process and of ours, from the same
    Praat pitch (``ranges``: each signal's pitch floor and ceiling, default 75-600 Hz)."""
    prepared = []
    for (y, sr), (floor, ceiling) in zip(
        signals, ranges or [(75.0, 600.0)] * len(signals), strict=True
    ):
        sound = parselmouth.Sound(y, sampling_frequency=float(sr))
        pitch = sound.to_pitch_ac(pitch_floor=floor, pitch_ceiling=ceiling)
        prepared.append((y, sr, sound, pitch, pitch.selected_array["frequency"]))
    spent: dict[str, list[float]] = {"praat": [], "ours": []}
    with one_cpu():
        for _ in range(3):
            started = time.perf_counter()
            for _y, _sr, sound, pitch, _f in prepared:
                call([sound, pitch], "To PointProcess (cc)")
            spent["praat"].append(time.perf_counter() - started)
            started = time.perf_counter()
            for y, sr, _sound, pitch, f in prepared:
                glottal_pulses(y, sr, f, x1=pitch.x1, dx=pitch.dx, pitch_ceiling_hz=pitch.ceiling)
            spent["ours"].append(time.perf_counter() - started)
    return float(np.median(spent["praat"])), float(np.median(spent["ours"]))


def pipeline_inputs(seconds: float) -> tuple[list[tuple[np.ndarray, float]], list]:
    """The signals and pitch ranges the pipeline hands ``voice_quality`` (one voice's
    joined segments per block) on ``seconds`` of the bench's synthetic interview."""
    import speech.overlap as overlap
    import speech.segmentation as segmentation
    from corpora.corpus import Recording

    signals, ranges = [], []
    measure = overlap.voice_quality  # what speech.overlap.voice_quality_outside calls

    def record(y, sr, spans, **kwargs):
        signals.append((np.asarray(y, dtype=np.float64), float(sr)))
        ranges.append((kwargs["pitch_floor_hz"], kwargs["pitch_ceiling_hz"]))
        return measure(y, sr, spans, **kwargs)

    overlap.voice_quality = record
    try:
        with tempfile.TemporaryDirectory() as tmp:
            audio = synthetic_speech(Path(tmp) / "bench.wav", seconds)
            recording = Recording("bench", audio, "interview", "BENCH", 2)
            segmentation.segment_recording(
                recording, segmentation.SegmentationConfig(token_voices="none")
            )
    finally:
        overlap.voice_quality = measure
    return signals, ranges


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic-s", type=float, default=120.0)
    parser.add_argument("--speed", action="store_true")
    parser.add_argument(
        "--pipeline-s",
        type=float,
        default=0.0,
        help="only time the pulses on the pipeline's own voice-quality "
        "inputs for this many seconds of the bench interview",
    )
    args = parser.parse_args(argv)
    if args.pipeline_s:
        signals, ranges = pipeline_inputs(args.pipeline_s)
        praat_s, ours_s = speed(signals, ranges)
        audio_s = sum(y.size / sr for y, sr in signals)
        print(
            f"{len(signals)} blocks, {audio_s:.0f} s: Praat {praat_s:.3f} s, ours {ours_s:.3f} s, "
            f"ours / Praat {ours_s / praat_s:.2f} (one CPU, medians of 3)"
        )
        return
    sets = {"ALSA": [read_mono(p) for p in alsa_recordings()]}
    for speaker in ("MX1", "CO1"):
        sets[f"real-es {speaker}"] = [read_mono(p) for p in real_es_recordings(speaker)]
    with tempfile.TemporaryDirectory() as tmp:
        y, sr = read_mono(synthetic_speech(Path(tmp) / "s.wav", args.synthetic_s))
    piece = int(30 * sr)
    sets["synthetic"] = [(y[i : i + piece], sr) for i in range(0, y.size, piece)]
    print(
        "| set | Praat pulses | matched within 0.1 ms (Praat's, ours) | same pitch: largest "
        "difference (s) | stretches | " + " | ".join(MEASURES) + " |"
    )
    for name, signals in sets.items():
        out = compare(signals)
        c = out["counts"]
        cells = [
            f"{np.median(r):.1e} / {np.max(r):.1e}" if r.size else "-" for r in out["rel"].values()
        ]
        print(
            f"| {name} ({len(signals)}) | {c['praat']} | {c['praat_matched'] / c['praat']:.4f}, "
            f"{c['ours_matched'] / max(c['ours'], 1):.4f} | {out['same_pitch_worst_s']:.1e} | "
            f"{c['stretches']} | " + " | ".join(cells) + " |"
        )
        if args.speed:
            praat_s, ours_s = speed(signals)
            print(
                f"  speed, one CPU, medians of 3: Praat {praat_s:.3f} s, ours {ours_s:.3f} s, "
                f"ours / Praat {ours_s / praat_s:.2f}"
            )


if __name__ == "__main__":
    main()
