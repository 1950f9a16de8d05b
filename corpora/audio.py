"""Recordings and audio decoding.

One entry point per need, all returning float32 samples in [-1, 1] with channels on the
first axis and time on the last (as librosa):

- :func:`audio_info` reads the header only (sample rate, channels, length, codec);
- :func:`load_audio` decodes a span of a file, optionally selecting channels, mixing to
  mono and resampling;
- :func:`iter_blocks` streams a long file block by block, so that a three-hour interview
  never sits in memory whole, with seamless resampling across block boundaries;
- :func:`verify_audio` decodes a whole file and checks it against its header (the
  ``check`` command runs it on every recording).

Backends are chosen by extension: libsndfile (through :mod:`soundfile`) for
``.wav .flac .ogg .mp3``, FFmpeg (through PyAV) for the ``.m4a .mp4 .webm`` that web
conferencing tools export. Every failure is raised as :class:`~corpora.problems.CorpusError`
naming the file, chained to the backend's exception.

Time zero is the first sample of the audio stream. For the FFmpeg containers that is the
first sample after the encoder's priming samples, which FFmpeg drops.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
import soundfile as sf
import soxr

from corpora.problems import CorpusError

__all__ = [
    "FFMPEG_EXTENSIONS",
    "SOUNDFILE_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "AudioInfo",
    "audio_info",
    "iter_blocks",
    "load_audio",
    "verify_audio",
]

SOUNDFILE_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3")
FFMPEG_EXTENSIONS: tuple[str, ...] = (".m4a", ".mp4", ".webm")
SUPPORTED_EXTENSIONS: tuple[str, ...] = SOUNDFILE_EXTENSIONS + FFMPEG_EXTENSIONS

#: soxr quality used for every resampling, one-shot and streamed alike, so both agree.
RESAMPLE_QUALITY = "HQ"

# After a seek, lossy decoders need some audio before the target to converge (the MDCT
# overlap of AAC: 1024 samples; Opus recommends 80 ms of pre-roll). Decoding from 0.2 s
# earlier and discarding covers both at any common sample rate.
_FFMPEG_PREROLL_S = 0.2

# Where the length is an estimate (a WebM header gives the duration to the millisecond,
# not a sample count), a decoded length within this many seconds is consistent.
_ESTIMATE_TOLERANCE_S = 0.1

# Internal block length when decoding a whole span at once.
_LOAD_BLOCK_FRAMES = 1 << 20

# libsndfile logs a chunk whose header claims more bytes than the file holds as
# "data : 176400 (should be 88178)"; it then silently reads what is there.
_SHORT_CHUNK = re.compile(r"^\s*(data|SSND|ds64)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Streaming recorders leave these placeholders in the header when never finalised; that is
# an unknown length, not a truncation.
_PLACEHOLDER_SIZES = {0, 0xFFFFFFFF, 0xFFFFFFFF - 1}


@dataclass(frozen=True)
class AudioInfo:
    """What a recording's header says about it.

    Attributes
    ----------
    path : str
        The file, as given.
    sample_rate : int
        Native sample rate in Hz.
    num_channels : int
        Number of channels in the file (the first audio stream for containers).
    num_frames : int
        Length in samples per channel at ``sample_rate``.
    duration_s : float
        Length in seconds, ``num_frames / sample_rate``.
    format : str
        Container and codec, e.g. ``"WAV/PCM_16"`` or ``"mov,mp4,m4a,3gp,3g2,mj2/aac"``.
    frames_exact : bool
        False when ``num_frames`` is an estimate from a container duration (WebM);
        :func:`verify_audio` returns the exact count after decoding.
    """

    path: str
    sample_rate: int
    num_channels: int
    num_frames: int
    duration_s: float
    format: str
    frames_exact: bool = True


# --------------------------------------------------------------------------- helpers


def _error(path: str | Path, message: str, e: BaseException | None = None, **where) -> CorpusError:
    detail = f"{message}: {e}" if e is not None and str(e) else message
    return CorpusError.single(str(path), detail, **where)


def _backend(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in SOUNDFILE_EXTENSIONS:
        return "soundfile"
    if ext in FFMPEG_EXTENSIONS:
        return "ffmpeg"
    raise CorpusError.single(
        str(path),
        f"unsupported audio extension; supported: {' '.join(SUPPORTED_EXTENSIONS)}",
        value=path.suffix,
    )


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    _backend(p)  # the extension error first: it does not need the file
    if not p.exists():
        raise CorpusError.single(str(path), "audio file not found")
    if not p.is_file():
        raise CorpusError.single(str(path), "not a regular file")
    if p.stat().st_size == 0:
        raise CorpusError.single(str(path), "empty audio file (0 bytes)")
    return p


def _soundfile_info(path: Path) -> AudioInfo:
    try:
        with sf.SoundFile(str(path)) as f:
            sr, ch, n = int(f.samplerate), int(f.channels), int(f.frames)
            fmt = f"{f.format}/{f.subtype}"
            log = f.extra_info
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise _error(path, "cannot read audio header (corrupt or not audio)", e) from e
    # libsndfile 1.2 reads a truncated WAV/AIFF without complaint and reports the frames
    # actually present; only its log shows that the header promised more.
    for m in _SHORT_CHUNK.finditer(log):
        claimed, present = int(m.group(2)), int(m.group(3))
        if claimed not in _PLACEHOLDER_SIZES and claimed > present:
            raise CorpusError.single(
                str(path),
                f"truncated file: the {m.group(1)!r} chunk header claims {claimed} bytes "
                f"but only {present} are present",
            )
    return AudioInfo(str(path), sr, ch, n, n / sr if sr else 0.0, fmt)


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise _error(path, "cannot open media container (corrupt or truncated)", e) from e
    if not container.streams.audio:
        container.close()
        raise CorpusError.single(str(path), "the container has no audio stream")
    return container


def _ffmpeg_info(path: Path) -> AudioInfo:
    with _open_container(path) as container:
        stream = container.streams.audio[0]
        sr = int(stream.codec_context.sample_rate or stream.sample_rate or 0)
        ch = int(stream.codec_context.channels or 0)
        if sr <= 0 or ch <= 0:
            raise CorpusError.single(str(path), "audio stream has no sample rate or channels")
        fmt = f"{container.format.name}/{stream.codec_context.name}"
        if stream.duration is not None and stream.time_base is not None:
            # MP4 headers hold the exact stream length (after the edit list that hides
            # the encoder priming); the decoder pads the last frame past it.
            n = round(float(stream.duration * stream.time_base) * sr)
            exact = True
        elif container.duration is not None:
            n = round(container.duration / av.time_base * sr)
            exact = False
        else:
            n, exact = 0, False
    return AudioInfo(str(path), sr, ch, n, n / sr, fmt, frames_exact=exact)


def audio_info(path: str | Path) -> AudioInfo:
    """Read a recording's header.

    Parameters
    ----------
    path : str or Path
        An audio file with one of :data:`SUPPORTED_EXTENSIONS`.

    Returns
    -------
    AudioInfo
        Sample rate, channels, length and codec. Only the header is read (for WAV,
        also libsndfile's parse log, to catch a file shorter than its header says).

    Raises
    ------
    CorpusError
        Missing, empty, corrupt or truncated file, unsupported extension, no audio
        stream, or no audio frames.
    """
    p = _check_file(path)
    info = _soundfile_info(p) if _backend(p) == "soundfile" else _ffmpeg_info(p)
    if info.frames_exact and info.num_frames == 0:
        raise CorpusError.single(str(path), "the file contains no audio frames")
    return info


def _to_float_planar(frame: av.AudioFrame) -> np.ndarray:
    """Decoded frame -> (channels, n) float32, whatever the decoder's sample format."""
    fmt = frame.format
    arr = frame.to_ndarray()
    n_ch = len(frame.layout.channels)
    if not fmt.is_planar:  # packed: (1, n * channels), interleaved
        arr = arr.reshape(-1, n_ch).T
    name = fmt.name.rstrip("p")
    if name in ("flt", "dbl"):
        return arr.astype(np.float32, copy=False)
    scale = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}
    if name == "u8":
        return ((arr.astype(np.float32) - 128.0) / scale[name]).astype(np.float32)
    return (arr.astype(np.float64) / scale[name]).astype(np.float32)


def _rechunk(chunks: Iterator[np.ndarray], block: int | None) -> Iterator[np.ndarray]:
    """Regroup (channels, n) chunks into blocks of exactly ``block`` frames (last shorter).

    ``block=None`` yields a single block with everything.
    """
    pending: list[np.ndarray] = []
    have = 0
    for chunk in chunks:
        if chunk.shape[-1] == 0:
            continue
        pending.append(chunk)
        have += chunk.shape[-1]
        while block is not None and have >= block:
            joined = np.concatenate(pending, axis=-1)
            yield joined[..., :block]
            rest = joined[..., block:]
            pending, have = ([rest], rest.shape[-1]) if rest.shape[-1] else ([], 0)
    if pending:
        yield np.concatenate(pending, axis=-1)


def _soundfile_chunks(info: AudioInfo, start: int, stop: int, block: int) -> Iterator[np.ndarray]:
    path = info.path
    try:
        with sf.SoundFile(path) as f:
            if start:
                f.seek(start)  # libsndfile seeks, also in FLAC, Ogg and MP3
            pos = start
            while pos < stop:
                data = f.read(min(block, stop - pos), dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    break
                pos += data.shape[0]
                yield data.T
    except (sf.LibsndfileError, RuntimeError) as e:
        raise _error(path, "audio decoding failed", e) from e


def _ffmpeg_chunks(info: AudioInfo, start: int, stop: int | None) -> Iterator[np.ndarray]:
    path = Path(info.path)
    sr = info.sample_rate
    try:
        with _open_container(path) as container:
            stream = container.streams.audio[0]
            tb = stream.time_base
            t0 = stream.start_time or 0
            if start > 0:
                seek_s = max(0.0, start / sr - _FFMPEG_PREROLL_S)
                container.seek(int(seek_s / tb) + t0, stream=stream, backward=True)
            pos: int | None = None
            for frame in container.decode(stream):
                if pos is None:
                    # Anchor on the first frame's timestamp only, then count samples: WebM
                    # timestamps are rounded to the millisecond and would jitter.
                    pos = round(float((frame.pts - t0) * tb) * sr) if frame.pts is not None else 0
                    pos = max(pos, 0)
                data = _to_float_planar(frame)
                lo, hi = pos, pos + data.shape[-1]
                pos = hi
                if hi <= start:
                    continue
                if stop is not None and lo >= stop:
                    break
                a = max(start - lo, 0)
                b = data.shape[-1] if stop is None else min(stop - lo, data.shape[-1])
                yield data[:, a:b]
    except av.error.FFmpegError as e:
        raise _error(path, "audio decoding failed (corrupt or truncated)", e) from e


def _native_chunks(
    info: AudioInfo, start: int, stop: int | None, block: int
) -> Iterator[np.ndarray]:
    """(channels, n) float32 chunks at the native rate covering frames [start, stop).

    Raises :class:`CorpusError` at the first NaN or infinite sample (see :func:`_finite`).
    """
    if _backend(Path(info.path)) == "soundfile":
        end = info.num_frames if stop is None else min(stop, info.num_frames)
        return _finite(_soundfile_chunks(info, start, end, block), info, start)
    if stop is None and info.frames_exact:
        stop = info.num_frames  # trim the decoder's padding of the last AAC frame
    return _finite(_rechunk(_ffmpeg_chunks(info, start, stop), block), info, start)


def _finite(chunks: Iterator[np.ndarray], info: AudioInfo, start: int) -> Iterator[np.ndarray]:
    """Pass chunks through, refusing the first NaN or infinite sample.

    Only floating-point files can hold them (a damaged float WAV, a buggy export). They
    are refused, not repaired: clipping would turn +Inf into full-scale samples and
    NaN would spread through every filter, silently. The message names the time of the
    first bad sample so that the file can be inspected (or cut) there.
    """
    pos = start
    for x in chunks:
        if not np.isfinite(x).all():
            bad = ~np.isfinite(x)
            i = int(np.flatnonzero(bad.any(axis=0))[0])
            channel = int(np.flatnonzero(bad[:, i])[0])
            frame = pos + i
            raise CorpusError.single(
                info.path,
                f"non-finite sample at {frame / info.sample_rate:.3f} s (frame {frame}, "
                f"channel {channel}): the audio holds NaN or infinite values",
                value=str(x[channel, i]),
            )
        pos += x.shape[-1]
        yield x


def _check_channels(info: AudioInfo, channels: Sequence[int] | None) -> list[int] | None:
    if channels is None:
        return None
    chans = [int(c) for c in channels]
    bad = [c for c in chans if not 0 <= c < info.num_channels]
    if not chans or bad:
        raise CorpusError.single(
            info.path,
            f"channel index out of range: the file has {info.num_channels} channel(s), "
            f"valid indices are 0..{info.num_channels - 1}",
            value=str(list(channels)),
        )
    return chans


def _select(x: np.ndarray, chans: list[int] | None, mono: bool) -> np.ndarray:
    """(channels, n) -> selected channels; mixed to (n,) when mono or one channel chosen."""
    if chans is not None:
        x = x[chans]
    if x.shape[0] == 1 and (mono or chans is not None):
        return x[0]
    if mono:
        return x.mean(axis=0, dtype=np.float32)
    return x


def _span(info: AudioInfo, offset_s: float, duration_s: float | None) -> tuple[int, int | None]:
    if not offset_s >= 0:  # also catches NaN
        raise CorpusError.single(info.path, "offset must be >= 0 seconds", value=str(offset_s))
    if duration_s is not None and not duration_s >= 0:
        raise CorpusError.single(info.path, "duration must be >= 0 seconds", value=str(duration_s))
    sr = info.sample_rate
    start = round(offset_s * sr)
    if info.frames_exact and start > info.num_frames:
        raise CorpusError.single(
            info.path,
            f"offset is beyond the end of the recording ({info.duration_s:.3f} s)",
            value=str(offset_s),
        )
    stop = None if duration_s is None else start + round(duration_s * sr)
    return start, stop


def _check_rate(sr: int | None) -> None:
    if sr is not None and not (isinstance(sr, int | np.integer) and sr > 0):
        raise ValueError(f"sr must be a positive integer number of Hz (got {sr!r})")


# --------------------------------------------------------------------------- public API


def load_audio(
    path: str | Path,
    *,
    sr: int | None = None,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    mono: bool = True,
    channels: Sequence[int] | None = None,
) -> tuple[np.ndarray, int]:
    """Decode (a span of) a recording.

    Parameters
    ----------
    path : str or Path
        An audio file with one of :data:`SUPPORTED_EXTENSIONS`.
    sr : int, optional
        Target sample rate in Hz; resampled with soxr (quality ``"HQ"``) only when it
        differs from the native rate. None keeps the native rate.
    offset_s : float
        Start of the span in seconds from the start of the file (>= 0). The decoder seeks
        there rather than decoding and discarding what precedes it.
    duration_s : float, optional
        Length of the span in seconds; None reads to the end. A span past the end is
        cut short.
    mono : bool
        Average the (selected) channels into one.
    channels : sequence of int, optional
        0-based channel indices to keep, e.g. ``[1]`` for the voice a channel map puts on
        the second channel. Selection happens before mixing.

    Returns
    -------
    y : np.ndarray, float32 in [-1, 1]
        Shape ``(n,)`` when ``mono`` or exactly one channel is selected, else
        ``(n_channels, n)`` -- channels first, time last -- even for a one-channel file.
        Clipped to full scale (lossy decoders and resampling can overshoot it).
    sr : int
        Sample rate of ``y`` in Hz.

    Raises
    ------
    CorpusError
        Missing, empty, corrupt or truncated file; unsupported extension; no audio
        stream; negative offset or duration; offset past the end; channel index out
        of range; a NaN or infinite sample in the span (naming its time).
    """
    _check_rate(sr)
    info = audio_info(path)
    chans = _check_channels(info, channels)
    start, stop = _span(info, offset_s, duration_s)
    parts = [_select(x, chans, mono) for x in _native_chunks(info, start, stop, _LOAD_BLOCK_FRAMES)]
    if parts:
        y = np.concatenate(parts, axis=-1)
    else:  # an empty span keeps the shape convention
        y = _select(np.zeros((info.num_channels, 0), np.float32), chans, mono)
    out_sr = info.sample_rate if sr is None else int(sr)
    if out_sr != info.sample_rate and y.shape[-1]:
        # soxr wants time first: (n,) or (n, channels).
        y = np.ascontiguousarray(
            soxr.resample(y.T, info.sample_rate, out_sr, quality=RESAMPLE_QUALITY).T
        )
    return _clip(y), out_sr


def iter_blocks(
    path: str | Path,
    *,
    block_s: float = 60.0,
    sr: int | None = None,
    mono: bool = True,
    channels: Sequence[int] | None = None,
) -> Iterator[np.ndarray]:
    """Stream a recording in consecutive blocks.

    Only about one block is in memory at a time. Resampling runs through one
    :class:`soxr.ResampleStream` across block boundaries, so the concatenated blocks
    equal (to float tolerance) ``load_audio(path, sr=sr, mono=mono, channels=channels)``.

    Parameters
    ----------
    path : str or Path
        An audio file with one of :data:`SUPPORTED_EXTENSIONS`.
    block_s : float
        Block length in seconds (> 0), at the output rate.
    sr : int, optional
        Target sample rate in Hz; None keeps the native rate.
    mono, channels
        As in :func:`load_audio`.

    Yields
    ------
    np.ndarray, float32
        Blocks of ``round(block_s * sr)`` samples, shape ``(n,)`` or ``(n_channels, n)``
        as in :func:`load_audio`; the last block may be shorter.

    Raises
    ------
    CorpusError
        As :func:`load_audio`, raised when the failing part of the file is reached.
    """
    if not block_s > 0:
        raise ValueError(f"block_s must be > 0 seconds (got {block_s!r})")
    _check_rate(sr)
    info = audio_info(path)
    chans = _check_channels(info, channels)
    out_sr = info.sample_rate if sr is None else int(sr)
    in_block = max(1, round(block_s * info.sample_rate))
    out_block = max(1, round(block_s * out_sr))
    native = (_select(x, chans, mono) for x in _native_chunks(info, 0, None, in_block))
    if out_sr == info.sample_rate:
        blocks = native
    else:
        blocks = _rechunk(_resample_stream(native, info.sample_rate, out_sr), out_block)
    for block in blocks:
        yield _clip(block)


def _clip(y: np.ndarray) -> np.ndarray:
    """Float32 within [-1, 1]: lossy decoders and resampling overshoot full scale slightly."""
    return np.clip(y, -1.0, 1.0, out=y if y.dtype == np.float32 and y.flags.writeable else None)


def _resample_stream(blocks: Iterator[np.ndarray], in_sr: int, out_sr: int) -> Iterator[np.ndarray]:
    """Resample a stream of (n,) or (channels, n) blocks; look one block ahead for the flush."""
    stream: soxr.ResampleStream | None = None
    prev: np.ndarray | None = None
    for block in blocks:
        if prev is not None:
            stream = stream or _new_stream(prev, in_sr, out_sr)
            yield stream.resample_chunk(np.ascontiguousarray(prev.T), last=False).T
        prev = block
    if prev is not None:
        stream = stream or _new_stream(prev, in_sr, out_sr)
        yield stream.resample_chunk(np.ascontiguousarray(prev.T), last=True).T


def _new_stream(block: np.ndarray, in_sr: int, out_sr: int) -> soxr.ResampleStream:
    n_ch = 1 if block.ndim == 1 else block.shape[0]
    return soxr.ResampleStream(in_sr, out_sr, n_ch, dtype="float32", quality=RESAMPLE_QUALITY)


def verify_audio(path: str | Path, *, block_s: float = 60.0) -> AudioInfo:
    """Decode a whole recording and check it against its header.

    Parameters
    ----------
    path : str or Path
        An audio file with one of :data:`SUPPORTED_EXTENSIONS`.
    block_s : float
        Decoding block length in seconds (memory bound only).

    Returns
    -------
    AudioInfo
        The header's description, with ``num_frames`` / ``duration_s`` replaced by the
        decoded count (``frames_exact=True``).

    Raises
    ------
    CorpusError
        Anything :func:`audio_info` raises, a decoding error, no decodable audio, a NaN
        or infinite sample (naming its time), or a decoded length that falls short of
        the header's (a truncated file).
    """
    info = audio_info(path)
    block = max(1, round(block_s * info.sample_rate))
    n = 0
    for x in _native_chunks(info, 0, None, block):  # raises at a NaN or infinite sample
        n += x.shape[-1]
    if n == 0:
        raise CorpusError.single(str(path), "no audio could be decoded")
    sr = info.sample_rate
    tolerance = 0 if info.frames_exact else round(_ESTIMATE_TOLERANCE_S * sr)
    if n < info.num_frames - tolerance:
        raise CorpusError.single(
            str(path),
            f"truncated or corrupt: decoded {n} frames ({n / sr:.3f} s) but the header "
            f"says {info.num_frames} ({info.duration_s:.3f} s)",
        )
    return AudioInfo(info.path, sr, info.num_channels, n, n / sr, info.format, frames_exact=True)
