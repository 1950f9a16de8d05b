"""Recording-level signal diagnostics: level, clipping, DC offset, dead channels,
bandwidth.

These do not change any measurement; they say, in numbers, why a recording may
measure badly (a clipped web-conference recording, a telephone-band file, a
stereo export whose second channel is empty), so that the pipeline can report it
instead of failing or silently producing odd values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Below this RMS (dBFS) a channel carries no signal at all.
DEAD_CHANNEL_DBFS = -70.0
#: Samples at or above this magnitude count as clipped (full scale is 1.0).
CLIP_LEVEL = 0.999
#: A DC offset above this fraction of full scale is worth reporting.
DC_REPORT = 0.01
#: Spectral range (dB below the LTAS maximum) that still counts as signal.
BANDWIDTH_RANGE_DB = 50.0
#: Narrower than this (Hz) is telephone-band audio: 8 kHz sampling keeps < 4 kHz,
#: and the 250 Hz smoothing of the spectrum widens the edge a little.
NARROW_BAND_HZ = 4500.0


@dataclass(frozen=True)
class SignalDiagnostics:
    """Numbers describing a recording's condition (see :func:`diagnose`).

    Attributes
    ----------
    peak_dbfs, rms_dbfs : float
        Peak and RMS level of the mix (dB re full scale; ``-inf`` for silence).
    clipped_pct : float
        Percentage of samples at full scale (>= :data:`CLIP_LEVEL`).
    dc_offset : float
        Mean of the mix (fraction of full scale).
    channel_rms_dbfs : tuple of float
        RMS level of each channel.
    bandwidth_hz : float
        Highest frequency at which the long-term average spectrum (smoothed
        over ~250 Hz) is within :data:`BANDWIDTH_RANGE_DB` of its maximum: about
        3400-3800 Hz for an 8 kHz telephone recording resampled to 16 kHz, the
        Nyquist frequency for wideband speech with its fricatives.
    """

    peak_dbfs: float
    rms_dbfs: float
    clipped_pct: float
    dc_offset: float
    channel_rms_dbfs: tuple[float, ...]
    bandwidth_hz: float

    @property
    def dead_channels(self) -> list[int]:
        """Channels without signal, in a recording that has more than one."""
        if len(self.channel_rms_dbfs) < 2:
            return []
        return [i for i, db in enumerate(self.channel_rms_dbfs) if db < DEAD_CHANNEL_DBFS]

    @property
    def silent(self) -> bool:
        return self.rms_dbfs < DEAD_CHANNEL_DBFS

    def warnings(self) -> list[str]:
        """Plain-language notes for the recording's report (empty when all is well)."""
        notes = []
        if self.silent:
            notes.append(f"no signal: RMS {self.rms_dbfs:.0f} dBFS")
        if self.clipped_pct >= 0.1:
            notes.append(f"clipped: {self.clipped_pct:.1f}% of samples at full scale; "
                         "intensity and voice-quality measures are biased")
        if abs(self.dc_offset) >= DC_REPORT:
            notes.append(f"DC offset {self.dc_offset:+.3f} of full scale (removed before analysis)")
        for channel in self.dead_channels:
            notes.append(f"channel {channel} is silent ({self.channel_rms_dbfs[channel]:.0f} "
                         "dBFS); it is ignored")
        if not self.silent and self.bandwidth_hz < NARROW_BAND_HZ:
            notes.append(f"narrow band: 99% of the energy below {self.bandwidth_hz:.0f} Hz "
                         "(telephone or heavily compressed audio); spectral measures above "
                         "that are meaningless")
        return notes


def _db(power: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power)


class DiagnosticsAccumulator:
    """Streaming :func:`diagnose`: feed consecutive blocks, read the result once.

    Keeps sums only (level, clipping, DC, per-channel power, long-term spectrum),
    so a 3-hour recording is diagnosed in blocks with constant memory.
    """

    def __init__(self, *, n_fft: int = 1024):
        self.n_fft = n_fft
        self.n = 0
        self.total = 0.0
        self.total_sq = 0.0
        self.peak = 0.0
        self.clipped = 0
        self.channel_sq: np.ndarray | None = None
        self.ltas = np.zeros(n_fft // 2 + 1)
        self.ltas_frames = 0
        self._tail = np.zeros(0)

    def update(self, y: np.ndarray) -> None:
        """Add the next block, shape (n,) or (n_channels, n)."""
        y = np.atleast_2d(np.asarray(y, dtype=np.float64))
        if y.shape[1] == 0:
            return
        if self.channel_sq is None:
            self.channel_sq = np.zeros(y.shape[0])
        self.channel_sq += (y**2).sum(axis=1)
        self.peak = max(self.peak, float(np.max(np.abs(y))))
        self.clipped += int(np.count_nonzero(np.abs(y) >= CLIP_LEVEL))
        live = self.channel_sq > 0
        mix = y[live].mean(axis=0) if live.any() else y[0]
        self.n += mix.size
        self.total += float(mix.sum())
        self.total_sq += float((mix**2).sum())
        # Long-term spectrum over non-overlapping frames, carrying the remainder over.
        x = np.concatenate([self._tail, mix])
        whole = x.size // self.n_fft * self.n_fft
        if whole:
            frames = x[:whole].reshape(-1, self.n_fft)
            frames = (frames - frames.mean(axis=1, keepdims=True)) * np.hanning(self.n_fft)
            self.ltas += (np.abs(np.fft.rfft(frames, axis=1)) ** 2).sum(axis=0)
            self.ltas_frames += frames.shape[0]
        self._tail = x[whole:]

    def result(self, sr: float) -> SignalDiagnostics:
        if self.n == 0 or self.channel_sq is None:
            channels = 1 if self.channel_sq is None else self.channel_sq.size
            return SignalDiagnostics(-np.inf, -np.inf, 0.0, 0.0, (-np.inf,) * channels, sr / 2)
        mean = self.total / self.n
        power = max(self.total_sq / self.n - mean**2, 0.0)
        samples = self.n * self.channel_sq.size
        return SignalDiagnostics(
            peak_dbfs=float(_db(self.peak**2)),
            rms_dbfs=float(_db(power)),
            clipped_pct=100.0 * self.clipped / samples,
            dc_offset=mean,
            channel_rms_dbfs=tuple(float(_db(c / self.n)) for c in self.channel_sq),
            bandwidth_hz=_bandwidth(self.ltas / max(self.ltas_frames, 1), sr, self.n_fft)
            if self.ltas_frames
            else sr / 2,
        )


def diagnose(y: np.ndarray, sr: float, *, n_fft: int = 1024) -> SignalDiagnostics:
    """Measure a recording's condition.

    Parameters
    ----------
    y : np.ndarray, shape (n,) or (n_channels, n)
        Samples in [-1, 1].
    sr : float
        Sample rate (Hz).
    n_fft : int
        FFT size of the long-term spectrum used for the bandwidth.

    Returns
    -------
    SignalDiagnostics
    """
    accumulator = DiagnosticsAccumulator(n_fft=n_fft)
    accumulator.update(y)
    return accumulator.result(sr)


def _bandwidth(power: np.ndarray, sr: float, n_fft: int) -> float:
    """Upper edge of a long-term power spectrum (see :class:`SignalDiagnostics`)."""
    width = max(round(250 * n_fft / sr), 1)
    smooth = np.convolve(power, np.ones(width) / width, mode="same")
    if smooth.max() <= 0:
        return sr / 2
    level = _db(smooth / smooth.max())
    above = np.flatnonzero(level >= -BANDWIDTH_RANGE_DB)
    # The smoothing window reaches half its width past the last bin with signal.
    return float(min((above[-1] + width // 2) * sr / n_fft, sr / 2)) if above.size else 0.0


def live_mix(audio: np.ndarray) -> np.ndarray:
    """Mean of the channels that carry signal (a dead channel would halve the level).

    Parameters
    ----------
    audio : np.ndarray, shape (n_channels, n_samples)

    Returns
    -------
    np.ndarray, shape (n_samples,)
        Mean of the channels whose mean power is above :data:`DEAD_CHANNEL_DBFS`
        (of all channels when none is).
    """
    live = np.mean(audio**2, axis=1) > 10 ** (DEAD_CHANNEL_DBFS / 10)
    return audio[live].mean(axis=0) if live.any() else audio.mean(axis=0)
