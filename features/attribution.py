"""Who speaks when, frame by frame: speaker labels on the common frame grid and the
segments they make.

Three sources of labels, each a plain function over arrays (the conductor,
:mod:`speech.segmentation`, chooses the source and reads the transcript):

- :func:`labels_from_spans`: the intervals of a transcript's speaker tiers;
- :func:`labels_from_channels`: the channel whose own voice dominates (one voice per
  channel, or one file per participant);
- :func:`labels_from_clusters`: clustering of the inter-pausal units' voices
  (:func:`features.speakers.attribute_from_frames`).

Labels are voice indices (``-1``: no speech), one per frame, with a confidence in
[0, 1] per frame; :func:`segments_from_labels` turns runs of one voice into
segments. Frames and seconds are converted by the one rule of
:mod:`features.frames` (frame ``k`` belongs to a span when its centre ``k * hop_s``
lies in ``[start_s, end_s)``).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from features.activity import voice_activity
from features.frames import HOP_S, expand_ranges, merge_runs, runs, span_frames
from features.speakers import attribute_from_frames
from features.validation import check_signal, check_spans

__all__ = [
    "CHANNEL_MARGIN_DB",
    "CHANNEL_MIN_SWITCH_S",
    "CHANNEL_REFERENCE_QUANTILE",
    "CHANNEL_SMOOTH_S",
    "fill_within_runs",
    "join_spans",
    "labels_from_channels",
    "labels_from_clusters",
    "labels_from_spans",
    "relabel_frames",
    "segments_from_labels",
    "spans_mask",
]

#: Level margin (dB) of the dominant channel over the next that makes a confident
#: call: cross-talk leaks a voice into the other channels some 10-30 dB down.
CHANNEL_MARGIN_DB = 6.0
#: Quantile of a channel's intensity taken as its own voice's level.
CHANNEL_REFERENCE_QUANTILE = 0.99
#: Shortest stretch (s) of another voice inside one voice's speech kept as a turn.
CHANNEL_MIN_SWITCH_S = 0.25
#: Span (s) over which channel levels are averaged before they are compared: longer
#: than a stop closure, shorter than the 0.2 s pause that separates IPUs.
CHANNEL_SMOOTH_S = 0.15
#: Span (s) over which each voice model's frame log-likelihoods are averaged before a
#: frame is given to another voice than its IPU's: a syllable or two.
FRAME_SMOOTH_S = 0.3
#: Shortest stretch (s) of another voice inside an IPU that splits it: a turn that
#: starts under the end of the previous one, not a syllable that sounds like another voice.
FRAME_MIN_SWITCH_S = 0.4
#: Mean log-likelihood margin (nats per frame, over ``FRAME_SMOOTH_S``) of another
#: voice's model over the IPU's own voice that a frame needs to change voice.
FRAME_MIN_MARGIN = 1.0
#: Least clustering confidence of the IPUs whose frames fit the voice models.
FRAME_FIT_CONFIDENCE = 0.5
#: Gaussians of each voice's frame model, and the fewest / most frames that fit it.
_FRAME_GAUSSIANS = 8
_FRAME_MIN_FIT = 50
_FRAME_MAX_FIT = 20000


def spans_mask(spans: np.ndarray, n_frames: int, hop_s: float = HOP_S) -> np.ndarray:
    """Frames covered by any of the spans.

    Parameters
    ----------
    spans : array_like, shape (n, 2)
        ``[start_s, end_s]`` (s); may overlap.
    n_frames : int
        Frames of the grid.
    hop_s : float
        Frame hop (s).

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
        True where a frame's centre lies in some ``[start_s, end_s)``.
    """
    first, end = span_frames(check_spans(spans), n_frames, hop_s)
    # Difference array: +1 where a span opens, -1 where it closes.
    diff = np.zeros(n_frames + 1, np.int64)
    np.add.at(diff, first, 1)
    np.add.at(diff, end, -1)
    return np.cumsum(diff[:-1]) > 0


def fill_within_runs(labels: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Fill ``-1`` labels from the nearest labelled frame of the same active run.

    Filled forward, then backward; frames labelled ``-2`` neither give nor take.

    Parameters
    ----------
    labels : np.ndarray, shape (n_frames,), int
        Voice index per frame, ``-1`` unknown, ``-2`` excluded.
    active : np.ndarray, shape (n_frames,), bool
        Speech mask: its runs bound the filling.

    Returns
    -------
    np.ndarray, shape (n_frames,), int
    """
    out = np.asarray(labels).copy()
    active = np.asarray(active, dtype=bool)
    run_id = np.cumsum(np.r_[True, active[1:] != active[:-1]])
    idx = np.arange(out.size)
    for reverse in (False, True):
        o = out[::-1].copy() if reverse else out.copy()
        r = run_id[::-1] if reverse else run_id
        last = np.maximum.accumulate(np.where(o >= 0, idx, -1))  # last labelled so far
        src = np.maximum(last, 0)
        fill = (o == -1) & (last >= 0) & (r[src] == r)
        o[fill] = o[src][fill]
        out = o[::-1] if reverse else o
    return out


def labels_from_spans(
    spans: list[np.ndarray], active: np.ndarray, *, hop_s: float = HOP_S
) -> tuple[np.ndarray, np.ndarray]:
    """Frame labels from each voice's intervals (a transcript's speaker tiers).

    Parameters
    ----------
    spans : list of np.ndarray, shape (n_k, 2)
        Voice ``k``'s intervals (s). Where voices overlap, the first listed wins.
    active : np.ndarray, shape (n_frames,), bool
        Speech mask (voice activity): only speech frames are labelled.
    hop_s : float
        Frame hop (s).

    Returns
    -------
    labels : np.ndarray, shape (n_frames,), int
        Voice index of each speech frame, ``-1`` outside speech. A speech frame
        just outside every interval (the edges of the voice activity) takes the
        label of the nearest labelled frame of the same stretch of speech.
    confidence : np.ndarray, shape (n_frames,), float
        1 where the intervals themselves give the frame's label, else 0.
    """
    active = np.asarray(active, dtype=bool)
    n = active.size
    labels = np.full(n, -1)
    for k, voice_spans in enumerate(spans):
        labels[spans_mask(voice_spans, n, hop_s) & (labels == -1)] = k
    filled = fill_within_runs(np.where(active, labels, -2), active)
    confidence = (filled == labels).astype(float)
    return np.where(active, filled, -1), confidence


def labels_from_channels(
    levels_db: np.ndarray, *, hop_s: float = HOP_S, margin_db: float = CHANNEL_MARGIN_DB,
    reference_quantile: float | None = CHANNEL_REFERENCE_QUANTILE,
    smooth_s: float = CHANNEL_SMOOTH_S, min_switch_s: float = CHANNEL_MIN_SWITCH_S,
    active: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each speech frame to the channel whose own voice dominates it (one voice per
    channel, or one file per participant).

    A channel also carries the other voices, leaked some 10-30 dB down (the far end
    through the near microphone, the same voice arriving in two files a few ms
    apart). Each channel's levels are taken relative to its own voice's level (a
    high quantile of the channel: the loudest stretches of a channel are its own
    voice), so that a file recorded 25 dB quieter than the others still wins the
    frames of its own voice, and a leak, 10-30 dB below the leaking voice's own
    channel, never does. The levels are averaged (in power) over ``smooth_s``
    before they are compared: inside a stop closure or a short pause every channel
    falls to its floor, and the floors alone would flip single frames to the
    other voice (an IPU cut in pieces). A stretch shorter than ``min_switch_s``
    given to another channel in the middle of one voice's speech (the same voice
    on both sides, no pause between) is a dropout of that voice's own file (a
    burst of lost packets concealed at falling level, its AGC pumping the leak
    up), not a turn: it goes back to that voice, with confidence 0.

    Parameters
    ----------
    levels_db : np.ndarray, shape (n_channels, n_frames)
        Intensity (dB) of each live channel (a file that has not started or has
        ended: its floor level there).
    hop_s : float
        Frame hop (s).
    margin_db : float
        Margin of the dominant channel over the next that gives confidence 1.
    reference_quantile : float or None
        Quantile of each channel's levels taken as its own voice's level (0.99: the
        voice speaks at least 1 % of the recording); None compares raw levels.
    smooth_s : float
        Length (s) of the centred moving average of each channel's power; 0: none.
    min_switch_s : float
        Shortest stretch (s) of another voice inside one voice's speech that is
        kept as that other voice's; 0: every stretch is kept.
    active : np.ndarray, shape (n_frames,), bool, optional
        Speech frames (the voice activity of the mix, with its voicing): only they
        are labelled. Default: a frame where any channel has speech
        (:func:`features.activity.voice_activity` per channel, intensity alone).

    Returns
    -------
    labels : np.ndarray, shape (n_frames,), int
        Index of the dominant channel on the speech frames, else -1.
    confidence : np.ndarray, shape (n_frames,), float
        ``clip(margin / margin_db, 0, 1)`` (1 with one channel).
    """
    levels = np.atleast_2d(np.asarray(levels_db, dtype=np.float64))
    n = levels.shape[1]
    if active is None:
        active = np.zeros(n, bool)
        for row in levels:  # a few channels, each a whole-track call
            active |= voice_activity(row, None, hop_s=hop_s)
    active = np.asarray(active, dtype=bool)
    relative = levels
    if reference_quantile is not None and levels.shape[0] > 1 and n:
        relative = levels - np.quantile(levels, reference_quantile, axis=1, keepdims=True)
    width = round(smooth_s / hop_s)
    if width > 1 and n:
        power = uniform_filter1d(10.0 ** (relative / 10.0), width, axis=1, mode="nearest")
        relative = 10.0 * np.log10(np.maximum(power, 1e-30))
    dominant = np.argmax(relative, axis=0)
    ordered = np.sort(relative, axis=0)
    margin = ordered[-1] - ordered[-2] if levels.shape[0] > 1 else np.full(n, np.inf)
    confidence = np.clip(margin / margin_db, 0.0, 1.0)
    labels = np.where(active, dominant, -1)
    return _absorb_short_switches(labels, confidence, round(min_switch_s / hop_s))


def _absorb_short_switches(labels: np.ndarray, confidence: np.ndarray,
                           min_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs of a voice shorter than ``min_frames`` between two runs of one other
    voice (no unlabelled frame between) take that voice, confidence 0."""
    starts, ends = runs(labels)
    if min_frames <= 1 or starts.size < 3:
        return labels, confidence
    voice = labels[starts]
    inner = np.arange(1, starts.size - 1)
    short = ((ends - starts)[inner] < min_frames) & (voice[inner] >= 0) & (
        voice[inner - 1] == voice[inner + 1]) & (voice[inner - 1] >= 0)
    frames, run = expand_ranges(starts[inner[short]], ends[inner[short]])
    labels, confidence = labels.copy(), confidence.copy()
    labels[frames] = voice[inner[short] - 1][run]
    confidence[frames] = 0.0
    return labels, confidence


def labels_from_clusters(
    mfcc: np.ndarray, level_db: np.ndarray, ipus: np.ndarray, n_frames: int, *,
    n_speakers: int, hop_s: float = HOP_S, f0_hz: np.ndarray | None = None,
    split_turns: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Frame labels from clustering the IPUs' voices, then (``split_turns``) the IPUs
    split where another voice takes over inside them (:func:`relabel_frames`).

    Parameters
    ----------
    mfcc, level_db : np.ndarray, shapes (n_mfcc, n_frames) and (n_frames,)
        :func:`features.speakers.voice_frames` of the recording.
    ipus : np.ndarray, shape (n_ipus, 2)
        Inter-pausal units (s), :func:`features.activity.speech_intervals`.
    n_frames : int
        Frames of the grid.
    n_speakers : int
        Voices to find.
    hop_s : float
        Frame hop (s).
    f0_hz : np.ndarray, shape (n_frames,), optional
        F0 track, a feature of the embeddings.
    split_turns : bool
        Split the IPUs where another voice takes over (:func:`relabel_frames`).

    Returns
    -------
    labels : np.ndarray, shape (n_frames,), int
        The voice of each frame (0 = the voice with most speech), -1 outside IPUs.
    confidence : np.ndarray, shape (n_frames,), float
        The IPU's clustering confidence.
    """
    ipus = check_spans(ipus, name="ipus")
    labels, confidence = np.full(n_frames, -1), np.zeros(n_frames)
    if not len(ipus):
        return labels, confidence
    ipu_labels, ipu_conf = attribute_from_frames(mfcc, level_db, ipus, n_speakers=n_speakers,
                                                 hop_s=hop_s, f0_hz=f0_hz)
    frames, owner = expand_ranges(*span_frames(ipus, n_frames, hop_s))
    labels[frames] = ipu_labels[owner]
    confidence[frames] = ipu_conf[owner]
    if not split_turns:
        return labels, confidence
    labels, confidence = relabel_frames(mfcc, level_db, labels, confidence,
                                        n_voices=n_speakers, hop_s=hop_s, f0_hz=f0_hz)
    # The voice with most speech after the split is label 0 (the interviewee).
    total = np.bincount(labels[labels >= 0], minlength=n_speakers)
    rank = np.empty(total.size, np.int64)
    rank[np.argsort(-total, kind="stable")] = np.arange(total.size)
    return np.where(labels >= 0, rank[np.maximum(labels, 0)], -1), confidence


def _voice_scores(x: np.ndarray, semitones: np.ndarray, labels: np.ndarray,
                  energetic: np.ndarray, n_voices: int, random_state: int) -> np.ndarray | None:
    """Log-likelihood (nats) of each energetic frame under each voice's model, shape
    (n_voices, n_frames), 0 elsewhere; None when a voice has too few frames to fit."""
    scores = np.zeros((n_voices, x.shape[0]))
    rows = np.flatnonzero(energetic)
    rng = np.random.default_rng(random_state)
    voiced = np.isfinite(semitones[rows])
    for voice in range(n_voices):
        own = np.flatnonzero(energetic & (labels == voice))
        if own.size < _FRAME_MIN_FIT:
            return None
        fit = own if own.size <= _FRAME_MAX_FIT else rng.choice(own, _FRAME_MAX_FIT, replace=False)
        # A small model per voice: one thread (see features.speakers._supervectors).
        with threadpool_limits(limits=1):
            model = GaussianMixture(n_components=_FRAME_GAUSSIANS, covariance_type="diag",
                                    reg_covar=1e-2, random_state=random_state).fit(x[fit])
        scores[voice, rows] = model.score_samples(x[rows])
        # F0: one Gaussian per voice over its voiced frames (median and MAD, robust to
        # octave errors); frames without F0 add nothing.
        own_f0 = semitones[own][np.isfinite(semitones[own])]
        if own_f0.size >= _FRAME_MIN_FIT:
            centre = np.median(own_f0)
            spread = max(1.4826 * np.median(np.abs(own_f0 - centre)), 0.5)
            z = (semitones[rows[voiced]] - centre) / spread
            scores[voice, rows[voiced]] += -0.5 * z * z - np.log(spread)
    return scores


def relabel_frames(
    mfcc: np.ndarray, level_db: np.ndarray, labels: np.ndarray, confidence: np.ndarray, *,
    n_voices: int, hop_s: float = HOP_S, f0_hz: np.ndarray | None = None,
    smooth_s: float = FRAME_SMOOTH_S, min_switch_s: float = FRAME_MIN_SWITCH_S,
    min_margin: float = FRAME_MIN_MARGIN, fit_confidence: float = FRAME_FIT_CONFIDENCE,
    dynamic_range_db: float = 35.0, random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split an IPU where another voice takes over inside it (a turn that starts under
    the end of the previous one is one stretch of speech to the voice activity).

    Each voice's frames (those of the IPUs confidently clustered to it) fit a diagonal Gaussian
    mixture of their MFCCs, plus one Gaussian of their F0 in semitones (GMM
    speaker models, Reynolds et al. 2000). Every energetic speech frame is scored
    under each model; the scores are averaged over ``smooth_s`` (frames without
    energy count nothing), and a frame goes to another voice when that voice's
    mean score beats its IPU's voice by ``min_margin``. Only stretches of another
    voice of at least ``min_switch_s`` are kept, and only as part of an IPU: a
    stretch that would take a whole IPU goes back (the IPU's voice is the
    clustering's call, from all its frames at once).

    Parameters
    ----------
    mfcc, level_db : np.ndarray, shapes (n_mfcc, n_frames) and (n_frames,)
        :func:`features.speakers.voice_frames` of the recording.
    labels, confidence : np.ndarray, shape (n_frames,)
        Voice per frame (``-1``: no speech) and its confidence, e.g. the IPUs' labels.
    n_voices : int
        Voices (labels ``0 .. n_voices - 1``).
    hop_s : float
        Frame hop (s).
    f0_hz : np.ndarray, shape (n_frames,), optional
        F0 track (Hz; NaN or 0 unvoiced).
    smooth_s, min_switch_s : float
        Averaging span of the scores and shortest stretch kept as another voice (s).
    min_margin : float
        Mean score margin (nats per frame) a frame needs to change voice.
    fit_confidence : float
        Only the frames of at least this confidence fit the voice models.
    dynamic_range_db : float
        Frames this far below the loud speech frames (95th percentile) are not scored.
    random_state : int

    Returns
    -------
    labels : np.ndarray, shape (n_frames,), int
    confidence : np.ndarray, shape (n_frames,), float
        Unchanged frames keep theirs; a moved frame gets ``clip(margin / (2 *
        min_margin), 0, 1)``.

    References
    ----------
    Reynolds, D. A., & Rose, R. C. (1995). Robust text-independent speaker
    identification using Gaussian mixture speaker models. *IEEE Trans. Speech
    and Audio Processing*, 3(1), 72-83.
    """
    labels = np.asarray(labels)
    n = labels.size
    speech = labels >= 0
    if n_voices < 2 or not speech.any():
        return labels, confidence
    x = np.asarray(mfcc, dtype=np.float64)[:, :n].T
    level = np.asarray(level_db, dtype=np.float64)[:n]
    energetic = speech & (level >= np.quantile(level[speech], 0.95) - dynamic_range_db)
    centre, spread = x[energetic].mean(axis=0), x[energetic].std(axis=0) + 1e-9
    semitones = np.full(n, np.nan)
    if f0_hz is not None:
        f0 = np.asarray(f0_hz, dtype=np.float64)[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            semitones[: f0.size] = np.where(f0 > 0, 12.0 * np.log2(f0 / 100.0), np.nan)
    # The models learn from the frames of confidently clustered IPUs only: an IPU that
    # holds both voices lies between the clusters, and would teach each model the other.
    trusted = np.where(np.asarray(confidence) >= fit_confidence, labels, -1)
    scores = _voice_scores((x - centre) / spread, semitones, trusted, energetic, n_voices,
                           random_state)
    if scores is None:
        return labels, confidence
    width = max(1, round(smooth_s / hop_s))
    weight = uniform_filter1d(energetic.astype(float), width, mode="constant")
    mean = uniform_filter1d(scores, width, axis=1, mode="constant") / np.maximum(weight, 1e-9)
    best = np.argmax(mean, axis=0)
    own = np.maximum(labels, 0)
    margin = mean[best, np.arange(n)] - mean[own, np.arange(n)]
    moved = speech & (best != own) & (margin > min_margin) & (weight > 0)
    # Runs of one new voice; too short a run, or one that takes a whole IPU, goes back.
    tag = np.where(moved, best, -1)
    starts, ends = runs(tag)
    ipu_starts, ipu_ends = runs(speech)
    ipu_of = np.cumsum(np.r_[True, speech[1:] != speech[:-1]]) - 1
    whole = (ipu_starts[ipu_of[starts]] == starts) & (ipu_ends[ipu_of[starts]] == ends)
    undo = (tag[starts] >= 0) & (((ends - starts) < round(min_switch_s / hop_s)) | whole)
    moved[expand_ranges(starts[undo], ends[undo])[0]] = False
    out_labels = np.where(moved, best, labels)
    out_conf = np.where(moved, np.clip(margin / (2.0 * min_margin), 0.0, 1.0), confidence)
    return out_labels, out_conf


def segments_from_labels(
    labels: np.ndarray, confidence: np.ndarray, *, hop_s: float = HOP_S,
    min_speech_s: float = 0.1, merge_gap_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of one voice -> segments.

    Parameters
    ----------
    labels : np.ndarray, shape (n_frames,), int
        Voice index per frame, ``-1`` no speech.
    confidence : np.ndarray, shape (n_frames,), float
        Per-frame confidence of the label.
    hop_s : float
        Frame hop (s).
    min_speech_s : float
        Shorter segments are dropped (s).
    merge_gap_s : float, optional
        Merge consecutive segments of one voice separated by less than this (s)
        (read utterances: pauses inside an utterance); None merges nothing.

    Returns
    -------
    start_s, end_s : np.ndarray, shape (n_segments,), float
        A run of frames ``a .. b-1`` spans ``[a * hop_s - hop_s/2, b * hop_s -
        hop_s/2)`` (each frame stands for the hop around its centre), from 0.
    voice : np.ndarray, shape (n_segments,), int
    confidence : np.ndarray, shape (n_segments,), float
        Mean of the frames' confidences.
    """
    labels = np.asarray(labels)
    starts, ends = runs(labels)
    keep = labels[starts] >= 0
    starts, ends = starts[keep], ends[keep]
    voice = labels[starts]
    start_s = np.maximum(starts * hop_s - hop_s / 2, 0.0)
    end_s = ends * hop_s - hop_s / 2
    if merge_gap_s is not None:
        start_s, end_s, voice = merge_runs(start_s, end_s, voice, max_gap_s=merge_gap_s)
    long_enough = (end_s - start_s) >= min_speech_s
    start_s, end_s, voice = start_s[long_enough], end_s[long_enough], voice[long_enough]
    # Mean confidence per segment, vectorised over the frame ranges.
    cum = np.r_[0.0, np.cumsum(confidence)]
    first, end = span_frames(np.c_[start_s, end_s], labels.size, hop_s)
    mean_confidence = (cum[end] - cum[first]) / np.maximum(end - first, 1)
    return start_s, end_s, voice, mean_confidence


def join_spans(
    y: np.ndarray, sr: float, spans: np.ndarray, *, pad_s: float = 0.1, gap_s: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """One voice's stretches, each with ``pad_s`` of context, joined with ``gap_s``
    of silence: one analysis (Praat's pitch, jitter, HNR) then covers that voice's
    speech, and no period or analysis window runs from one stretch into the next.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Signal.
    sr : float
        Sample rate (Hz).
    spans : np.ndarray, shape (n, 2)
        Stretches (s), clipped to the signal.
    pad_s, gap_s : float
        Context kept around each stretch, and silence between two (s).

    Returns
    -------
    joined : np.ndarray, shape (n_joined,), the dtype of ``y``
    spans : np.ndarray, shape (n, 2), float64
        The stretches' times in ``joined`` (s).
    """
    y = check_signal(y, sr, dtype=None)
    spans = check_spans(spans)
    pad, gap = round(pad_s * sr), round(gap_s * sr)
    starts = np.clip(np.round(spans[:, 0] * sr).astype(np.int64), 0, y.size)
    ends = np.clip(np.round(spans[:, 1] * sr).astype(np.int64), 0, y.size)
    lo, hi = np.clip(starts - pad, 0, y.size), np.clip(ends + pad, 0, y.size)
    # Offset of each piece in the joined signal: the pieces before it and their gaps.
    position = np.r_[0, np.cumsum(hi - lo + gap)[:-1]]
    index, _ = expand_ranges(lo, hi)
    joined = np.zeros(int(np.sum(hi - lo + gap)), dtype=y.dtype)
    joined[expand_ranges(position, position + hi - lo)[0]] = y[index]
    times = np.c_[position + starts - lo, position + ends - lo]
    return joined, times.astype(np.float64).reshape(-1, 2) / sr
