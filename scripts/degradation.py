"""The degradation table: the measurement chain on clean and degraded copies of one
synthetic corpus, against the same truth.

Usage::

    python scripts/degradation.py --out DIR [--speakers 4] [--minutes 1] [--seed 3]
        [--jobs 2] [--conditions "agc=0.5;opus=24;aac=32;loss=0.05;reverb=0.5;webconf;gate"]

Writes ``DIR/clean`` (synthesised once) and one degraded copy per condition
(``corpora.synth.conditions``; ``white=SNR`` / ``babble=SNR`` add noise and ``gate``
zeroes every pause, ``corpora.synth.noise``), extracts each into its own store with speaker
attribution by clustering (as for an interview without a transcript; the phones
tiers still give the vowel and /s/ tokens), and prints one row per condition:

- segmentation: IPU boundary F1 (50 ms) and speaker-attribution accuracy
  (``speech.evaluate``);
- F0: median relative error and gross errors (> 20 % off) over the frames that
  the truth and the second-pass track both call voiced;
- formants: median |relative error| of F1 and F2 over vowels of at least 50 ms;
- /s/: share of coda /s/ tokens whose realisation ([s] or [h]) is the planted one;
- bias of jitter, shimmer, HNR and CPPS: the median over speakers of the change
  from the clean corpus in the speakers table (relative for jitter and shimmer,
  in dB for HNR and CPPS).

The table is also written to ``DIR/degradation.csv``, and the bias of every registry
feature of the speakers table to ``DIR/feature_bias.csv`` (condition, feature, unit,
change, biased): the median over speakers of the change from the clean corpus, in the
feature's unit for log units (dB, st, dB/kHz: biased when above 1 unit) and relative
otherwise (biased when above 10 %). ``features/condition_bias.csv`` is that file,
committed; the registry's ``biased_by`` reads it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from corpora.corpus import read_corpus
from corpora.synth import write_corpus
from corpora.synth.conditions import degrade_corpus, parse_conditions, split_conditions
from corpora.synth.noise import NOISE_KINDS, add_noise, gate_pauses
from features.registry import BIAS_LOG_UNITS, BIAS_THRESHOLDS
from speech.evaluate import evaluate
from speech.extract import extract
from speech.schema import REGISTRY
from speech.segmentation import SegmentationConfig, segment_recording
from speech.store import Store

DEFAULT_CONDITIONS = ("agc=0.5;opus=8;opus=16;opus=24;opus=32;aac=32;loss=0.05;reverb=0.5;webconf;"
                      "gate;white=20")
#: Voice measures whose bias is reported: (column, relative?).
BIASED = (("jitter_local_pct", True), ("shimmer_local_pct", True), ("hnr_db", False),
          ("cpps_median_db", False))


def f0_errors(corpus_dir: Path, config: SegmentationConfig) -> np.ndarray:
    """Relative F0 errors of every frame voiced in both truth and estimate."""
    errors = []
    for recording in read_corpus(corpus_dir):
        result = segment_recording(recording, config, keep_tracks=True)
        if result.tracks is None:
            continue
        f0 = result.tracks["f0_hz"]
        truth = pd.read_csv(corpus_dir / "truth" / "f0" / f"{recording.recording_id}.csv")
        frames = np.round(truth["time_s"].to_numpy() / config.hop_s).astype(int)
        inside = frames < f0.size
        planted, measured = truth["f0_hz"].to_numpy()[inside], f0[frames[inside]]
        both = np.isfinite(planted) & np.isfinite(measured)
        errors.append(np.abs(measured[both] / planted[both] - 1))
    return np.concatenate(errors) if errors else np.zeros(0)


def token_scores(store: Store, corpus_dir: Path) -> dict[str, float]:
    """Formant median errors and /s/ realisation accuracy against the truth tokens."""
    truth = pd.read_csv(corpus_dir / "truth" / "tokens.csv", dtype={"recording_id": str})
    keys = ["recording_id", "speaker_id", "start_s"]
    vowels = store.read_table("vowels").merge(
        truth[truth["is_vowel"].astype(bool)], on=keys, suffixes=("", "_true"))
    long = vowels[vowels["end_s"] - vowels["start_s"] >= 0.05]
    out = {f"f{k}_median_error": float((long[f"f{k}_hz"] / long[f"f{k}_hz_true"] - 1)
                                       .abs().median()) for k in (1, 2)}
    sibilants = store.read_table("sibilants")
    if sibilants.empty:  # no coda /s/ measured (a corpus this small may have none)
        out["s_accuracy"] = np.nan
        return out
    both = sibilants.merge(truth[truth["phone"] == "s"], on=keys, suffixes=("", "_true"))
    out["s_accuracy"] = float((both["realisation"] == both["realisation_true"]).mean())
    return out


def measure(corpus_dir: Path, store_dir: Path, jobs: int) -> tuple[dict, pd.DataFrame]:
    """Every column of the table for one corpus, and its speakers table."""
    config = SegmentationConfig(attribution="cluster")
    store = Store(store_dir)
    extract(read_corpus(corpus_dir), store, config=config, jobs=jobs)
    _, _, summary = evaluate(store, corpus_dir)
    errors = f0_errors(corpus_dir, config)
    row = {"boundary_f1": summary["boundary_f1"],
           "attribution": summary["attribution_accuracy"],
           "f0_median_error": float(np.median(errors)) if errors.size else np.nan,
           "f0_gross_errors": float(np.mean(errors > 0.2)) if errors.size else np.nan,
           **token_scores(store, corpus_dir)}
    return row, store.read_table("speakers").set_index("speaker_id")


def bias(clean: pd.DataFrame, degraded: pd.DataFrame) -> dict[str, float]:
    """Median over speakers of each voice measure's change from the clean corpus."""
    out = {}
    for column, relative in BIASED:
        a, b = clean[column].astype(float), degraded[column].reindex(clean.index).astype(float)
        change = (b / a - 1) if relative else (b - a)
        out[f"{column}_bias"] = float(change.median())
    return out


def feature_bias(condition: str, clean: pd.DataFrame, degraded: pd.DataFrame) -> pd.DataFrame:
    """Median over speakers of each registry feature's change (see the module notes)."""
    specs = [s for s in REGISTRY if s.name in clean.columns
             and s.unit not in ("id", "label", "count")]
    rows = []
    for spec in specs:
        a = pd.to_numeric(clean[spec.name], errors="coerce").astype(float)
        b = pd.to_numeric(degraded[spec.name].reindex(clean.index), errors="coerce").astype(float)
        log = spec.unit in BIAS_LOG_UNITS
        # Rounded before the flag, so that the committed file agrees with itself.
        change = round(float(((b - a) if log else (b / a - 1)).median()), 4)
        threshold = BIAS_THRESHOLDS["log" if log else "relative"]
        rows.append({"condition": condition, "feature": spec.name, "unit": spec.unit,
                     "change": change, "kind": "difference" if log else "relative",
                     "biased": bool(abs(change) > threshold) if np.isfinite(change) else False})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, floats to 3 decimals (as the README shows it)."""
    cells = table.map(lambda v: f"{v:.3f}" if isinstance(v, float) else str(v))
    lines = [list(table.columns), ["---"] * table.shape[1], *cells.to_numpy().tolist()]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--conditions", default=DEFAULT_CONDITIONS,
                        help="semicolon-separated; each as `synth --condition` reads it, "
                        "or white=SNR / babble=SNR (noise at that SNR in dB), or gate "
                        "(every pause zeroed)")
    args = parser.parse_args(argv)
    clean_dir = args.out / "clean"
    if not clean_dir.is_dir():
        write_corpus(clean_dir, n_speakers=args.speakers, seed=args.seed,
                     minutes_per_speaker=args.minutes, jobs=args.jobs)
    rows, biases = [], []
    clean_row, clean_speakers = measure(clean_dir, args.out / "stores" / "clean", args.jobs)
    rows.append({"condition": "clean", **clean_row, **bias(clean_speakers, clean_speakers)})
    for spec in filter(None, (s.strip() for s in args.conditions.split(";"))):
        name = spec.replace("=", "").replace(",", "_")
        corpus_dir = args.out / name
        if not corpus_dir.is_dir():
            kind, _, snr = spec.partition("=")
            signal_only = kind in NOISE_KINDS or kind == "gate"
            planned = {} if signal_only else split_conditions(parse_conditions(spec))[0]
            if planned:  # overlap/backchannel change the plan: synthesised again with them
                write_corpus(corpus_dir, n_speakers=args.speakers, seed=args.seed,
                             minutes_per_speaker=args.minutes, jobs=args.jobs, **planned)
            else:
                shutil.copytree(clean_dir, corpus_dir)
            if kind in NOISE_KINDS:  # "white=20": noise at 20 dB SNR (corpora.synth.noise)
                add_noise(corpus_dir, kind=kind, snr_db=float(snr), seed=args.seed)
            elif kind == "gate":  # every pause zeroed, as noise suppression leaves them
                gate_pauses(corpus_dir)
            else:
                degrade_corpus(corpus_dir, parse_conditions(spec), seed=args.seed)
        row, speakers = measure(corpus_dir, args.out / "stores" / name, args.jobs)
        rows.append({"condition": spec, **row, **bias(clean_speakers, speakers)})
        biases.append(feature_bias(spec, clean_speakers, speakers))
        print(f"measured {spec}", file=sys.stderr)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "degradation.csv", index=False)
    if biases:
        pd.concat(biases).to_csv(args.out / "feature_bias.csv", index=False)
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
