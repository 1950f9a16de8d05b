"""Agreement of the vectorised Burg formants with Praat's (Parselmouth), per set.

Usage::

    python scripts/burg_agreement.py [--synthetic-s 60]

For each set -- the ALSA test recordings (/usr/share/sounds/alsa, 48 kHz),
real-es (../shared/data/real-es: MX1 16 kHz at 5000 and 5500 Hz ceilings, CO1
8 kHz at 3500 and 3900 Hz) and synthetic two-voice speech (``speech.bench``,
16 kHz, 5000/5500 Hz) -- both engines analyse the same signals at the same
ceiling, window 25 ms, step 5 ms, 5 formants (the pipeline's settings), and the
median and 90th percentile of |ours - Praat| / Praat are printed for F1-F3 and
B1-B3 over the frames where both find the formant, with the share of frames
where only one does. Frames whose 50 ms window is digital silence in the input
are left out: both engines then analyse rounding noise of their resampling.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import parselmouth
import soundfile as sf
from parselmouth.praat import call

from features.burg import formants_burg

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
ALSA = Path("/usr/share/sounds/alsa")


def praat_burg(y: np.ndarray, sr: float, ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    """Praat's frame times and (n_frames, 6) F1 B1 F2 B2 F3 B3 at the pipeline's settings."""
    fmt = parselmouth.Sound(y, sampling_frequency=float(sr)).to_formant_burg(
        time_step=0.005, max_number_of_formants=5, maximum_formant=float(ceiling),
        window_length=0.025, pre_emphasis_from=50.0)
    table = call(fmt, "Down to Table", "no", "no", 6, "no", 3, "no", 3, "yes")
    return np.asarray(fmt.xs()), np.asarray(call(table, "Down to Matrix").values)


def compare(signals: list[tuple[np.ndarray, float]], ceilings: tuple[float, ...]) -> dict:
    """Relative differences (ours vs Praat) pooled over signals and ceilings.

    Returns ``{"F1": rel, ..., "B3": rel, "only_one": share}`` (arrays of |diff| / Praat).
    """
    rel: dict[str, list[np.ndarray]] = {f"{kind}{k}": [] for kind in "FB" for k in (1, 2, 3)}
    mismatch, total = 0, 0
    for y, sr in signals:
        for ceiling in ceilings:
            times, ref = praat_burg(y, sr, ceiling)
            ours = formants_burg(y, sr, ceiling)[0]
            if ours.times_s.size != times.size or not np.allclose(ours.times_s, times):
                raise AssertionError(f"frame grids differ at {ceiling} Hz")
            centre = np.rint(times * sr).astype(np.int64)
            half = int(0.025 * sr)
            cum = np.r_[0.0, np.cumsum(np.abs(y))]
            lo, hi = np.clip(centre - half, 0, y.size), np.clip(centre + half, 0, y.size)
            sounding = cum[hi] - cum[lo] > 0
            for k in range(3):
                for kind, got, want in (("F", ours.freqs_hz[k], ref[:, 2 * k]),
                                        ("B", ours.bandwidths_hz[k], ref[:, 2 * k + 1])):
                    both = sounding & np.isfinite(got) & np.isfinite(want)
                    rel[f"{kind}{k + 1}"].append(np.abs(got[both] - want[both]) / want[both])
                    if kind == "F":
                        mismatch += int(np.sum(sounding & (np.isfinite(got) != np.isfinite(want))))
                        total += int(sounding.sum())
    out = {key: np.concatenate(v) for key, v in rel.items()}
    out["only_one"] = mismatch / max(total, 1)
    return out


def real_es(speaker: str) -> list[tuple[np.ndarray, float]]:
    files = sorted((SHARED / "data" / "real-es" / "audio" / speaker).glob("*.flac"))
    return [sf.read(f) for f in files]


def alsa() -> list[tuple[np.ndarray, float]]:
    out = []
    for f in sorted(ALSA.glob("*.wav")):
        y, sr = sf.read(f)
        out.append((y.mean(axis=1) if y.ndim > 1 else y, sr))
    return out


def synthetic(seconds: float) -> list[tuple[np.ndarray, float]]:
    from speech.bench import synthetic_speech

    with tempfile.TemporaryDirectory() as tmp:
        y, sr = sf.read(synthetic_speech(Path(tmp) / "synth.wav", seconds))
    return [(y, sr)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    sets = {"ALSA (48 kHz) 5000/5500 Hz": (alsa(), (5000.0, 5500.0)),
            "real-es MX1 (16 kHz) 5000/5500 Hz": (real_es("MX1"), (5000.0, 5500.0)),
            "real-es CO1 (8 kHz) 3500/3900 Hz": (real_es("CO1"), (3500.0, 3900.0)),
            "synthetic (16 kHz) 5000/5500 Hz": (synthetic(args.synthetic_s), (5000.0, 5500.0))}
    print("| set | frames | " + " | ".join(f"{k} med / p90" for k in
                                            ("F1", "F2", "F3", "B1", "B2", "B3")) + " | only one |")
    print("|---" * 9 + "|")
    for name, (signals, ceilings) in sets.items():
        r = compare(signals, ceilings)
        cells = [f"{100 * np.median(r[k]):.3f}% / {100 * np.percentile(r[k], 90):.2f}%"
                 for k in ("F1", "F2", "F3", "B1", "B2", "B3")]
        print(f"| {name} | {r['F1'].size} | " + " | ".join(cells)
              + f" | {100 * r['only_one']:.2f}% |")


if __name__ == "__main__":
    main()
