"""Attribution from one file per participant, against the synthetic truth.

Usage::

    python scripts/participant_files.py --out DIR [--speakers 4] [--minutes 1] [--seed 5]
        [--cases "-20;-30;-20,offset=2;-20,gain=-25;-20,webconf"]

Each case is ``CROSSTALK_DB[,offset=MAX_OFFSET_S][,gain=DB][,CONDITION]``: a corpus
whose interviews are written one file per participant
(:mod:`corpora.synth.participants`) with the other voice leaking at CROSSTALK_DB,
files starting up to MAX_OFFSET_S apart, the interviewee's file scaled by DB (a
participant recorded quieter), and a ``--condition`` spec applied to every file
(:func:`corpora.synth.conditions.degrade_corpus`). Every interview is segmented
with attribution forced to the files (``attribution="channel"``, the transcript
unused) and scored against ``truth/ipus.csv``:

- ``attribution``: segment-level accuracy (:mod:`speech.evaluate`);
- ``cross_credited``: segments labelled with a voice other than the one they
  overlap most in the truth (a segment of one voice credited to the other's file);
- ``spurious``: segments that overlap no true IPU;
- ``boundary_f1``: IPU boundary F1 within 50 ms;
- with ``--features``, as ``scripts/degradation.py`` measures them: F0 median
  relative error and gross errors (> 20 %) over frames voiced in truth and
  estimate, and the median |relative error| of F1 and F2 over vowels of at least
  50 ms (each voice measured on its own file).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from corpora.corpus import read_corpus
from corpora.synth import write_corpus
from corpora.synth.conditions import degrade_corpus, parse_conditions, split_conditions
from features.evaluation import boundary_scores
from speech.evaluate import _attribution, load_reference
from speech.segmentation import SegmentationConfig, segment_recording

DEFAULT_CASES = "-20;-30;-20,offset=2;-20,gain=-25;-20,offset=2,webconf"


def parse_case(text: str) -> dict:
    """``"-20,offset=2,gain=-25,webconf"`` -> the case's settings."""
    first, *rest = [p.strip() for p in text.split(",")]
    case = {"crosstalk_db": float(first), "max_offset_s": 0.0, "gain_db": 0.0, "condition": None}
    conditions = []
    for part in rest:
        key, _, value = part.partition("=")
        if key == "offset":
            case["max_offset_s"] = float(value)
        elif key == "gain":
            case["gain_db"] = float(value)
        else:
            conditions.append(part)
    case["condition"] = ",".join(conditions) or None
    return case


def build(out: Path, case: dict, *, speakers: int, minutes: float, seed: int) -> None:
    """Write the case's corpus into ``out``."""
    conditions = parse_conditions(case["condition"]) if case["condition"] else {}
    write_corpus(
        out,
        n_speakers=speakers,
        seed=seed,
        minutes_per_speaker=minutes,
        jobs=1,
        per_participant=True,
        crosstalk_db=case["crosstalk_db"],
        max_offset_s=case["max_offset_s"],
        **split_conditions(conditions)[0],  # webconf's overlap and backchannels: in the plan
    )
    if case["gain_db"]:
        rows = pd.read_csv(out / "recordings.csv", dtype=str, keep_default_na=False)
        own = rows[rows["channels"] == "0:" + rows["speaker_id"]]
        for rel in own["path"]:
            y, sr = sf.read(out / rel, dtype="float64")
            sf.write(out / rel, y * 10 ** (case["gain_db"] / 20), sr, subtype="PCM_16")
    if conditions:
        degrade_corpus(out, conditions, seed=seed)


def _f0_errors(out: Path, recording_id: str, f0: np.ndarray, hop_s: float) -> np.ndarray:
    """Relative F0 errors of the frames voiced in both the truth and ``f0``."""
    truth = pd.read_csv(out / "truth" / "f0" / f"{recording_id}.csv")
    frames = np.round(truth["time_s"].to_numpy() / hop_s).astype(int)
    inside = frames < f0.size
    planted, measured = truth["f0_hz"].to_numpy()[inside], f0[frames[inside]]
    both = np.isfinite(planted) & np.isfinite(measured)
    return np.abs(measured[both] / planted[both] - 1)


def _formant_errors(out: Path, vowels: pd.DataFrame | None) -> pd.DataFrame:
    """|relative error| of F1 and F2 of the vowels of at least 50 ms."""
    if vowels is None or vowels.empty:
        return pd.DataFrame(columns=["f1", "f2"])
    truth = pd.read_csv(out / "truth" / "tokens.csv", dtype={"recording_id": str})
    keys = ["recording_id", "speaker_id", "start_s"]
    both = vowels.merge(truth[truth["is_vowel"].astype(bool)], on=keys, suffixes=("", "_true"))
    both = both[both["end_s"] - both["start_s"] >= 0.05]
    return pd.DataFrame(
        {f"f{k}": (both[f"f{k}_hz"] / both[f"f{k}_hz_true"] - 1).abs() for k in (1, 2)}
    )


def score(out: Path, *, features: bool = False) -> dict:
    """Segment every interview from its files and score it against the truth."""
    corpus = read_corpus(out)
    reference, _ = load_reference(out)
    config = SegmentationConfig(attribution="channel", features=features)
    totals = dict.fromkeys(("correct", "attributed", "cross", "spurious", "hit", "ref", "est"), 0)
    f0_errors, formant_errors = [], []
    for recording in corpus:
        if recording.kind != "interview":
            continue
        result = segment_recording(recording, config, keep_tracks=features)
        if len(result.errors):
            raise RuntimeError(result.errors.to_dict("records"))
        if features:
            f0_errors.append(
                _f0_errors(out, recording.recording_id, result.tracks["f0_hz"], config.hop_s)
            )
            formant_errors.append(_formant_errors(out, result.vowels))
        est = result.segments
        ref = reference[reference["recording_id"] == recording.recording_id]
        correct, attributed, _ = _attribution(est, ref, recording.speaker_id)
        e0, e1 = est["start_s"].to_numpy()[:, None], est["end_s"].to_numpy()[:, None]
        overlap = np.clip(
            np.minimum(e1, ref["end_s"].to_numpy()[None])
            - np.maximum(e0, ref["start_s"].to_numpy()[None]),
            0,
            None,
        )
        voices = ref["speaker_id"].to_numpy()
        names = np.unique(voices)
        by_voice = np.stack([overlap[:, voices == v].sum(axis=1) for v in names], axis=1)
        found = by_voice.max(axis=1) > 0
        truth = names[by_voice.argmax(axis=1)]
        boundaries = boundary_scores(
            ref[["start_s", "end_s"]].to_numpy(),
            est[["start_s", "end_s"]].to_numpy(),
            tolerance_s=0.05,
        )
        totals["correct"] += correct
        totals["attributed"] += attributed
        totals["cross"] += int(np.sum(found & (truth != est["speaker_id"].to_numpy())))
        totals["spurious"] += int(np.sum(~found))
        totals["hit"] += boundaries["n_hit"]
        totals["ref"] += boundaries["n_ref"]
        totals["est"] += boundaries["n_est"]
    precision = totals["hit"] / max(totals["est"], 1)
    recall = totals["hit"] / max(totals["ref"], 1)
    row = {
        "segments": totals["est"],
        "attribution": totals["correct"] / max(totals["attributed"], 1),
        "cross_credited": totals["cross"],
        "spurious": totals["spurious"],
        "boundary_f1": 2 * precision * recall / max(precision + recall, 1e-12),
    }
    if features:
        errors = np.concatenate(f0_errors)
        formants = pd.concat(formant_errors, ignore_index=True)
        row.update(
            f0_median_error=float(np.median(errors)),
            f0_gross_errors=float(np.mean(errors > 0.2)),
            f1_median_error=float(formants["f1"].median()),
            f2_median_error=float(formants["f2"].median()),
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cases", default=DEFAULT_CASES)
    parser.add_argument(
        "--features", action="store_true", help="also F0 and formant errors (slower)"
    )
    args = parser.parse_args()
    rows = []
    for i, text in enumerate(c for c in args.cases.split(";") if c.strip()):
        case = parse_case(text)
        out = args.out / f"case{i}"
        shutil.rmtree(out, ignore_errors=True)
        build(out, case, speakers=args.speakers, minutes=args.minutes, seed=args.seed)
        rows.append({"case": text, **score(out, features=args.features)})
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format="%.3f"), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "participants.csv", index=False)
    print(table.to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
