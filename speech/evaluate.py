"""Compare a store's segments with reference annotations.

The reference is either a synthetic corpus (its ``truth/ipus.csv`` and
``truth/tokens.csv``) or a directory of hand-corrected TextGrids named
``<recording_id>.TextGrid`` (words tiers per speaker, phones tiers for the
syllable counts). Reported:

- boundary precision, recall and F1 of segment starts and ends within a
  tolerance, one-to-one matched (:func:`features.evaluation.match_times`);
- segment-level speaker-attribution accuracy: each estimated segment against the
  reference voice it overlaps most (a segment over overlapped speech, e.g. a
  backchannel inside the other's IPU, belongs to the voice it covers longer); the
  profiled speaker's id must mean that
  speaker, the other labels (cluster labels such as ``INT1`` are arbitrary names)
  are mapped one-to-one to reference voices in the best way per recording; and
  whether the profiled speaker was identified;
- per speaker, the relative error of the syllable-nucleus count against the
  reference vowels (one nucleus per syllable), and its median.

Overlapping reference IPUs (two voices at once: overlapped turn starts,
backchannels): in one mixed channel a boundary inside the other voice's speech is
not a pause edge, and a segmentation with one voice per frame cannot place both
voices' edges there. So, except for recordings attributed by channel (one voice per
channel or file, where every edge is audible), a reference start or end that lies
strictly inside an IPU of another voice is not scored, nor is an estimated boundary
within ``tolerance_s`` of an overlap (where the segmentation may switch voices
anywhere). Without overlaps this is the plain one-to-one score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from corpora.corpus import folder_recording_id
from corpora.transcripts import read_transcript
from features.evaluation import boundary_scores, match_times
from features.frames import merge_runs
from speech.store import Store

REFERENCE_COLUMNS = ("recording_id", "speaker_id", "start_s", "end_s")


def load_reference(path: str | Path, *, min_pause_s: float = 0.2,
                   vowels: tuple[str, ...] = ("a", "e", "i", "o", "u")):
    """Reference IPUs and vowel (syllable) times.

    Returns
    -------
    ipus : DataFrame
        recording_id, speaker_id, start_s, end_s.
    vowels : DataFrame
        recording_id, speaker_id, start_s of every vowel token.
    """
    path = Path(path)
    truth = path / "truth"
    if (truth / "ipus.csv").is_file():
        ipus = pd.read_csv(truth / "ipus.csv", dtype={"recording_id": str, "speaker_id": str})
        tokens = pd.read_csv(truth / "tokens.csv", dtype={"recording_id": str, "speaker_id": str})
        syllables = tokens.loc[tokens["is_vowel"].astype(bool), ["recording_id", "speaker_id",
                                                                 "start_s"]]
        return ipus[list(REFERENCE_COLUMNS)], syllables.reset_index(drop=True)
    folder = path if any(path.glob("*.TextGrid")) else path / "transcripts"
    grids = sorted(folder.glob("*.TextGrid")) + sorted(folder.glob("*/*.TextGrid"))
    if not grids:
        raise FileNotFoundError(f"{path}: no truth/ipus.csv and no <recording_id>.TextGrid files")
    ipu_rows, vowel_rows = [], []
    for grid in grids:
        table = read_transcript(grid)
        # <speaker_id>/<name>.TextGrid (the TIMIT layout) has the id audio/ gives that file.
        rid = grid.stem if grid.parent == folder else folder_recording_id(grid.parent.name,
                                                                          grid.stem)
        for speaker, rows in table.groupby("speaker"):
            words = rows[rows["level"] == "words"].sort_values("start_s")
            if words.empty:
                words = rows[rows["level"] == "turns"].sort_values("start_s")
            start, end, _ = merge_runs(words["start_s"].to_numpy(), words["end_s"].to_numpy(),
                                       max_gap_s=min_pause_s)
            if len(start):
                ipu_rows.append(pd.DataFrame({"recording_id": rid, "speaker_id": speaker,
                                              "start_s": start, "end_s": end}))
            phones = rows[(rows["level"] == "phones") & rows["label"].str.lower().str.rstrip(
                "0123456789ˈˌ").isin(vowels)]
            vowel_rows.append(pd.DataFrame({"recording_id": rid, "speaker_id": speaker,
                                            "start_s": phones["start_s"].to_numpy()}))
    ipus = pd.concat(ipu_rows, ignore_index=True) if ipu_rows else pd.DataFrame(
        columns=REFERENCE_COLUMNS)
    syllables = pd.concat(vowel_rows, ignore_index=True) if vowel_rows else pd.DataFrame(
        columns=["recording_id", "speaker_id", "start_s"])
    return ipus, syllables


def _merge_same_speaker(ref: pd.DataFrame, max_gap_s: float) -> pd.DataFrame:
    """Merge reference IPUs of one speaker separated by less than ``max_gap_s``
    (utterance recordings are segmented into whole utterances)."""
    ref = ref.sort_values("start_s")
    start, end, speaker = merge_runs(ref["start_s"].to_numpy(), ref["end_s"].to_numpy(),
                                     ref["speaker_id"].to_numpy(), max_gap_s=max_gap_s)
    return pd.DataFrame({"speaker_id": speaker, "start_s": start, "end_s": end})


def overlap_spans(ref: pd.DataFrame) -> np.ndarray:
    """Intervals where two voices of one recording's reference IPUs sound at once.

    Parameters
    ----------
    ref : DataFrame
        speaker_id, start_s, end_s of one recording's IPUs.

    Returns
    -------
    np.ndarray, shape (k, 2)
        Start and end (s) of the union of the pairwise intersections of IPUs of
        different voices, sorted and disjoint (what ``truth/overlaps.csv`` holds).
    """
    a0, a1 = ref["start_s"].to_numpy(float), ref["end_s"].to_numpy(float)
    speaker = ref["speaker_id"].to_numpy()
    lo, hi = np.maximum(a0[:, None], a0[None, :]), np.minimum(a1[:, None], a1[None, :])
    i, j = np.nonzero((speaker[:, None] != speaker[None, :]) & (lo < hi))
    if not i.size:
        return np.zeros((0, 2))
    order = np.argsort(lo[i, j], kind="stable")
    start, end = lo[i, j][order], hi[i, j][order]
    reach = np.maximum.accumulate(end)
    new = np.r_[True, start[1:] > reach[:-1]]
    first, last = np.flatnonzero(new), np.r_[np.flatnonzero(new)[1:], start.size] - 1
    return np.stack([start[first], reach[last]], axis=1)


def _boundary_scores(ref: pd.DataFrame, est: pd.DataFrame, *, tolerance_s: float,
                     every_edge: bool) -> dict[str, int]:
    """n_hit, n_ref, n_est of one recording under the overlap rule (module notes)."""
    spans = np.zeros((0, 2)) if every_edge else overlap_spans(ref)
    ref_spans, est_spans = ref[["start_s", "end_s"]].to_numpy(float), est[[
        "start_s", "end_s"]].to_numpy(float)
    if not len(spans):
        scores = boundary_scores(ref_spans, est_spans, tolerance_s=tolerance_s)
        return {k: scores[k] for k in ("n_hit", "n_ref", "n_est")}
    speaker = ref["speaker_id"].to_numpy()
    other = speaker[:, None] != speaker[None, :]
    widened = spans + np.array([-tolerance_s, tolerance_s])
    n_hit = n_ref = n_est = 0
    for k in (0, 1):
        t = ref_spans[:, k]
        # Strictly inside an IPU of another voice: speech goes on around it.
        inside = (other & (ref_spans[None, :, 0] < t[:, None])
                  & (t[:, None] < ref_spans[None, :, 1])).any(axis=1)
        e = est_spans[:, k]
        near = ((widened[None, :, 0] <= e[:, None]) & (e[:, None] <= widened[None, :, 1])).any(
            axis=1)
        n_hit += len(match_times(t[~inside], e[~near], tolerance_s=tolerance_s))
        n_ref, n_est = n_ref + int((~inside).sum()), n_est + int((~near).sum())
    return {"n_hit": n_hit, "n_ref": n_ref, "n_est": n_est}


def _attribution(est: pd.DataFrame, ref: pd.DataFrame, profiled: str) -> tuple[int, int, bool]:
    """(correct, total, profiled speaker identified) for one recording."""
    if est.empty or ref.empty:
        return 0, 0, False
    e0, e1 = est["start_s"].to_numpy()[:, None], est["end_s"].to_numpy()[:, None]
    r0, r1 = ref["start_s"].to_numpy()[None, :], ref["end_s"].to_numpy()[None, :]
    overlap = np.clip(np.minimum(e1, r1) - np.maximum(e0, r0), 0, None)  # (n_est, n_ref)
    ref_speakers = ref["speaker_id"].to_numpy()
    voices = np.unique(ref_speakers)
    by_voice = np.stack([overlap[:, ref_speakers == v].sum(axis=1) for v in voices], axis=1)
    has_ref = by_voice.max(axis=1) > 0
    truth = voices[by_voice.argmax(axis=1)][has_ref]
    labels = est["speaker_id"].to_numpy()[has_ref]
    names = np.unique(labels)
    confusion = np.array([[np.sum((labels == n) & (truth == v)) for v in voices] for n in names])
    # The profiled speaker's label is a name, not an arbitrary cluster label: it must
    # mean that speaker, so a swap with the interviewer counts as wrong.
    weight = confusion.astype(float)
    if profiled in names and profiled in voices:
        weight[list(names).index(profiled), list(voices).index(profiled)] += 1e9
    rows, cols = linear_sum_assignment(-weight)
    mapping = {names[r]: voices[c] for r, c in zip(rows, cols, strict=True)}
    correct = int(sum(mapping.get(n) == v for n, v in zip(labels, truth, strict=True)))
    # Identified: most of what carries the profiled speaker's id is that speaker's speech.
    labelled = truth[labels == profiled]
    identified = bool(labelled.size) and float(np.mean(labelled == profiled)) > 0.5
    return correct, int(has_ref.sum()), identified


def evaluate(store: Store, reference: str | Path, *, tolerance_s: float = 0.05,
             min_pause_s: float = 0.2, utterance_pause_s: float = 1.0):
    """Score the store's segments against a reference.

    Returns
    -------
    per_recording : DataFrame
        One row per evaluated recording: kind, method, boundary counts and F1,
        attribution counts, whether the profiled speaker was identified.
    per_speaker : DataFrame
        speaker_id, reference syllables, estimated nuclei, relative error.
    summary : dict
        Pooled boundary precision/recall/F1, attribution accuracy (all, and
        per method), median nucleus-count error.
    """
    ref_ipus, ref_syllables = load_reference(reference, min_pause_s=min_pause_s)
    segments = store.read_table("segments")
    recordings = store.read_table("recordings")
    if segments.empty or recordings.empty:
        raise ValueError(f"{store.root}: the store has no segments; run extract first")
    rows = []
    for rec in recordings.itertuples(index=False):
        ref = ref_ipus[ref_ipus["recording_id"] == rec.recording_id]
        if ref.empty:
            continue
        est = segments[segments["recording_id"] == rec.recording_id].sort_values("start_s")
        if rec.kind == "utterance":
            ref = _merge_same_speaker(ref, utterance_pause_s)
        scores = _boundary_scores(ref, est, tolerance_s=tolerance_s,
                                  every_edge=rec.method == "channel")
        n = scores["n_hit"]
        scores["f1"] = 2 * n / (scores["n_ref"] + scores["n_est"]) if n else float(
            scores["n_ref"] + scores["n_est"] == 0)
        correct, total, identified = _attribution(est, ref, rec.speaker_id)
        rows.append({
            "recording_id": rec.recording_id, "kind": rec.kind, "method": rec.method,
            "n_hit": scores["n_hit"], "n_ref": scores["n_ref"], "n_est": scores["n_est"],
            "f1": scores["f1"], "attributed": total, "correct": correct,
            "profiled_identified": identified,
        })  # fmt: skip
    per_recording = pd.DataFrame(rows)
    if per_recording.empty:
        raise ValueError(f"no recording of {store.root} appears in the reference {reference}")

    evaluated = set(per_recording["recording_id"])
    profiled = dict(zip(recordings["recording_id"], recordings["speaker_id"], strict=True))
    est_nuclei = (
        segments[segments["recording_id"].isin(evaluated)]
        .assign(profiled=lambda d: d["recording_id"].map(profiled))
        .query("speaker_id == profiled")
        .groupby("speaker_id")["n_nuclei"].sum()
    )
    ref_counts = (
        ref_syllables[ref_syllables["recording_id"].isin(evaluated)]
        .assign(profiled=lambda d: d["recording_id"].map(profiled))
        .query("speaker_id == profiled")
        .groupby("speaker_id").size()
    )
    per_speaker = pd.DataFrame({"reference_syllables": ref_counts,
                                "estimated_nuclei": est_nuclei}).fillna(0).astype(int)
    per_speaker["relative_error"] = (
        (per_speaker["estimated_nuclei"] - per_speaker["reference_syllables"])
        / per_speaker["reference_syllables"].where(per_speaker["reference_syllables"] > 0)
    )
    per_speaker = per_speaker.rename_axis("speaker_id").reset_index()

    hits, n_ref, n_est = (int(per_recording[c].sum()) for c in ("n_hit", "n_ref", "n_est"))
    precision = hits / n_est if n_est else 1.0
    recall = hits / n_ref if n_ref else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    multi = per_recording[per_recording["attributed"] > 0]
    by_method = {
        m: float(g["correct"].sum() / g["attributed"].sum())
        for m, g in multi.groupby("method") if g["attributed"].sum()
    }
    interviews = per_recording[per_recording["kind"] == "interview"]
    summary = {
        "tolerance_s": tolerance_s, "recordings": len(per_recording),
        "boundary_precision": precision, "boundary_recall": recall, "boundary_f1": f1,
        "attribution_accuracy": float(multi["correct"].sum() / max(multi["attributed"].sum(), 1)),
        "attribution_by_method": by_method,
        "profiled_identified": float(interviews["profiled_identified"].mean())
        if len(interviews) else float("nan"),
        "nucleus_error_median": float(per_speaker["relative_error"].abs().median()),
    }  # fmt: skip
    return per_recording, per_speaker, summary
