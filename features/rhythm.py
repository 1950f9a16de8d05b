"""Timing and rhythm: speech and articulation rate, pauses, IPUs, interval metrics.

Two families, both vectorised (NumPy searchsorted / cumulative sums, pandas
group operations; no Python loop over segments, phones or speakers):

Timing, from the segments table (IPUs), syllable nuclei and voicing
    :func:`segment_timing` per segment, :func:`speaker_timing` per speaker (or
    any grouping). Speech rate and articulation rate follow de Jong & Wempe
    (2009): syllable nuclei per second of speaking time with and without pauses.

Interval metrics, where phones are aligned
    :func:`interval_metrics`: %V, ΔV, ΔC (Ramus, Nespor & Mehler 1999), varcoV,
    varcoC (Dellwo 2006), nPVI-V and rPVI-C (Grabe & Low 2002) per segment or
    per speaker.

Definitions
-----------
pause
    The silence between two consecutive segments of the same speaker in the
    same recording with no other voice's segment in between (the speaker holds
    the turn). A change of speaker is a turn change, not a pause; overlapping or
    touching segments leave no pause. IPUs are separated by at least the
    segmenter's ``min_pause_s`` (0.2 s), so every pause is at least that long.
speaking time
    The speaker's segment durations plus their pauses (time from the start to
    the end of each turn, summed over turns).
phonation time
    The speaker's segment durations (pauses excluded).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from features.frames import HOP_S, span_frames
from features.functionals import column_name
from features.validation import check_spans

__all__ = [
    "INTERVAL_COLUMNS",
    "PAUSE_LABELS",
    "SEGMENT_TIMING_COLUMNS",
    "SPEAKER_TIMING_COLUMNS",
    "count_events",
    "interval_metrics",
    "segment_timing",
    "speaker_timing",
]

#: Phone labels that mark a pause (MFA, Praat, WebMAUS conventions); empty / null too.
PAUSE_LABELS: frozenset[str] = frozenset({"", "sil", "sp", "spn", "<p:>", "<sil>", "#", "_"})

#: Columns of :func:`segment_timing`.
SEGMENT_TIMING_COLUMNS: tuple[str, ...] = ("articulation_rate_syll_s", "voiced_ratio")

#: Columns of :func:`speaker_timing`, after the grouping keys.
SPEAKER_TIMING_COLUMNS: tuple[str, ...] = (
    "speech_rate_syll_s", "articulation_rate_syll_s", "pause_rate_per_min",
    column_name("pause_duration", "mean", "s"), column_name("pause_duration", "median", "s"),
    column_name("ipu_duration", "mean", "s"), column_name("ipu_duration", "median", "s"),
    column_name("ipu_duration", "sd", "s"), "speaking_time_s", "phonation_time_s", "n_pauses",
)  # fmt: skip

#: Columns of :func:`interval_metrics`, after the grouping keys.
INTERVAL_COLUMNS: tuple[str, ...] = (
    "vocalic_pct", "delta_v_s", "delta_c_s", "varco_v", "varco_c", "npvi_v", "rpvi_c_s",
    "n_v_intervals", "n_c_intervals",
)  # fmt: skip


def count_events(times_s: np.ndarray, starts_s: np.ndarray, ends_s: np.ndarray) -> np.ndarray:
    """Number of events (e.g. syllable nuclei) in each interval ``[start, end)``.

    Parameters
    ----------
    times_s : array_like, shape (n_events,)
        Event times (s), any order.
    starts_s, ends_s : array_like, shape (n_intervals,)
        Interval bounds (s); intervals may overlap.

    Returns
    -------
    np.ndarray, shape (n_intervals,), int64
    """
    t = np.sort(np.asarray(times_s, dtype=np.float64).ravel())
    a = np.asarray(starts_s, dtype=np.float64)
    b = np.asarray(ends_s, dtype=np.float64)
    return (np.searchsorted(t, b, side="left") - np.searchsorted(t, a, side="left")).astype(
        np.int64
    )


def segment_timing(
    starts_s: np.ndarray,
    ends_s: np.ndarray,
    *,
    n_nuclei: np.ndarray | None = None,
    nuclei_s: np.ndarray | None = None,
    voiced: np.ndarray | None = None,
    hop_s: float = HOP_S,
) -> dict[str, np.ndarray]:
    """Articulation rate and voiced ratio of each segment.

    Parameters
    ----------
    starts_s, ends_s : array_like, shape (n_segments,)
        Segment bounds (s).
    n_nuclei : array_like, shape (n_segments,), optional
        Syllable nuclei per segment (the segments table's ``n_nuclei``) ...
    nuclei_s : array_like, shape (n_nuclei,), optional
        ... or the nucleus times (s), counted in ``[start, end)``. One of the two.
    voiced : np.ndarray of bool, shape (n_frames,), optional
        Voicing per frame on the common grid (``~np.isnan(f0_hz)``).
    hop_s : float
        Frame hop (s).

    Returns
    -------
    dict of str to np.ndarray, shape (n_segments,), float64
        ``articulation_rate_syll_s``: nuclei / duration (an IPU holds no pause,
        so its duration is its phonation time; de Jong & Wempe 2009); NaN for a
        segment of zero duration.
        ``voiced_ratio`` (with ``voiced``): voiced frames / frames of the segment
        (frame centres in ``[start, end)``); NaN for a segment with no frame.
    """
    a = np.asarray(starts_s, dtype=np.float64)
    b = np.asarray(ends_s, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"starts_s and ends_s must be 1-D of one length, got {a.shape} {b.shape}")
    if (n_nuclei is None) == (nuclei_s is None):
        raise ValueError("give exactly one of n_nuclei (counts) or nuclei_s (times)")
    counts = (
        np.asarray(n_nuclei, dtype=np.float64)
        if n_nuclei is not None
        else count_events(nuclei_s, a, b).astype(np.float64)
    )
    if counts.shape != a.shape:
        raise ValueError(f"n_nuclei must have one count per segment, got shape {counts.shape}")
    dur = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"articulation_rate_syll_s": np.where(dur > 0, counts / dur, np.nan)}
    if voiced is not None:
        v = np.asarray(voiced)
        if v.dtype != np.bool_ or v.ndim != 1:
            raise ValueError(f"voiced must be a 1-D boolean frame mask, got {v.dtype} {v.shape}")
        first, end = span_frames(check_spans(np.c_[a, b], name="segments"), v.size, hop_s)
        cum = np.r_[0, np.cumsum(v, dtype=np.int64)]
        n = end - first
        with np.errstate(invalid="ignore", divide="ignore"):
            out["voiced_ratio"] = np.where(n > 0, (cum[end] - cum[first]) / n, np.nan)
    return out


def speaker_timing(
    segments: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("recording_id", "speaker_id"),
) -> pd.DataFrame:
    """Speech rate, articulation rate, pauses and IPU durations per speaker.

    Parameters
    ----------
    segments : pd.DataFrame
        The segments table: ``recording_id``, ``speaker_id``, ``start_s``,
        ``end_s``, ``n_nuclei`` (and the ``by`` columns). Pauses are found within
        a recording between consecutive segments of one speaker (module notes).
    by : str or sequence of str
        Grouping keys: ``("recording_id", "speaker_id")`` (default) for one row
        per voice per recording, ``"speaker_id"`` for one row per speaker over
        all recordings.

    Returns
    -------
    pd.DataFrame
        One row per group: the ``by`` columns, then :data:`SPEAKER_TIMING_COLUMNS`
        (float64, counts int64):

        - ``speech_rate_syll_s``: nuclei / speaking time (pauses included),
        - ``articulation_rate_syll_s``: nuclei / phonation time (pauses excluded),
        - ``pause_rate_per_min``: pauses per minute of speaking time,
        - ``pause_duration_mean_s``, ``pause_duration_median_s`` (NaN: no pause),
        - ``ipu_duration_mean_s``, ``ipu_duration_median_s``,
          ``ipu_duration_sd_s`` (``ddof=1``),
        - ``speaking_time_s``, ``phonation_time_s``, ``n_pauses``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    need = {"recording_id", "speaker_id", "start_s", "end_s", "n_nuclei", *keys}
    missing = sorted(need - set(segments.columns))
    if missing:
        raise ValueError(f"segments lacks columns {missing!r}")
    seg = segments.sort_values(["recording_id", "start_s", "end_s"], kind="stable")
    start = seg["start_s"].to_numpy(np.float64)
    end = seg["end_s"].to_numpy(np.float64)
    rec = seg["recording_id"].to_numpy()
    spk = seg["speaker_id"].to_numpy()
    # The pause before each segment: same recording, same speaker as the segment before.
    gap = np.full(len(seg), np.nan)
    if len(seg) > 1:
        same = (rec[1:] == rec[:-1]) & (spk[1:] == spk[:-1])
        g = start[1:] - end[:-1]
        gap[1:] = np.where(same & (g > 0), g, np.nan)
    dur = end - start
    frame = pd.DataFrame({
        **{k: seg[k].to_numpy() for k in keys},
        "dur": dur, "gap": gap, "nuclei": seg["n_nuclei"].to_numpy(np.float64),
    })  # fmt: skip
    grouped = frame.groupby(keys, sort=True, dropna=False, observed=True)
    agg = grouped.agg(
        phon=("dur", "sum"), pause_total=("gap", "sum"), n_pauses=("gap", "count"),
        nuclei=("nuclei", "sum"), pause_mean=("gap", "mean"), pause_median=("gap", "median"),
        ipu_mean=("dur", "mean"), ipu_median=("dur", "median"), ipu_sd=("dur", "std"),
    )  # fmt: skip
    speaking = agg["phon"] + agg["pause_total"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "speech_rate_syll_s": _ratio(agg["nuclei"], speaking),
            "articulation_rate_syll_s": _ratio(agg["nuclei"], agg["phon"]),
            "pause_rate_per_min": _ratio(agg["n_pauses"] * 60.0, speaking),
            "pause_duration_mean_s": agg["pause_mean"], "pause_duration_median_s":
                agg["pause_median"], "ipu_duration_mean_s": agg["ipu_mean"],
            "ipu_duration_median_s": agg["ipu_median"], "ipu_duration_sd_s": agg["ipu_sd"],
            "speaking_time_s": speaking, "phonation_time_s": agg["phon"],
            "n_pauses": agg["n_pauses"].astype(np.int64),
        }, index=agg.index)  # fmt: skip
    float_cols = [c for c in SPEAKER_TIMING_COLUMNS if c != "n_pauses"]
    out[float_cols] = out[float_cols].astype(np.float64)
    return out[list(SPEAKER_TIMING_COLUMNS)].reset_index()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den).where(den > 0)


def interval_metrics(
    phones: pd.DataFrame,
    *,
    vowels: Collection[str],
    by: str | Sequence[str] = "segment_id",
    pause_labels: Collection[str] = PAUSE_LABELS,
    max_gap_s: float = 0.0,
) -> pd.DataFrame:
    """Rhythm interval metrics (%V, ΔV, ΔC, varcoV, varcoC, nPVI-V, rPVI-C) per group.

    Intervals: consecutive vowels (labels in ``vowels``) merge into one vocalic
    interval, consecutive other phones into one consonantal interval. A pause
    (a label in ``pause_labels``, an empty or null label, or a gap of more than
    ``max_gap_s`` between one phone's end and the next one's start) ends the
    interval, as does a change of group: intervals never run across pauses or
    IPU boundaries. The pairwise indices compare consecutive intervals of one
    kind within one stretch between pauses.

    Parameters
    ----------
    phones : pd.DataFrame
        ``start_s``, ``end_s``, ``label`` and the ``by`` columns (e.g. the
        ``segment_id`` of the IPU each phone lies in, or ``speaker_id``).
    vowels : collection of str
        The vowel labels, exactly as in the alignment (e.g. ``{"a", "e", "i",
        "o", "u"}`` for Spanish MFA phones).
    by : str or sequence of str
        Grouping keys. Phones of one group are sorted by time.
    pause_labels : collection of str
        Labels that mark silence.
    max_gap_s : float
        Longest gap (s) between two phones that does not count as a pause.

    Returns
    -------
    pd.DataFrame
        One row per group: the ``by`` columns, then :data:`INTERVAL_COLUMNS`:

        - ``vocalic_pct`` %V = 100 ΣV / (ΣV + ΣC) (Ramus et al. 1999);
        - ``delta_v_s`` ΔV, ``delta_c_s`` ΔC: standard deviations (``ddof=1``)
          of vocalic / consonantal interval durations (s) (Ramus et al. 1999);
        - ``varco_v``, ``varco_c`` = 100 ΔV / mean V, 100 ΔC / mean C (Dellwo 2006);
        - ``npvi_v`` = 100 mean |d_k - d_k+1| / ((d_k + d_k+1) / 2) over
          consecutive vocalic intervals (Grabe & Low 2002);
        - ``rpvi_c_s`` = mean |d_k - d_k+1| over consecutive consonantal
          intervals (s) (Grabe & Low 2002);
        - ``n_v_intervals``, ``n_c_intervals``.

        Standard deviations and varcos need 2 intervals, PVIs one pair: NaN otherwise.
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = sorted({"start_s", "end_s", "label", *keys} - set(phones.columns))
    if missing:
        raise ValueError(f"phones lacks columns {missing!r}")
    vowel_set = {str(v) for v in vowels}
    if not vowel_set:
        raise ValueError("vowels is empty: give the vowel labels of the alignment")
    ph = phones.sort_values([*keys, "start_s"], kind="stable").reset_index(drop=True)
    start = ph["start_s"].to_numpy(np.float64)
    end = ph["end_s"].to_numpy(np.float64)
    if np.any(end < start):
        bad = int(np.flatnonzero(end < start)[0])
        raise ValueError(f"phone {bad} ends before it starts: {start[bad]!r} > {end[bad]!r}")
    label = ph["label"].astype("string").str.strip().fillna("")
    is_pause = label.isin(set(pause_labels) | {""}).to_numpy(bool)
    is_vowel = label.isin(vowel_set).to_numpy(bool) & ~is_pause
    group = ph.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    n = len(ph)
    new_group = np.r_[True, group[1:] != group[:-1]] if n else np.zeros(0, bool)
    gap_break = np.r_[True, start[1:] - end[:-1] > max_gap_s + 1e-9] if n else new_group
    # A stretch: phones between pauses (or group changes, or gaps); an interval: a run of
    # one kind inside a stretch.
    brk = new_group | gap_break | np.r_[False, is_pause[:-1]] if n else new_group
    stretch = np.cumsum(brk)
    kind_change = np.r_[True, is_vowel[1:] != is_vowel[:-1]] if n else new_group
    interval = np.cumsum(brk | kind_change)
    keep = ~is_pause
    iv = pd.DataFrame({
        "interval": interval[keep], "group": group[keep], "stretch": stretch[keep],
        "vowel": is_vowel[keep], "dur": (end - start)[keep],
    })  # fmt: skip
    ints = iv.groupby("interval", sort=True).agg(
        group=("group", "first"), stretch=("stretch", "first"), vowel=("vowel", "first"),
        dur=("dur", "sum"),
    )  # fmt: skip
    n_groups = int(group.max()) + 1 if n else 0
    cols = {}
    for tag, mask in (("v", ints["vowel"].to_numpy(bool)), ("c", ~ints["vowel"].to_numpy(bool))):
        sub = ints[mask]
        stats = sub.groupby("group")["dur"].agg(["sum", "mean", "std", "count"])
        stats = stats.reindex(range(n_groups))
        d = sub["dur"].to_numpy(np.float64)
        st = sub["stretch"].to_numpy()
        pair = st[1:] == st[:-1]  # consecutive intervals of this kind in one stretch
        diff = np.abs(d[1:] - d[:-1])[pair]
        with np.errstate(invalid="ignore", divide="ignore"):
            norm = diff / ((d[1:] + d[:-1])[pair] / 2.0)
        pg = sub["group"].to_numpy()[1:][pair]
        pvi = pd.DataFrame({"g": pg, "r": diff, "n": norm}).groupby("g").mean()
        pvi = pvi.reindex(range(n_groups))
        cols[tag] = (stats, pvi)
    (sv, pv), (sc, pc) = cols["v"], cols["c"]
    total = sv["sum"].fillna(0.0) + sc["sum"].fillna(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "vocalic_pct": (100.0 * sv["sum"].fillna(0.0) / total).where(total > 0),
            "delta_v_s": sv["std"], "delta_c_s": sc["std"],
            "varco_v": 100.0 * sv["std"] / sv["mean"], "varco_c": 100.0 * sc["std"] / sc["mean"],
            "npvi_v": 100.0 * pv["n"], "rpvi_c_s": pc["r"],
            "n_v_intervals": sv["count"].fillna(0).astype(np.int64),
            "n_c_intervals": sc["count"].fillna(0).astype(np.int64),
        })  # fmt: skip
    float_cols = [c for c in INTERVAL_COLUMNS if not c.startswith("n_")]
    out[float_cols] = out[float_cols].astype(np.float64)
    first_rows = pd.Series(np.arange(n)).groupby(group).first() if n else pd.Series([], int)
    key_frame = ph.loc[first_rows.to_numpy(), keys].reset_index(drop=True)
    return pd.concat([key_frame, out.reset_index(drop=True)], axis=1)
