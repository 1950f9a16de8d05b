"""A recording's condition, estimated blind: codec band limit, gating, clipping, SNR,
reverberation.

Web-conference recordings arrive band-limited by a codec, gated to digital silence
in pauses, clipped, noisy or reverberant, and each of these biases some measures
(``features.registry``: ``biased_by``). These estimators say, per recording and in
numbers, which conditions it shows. They see a mono signal (or its Praat-style
intensity track, :func:`features.tracks.intensity_db`, on the common frame grid)
and, optionally, the speech-activity mask the pipeline already computes; long
recordings are fed block by block to :class:`ConditionAccumulator`.

- ``band_limit_hz``: the lowest frequency above which the long-term spectrum drops
  by more than ``drop_db`` below its level just underneath and stays down (a codec's
  or a telephone line's low-pass is a cliff; speech itself falls gently);
- ``gated_ratio``: fraction of samples in runs of digital silence (|x| <= 1 LSB of
  16-bit audio) lasting at least 20 ms (gates, muted pauses, lost packets);
- ``clipped_ratio``: fraction of samples in runs of >= 3 consecutive samples at
  >= 0.999 of the recording's peak (a flat top; single peaks of a smooth wave are not
  counted);
- ``snr_db``: speech-active power over the median non-speech power, the noise
  subtracted from the speech frames (a percentile SNR in the spirit of NIST's STNR);
  NaN when the pauses are digital silence (there is no floor to measure);
- ``reverb_decay_s``: a blind reverberation index, the median free-decay time of the
  level at speech offsets extrapolated to 60 dB (after the decay-rate distribution of
  Ratnam et al. 2003 and Löllmann et al. 2010); it grows with RT60 but is no unbiased
  RT60 (:func:`reverb_decay_s`).

References
----------
Löllmann, H. W., Yilmaz, E., Jeub, M. & Vary, P. (2010). An improved algorithm for
blind reverberation time estimation. Proc. IWAENC 2010.
Ratnam, R., Jones, D. L., Wheeler, B. C., O'Brien, W. D., Lansing, C. R. & Feng,
A. S. (2003). Blind estimation of reverberation time. JASA 114(5), 2877-2892.
NIST (1992). SPHERE speech-to-noise ratio (STNR) measurement, ``stnr`` in SPQA.
"""

from __future__ import annotations

import numpy as np

from features.activity import voice_activity
from features.frames import HOP_S, expand_ranges, runs
from features.tracks import intensity_db

__all__ = [
    "CONDITION_COLUMNS",
    "CONDITION_FLAGS",
    "ConditionAccumulator",
    "band_limit_hz",
    "clipped_ratio",
    "condition_flags",
    "gated_ratio",
    "recording_conditions",
    "reverb_decay_s",
    "snr_db",
]

#: The columns :func:`recording_conditions` returns, in order.
CONDITION_COLUMNS: tuple[str, ...] = (
    "band_limit_hz", "gated_ratio", "clipped_ratio", "snr_db", "reverb_decay_s",
)  # fmt: skip
#: Flag name -> (estimate, comparison, threshold, the synthetic conditions it reveals
#: in ``scripts/degradation.py`` and ``features/condition_bias.csv``). Thresholds: a
#: wideband file reads 7.4-8 kHz, narrowband codecs and telephone 3.6-4.6 kHz; the
#: synthesiser's clean floor is 47 dB below speech; a dry voice decays in ~0.18 s and
#: RT60 0.3 s reads 0.36 s.
CONDITION_FLAGS: dict[str, tuple[str, str, float, tuple[str, ...]]] = {
    "band_limited": ("band_limit_hz", "<", 7000.0, ("opus", "aac")),
    "gated": ("gated_ratio", ">", 0.05, ("gate",)),
    "clipped": ("clipped_ratio", ">", 0.001, ()),
    "noisy": ("snr_db", "<", 20.0, ("white", "babble")),
    "reverberant": ("reverb_decay_s", ">", 0.3, ("reverb",)),
}
#: One least significant bit of 16-bit PCM, as a fraction of full scale.
LSB_16 = 1.0 / 32768
#: Frames quieter than this (dBFS) are digital silence, not a noise floor: +-1 LSB
#: of 16-bit audio reads about -96 dBFS.
DIGITAL_SILENCE_DBFS = -90.0


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) index of each run of True
    (:func:`features.frames.runs`, the runs of True kept)."""
    mask = np.asarray(mask, dtype=bool)
    starts, ends = runs(mask)
    true = mask[starts] if starts.size else np.zeros(0, bool)
    return starts[true], ends[true]


def _run_samples(mask: np.ndarray, min_run: int) -> int:
    """Samples of ``mask`` inside runs of True at least ``min_run`` long."""
    starts, ends = _runs(mask)
    lengths = ends - starts
    return int(lengths[lengths >= min_run].sum())


def gated_ratio(y: np.ndarray, sr: float, *, min_run_s: float = 0.02,
                lsb: float = LSB_16) -> float:
    """Fraction of the signal in digital silence: runs of ``|x| <= lsb`` of at least
    ``min_run_s``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal, full scale 1.0.
    sr : float
        Sample rate (Hz).
    min_run_s : float
        Shortest run counted (s): 20 ms, one codec packet; shorter near-zero stretches
        happen in speech (zero crossings of a quiet fricative).
    lsb : float
        Largest magnitude counted as silent (one 16-bit LSB: dithered silence too).

    Returns
    -------
    float
        In [0, 1]; 0 for an empty signal.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return 0.0
    return _run_samples(np.abs(y) <= lsb, max(1, round(min_run_s * sr))) / y.size


def clipped_ratio(y: np.ndarray, *, min_run: int = 3, level: float = 0.999) -> float:
    """Fraction of samples in flat tops: runs of at least ``min_run`` consecutive
    samples at ``|x| >= level * max|x|``.

    Relative to the recording's own peak, so a clipped recording that was scaled down
    afterwards still shows its plateaus. A smooth waveform reaches within 0.1 % of its
    peak on at most two or three samples per cycle at 16 kHz, and only at the one
    loudest peak.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    min_run : int
        Shortest plateau counted (samples).
    level : float
        Fraction of the peak from which a sample counts as at the peak.

    Returns
    -------
    float
        In [0, 1]; 0 for an empty or silent signal.
    """
    y = np.abs(np.asarray(y, dtype=np.float64))
    peak = float(y.max()) if y.size else 0.0
    if peak <= 0:
        return 0.0
    return _run_samples(y >= level * peak, min_run) / y.size


def long_term_spectrum(y: np.ndarray, *, n_fft: int = 512) -> np.ndarray:
    """Sum of the Hann-windowed power spectra of non-overlapping frames, shape
    (n_fft // 2 + 1,); the remainder shorter than a frame is left out."""
    y = np.asarray(y, dtype=np.float64)
    whole = y.size // n_fft * n_fft
    if not whole:
        return np.zeros(n_fft // 2 + 1)
    frames = y[:whole].reshape(-1, n_fft)
    frames = (frames - frames.mean(axis=1, keepdims=True)) * np.hanning(n_fft)
    return (np.abs(np.fft.rfft(frames, axis=1)) ** 2).sum(axis=0)


def band_limit_hz(y: np.ndarray | None, sr: float, *, power: np.ndarray | None = None,
                  n_fft: int = 512, drop_db: float = 20.0, below_hz: float = 500.0,
                  gap_hz: float = 250.0, min_hz: float = 2000.0) -> float:
    """Effective band limit: the lowest frequency above which the long-term spectrum
    stays more than ``drop_db`` below its median level over the ``below_hz`` under it.

    Speech falls by at most ~12 dB per octave, so within ``gap_hz`` only a low-pass
    filter (a codec, a telephone line, a resampler) makes the spectrum drop this far
    for good. Broadband noise fills such a cliff: then the signal is band-unlimited.

    Parameters
    ----------
    y : np.ndarray, shape (n,), or None
        Mono signal (None when ``power`` is given).
    sr : float
        Sample rate (Hz).
    power : np.ndarray, shape (n_fft // 2 + 1,), optional
        A long-term power spectrum (:func:`long_term_spectrum`), e.g. summed over blocks.
    n_fft : int
        Frame length of the spectrum (512 at 16 kHz: 31 Hz bins).
    drop_db, below_hz, gap_hz : float
        The cliff: a drop of more than ``drop_db`` (dB) from the median level over
        ``below_hz`` below the candidate to the maximum anywhere from ``gap_hz`` above it.
    min_hz : float
        Lowest candidate (Hz): every speech codec passes 3.4 kHz, while a short vowel
        can fall 20 dB above its first formant (seen on a 0.8 s real telephone file).

    Returns
    -------
    float
        The band limit (Hz): about 3.9 kHz for 8 kHz telephone audio or narrowband
        Opus, 7.5-8 kHz for wideband audio at 16 kHz; ``sr / 2`` when no cliff is found.
    """
    if power is None:
        power = long_term_spectrum(y, n_fft=n_fft)
    power = np.asarray(power, dtype=np.float64)
    if not np.any(power > 0):
        return float(sr / 2)
    level = 10 * np.log10(np.maximum(power, power.max() * 1e-15))
    bin_hz = sr / n_fft
    below, gap = max(1, round(below_hz / bin_hz)), max(1, round(gap_hz / bin_hz))
    # Maximum from each bin to the top (reverse cumulative max), and the median of the
    # `below` bins under each bin (strided windows: one array, no loop).
    tail_max = np.maximum.accumulate(level[::-1])[::-1]
    under = np.median(np.lib.stride_tricks.sliding_window_view(level, below), axis=1)
    # Candidate edges from min_hz, with both windows inside the spectrum.
    k = np.arange(max(below, round(min_hz / bin_hz)), level.size - gap)
    cliff = under[k - below] - tail_max[k + gap] > drop_db
    return float(k[np.argmax(cliff)] * bin_hz) if cliff.any() else float(sr / 2)


def condition_flags(estimates: dict[str, float]) -> list[str]:
    """The :data:`CONDITION_FLAGS` a recording's estimates raise (NaN raises none)."""
    flags = []
    for flag, (column, op, threshold, _) in CONDITION_FLAGS.items():
        value = float(estimates.get(column, np.nan))
        if np.isfinite(value) and (value < threshold if op == "<" else value > threshold):
            flags.append(flag)
    return flags


def _default_activity(level_db: np.ndarray, hop_s: float) -> np.ndarray:
    return voice_activity(level_db, None, hop_s=hop_s)


def snr_db(level_db: np.ndarray, active: np.ndarray | None = None, *,
           hop_s: float = HOP_S) -> float:
    """Speech-to-noise ratio: speech-active power (noise subtracted) over the median
    power of the non-speech frames.

    Parameters
    ----------
    level_db : np.ndarray, shape (n_frames,)
        Frame level (dBFS), :func:`features.tracks.intensity_db` on the frame grid.
    active : np.ndarray, shape (n_frames,), bool, optional
        Speech activity (default: :func:`features.activity.voice_activity` on the level).
    hop_s : float
        Frame hop (s).

    Returns
    -------
    float
        SNR (dB); NaN without speech, or when fewer than half of the non-speech frames
        (or fewer than 10) are above digital silence (:data:`DIGITAL_SILENCE_DBFS`):
        gated pauses have no noise floor to measure. Capped below at -20 dB.
    """
    level = np.asarray(level_db, dtype=np.float64)
    active = _default_activity(level, hop_s) if active is None else np.asarray(active, bool)
    pause = level[~active & np.isfinite(level)]
    floor = pause[pause > DIGITAL_SILENCE_DBFS]
    if not active.any() or floor.size < max(10, pause.size / 2):
        return float("nan")
    noise = float(np.median(10 ** (floor / 10)))
    speech = float(np.mean(10 ** (level[active & np.isfinite(level)] / 10)))
    return float(10 * np.log10(max(speech - noise, noise * 0.01) / noise))


def reverb_decay_s(level_db: np.ndarray, *, hop_s: float = HOP_S, min_frames: int = 5,
                   min_drop_db: float = 5.0, above_floor_db: float = 10.0) -> float:
    """Blind reverberation index: the median free-decay time of the level, extrapolated
    to 60 dB (s), over the decays at speech offsets.

    Every run of at least ``min_frames`` consecutively falling frames that stays
    ``above_floor_db`` above the noise floor (the 1st percentile of the level) and falls
    by at least ``min_drop_db`` is a decay; its rate is its least-squares slope (dB/s).
    A room slows every offset down to its own decay rate (60 dB per RT60), so the
    median decay time grows with the reverberation time (the decay-rate distribution
    of Ratnam et al. 2003 and Löllmann et al. 2010, with the median instead of their
    maximum-likelihood fit of each decay).

    Not an unbiased RT60: a dry voice reads about 0.18 s (the 64 ms window smears its
    offsets), and rooms above RT60 ~0.8 s read alike (~0.5 s) when the pauses are too
    short for their tails to fall far (measured on the synthetic corpus, see tests).

    Parameters
    ----------
    level_db : np.ndarray, shape (n_frames,)
        Frame level (dBFS) from :func:`features.tracks.intensity_db`.
    hop_s : float
        Frame hop (s).
    min_frames, min_drop_db, above_floor_db : float
        The decay selection described above.

    Returns
    -------
    float
        Decay time (s); NaN with fewer than 5 decays.
    """
    level = np.asarray(level_db, dtype=np.float64)
    finite = np.isfinite(level)
    if finite.sum() < 2 * min_frames:
        return float("nan")
    floor = np.percentile(level[finite], 1)
    # A frame continues a decay when it is lower than the previous one and still
    # clear of the floor; runs of such steps are the decays.
    falling = (np.diff(level) < 0) & (level[1:] > floor + above_floor_db) & finite[1:]
    starts, ends = _runs(falling)  # steps starts..ends-1: frames starts..ends
    ends = ends + 1
    keep = ends - starts >= min_frames
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return float("nan")
    # Least-squares slope of each run, all runs at once. Time is counted from each
    # run's start: cumulative sums over the whole recording's clock cancel
    # catastrophically in n*stt - st**2 once t reaches hours.
    index, owner = expand_ranges(starts, ends)
    t = (index - starts[owner]) * hop_s
    y = level[index]
    n, st, sl, stl, stt = (np.bincount(owner, weights=w, minlength=starts.size)
                           for w in (np.ones_like(t), t, y, t * y, t * t))
    slope = (n * stl - st * sl) / (n * stt - st**2)
    rates = -slope[level[starts] - level[ends - 1] >= min_drop_db]
    if rates.size < 5:
        return float("nan")
    return float(60.0 / np.median(rates))


class ConditionAccumulator:
    """Streaming :func:`recording_conditions`: feed consecutive blocks of the mono mix,
    then read the result once with the recording's level track and activity.

    Keeps sums only (long-term spectrum, gated samples, per-block plateaus): a 3-hour
    recording costs constant memory. Runs of silence or plateaus cut by a block edge
    are counted per part (blocks are tens of seconds: the error is a few samples).
    """

    def __init__(self, sr: float, *, n_fft: int = 512) -> None:
        self.sr, self.n_fft = float(sr), int(n_fft)
        self.n = 0
        self.gated = 0
        self.power = np.zeros(self.n_fft // 2 + 1)
        self._peaks: list[float] = []
        self._plateaus: list[int] = []

    def update(self, y: np.ndarray) -> None:
        """Add the next block of the mix, shape (n,)."""
        y = np.asarray(y, dtype=np.float64)
        if y.size == 0:
            return
        self.n += y.size
        self.gated += round(gated_ratio(y, self.sr) * y.size)
        self.power += long_term_spectrum(y, n_fft=self.n_fft)
        self._peaks.append(float(np.max(np.abs(y))))
        self._plateaus.append(round(clipped_ratio(y) * y.size))

    def result(self, level_db: np.ndarray, active: np.ndarray | None = None, *,
               hop_s: float = HOP_S) -> dict[str, float]:
        """The five estimates (:data:`CONDITION_COLUMNS`) for everything fed so far."""
        peaks = np.asarray(self._peaks)
        # Plateaus count only in blocks that reach the recording's peak (a block's own
        # quieter maximum is no clipping level).
        at_peak = peaks >= 0.999 * peaks.max() if peaks.size else peaks.astype(bool)
        clipped = float(np.asarray(self._plateaus)[at_peak].sum()) if peaks.size else 0.0
        return {
            "band_limit_hz": band_limit_hz(None, self.sr, power=self.power, n_fft=self.n_fft),
            "gated_ratio": self.gated / self.n if self.n else 0.0,
            "clipped_ratio": clipped / self.n if self.n and peaks.max() > 0 else 0.0,
            "snr_db": snr_db(level_db, active, hop_s=hop_s),
            "reverb_decay_s": reverb_decay_s(level_db, hop_s=hop_s),
        }


def recording_conditions(y: np.ndarray, sr: float, *, active: np.ndarray | None = None,
                         hop_s: float = HOP_S) -> dict[str, float]:
    """Every condition estimate of one recording.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal, full scale 1.0.
    sr : float
        Sample rate (Hz).
    active : np.ndarray, shape (n_frames,), bool, optional
        Speech activity on the frame grid of ``hop_s`` (default: estimated from the
        level, :func:`features.activity.voice_activity`).
    hop_s : float
        Frame hop (s).

    Returns
    -------
    dict
        ``band_limit_hz`` (Hz), ``gated_ratio``, ``clipped_ratio`` (fractions of the
        samples), ``snr_db`` (dB, NaN for gated pauses), ``reverb_decay_s`` (s).
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"recording_conditions takes a mono signal, got shape {y.shape}")
    accumulator = ConditionAccumulator(sr, n_fft=_n_fft(sr))
    accumulator.update(y)
    return accumulator.result(intensity_db(y, sr, hop_s=hop_s), active, hop_s=hop_s)


def _n_fft(sr: float) -> int:
    """A power of two near 32 ms (512 at 16 kHz, 256 at 8 kHz)."""
    return int(2 ** np.round(np.log2(0.032 * sr)))
