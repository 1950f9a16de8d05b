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
- ``boundary_f1``: IPU boundary F1 within 50 ms.
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
from corpora.synth.conditions import degrade_corpus, parse_conditions
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
    write_corpus(
        out,
        n_speakers=speakers,
        seed=seed,
        minutes_per_speaker=minutes,
        jobs=1,
        per_participant=True,
        crosstalk_db=case["crosstalk_db"],
        max_offset_s=case["max_offset_s"],
    )
    if case["gain_db"]:
        rows = pd.read_csv(out / "recordings.csv", dtype=str, keep_default_na=False)
        own = rows[rows["channels"] == "0:" + rows["speaker_id"]]
        for rel in own["path"]:
            y, sr = sf.read(out / rel, dtype="float64")
            sf.write(out / rel, y * 10 ** (case["gain_db"] / 20), sr, subtype="PCM_16")
    if case["condition"]:
        degrade_corpus(out, parse_conditions(case["condition"]), seed=seed)


def score(out: Path) -> dict:
    """Segment every interview from its files and score it against the truth."""
    corpus = read_corpus(out)
    reference, _ = load_reference(out)
    config = SegmentationConfig(attribution="channel", features=False)
    totals = dict.fromkeys(("correct", "attributed", "cross", "spurious", "hit", "ref", "est"), 0)
    for recording in corpus:
        if recording.kind != "interview":
            continue
        result = segment_recording(recording, config)
        if len(result.errors):
            raise RuntimeError(result.errors.to_dict("records"))
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
    return {
        "segments": totals["est"],
        "attribution": totals["correct"] / max(totals["attributed"], 1),
        "cross_credited": totals["cross"], "spurious": totals["spurious"],
        "boundary_f1": 2 * precision * recall / max(precision + recall, 1e-12),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cases", default=DEFAULT_CASES)
    args = parser.parse_args()
    rows = []
    for i, text in enumerate(c for c in args.cases.split(";") if c.strip()):
        case = parse_case(text)
        out = args.out / f"case{i}"
        shutil.rmtree(out, ignore_errors=True)
        build(out, case, speakers=args.speakers, minutes=args.minutes, seed=args.seed)
        rows.append({"case": text, **score(out)})
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format="%.3f"), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "participants.csv", index=False)
    print(table.to_string(index=False, float_format="%.3f"))


if __name__ == "__main__":
    main()
