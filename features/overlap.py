"""Overlapping speech: the frames where two voices sound at once.

Two cases, each a plain function over arrays on the common frame grid:

- :func:`channel_overlap`: one voice per channel (a channel map, or one file per
  participant): a frame is overlapped when two or more channels carry their *own*
  voice. A channel's own voice is loud on it; the other participant's voice leaks
  into it as cross-talk some 20-30 dB down. Each channel's level is taken relative
  to its own speech level (so that unequal microphone gains do not matter), and a
  channel counts where it is active and within ``margin_db`` of the loudest.
- :func:`mixed_overlap`: one mix of both voices (a mono recording). No trained
  model: harmonic cancellation (de Cheveigné 1993). The tracked F0's period is
  cancelled by a comb filter, ``e[n] = x[n] - x[n - T1]``; one voice leaves a small
  residual (jitter, aspiration, glides), a second voice leaves itself. The
  residual's share of the frame's energy is the frame's evidence
  (:func:`double_voicing`); a majority vote over a few hundred milliseconds of
  voiced frames, against a threshold relative to the recording, turns it into
  stretches of overlap (:func:`overlap_from_evidence`): overlaps last that long,
  and the vote carries the decision over a consonant. A stretch is kept where the
  vote also passes a stricter threshold somewhere inside it (hysteresis, as in
  Canny's edge linking): a second voice holds the residual well up, one
  reverberant voice crosses the threshold in short bursts. (The residual's own
  periodicity, the second voice's pitch, separated worse: a residual left
  narrowband by a formant looks periodic at every multiple of its frequency.)

:func:`overlap_share` gives each segment's overlapped share, and
:func:`split_spans` / :func:`pool_spans` measure a segment on its stretches
outside overlap. Frames and seconds are converted by the rule of
:mod:`features.frames`.

References
----------
de Cheveigné, A. (1993). Separation of concurrent harmonic sounds: fundamental
frequency estimation and a time-domain cancellation model of auditory processing.
JASA 93(6), 3271-3290.
Rajan, R. & Murthy, H. A. (2016). Modified group delay based multipitch estimation
in co-channel speech. arXiv:1603.05435 (cancel the predominant pitch with a comb
filter, then analyse the residual for the second).
Canny, J. (1986). A computational approach to edge detection. IEEE PAMI 8(6),
679-698 (hysteresis: weak responses kept where linked to a strong one).
Boakye, K., Trueba-Hornero, B., Vinyals, O. & Friedland, G. (2008). Overlapped
speech detection for improved speaker diarization in multiparty meetings. ICASSP
2008, 4353-4356 (overlap in meetings lasts a few hundred ms; evaluated on frames).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import grey_closing, label, maximum_filter1d

from features.activity import voice_activity
from features.attribution import CHANNEL_REFERENCE_QUANTILE
from features.frames import HOP_S, expand_ranges, runs, span_frames
from features.tracks import intensity_db
from features.validation import check_signal, check_spans

__all__ = [
    "LEVEL_BELOW_DB",
    "MARGIN_OVER_MEDIAN",
    "OVERLAP_MARGIN_DB",
    "SEED_SHARE_OF_MEDIAN",
    "channel_overlap",
    "double_voicing",
    "mixed_overlap",
    "overlap_from_evidence",
    "overlap_share",
    "pool_spans",
    "split_spans",
]

#: A channel carries its own voice when within this margin (dB, relative levels) of
#: the loudest channel: cross-talk arrives 20-30 dB down, two talkers within ~10 dB.
OVERLAP_MARGIN_DB = 12.0
#: A voiced frame votes "two voices" where its cancellation residual exceeds the
#: recording's median over voiced speech (most speech is one voice: the median is
#: one voice's residual, 0.02 clean, 0.10-0.15 with webconf's reverberation) by this
#: much; two voices of comparable level leave 0.2-0.45 (measured in the README).
MARGIN_OVER_MEDIAN = 0.07
#: A stretch of overlap must hold a vote that passes above the threshold by this
#: share of the recording's median residual (hysteresis): under webconf's
#: reverberation one voice's residual crosses the threshold in short bursts (README
#: "Overlapping speech"); a dry recording's median is small, and so is the hysteresis.
SEED_SHARE_OF_MEDIAN = 0.4
#: Frames this far (dB) under the loudest within 0.5 s do not vote (see
#: :func:`overlap_from_evidence`).
LEVEL_BELOW_DB = 6.0
# Frames analysed at once (frames x window samples stay a few MB).
_BLOCK_FRAMES = 1024


def channel_overlap(
    levels_db: np.ndarray,
    *,
    hop_s: float = HOP_S,
    margin_db: float = OVERLAP_MARGIN_DB,
    active: np.ndarray | None = None,
    hold_s: float = 0.2,
) -> np.ndarray:
    """Frames where two or more channels carry their own voice.

    Parameters
    ----------
    levels_db : np.ndarray, shape (n_channels, n_frames)
        Intensity (dB) of each channel (one voice per channel), on one frame grid.
    hop_s : float
        Frame hop (s).
    margin_db : float
        A channel carries its own voice where its relative level is within this
        margin of the loudest channel's (dB).
    active : np.ndarray, shape (n_channels, n_frames) or (n_frames,), bool, optional
        Each channel's voice activity, or one activity for all channels (the mix's,
        which the segmenter already has: cross-talk makes each channel's own
        activity that of the mix anyway); by default
        :func:`features.activity.voice_activity` of each channel's level.
    hold_s : float
        Each channel's relative level is closed (running maximum, then minimum) over this window
        (s): a voice keeps its channel through closures and dips shorter than a
        pause.

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
        True where at least two channels carry their own voice.

    Notes
    -----
    A channel's reference level is the median of its level over the frames where
    it is active and the loudest channel: its own voice, as its microphone and
    gain render it. Relative levels are the levels minus that reference, so a
    quiet microphone's voice is not mistaken for cross-talk.
    """
    levels = np.atleast_2d(np.asarray(levels_db, dtype=np.float64))
    n_channels, n = levels.shape
    if n_channels < 2:
        return np.zeros(n, bool)
    if active is None:
        active = np.stack([voice_activity(row, None, hop_s=hop_s) for row in levels])
    active = np.broadcast_to(np.asarray(active, dtype=bool), levels.shape)
    # Which channel is loudest is judged on levels relative to each channel's own top
    # (as labels_from_channels does): a hot microphone's leak can outshout a quiet
    # file's own voice in absolute level (one file 25 dB down, cross-talk at -20 dB).
    tops = np.nanquantile(np.where(np.isfinite(levels), levels, np.nan),
                          CHANNEL_REFERENCE_QUANTILE, axis=1, keepdims=True)
    loudest = np.argmax(np.nan_to_num(levels - tops, nan=-np.inf), axis=0)
    hold = max(1, round(hold_s / hop_s))
    reference = np.zeros(n_channels)
    for c in range(n_channels):  # a few channels
        own = active[c] & (loudest == c) & np.isfinite(levels[c])
        reference[c] = np.median(levels[c, own]) if own.any() else np.nanmax(levels[c])
    # A closure (running maximum, then minimum) over a pause's length carries a voice over its stop
    # closures and dips (its own IPU continues); cross-talk stays 20 dB down.
    relative = grey_closing(levels - reference[:, None], size=(1, hold), mode="nearest")
    top = np.max(np.where(active, relative, -np.inf), axis=0)
    carries = active & (relative >= top - margin_db)
    return carries.sum(axis=0) >= 2


def double_voicing(
    y: np.ndarray,
    sr: float,
    f0_hz: np.ndarray,
    *,
    hop_s: float = HOP_S,
    pitch_floor_hz: float = 60.0,
    window_s: float = 0.03,
) -> np.ndarray:
    """Evidence of a second voice in each voiced frame of a mix: the share of the
    frame's energy that cancelling the tracked period leaves (harmonic cancellation).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono mix.
    sr : float
        Sample rate (Hz).
    f0_hz : np.ndarray, shape (n_frames,)
        Tracked F0 (Hz) of frame ``k`` centred at ``k * hop_s``; NaN where unvoiced
        (e.g. :func:`features.tracks.pitch_track`).
    hop_s : float
        Frame hop (s).
    pitch_floor_hz : float
        Lowest F0 (Hz): sets the longest lag.
    window_s : float
        Analysis window (s): short, so that a glide of the pitch within it leaves
        little residual (30 ms found more overlap at fewer false alarms than 50 ms
        or 20 ms on the mixes of the README).

    Returns
    -------
    np.ndarray, shape (n_frames,), float
        ``sum w^2 (x[n] - x[n - T1])^2 / (sum w^2 x[n]^2 + sum w^2 x[n - T1]^2)``
        in 0..1 (Hann window ``w``): near 0 for one periodic voice, 0.5 on average
        for two voices of equal level (the comb passes each harmonic of the second
        with a power gain between 0 and 4), 0.5 for white noise; NaN in unvoiced
        frames.

    Notes
    -----
    ``T1`` is the integer lag within two samples of ``sr / f0`` that cancels most
    (the tracked F0 is not on the sample grid). The comb filter ``x[n] - x[n - T1]``
    removes every harmonic of the tracked voice and passes a second voice whose
    F0 is not a multiple of it (de Cheveigné 1993). Onsets, pitch glides and
    breathiness also leave residual: :func:`overlap_from_evidence` compares with
    the recording's own typical value and votes over a few hundred milliseconds.
    """
    x = check_signal(y, sr)
    f0 = np.asarray(f0_hz, dtype=np.float64)
    evidence = np.full(f0.size, np.nan)
    width = round(window_s * sr)
    max_lag = int(np.ceil(sr / pitch_floor_hz))
    frames = np.flatnonzero(np.isfinite(f0) & (f0 > 0))
    if not frames.size or x.size < width:
        return evidence
    window = np.hanning(width + 2)[1:-1]
    # Signal padded so that every window and its delayed copy lie inside.
    pad = width // 2 + max_lag + 4
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    offsets = np.arange(width) - width // 2
    for b0 in range(0, frames.size, _BLOCK_FRAMES):
        block = frames[b0 : b0 + _BLOCK_FRAMES]
        centre = np.clip(np.rint(block * hop_s * sr).astype(np.int64), 0, x.size - 1) + pad
        index = centre[:, None] + offsets[None, :]
        now = padded[index] * window
        period = _best_period(padded, index, now, window, np.rint(sr / f0[block]), max_lag)
        before = padded[index - period[:, None]] * window
        energy = np.sum(now**2, axis=1) + np.sum(before**2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            evidence[block] = np.sum((now - before) ** 2, axis=1) / energy
    return np.clip(evidence, 0.0, 1.0)


def _best_period(
    padded: np.ndarray,
    index: np.ndarray,
    now: np.ndarray,
    window: np.ndarray,
    guess: np.ndarray,
    max_lag: int,
) -> np.ndarray:
    """Per frame, the integer lag within 2 samples of ``guess`` that cancels most."""
    best = np.clip(guess.astype(np.int64), 1, max_lag)
    least = np.full(best.size, np.inf)
    for step in range(-2, 3):
        lag = np.clip(guess.astype(np.int64) + step, 1, max_lag)
        error = np.sum((now - padded[index - lag[:, None]] * window) ** 2, axis=1)
        better = error < least
        best, least = np.where(better, lag, best), np.where(better, error, least)
    return best


def overlap_from_evidence(
    evidence: np.ndarray,
    speech: np.ndarray,
    *,
    hop_s: float = HOP_S,
    threshold: float | None = None,
    seed_over: float | None = None,
    vote_s: float = 0.3,
    max_gap_s: float = 0.1,
    min_overlap_s: float = 0.2,
    level_db: np.ndarray | None = None,
    below_db: float = LEVEL_BELOW_DB,
) -> np.ndarray:
    """Stretches of overlap from per-frame double-voicing evidence.

    Parameters
    ----------
    evidence : np.ndarray, shape (n_frames,)
        :func:`double_voicing` (NaN in unvoiced frames, which do not vote).
    speech : np.ndarray, shape (n_frames,), bool
        Voice activity: overlap lies inside speech.
    hop_s : float
        Frame hop (s).
    threshold : float, optional
        Evidence above which a voiced frame votes "two voices"; by default the
        median evidence of the voiced speech frames plus :data:`MARGIN_OVER_MEDIAN`
        (reverberation, a breathy voice or a lossy codec leave more residual
        throughout).
    seed_over : float, optional
        Hysteresis: a stretch is kept only where the vote also passes at
        ``threshold + seed_over`` for ``min_overlap_s / 2`` inside it (gaps filled
        as for the stretches; 0: no hysteresis). By default
        :data:`SEED_SHARE_OF_MEDIAN` times the median evidence of the voiced speech
        frames: one voice's residual under reverberation (a median of 0.07-0.17)
        crosses the threshold in short bursts, a second voice holds it well above;
        in a dry recording (a median of 0.02-0.05) the hysteresis all but vanishes
        and short overlaps stay found (see the README).
    vote_s : float
        Width of the centred vote (s): a speech frame is overlapped where most of
        the voiced frames within ``vote_s / 2`` either side vote so.
    max_gap_s : float
        Gaps of speech shorter than this between two stretches are filled (s).
    min_overlap_s : float
        Shorter stretches are then dropped (s).
    level_db : np.ndarray, shape (n_frames,), optional
        Intensity (dB) of the mix: frames more than ``below_db`` under the loudest
        frame within 0.5 s either side do not vote (a voice's decaying end and
        the room's reverberant tail leave residual without a second voice; two
        voices add up, they do not fade).
    below_db : float
        See ``level_db``.

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
    """
    evidence = np.asarray(evidence, dtype=np.float64)
    speech = np.asarray(speech, dtype=bool)
    if level_db is not None:
        level = np.asarray(level_db, dtype=np.float64)
        if level.shape != evidence.shape:
            raise ValueError(
                f"level_db must have the shape of evidence {evidence.shape!r}, got {level.shape!r}"
            )
        local = maximum_filter1d(level, size=2 * round(0.5 / hop_s) + 1, mode="nearest")
        evidence = np.where(level >= local - below_db, evidence, np.nan)
    voiced = np.isfinite(evidence)
    typical = float(np.median(evidence[voiced & speech])) if (voiced & speech).any() else 0.0
    threshold = typical + MARGIN_OVER_MEDIAN if threshold is None else threshold
    seed_over = SEED_SHARE_OF_MEDIAN * typical if seed_over is None else seed_over
    half = max(1, round(vote_s / 2 / hop_s))
    gap = round(max_gap_s / hop_s)
    overlapped = _majority(evidence, voiced, threshold, half) & speech
    overlapped = _tidy_runs(overlapped, speech, gap, round(min_overlap_s / hop_s))
    if seed_over > 0:
        # Seeds: stretches (at least half the shortest overlap) at the stricter threshold.
        seeds = _majority(evidence, voiced, threshold + seed_over, half) & speech
        seeds = _tidy_runs(seeds, speech, gap, round(min_overlap_s / 2 / hop_s)) & overlapped
        stretch, _ = label(overlapped)
        overlapped &= np.isin(stretch, stretch[seeds])
    return overlapped


def _majority(evidence: np.ndarray, voiced: np.ndarray, threshold: float, half: int) -> np.ndarray:
    """Frames where most voiced frames within ``half`` either side (at least 3) have
    evidence above ``threshold``."""
    votes = np.where(voiced, evidence > threshold, False).astype(np.float64)
    kernel = np.ones(2 * half + 1)
    yes = np.convolve(votes, kernel, mode="same")
    counted = np.convolve(voiced.astype(np.float64), kernel, mode="same")
    return (yes > 0.5 * counted) & (counted >= 3)


def _tidy_runs(
    overlapped: np.ndarray, speech: np.ndarray, max_gap: int, min_frames: int
) -> np.ndarray:
    """Gaps shorter than ``max_gap`` frames between two stretches filled (within
    speech), then stretches shorter than ``min_frames`` dropped."""
    overlapped = overlapped.copy()
    starts, ends = runs(overlapped)
    gap = ~overlapped[starts] & ((ends - starts) < max_gap) & (starts > 0)
    gap &= ends < overlapped.size
    index, _ = expand_ranges(starts[gap], ends[gap])
    overlapped[index] = True
    overlapped &= speech
    starts, ends = runs(overlapped)
    short = overlapped[starts] & ((ends - starts) < min_frames)
    index, _ = expand_ranges(starts[short], ends[short])
    overlapped[index] = False
    return overlapped


def mixed_overlap(
    y: np.ndarray,
    sr: float,
    f0_hz: np.ndarray,
    speech: np.ndarray,
    *,
    hop_s: float = HOP_S,
    pitch_floor_hz: float = 60.0,
    threshold: float | None = None,
    vote_s: float = 0.3,
    level_db: np.ndarray | None = None,
) -> np.ndarray:
    """Overlapped frames of a mono mix: :func:`double_voicing`, then
    :func:`overlap_from_evidence` (see them for the parameters; ``level_db`` is by
    default :func:`features.tracks.intensity_db` of ``y``).

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
        ``n_frames = f0_hz.size``.
    """
    evidence = double_voicing(y, sr, f0_hz, hop_s=hop_s, pitch_floor_hz=pitch_floor_hz)
    if level_db is None:
        level_db = intensity_db(y, sr, hop_s=hop_s)
    level = np.full(evidence.size, -np.inf)  # the grids may differ by a frame at the end
    given = np.asarray(level_db, dtype=np.float64)[: evidence.size]
    level[: given.size] = given
    return overlap_from_evidence(
        evidence, speech, hop_s=hop_s, threshold=threshold, vote_s=vote_s, level_db=level
    )


def overlap_share(overlap: np.ndarray, spans: np.ndarray, *, hop_s: float = HOP_S) -> np.ndarray:
    """Share (0..1) of each span's frames that are overlapped (NaN for a span with
    no frame).

    Parameters
    ----------
    overlap : np.ndarray, shape (n_frames,), bool
    spans : np.ndarray, shape (n, 2)
        ``[start_s, end_s]`` (s).
    hop_s : float

    Returns
    -------
    np.ndarray, shape (n,), float
    """
    overlap = np.asarray(overlap, dtype=bool)
    first, end = span_frames(check_spans(spans), overlap.size, hop_s)
    cum = np.r_[0, np.cumsum(overlap)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(end > first, (cum[end] - cum[first]) / (end - first), np.nan)


def split_spans(
    spans: np.ndarray, overlap: np.ndarray, *, hop_s: float = HOP_S, min_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The stretches of each span outside overlap.

    Parameters
    ----------
    spans : np.ndarray, shape (n, 2)
        ``[start_s, end_s]`` (s).
    overlap : np.ndarray, shape (n_frames,), bool
    hop_s : float
    min_s : float
        Stretches shorter than this are dropped (s).

    Returns
    -------
    pieces : np.ndarray, shape (m, 2)
        ``[start_s, end_s]`` of each stretch (s): whole frames (a frame stands
        for the hop around its centre), clipped to its span.
    owner : np.ndarray, shape (m,), int64
        The span each stretch comes from.
    """
    spans = check_spans(spans)
    overlap = np.asarray(overlap, dtype=bool)
    first, end = span_frames(spans, overlap.size, hop_s)
    index, owner = expand_ranges(first, end)
    # Runs of (span, overlapped) over the spans' frames; keep the clean runs.
    key = owner * 2 + overlap[index]
    starts, ends = runs(key)
    clean = ~overlap[index[starts]] if index.size else np.zeros(0, bool)
    starts, ends = starts[clean], ends[clean]
    who = owner[starts] if index.size else np.zeros(0, np.int64)
    if index.size:
        # A stretch runs between frame edges, and to its span's own edge at either end.
        lo = np.where(index[starts] == first[who], spans[who, 0], index[starts] * hop_s - hop_s / 2)
        hi = np.where(
            index[ends - 1] == end[who] - 1, spans[who, 1], index[ends - 1] * hop_s + hop_s / 2
        )
    else:
        lo = hi = np.zeros(0)
    keep = (hi - lo) >= max(min_s, 0.0)
    return np.c_[lo[keep], hi[keep]].astype(np.float64).reshape(-1, 2), who[keep].astype(np.int64)


def pool_spans(
    values: np.ndarray, weights: np.ndarray, owner: np.ndarray, n_spans: int
) -> np.ndarray:
    """Weighted mean of the stretches' values per span (NaN values and zero weights
    ignored; NaN for a span with none).

    Parameters
    ----------
    values, weights : np.ndarray, shape (m,)
        A measure of each stretch and its weight (e.g. its periods, or duration).
    owner : np.ndarray, shape (m,), int
        The span of each stretch (:func:`split_spans`).
    n_spans : int

    Returns
    -------
    np.ndarray, shape (n_spans,), float
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.where(np.isfinite(values), np.asarray(weights, dtype=np.float64), 0.0)
    total = np.bincount(owner, weights=weights, minlength=n_spans)
    summed = np.bincount(
        owner, weights=np.where(weights > 0, values * weights, 0.0), minlength=n_spans
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, summed / total, np.nan)
