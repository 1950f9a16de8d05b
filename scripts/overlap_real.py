"""Overlap detection in mono mixes of real voices with known overlap.

Usage::

    python scripts/overlap_real.py [--real-es ../shared/data/real-es] [--seed 0]

Pairs one word of one voice with one word of another (real-es MX1 and CO1, and
the ALSA test recordings' voice, ``/usr/share/sounds/alsa``): in half of the pairs
the second word starts 30-70 % into the first, else after a 0.3-0.6 s pause. Each
source's speech is its frames within 35 dB of its loudest, bridged over 0.2 s;
overlap is where both are speech. Prints, per mix, the overlapped time, the share
of it that :func:`features.overlap.mixed_overlap` finds (and of the part where the
two voices are within 10 dB of each other), and the share of single-voice time it
marks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from features.activity import bridge_gaps
from features.overlap import mixed_overlap
from features.tracks import intensity_db, pitch_track

SR = 16000
HOP = 0.01
ALSA = Path("/usr/share/sounds/alsa")


def load(path: Path) -> np.ndarray:
    y, sr = sf.read(path, dtype="float64")
    y = y.mean(axis=1) if y.ndim > 1 else y
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
    return 0.05 * y / np.sqrt(np.mean(y**2))


def speech_frames(y: np.ndarray, n: int) -> np.ndarray:
    level = intensity_db(y, SR, hop_s=HOP)[:n]
    return bridge_gaps(level >= level.max() - 35, max_gap_frames=20)


def word_edges(y: np.ndarray) -> tuple[int, int]:
    k = y.size // 160
    level = 10 * np.log10(np.mean(y[: k * 160].reshape(k, 160) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(level >= level.max() - 35)
    return int(loud[0]) * 160, (int(loud[-1]) + 1) * 160


def pair_up(first: list, second: list, rng: np.random.Generator):
    """The two sources' tracks: pairs of words, half of them overlapping."""
    placed_a, placed_b, t = [], [], int(0.3 * SR)
    for a, b in zip(first, second, strict=False):
        a0, a1 = word_edges(a)
        b0, _ = word_edges(b)
        if rng.uniform() < 0.5:
            start = t + a0 + int((a1 - a0) * rng.uniform(0.3, 0.7)) - b0
        else:
            start = t + a1 + int(rng.uniform(0.3, 0.6) * SR) - b0
        placed_a.append((t, a))
        placed_b.append((start, b))
        t = max(t + a.size, start + b.size) + int(rng.uniform(0.4, 0.9) * SR)
    tracks = np.zeros((2, t + SR))
    for row, placed in enumerate((placed_a, placed_b)):
        for start, y in placed:
            tracks[row, start : start + y.size] += y
    return tracks


def score(tracks: np.ndarray) -> str:
    y = tracks.sum(axis=0)
    f0, _ = pitch_track(y, SR, hop_s=HOP, pitch_floor_hz=60.0, pitch_ceiling_hz=500.0)
    n = f0.size
    a, b = (speech_frames(t, n) for t in tracks)
    found = mixed_overlap(y, SR, f0, a | b, hop_s=HOP)
    both, single = a & b, (a | b) & ~(a & b)
    la, lb = (intensity_db(t, SR, hop_s=HOP)[:n] for t in tracks)
    close = both & (np.abs(la - lb) < 10)
    return (
        f"overlap {both.sum() * HOP:.1f} s: found {found[both].mean():.3f} "
        f"(within 10 dB: {found[close].mean():.3f}), single-voice time marked "
        f"{found[single].mean():.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--real-es",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real-es",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    mx1 = [load(p) for p in sorted((args.real_es / "audio" / "MX1").glob("*.flac"))]
    co1 = [load(p) for p in sorted((args.real_es / "audio" / "CO1").glob("*.flac"))]
    alsa = [load(p) for p in sorted(ALSA.glob("*.wav")) if p.stem != "Noise"]
    k = min(len(mx1), len(co1))
    alsa = (alsa * (k // max(len(alsa), 1) + 1))[:k]
    for name, first, second in (
        ("MX1 + CO1", mx1, co1),
        ("ALSA + MX1", alsa, mx1),
        ("MX1 + ALSA", mx1, alsa),
        ("ALSA + CO1", alsa, co1),
    ):
        print(f"{name}: {score(pair_up(first[:k], second[:k], rng))}", flush=True)


if __name__ == "__main__":
    main()
