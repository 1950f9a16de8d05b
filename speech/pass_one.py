"""Pass 1 of the segmenter: stream a recording once, block by block, and write every
frame track (intensity, vowel-band intensity, Praat pitch, channel levels, MFCCs,
spectral tracks) into arrays allocated once for the whole recording."""

from __future__ import annotations

import numpy as np

from corpora.corpus import Recording
from features.activity import digital_silence, silero_probability
from features.conditions import ConditionAccumulator
from features.frames import n_frames
from features.overlap import double_voicing
from features.quality import DiagnosticsAccumulator, live_mix
from features.speakers import voice_frames
from features.spectral import TRACKS as SPECTRAL_TRACKS
from features.spectral import spectral_tracks
from features.tracks import VOWEL_BAND_HZ, intensity_db, pitch_track

__all__ = ["SPECTRAL_BLOCK_S", "FrameTracks", "blocks_with_context", "pass_one"]

#: Block (s) of the spectral analysis inside each pass-1 block: the result does not
#: depend on it (to float32 rounding); its transient STFT frames do (some 90 MB less
#: at 10 s than at 60 s), and 10 s blocks stay in cache (20-40 % faster, measured).
SPECTRAL_BLOCK_S = 10.0


class FrameTracks:
    """Frame tracks of a whole recording, written block by block (pass 1) into arrays
    allocated once for the frames the recording's duration announces.

    Gathering blocks in lists and concatenating them would hold every track twice
    at the end (a 3-hour recording has 1.08 M frames: 22 spectral tracks and 19
    MFCCs in float32 are 170 MB, doubled). Pages of an ``np.empty`` array that are
    never written are never resident, so a generous estimate costs nothing; a
    recording that decodes longer than announced (a container's estimated duration)
    grows its arrays by half each time, so that the copies stay few.
    """

    def __init__(self, n_frames: int) -> None:
        self.capacity = max(1, int(n_frames))
        self._arrays: dict[str, np.ndarray] = {}
        self._filled: dict[str, int] = {}

    def add(self, name: str, values: np.ndarray | None, *, order: str = "C") -> None:
        """Append ``values`` (frames on the last axis) to track ``name``; ``order="F"``
        lays the frames out one after the other (for a consumer that wants frames
        as rows, e.g. the MFCCs for a GMM: its transpose is then C-contiguous)."""
        if values is None:
            return
        values = np.asarray(values)
        n, start = values.shape[-1], self._filled.get(name, 0)
        buffer = self._arrays.get(name)
        if buffer is None or start + n > buffer.shape[-1]:
            size = max(self.capacity, start + n if buffer is None else (start + n) * 3 // 2)
            grown = np.empty((*values.shape[:-1], size), dtype=values.dtype, order=order)
            if buffer is not None:
                grown[..., :start] = buffer[..., :start]
            self._arrays[name], buffer = grown, grown
        buffer[..., start : start + n] = values
        self._filled[name] = start + n

    def get(self, name: str) -> np.ndarray | None:
        """The frames written so far (a view, frames on the last axis)."""
        buffer = self._arrays.get(name)
        return None if buffer is None else buffer[..., : self._filled[name]]

    def release(self, *names: str) -> None:
        """Drop tracks no longer needed (their memory returns once no view is left)."""
        for name in names:
            self._arrays.pop(name, None)


def blocks_with_context(recording: Recording, config):
    """Frame-aligned blocks of the recording with ``context_s`` of audio on each side.

    Yields ``(audio (n_channels, n), left, core)``: ``audio[:, left:left + core]`` is
    the block proper; its first sample is a multiple of the hop, so frame ``m`` of a
    track computed on ``audio`` is global frame ``first + m - left / hop``.
    """
    sr, hop_n = config.sample_rate, round(config.hop_s * config.sample_rate)
    block_s = max(hop_n, round(config.block_s * sr) // hop_n * hop_n) / sr
    context = round(config.context_s * sr) // hop_n * hop_n
    blocks = recording.iter_blocks(block_s=block_s, sr=sr, mono=False)
    previous = None
    current = next(blocks, None)
    while current is not None:
        current = np.atleast_2d(current)
        upcoming = next(blocks, None)
        upcoming = None if upcoming is None else np.atleast_2d(upcoming)
        left = previous if previous is not None else current[:, :0]
        right = upcoming[:, :context] if upcoming is not None else current[:, :0]
        yield np.concatenate([left, current, right], axis=1), left.shape[1], current.shape[1]
        previous = current[:, -context:] if context else current[:, :0]
        current = upcoming


def pass_one(recording: Recording, config, want_mfcc: bool):
    """Stream the recording once: diagnostics and every frame track, block by block.

    ``config`` is the :class:`speech.segmentation.SegmentationConfig`. Returns the
    diagnostics, the :class:`FrameTracks` (frames on the last axis), the mix of
    the whole recording when it is a single block (pass 2 reuses it), else None, and
    the :class:`features.conditions.ConditionAccumulator` fed with every block's mix."""
    sr, hop = config.sample_rate, config.hop_s
    hop_n = round(hop * sr)
    diagnostics = DiagnosticsAccumulator()
    conditions = ConditionAccumulator(sr)
    # Frames the duration announces, plus a second of slack for resampling round-off
    # (an estimated or missing duration only costs the arrays a regrowth).
    duration_s = recording.info().duration_s
    announced = duration_s if np.isfinite(duration_s) and duration_s > 0 else config.block_s
    tracks = FrameTracks(n_frames(int(np.ceil(announced * sr)), sr, hop) + int(1 / hop))
    whole = None  # the mix, kept when the recording is a single block (pass 2 reuses it)
    for index, (audio, left, core) in enumerate(blocks_with_context(recording, config)):
        diagnostics.update(audio[:, left : left + core])
        skip = left // hop_n
        is_last = audio.shape[1] == left + core
        keep = slice(skip, skip + (1 + core // hop_n if is_last else core // hop_n))
        # Before the mean is removed: digital silence is exact zeros in the file.
        tracks.add("silence", digital_silence(live_mix(audio), sr, hop_s=hop)[keep])
        audio = audio - audio.mean(axis=1, keepdims=True)
        mix = live_mix(audio)
        conditions.update(mix[left : left + core])
        tracks.add("intensity", intensity_db(mix, sr, hop_s=hop)[keep])
        tracks.add("vowel_band", intensity_db(mix, sr, hop_s=hop, band_hz=VOWEL_BAND_HZ)[keep])
        f0, _ = pitch_track(mix, sr, hop_s=hop, pitch_floor_hz=config.pitch_floor_hz,
                            pitch_ceiling_hz=config.pitch_ceiling_hz, engine=config.engine)
        tracks.add("f0", f0[keep])
        if recording.n_speakers > 1 and not recording.channels:
            # Several voices in one mix: the evidence of overlapping speech.
            tracks.add("overlap_evidence", double_voicing(
                mix, sr, f0, hop_s=hop, pitch_floor_hz=config.pitch_floor_hz)[keep])
        if recording.channels:
            tracks.add("channel_levels", np.stack(
                [intensity_db(audio[c], sr, hop_s=hop)[keep] for c in range(audio.shape[0])]))
        power = None
        if config.features:
            # H1-H2 and H1-A3 take the first-pass F0: harmonic peaks are searched
            # within +-10% of it, which an adapted range would not move. One 25 ms
            # STFT serves the spectral tracks and the clustering's MFCCs.
            spectral, power = spectral_tracks(mix, sr, hop_s=hop, f0_hz=f0,
                                              block_s=SPECTRAL_BLOCK_S, return_power=True)
            tracks.add("spectral", np.stack([spectral[t.name][keep] for t in SPECTRAL_TRACKS])
                       .astype(np.float32))
        if want_mfcc:
            mfcc, level = voice_frames(mix, sr, hop_s=hop,
                                       power=power if power is not None and power.shape[0]
                                       == 1 + mix.size // hop_n else None)
            tracks.add("mfcc", mfcc[:, keep], order="F")
            tracks.add("level", level[keep])
        del power
        if config.vad == "silero":
            tracks.add("silero", silero_probability(mix, sr, hop_s=hop)[keep])
        whole = mix if index == 0 and is_last else None
    return diagnostics.result(sr), tracks, whole, conditions
