"""Overlap detection in mono mixes of synthetic dialogues, clean and under ``webconf``.

Usage::

    python scripts/overlap_synth.py [--seeds 3-8] [--condition webconf] [--cache DIR]

Each seed gives two 45 s dialogues (a female 210 Hz and a male 115 Hz voice; two
male voices, 115 and 135 Hz): voice A's turns, and after each, voice B takes the
floor early (overlapping A's end), gives a one-word backchannel inside A's turn or
answers after a pause (the dialogue of ``tests/features/test_overlap.py``). The
mix is the sum of the two tracks, then the condition's signal chain
(:func:`corpora.synth.conditions.apply_conditions`: ``webconf`` is reverberation
RT60 0.3 s, half-strength AGC, Opus at 24 kbit/s and 3 % packet loss) with the
truth unchanged (each voice's IPU spans). The speech mask is the truth's (both
voices' IPUs), so that only the overlap rule is scored. Prints per dialogue and
pooled: the share of overlapped time that :func:`features.overlap.mixed_overlap`
finds and the share of single-voice time it marks.

``--cache DIR`` keeps each mix's tracks (F0, evidence, level, truth) in ``DIR`` so
that a later run (or an experiment on the rule) skips the synthesis and tracking.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from corpora.synth import Voice, plan_ipu, synthesize_ipu
from corpora.synth.conditions import apply_conditions, parse_conditions, split_conditions
from corpora.synth.text import draw_phrase, make_lexicon
from features.attribution import spans_mask
from features.overlap import double_voicing, overlap_from_evidence
from features.tracks import intensity_db, pitch_track

SR = 16000
HOP = 0.01
FEMALE = Voice("F", "F", 210.0, 0.84, 5.5, 0.12, 0.008, 0.04, -26.0, 0.6, 0.08)
MALE = Voice("M", "M", 115.0, 1.00, 5.8, 0.12, 0.006, 0.03, -28.0, 0.6, 0.08)
MALE2 = Voice("M2", "M", 135.0, 0.95, 5.2, 0.12, 0.006, 0.03, -27.0, 0.6, 0.08)
PAIRS = (("F+M", FEMALE, MALE), ("M+M", MALE, MALE2))


def voice_track(voice, rng, lexicon, starts_s, n_words, total_s):
    """One voice's IPUs at ``starts_s`` on a silent track: (signal, IPU spans)."""
    y, spans, pad = np.zeros(int(total_s * SR)), [], round(0.05 * SR)
    for t0, n in zip(starts_s, n_words, strict=True):
        words = draw_phrase(lexicon, rng, n_words=n)
        sig, _ = synthesize_ipu(plan_ipu(words, voice, rng=rng), voice, rng=rng, pad_s=0.05)
        sig = sig.astype(np.float64)
        sig *= 0.1 / np.sqrt(np.mean(sig[pad:-pad] ** 2))
        i = int(t0 * SR)
        if i + sig.size > y.size:
            break
        y[i : i + sig.size] += sig
        spans.append(((i + pad) / SR, (i + sig.size - pad) / SR))
    return y, np.array(spans)


def dialogue(a: Voice, b: Voice, seed: int, total_s: float = 45.0):
    """A's turns; after each, B takes the floor early (overlapping A's end), or gives
    a one-word backchannel inside A's turn, or answers after a pause."""
    rng = np.random.default_rng(seed)
    lexicon = make_lexicon(rng, n_words=150)
    starts, n_words, t = [], [], 0.3
    while t < total_s - 6:
        n = int(rng.integers(3, 8))
        starts.append(t)
        n_words.append(n)
        t += n * 0.45 + rng.uniform(1.5, 3.5)
    ya, spans_a = voice_track(a, rng, lexicon, starts, n_words, total_s)
    starts_b, words_b = [], []
    for s, e in spans_a:
        draw = rng.uniform()
        if draw < 0.4:
            starts_b.append(e - rng.uniform(0.2, 0.8))
            words_b.append(int(rng.integers(2, 5)))
        elif draw < 0.7:
            starts_b.append(rng.uniform(s, max(s, e - 0.5)))
            words_b.append(1)
        else:
            starts_b.append(e + rng.uniform(0.3, 0.8))
            words_b.append(int(rng.integers(2, 5)))
    yb, spans_b = voice_track(b, rng, lexicon, starts_b, words_b, total_s)
    return ya, yb, spans_a, spans_b


def mix_tracks(pair: str, seed: int, condition: str) -> dict[str, np.ndarray]:
    """One dialogue's mix under ``condition`` ("" for clean): its F0, double-voicing
    evidence, level and the truth masks of each voice, on one frame grid."""
    _, a, b = next(p for p in PAIRS if p[0] == pair)
    ya, yb, spans_a, spans_b = dialogue(a, b, seed)
    rng = np.random.default_rng(1000 + seed)
    y = ya + yb + 1e-4 * rng.standard_normal(ya.size)
    if condition:
        _, signal = split_conditions(parse_conditions(condition))
        y = apply_conditions(y, SR, signal, rng=rng)
    f0, _ = pitch_track(y, SR, hop_s=HOP, pitch_floor_hz=60.0, pitch_ceiling_hz=500.0)
    n = f0.size
    return {
        "f0": f0,
        "evidence": double_voicing(y, SR, f0, hop_s=HOP),
        "level": intensity_db(y, SR, hop_s=HOP)[:n],
        "a": spans_mask(spans_a, n, HOP),
        "b": spans_mask(spans_b, n, HOP),
    }


def cached_tracks(pair: str, seed: int, condition: str, cache: Path | None):
    """:func:`mix_tracks`, read from or written to ``cache`` when given."""
    if cache is None:
        return mix_tracks(pair, seed, condition)
    path = cache / f"{pair}_{seed}_{condition.replace('=', '').replace(',', '_') or 'clean'}.npz"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, **mix_tracks(pair, seed, condition))
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def score(tracks: dict[str, np.ndarray], **rule) -> tuple[int, int, int, int]:
    """(overlapped frames found, overlapped frames, single-voice frames marked,
    single-voice frames) of :func:`features.overlap.overlap_from_evidence`."""
    a, b = tracks["a"].astype(bool), tracks["b"].astype(bool)
    found = overlap_from_evidence(
        tracks["evidence"], a | b, hop_s=HOP, level_db=tracks["level"], **rule
    )
    both, single = a & b, a ^ b
    return (
        int((found & both).sum()),
        int(both.sum()),
        int((found & single).sum()),
        int(single.sum()),
    )


def seeds_from(text: str) -> list[int]:
    """``"3-8"`` -> [3, ..., 8]; ``"3,5"`` -> [3, 5]."""
    if "-" in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="3-8")
    parser.add_argument("--condition", default="webconf", help='"" for the clean mixes')
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args()
    total = np.zeros(4, np.int64)
    for seed in seeds_from(args.seeds):
        for pair, _, _ in PAIRS:
            counts = np.array(score(cached_tracks(pair, seed, args.condition, args.cache)))
            total += counts
            print(
                f"{pair} seed {seed}: overlap {counts[1] * HOP:.1f} s, found "
                f"{counts[0] / counts[1]:.3f}; single-voice marked {counts[2] / counts[3]:.3f}",
                flush=True,
            )
    print(
        f"pooled ({args.condition or 'clean'}): overlap {total[1] * HOP:.1f} s, found "
        f"{total[0] / total[1]:.3f}; single-voice marked {total[2] / total[3]:.3f}"
    )


if __name__ == "__main__":
    main()
