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
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    if y.size == 0:
        return SignalDiagnostics(-np.inf, -np.inf, 0.0, 0.0, (-np.inf,) * y.shape[0], sr / 2)
    live = [c for c in range(y.shape[0]) if np.mean(y[c] ** 2) > 0] or [0]
    mix = y[live].mean(axis=0)
    channel_rms = tuple(float(_db(np.mean(c**2))) for c in y)
    peak = float(np.max(np.abs(y)))
    clipped = float(np.mean(np.abs(y) >= CLIP_LEVEL) * 100)
    dc = float(mix.mean())
    centred = mix - dc
    return SignalDiagnostics(
        peak_dbfs=float(_db(peak**2)),
        rms_dbfs=float(_db(np.mean(centred**2))),
        clipped_pct=clipped,
        dc_offset=dc,
        channel_rms_dbfs=channel_rms,
        bandwidth_hz=_bandwidth(centred, sr, n_fft),
    )


def _bandwidth(x: np.ndarray, sr: float, n_fft: int) -> float:
    """Upper edge of the long-term spectrum (see :class:`SignalDiagnostics`)."""
    n = x.size // n_fft * n_fft
    if n == 0:
        return sr / 2
    # Long-term average spectrum from non-overlapping frames (vectorised, no loop).
    frames = x[:n].reshape(-1, n_fft) * np.hanning(n_fft)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    width = max(round(250 * n_fft / sr), 1)
    smooth = np.convolve(power, np.ones(width) / width, mode="same")
    if smooth.max() <= 0:
        return sr / 2
    level = _db(smooth / smooth.max())
    above = np.flatnonzero(level >= -BANDWIDTH_RANGE_DB)
    # The smoothing window reaches half its width past the last bin with signal.
    return float(min((above[-1] + width // 2) * sr / n_fft, sr / 2)) if above.size else 0.0
