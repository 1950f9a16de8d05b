"""Several files of one recording on one timeline.

A web-conference interview may come as one file per participant (Zoom's "record a
separate audio file for each participant"), each starting at its own time. Here each
file is a :class:`TimedFile`: a path, the channels kept from it and the time of its
first sample on the recording's timeline. :func:`load_timeline` and
:func:`iter_timeline_blocks` decode the files (each resampled to one rate), place
each at its offset (zero before its start and after its end) and stack the kept
channels in the order of the files, as lhotse's ``Recording`` with several
``AudioSource`` does.

Offsets are rounded to the output sample grid once (``round(offset_s * sr)``), so the
one-shot and the streamed timelines are the same samples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpora.audio import AudioInfo, audio_info, iter_blocks, load_audio
from corpora.problems import CorpusError

__all__ = ["TimedFile", "iter_timeline_blocks", "load_timeline", "timeline_info"]


@dataclass(frozen=True)
class TimedFile:
    """One file of a recording.

    Attributes
    ----------
    path : Path
        The audio file.
    channels : tuple of int or None
        0-based channels kept from it, in this order; None keeps them all.
    offset_s : float
        Time (s) of the file's first sample on the recording's timeline (>= 0).
    """

    path: Path
    channels: tuple[int, ...] | None = None
    offset_s: float = 0.0


def _infos(files: Sequence[TimedFile]) -> list[AudioInfo]:
    if not files:
        raise ValueError("a timeline needs at least one file")
    for f in files:
        if not (np.isfinite(f.offset_s) and f.offset_s >= 0):
            raise CorpusError.single(
                str(f.path), "offset must be >= 0 seconds", column="offset_s", value=str(f.offset_s)
            )
    return [audio_info(f.path) for f in files]


def _width(f: TimedFile, info: AudioInfo) -> int:
    return info.num_channels if f.channels is None else len(f.channels)


def timeline_info(files: Sequence[TimedFile]) -> AudioInfo:
    """Header information of the files on one timeline, without decoding.

    Returns
    -------
    AudioInfo
        ``path`` the first file's; ``sample_rate`` the highest of the files' (the rate
        :func:`load_timeline` gives by default); ``num_channels`` the channels kept
        from all files; ``duration_s`` where the last file ends
        (``max(offset_s + duration)``); ``format`` the files' formats joined by
        ``" + "``; ``frames_exact`` when every file's length is.
    """
    infos = _infos(files)
    sr = max(i.sample_rate for i in infos)
    end_s = max(f.offset_s + i.duration_s for f, i in zip(files, infos, strict=True))
    formats = list(dict.fromkeys(i.format for i in infos))
    return AudioInfo(
        str(files[0].path), sr, sum(_width(f, i) for f, i in zip(files, infos, strict=True)),
        round(end_s * sr), end_s, " + ".join(formats), all(i.frames_exact for i in infos),
    )  # fmt: skip


def load_timeline(
    files: Sequence[TimedFile],
    *,
    sr: int | None = None,
    offset_s: float = 0.0,
    duration_s: float | None = None,
    mono: bool = True,
) -> tuple[np.ndarray, int]:
    """Decode (a span of) the files' common timeline.

    Parameters
    ----------
    files : sequence of TimedFile
        The files, in channel order.
    sr : int, optional
        Output rate (Hz); default the highest of the files' rates.
    offset_s, duration_s : float
        Span of the timeline (s); default all of it (to where the last file ends).
    mono : bool
        Average the stacked channels into one.

    Returns
    -------
    y : np.ndarray, float32
        ``(n_channels, n)`` with the kept channels of the files stacked in order (zero
        where a file has no audio), or ``(n,)`` when ``mono``.
    sr : int
    """
    infos = _infos(files)
    out_sr = int(sr) if sr is not None else max(i.sample_rate for i in infos)
    if not (np.isfinite(offset_s) and offset_s >= 0):
        raise ValueError(f"offset_s must be >= 0 seconds (got {offset_s!r})")
    end_s = max(f.offset_s + i.duration_s for f, i in zip(files, infos, strict=True))
    stop_s = end_s if duration_s is None else offset_s + duration_s
    first = round(offset_s * out_sr)
    n = max(0, round(stop_s * out_sr) - first)
    rows = []
    for f, info in zip(files, infos, strict=True):
        block = np.zeros((_width(f, info), n), np.float32)
        lead = round(f.offset_s * out_sr)  # the file's first sample on the timeline
        skip = max(0, first - lead)  # samples of the file before the span
        place = max(0, lead - first)  # where the file's part lands in the span
        if place < n and skip / out_sr < info.duration_s:
            part, _ = load_audio(
                f.path,
                sr=out_sr,
                offset_s=skip / out_sr,
                duration_s=(n - place) / out_sr,
                mono=False,
                channels=f.channels,
            )
            part = np.atleast_2d(part)[:, : n - place]
            block[:, place : place + part.shape[1]] = part
        rows.append(block)
    y = np.concatenate(rows, axis=0)
    return (y.mean(axis=0) if mono else y), out_sr


class _Placed:
    """One file's stream on the timeline: ``lead`` zeros, its blocks, then nothing."""

    def __init__(self, blocks: Iterator[np.ndarray], lead: int, width: int) -> None:
        self.blocks, self.lead, self.width = blocks, lead, width
        self.buffer = np.zeros((width, 0), np.float32)
        self.exhausted = False

    def take(self, n: int) -> tuple[np.ndarray, int]:
        """The next ``n`` samples (zero-padded past the end) and how many of them
        lie before the file's end (the lead's zeros count: audio follows them)."""
        out = np.zeros((self.width, n), np.float32)
        lead = min(self.lead, n)
        self.lead -= lead
        filled = lead
        while filled < n:
            if not self.buffer.shape[1]:
                block = next(self.blocks, None) if not self.exhausted else None
                if block is None:
                    self.exhausted = True
                    break
                self.buffer = np.atleast_2d(block)
            take = min(n - filled, self.buffer.shape[1])
            out[:, filled : filled + take] = self.buffer[:, :take]
            self.buffer = self.buffer[:, take:]
            filled += take
        return out, filled


def iter_timeline_blocks(
    files: Sequence[TimedFile],
    *,
    block_s: float = 60.0,
    sr: int | None = None,
    mono: bool = True,
) -> Iterator[np.ndarray]:
    """Stream the files' common timeline in consecutive blocks.

    Each file streams through :func:`corpora.audio.iter_blocks` (one resampler across
    its blocks), so the concatenated blocks equal :func:`load_timeline` (to float
    tolerance) and about one block per file is in memory at a time.

    Parameters
    ----------
    files : sequence of TimedFile
    block_s : float
        Block length (s, > 0) at the output rate.
    sr : int, optional
        Output rate (Hz); default the highest of the files' rates.
    mono : bool
        As in :func:`load_timeline`.

    Yields
    ------
    np.ndarray, float32
        ``(n_channels, n)`` (or ``(n,)`` when ``mono``) blocks of ``round(block_s *
        sr)`` samples; the last ends where the last file ends.
    """
    if not block_s > 0:
        raise ValueError(f"block_s must be > 0 seconds (got {block_s!r})")
    infos = _infos(files)
    out_sr = int(sr) if sr is not None else max(i.sample_rate for i in infos)
    block_n = max(1, round(block_s * out_sr))
    streams = [
        _Placed(
            iter_blocks(f.path, block_s=block_s, sr=out_sr, mono=False, channels=f.channels),
            round(f.offset_s * out_sr),
            _width(f, info),
        )
        for f, info in zip(files, infos, strict=True)
    ]
    while True:
        parts, lengths = zip(*(s.take(block_n) for s in streams), strict=True)
        n = max(lengths)
        if n == 0:
            return
        y = np.concatenate(parts, axis=0)[:, :n]
        yield y.mean(axis=0) if mono else y
        if all(s.exhausted for s in streams):
            return
