"""Verify a whole corpus: layout, profiles, every audio file, every transcript.

:func:`check_corpus` goes further than :func:`corpora.corpus.read_corpus`: it
decodes every audio file to its end (a truncated file is caught here, not in the
middle of a batch), parses every transcript, and checks that the ids agree
across files. It collects every problem instead of stopping at the first one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from corpora.audio import audio_info, verify_audio
from corpora.corpus import Corpus, Recording, scan_corpus
from corpora.problems import CorpusError, Problem
from corpora.transcripts import read_transcript

#: How far a transcript may run past the end of its audio (s): codec padding, rounding.
TRANSCRIPT_OVERRUN_S = 0.5


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check_corpus`.

    Attributes
    ----------
    root : Path
    problems : list of Problem
        Everything wrong, each naming its file relative to ``root`` (and line).
    corpus : Corpus or None
        The corpus metadata, when its layout could be read.
    durations_s : dict
        recording_id -> duration in seconds, for every file that decoded.
    """

    root: Path
    problems: list[Problem]
    corpus: Corpus | None = None
    durations_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def speaker_hours(self) -> pd.DataFrame:
        """Profiles with each speaker's number of recordings and hours of audio."""
        if self.corpus is None:
            return pd.DataFrame(columns=["speaker_id", "n_recordings", "hours"])
        rows = [
            {"speaker_id": r.speaker_id, "hours": self.durations_s.get(r.recording_id, 0) / 3600}
            for r in self.corpus
        ]
        per_speaker = (
            pd.DataFrame(rows, columns=["speaker_id", "hours"])
            .groupby("speaker_id")["hours"]
            .agg(n_recordings="count", hours="sum")
            .reset_index()
        )
        table = self.corpus.speakers.merge(per_speaker, on="speaker_id", how="left")
        table["n_recordings"] = table["n_recordings"].fillna(0).astype(int)
        table["hours"] = table["hours"].fillna(0.0)
        return table

    def breakdown(self, by: str) -> pd.DataFrame:
        """Speakers (all / consented) and hours per value of a profile column."""
        table = self.speaker_hours()
        if by not in table:
            return pd.DataFrame(columns=[by, "speakers", "consented", "hours"])
        return (
            table.groupby(by, observed=True, dropna=False)
            .agg(speakers=("speaker_id", "count"), consented=("consent", "sum"),
                 hours=("hours", "sum"))
            .reset_index()
        )


def check_corpus(
    root: str | Path,
    *,
    decode: bool = True,
    progress: Callable[[Recording], None] | None = None,
) -> CheckReport:
    """Check a corpus directory and summarise it.

    Parameters
    ----------
    root : str or Path
        The corpus directory (layout: docs/architecture.md).
    decode : bool
        Decode every audio file to its end (default). ``False`` reads headers only.
    progress : callable, optional
        Called with each :class:`~corpora.corpus.Recording` once it is checked.

    Returns
    -------
    CheckReport
        ``report.ok`` is true when no problem was found.
    """
    root = Path(root).resolve()
    try:
        # Layout problems do not stop the file checks: every readable recording is verified.
        corpus, problems = scan_corpus(root)
    except CorpusError as e:
        return CheckReport(root=root, problems=e.problems)

    durations: dict[str, float] = {}
    for recording in corpus:
        problems.extend(_check_recording(recording, decode, durations))
        if progress is not None:
            progress(recording)
    problems = [_relative(p, root) for p in problems]
    return CheckReport(root=root, problems=problems, corpus=corpus, durations_s=durations)


def _check_recording(recording: Recording, decode: bool, durations: dict[str, float]) -> list:
    problems: list[Problem] = []
    infos = []
    for source in recording.sources:  # every file of the recording, each on its own
        try:
            info = verify_audio(source.path) if decode else audio_info(source.path)
        except CorpusError as e:
            problems.extend(e.problems)  # and go on to the transcript: report everything
            continue
        infos.append((source, info))
        for channel in source.channels:
            if channel >= info.num_channels:
                problems.append(Problem(str(source.path), f"channel map names channel {channel} "
                                        f"but the file has {info.num_channels}",
                                        column="channels"))
    info = None
    if len(infos) == len(recording.sources):
        # The recording lasts until its last file ends (files may start at offsets).
        end_s = max(source.offset_s + i.duration_s for source, i in infos)
        info = infos[0][1] if len(infos) == 1 and not recording.is_timeline else replace(
            infos[0][1], duration_s=end_s)
        durations[recording.recording_id] = info.duration_s
    if recording.transcript is None:
        return problems
    try:
        transcript = read_transcript(recording.transcript)
    except CorpusError as e:
        return problems + e.problems
    where = str(recording.transcript)
    voices = sorted(set(transcript["speaker"].dropna()) - {""})
    if voices and recording.speaker_id not in voices:
        problems.append(Problem(where, f"transcript has no speaker {recording.speaker_id!r} "
                                f"(the recording's speaker); speakers found: {voices}"))
    if len(voices) > recording.n_speakers:
        problems.append(Problem(where, f"transcript names {len(voices)} voices {voices} but the "
                                f"recording has n_speakers={recording.n_speakers}"))
    if recording.channels and voices:
        unmapped = sorted(set(voices) - set(recording.channels.values()))
        if unmapped:
            problems.append(Problem(where, f"voices {unmapped} are in the transcript but not in "
                                    "the channel map"))
    end = float(transcript["end_s"].max()) if len(transcript) else 0.0
    if info is not None and end > info.duration_s + TRANSCRIPT_OVERRUN_S:
        problems.append(Problem(where, f"transcript ends at {end:.3f} s, after the end of the "
                                f"audio ({info.duration_s:.3f} s)"))
    return problems


def _relative(problem: Problem, root: Path) -> Problem:
    path = Path(problem.path)
    if path.is_absolute() and path.is_relative_to(root):
        return replace(problem, path=path.relative_to(root).as_posix())
    return problem
