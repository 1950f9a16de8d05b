"""The corpus on disk -> a small data model (lhotse-style, linked by ids).

Layout (the input contract, docs/architecture.md)::

    CORPUS/
      corpus.toml        optional: name, language, vowels, income_bands, defaults
      speakers.csv       required: speaker_id + profile columns
      recordings.csv     optional: recording_id, path, kind, speaker_id, n_speakers, channels
      audio/             without recordings.csv: audio/<speaker_id>/<file> = one utterance,
                         id :func:`folder_recording_id` (names may repeat across speakers)
      transcripts/       <recording_id>.TextGrid | .eaf | .vtt | .srt | .csv, or
                         <speaker_id>/<file stem>.<ext> mirroring audio/ (the TIMIT layout)

:func:`read_corpus` reads the metadata only: it never decodes audio (see
:mod:`corpora.check` for the full verification). A :class:`Recording` decodes on
request, with an offset and a duration, like lhotse's ``Recording``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from corpora.audio import SUPPORTED_EXTENSIONS, AudioInfo, audio_info, iter_blocks, load_audio
from corpora.problems import CorpusError, Problem
from corpora.profiles import read_speakers
from corpora.textfile import read_csv_cells
from corpora.timeline import TimedFile, iter_timeline_blocks, load_timeline, timeline_info
from corpora.transcripts import TRANSCRIPT_EXTENSIONS

RecordingKind = Literal["interview", "utterance"]
RECORDING_KINDS: tuple[str, ...] = ("interview", "utterance")
RECORDINGS_COLUMNS: tuple[str, ...] = (
    "recording_id", "path", "kind", "speaker_id", "n_speakers", "channels", "offset_s",
)  # fmt: skip
#: Voices assumed in a recording when recordings.csv does not say.
DEFAULT_N_SPEAKERS: Mapping[str, int] = MappingProxyType({"interview": 2, "utterance": 1})
_CONFIG_KEYS = {"name", "language", "sample_rate", "vowels", "income_bands", "defaults", "synth"}


@dataclass(frozen=True)
class CorpusConfig:
    """What ``corpus.toml`` says (all optional).

    Attributes
    ----------
    name : str
        Corpus name (default: the directory name).
    language : str
        ISO 639-1 code of the corpus language (default ``"es"``).
    sample_rate : int or None
        Working sample rate in Hz for analysis; ``None`` keeps each file's own.
    vowels : tuple of str
        The vowel inventory, as labelled in the phones tiers.
    income_bands : tuple of str or None
        Allowed ``income_band`` values in increasing order; makes the column an
        ordered categorical.
    defaults : Mapping
        Stage settings that override the bundled defaults (read by later stages).
    """

    name: str
    language: str = "es"
    sample_rate: int | None = None
    vowels: tuple[str, ...] = ("a", "e", "i", "o", "u")
    income_bands: tuple[str, ...] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AudioSource:
    """One audio file of a recording (lhotse's ``AudioSource``).

    Attributes
    ----------
    path : Path
        Absolute path of the file.
    channels : Mapping[int, str]
        The file's channel index -> voice; empty for a mono mix.
    offset_s : float
        Seconds from the recording's start to the file's first sample (>= 0).
    """

    path: Path
    channels: Mapping[int, str] = field(default_factory=dict)
    offset_s: float = 0.0


@dataclass(frozen=True)
class Recording:
    """One recording and who speaks in it. Metadata only; decodes on request.

    A recording is one audio file, or several synchronised files (one per
    participant, as a web-conference tool exports them), each with its own start
    offset: :attr:`sources`. Decoding places every file at its offset on one
    timeline and stacks the files' mapped channels in order, so that the rest of
    the pipeline sees one multichannel recording.

    Attributes
    ----------
    recording_id : str
        Unique id (without recordings.csv, :func:`folder_recording_id`).
    path : Path
        Absolute path of the (first) audio file.
    kind : {"interview", "utterance"}
    speaker_id : str
        The profiled speaker (the interviewee, or the reader of an utterance).
    n_speakers : int
        Number of voices in the recording.
    channels : Mapping[int, str]
        Channel index -> voice, when the recording keeps one voice per channel;
        empty for a mono mix. For several files: the index in the stacked channels
        (the files' mapped channels in file order, see :func:`stacked_channels`).
    transcript : Path or None
        ``transcripts/<recording_id>.*`` when there is one.
    sources : tuple of AudioSource
        Every file with its own channel map and offset; one ``AudioSource(path,
        channels)`` when not given.
    """

    recording_id: str
    path: Path
    kind: RecordingKind
    speaker_id: str
    n_speakers: int = 1
    channels: Mapping[int, str] = field(default_factory=dict)
    transcript: Path | None = None
    sources: tuple[AudioSource, ...] = ()

    def __post_init__(self) -> None:
        if not self.sources:
            object.__setattr__(self, "sources", (AudioSource(self.path, self.channels),))

    @property
    def is_timeline(self) -> bool:
        """Several files, or one that starts after the recording's start."""
        return len(self.sources) > 1 or self.sources[0].offset_s != 0

    def timed_files(self) -> list[TimedFile]:
        """The sources as :class:`corpora.timeline.TimedFile` (mapped channels only,
        when there are several files)."""
        several = len(self.sources) > 1
        return [
            TimedFile(s.path, tuple(sorted(s.channels)) if several else None, s.offset_s)
            for s in self.sources
        ]

    def info(self) -> AudioInfo:
        """Header information (sample rate, channels, duration) without decoding;
        for several files, of their common timeline (:func:`timeline_info`)."""
        if self.is_timeline:
            return timeline_info(self.timed_files())
        return audio_info(self.path)

    def load(
        self,
        *,
        sr: int | None = None,
        offset_s: float = 0.0,
        duration_s: float | None = None,
        voice: str | None = None,
        mono: bool = True,
    ) -> tuple[np.ndarray, int]:
        """Decode the audio, or a part of it.

        Parameters
        ----------
        sr : int, optional
            Resample to this rate (Hz); default keeps the file's own (for several
            files, the highest of theirs).
        offset_s, duration_s : float
            Start and length of the excerpt in seconds (default: all of it).
        voice : str, optional
            Return only the channel that :attr:`channels` maps to this voice;
            default mixes all channels down to mono.
        mono : bool
            Without ``voice``: mix down (default), or keep the channels
            (``(n_channels, n)``).

        Returns
        -------
        y : np.ndarray, shape (n,) or (n_channels, n)
            float32 samples in [-1, 1].
        sr : int
        """
        channels = None
        if voice is not None:
            by_voice = {v: c for c, v in self.channels.items()}
            if voice not in by_voice:
                raise KeyError(
                    f"{self.recording_id}: no channel for voice {voice!r} "
                    f"(channel map: {dict(self.channels)})"
                )
            channels = [by_voice[voice]]
        if self.is_timeline:
            files = self.timed_files()
            if voice is not None:  # the voice's own file alone, still placed on the timeline
                sr = sr if sr is not None else timeline_info(files).sample_rate
                source = next(x for x in self.sources if voice in x.channels.values())
                own = {v: c for c, v in source.channels.items()}[voice]
                files = [TimedFile(source.path, (own,), source.offset_s)]
            return load_timeline(files, sr=sr, offset_s=offset_s, duration_s=duration_s,
                                 mono=mono or voice is not None)
        return load_audio(self.path, sr=sr, offset_s=offset_s, duration_s=duration_s,
                          channels=channels, mono=mono or channels is not None)

    def iter_blocks(
        self, *, block_s: float = 60.0, sr: int | None = None, mono: bool = True
    ) -> Iterator[np.ndarray]:
        """Stream the recording block by block (:func:`corpora.audio.iter_blocks`;
        for several files, :func:`corpora.timeline.iter_timeline_blocks`)."""
        if self.is_timeline:
            return iter_timeline_blocks(self.timed_files(), block_s=block_s, sr=sr, mono=mono)
        return iter_blocks(self.path, block_s=block_s, sr=sr, mono=mono)


def stacked_channels(sources: tuple[AudioSource, ...]) -> dict[int, str]:
    """The channel map of several files decoded as one: each file's mapped channels,
    in file order and channel order, numbered from 0 (one file: its own map)."""
    if len(sources) == 1:
        return dict(sources[0].channels)
    voices = [s.channels[c] for s in sources for c in sorted(s.channels)]
    return dict(enumerate(voices))


@dataclass(frozen=True)
class Corpus:
    """A corpus read from disk: configuration, speaker profiles and recordings.

    ``recordings`` behaves like a dict keyed by ``recording_id``; ``speakers``
    is the validated profile table (see :func:`corpora.profiles.read_speakers`).
    """

    root: Path
    config: CorpusConfig
    speakers: pd.DataFrame
    recordings: Mapping[str, Recording]

    def __iter__(self) -> Iterator[Recording]:
        return iter(self.recordings.values())

    def __len__(self) -> int:
        return len(self.recordings)

    @property
    def consented(self) -> pd.DataFrame:
        """Profiles of the speakers who consented: the only ones ever analysed."""
        return self.speakers[self.speakers["consent"]].reset_index(drop=True)

    def recordings_table(self) -> pd.DataFrame:
        """The recordings as a flat table: one row per recording, as recordings.csv
        lists it; a recording of several files has one row per file (its
        ``recording_id`` repeated, each file's own ``channels`` and ``offset_s``)."""
        rows = [
            {
                "recording_id": r.recording_id,
                "path": self._relative(source.path),
                "kind": r.kind,
                "speaker_id": r.speaker_id,
                "n_speakers": r.n_speakers,
                "channels": format_channels(source.channels),
                "offset_s": source.offset_s,
                "transcript": None if r.transcript is None else self._relative(r.transcript),
            }
            for r in self
            for source in r.sources
        ]
        return pd.DataFrame(rows, columns=[*RECORDINGS_COLUMNS, "transcript"])

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) \
            else str(path)


def parse_channels(text: str) -> dict[int, str]:
    """Parse a channel map ``"0:S01;1:INT1"`` into ``{0: "S01", 1: "INT1"}``.

    Raises ``ValueError`` naming the bad entry.
    """
    mapping: dict[int, str] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        index, sep, voice = entry.partition(":")
        if not sep or not index.strip().isdigit() or not voice.strip():
            raise ValueError(f"bad channel entry {entry!r}; expected INDEX:VOICE, e.g. 0:S01")
        channel = int(index)
        if channel in mapping:
            raise ValueError(f"channel {channel} mapped twice")
        if voice.strip() in mapping.values():
            raise ValueError(f"voice {voice.strip()!r} mapped to two channels")
        mapping[channel] = voice.strip()
    return mapping


def format_channels(channels: Mapping[int, str]) -> str:
    """Inverse of :func:`parse_channels`."""
    return ";".join(f"{c}:{v}" for c, v in sorted(channels.items()))


def read_config(root: Path) -> tuple[CorpusConfig, list[Problem]]:
    """Read ``corpus.toml`` (optional). Unknown keys are problems, not silently ignored."""
    path = root / "corpus.toml"
    problems: list[Problem] = []
    if not path.is_file():
        return CorpusConfig(name=root.name), problems
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        return CorpusConfig(name=root.name), [Problem("corpus.toml", f"not valid TOML: {e}")]
    for key in sorted(set(data) - _CONFIG_KEYS):
        problems.append(
            Problem("corpus.toml", f"unknown key; known keys: {sorted(_CONFIG_KEYS)}", value=key)
        )

    def typed(key: str, kind: type, default: Any) -> Any:
        value = data.get(key, default)
        if value is not default and not isinstance(value, kind):
            problems.append(
                Problem("corpus.toml", f"must be a {kind.__name__}", column=key, value=repr(value))
            )
            return default
        return value

    vowels = typed("vowels", list, None)
    bands = typed("income_bands", list, None)
    config = CorpusConfig(
        name=typed("name", str, root.name),
        language=typed("language", str, "es"),
        sample_rate=typed("sample_rate", int, None),
        vowels=tuple(map(str, vowels)) if vowels is not None else CorpusConfig.vowels,
        income_bands=tuple(map(str, bands)) if bands is not None else None,
        defaults=MappingProxyType(typed("defaults", dict, {})),
    )
    return config, problems


def read_corpus(root: str | Path) -> Corpus:
    """Read a corpus directory's metadata into a :class:`Corpus` (no audio decoding).

    Checks the layout and the agreement of ids: ``speakers.csv`` exists and
    validates; every recording's speaker is in it; every audio path exists and
    has a supported extension; recording ids are unique; each transcript file
    belongs to a recording.

    Raises
    ------
    CorpusError
        Listing every problem found, each naming its file (relative to ``root``)
        and, where there is one, the line.
    """
    corpus, problems = scan_corpus(root)
    if problems:
        raise CorpusError(problems)
    return corpus


def scan_corpus(root: str | Path) -> tuple[Corpus, list[Problem]]:
    """Like :func:`read_corpus`, but return what could be read with the problems.

    Every recording whose audio file exists is kept, even when its row has other
    problems, so that a checker can go on to verify its audio and transcript.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise CorpusError.single(str(root), "corpus directory not found")
    config, problems = read_config(root)

    speakers = pd.DataFrame(
        {"speaker_id": pd.Series(dtype="string"), "consent": pd.Series(dtype=bool)}
    )
    try:
        speakers = read_speakers(
            root / "speakers.csv", name="speakers.csv", income_bands=config.income_bands
        )
    except CorpusError as e:
        problems.extend(e.problems)
        known = _listed_speaker_ids(root / "speakers.csv")
    else:
        known = set(speakers["speaker_id"])

    listed = (root / "recordings.csv").is_file()
    if listed:
        recordings, found = _recordings_from_csv(root, known)
    else:
        recordings, found = _recordings_from_audio_dir(root, known)
    problems.extend(found)
    problems.extend(_attach_transcripts(root, recordings, folder_layout=not listed))
    corpus = Corpus(root=root, config=config, speakers=speakers, recordings=recordings)
    return corpus, problems


def _listed_speaker_ids(path: Path) -> set[str] | None:
    """The ids a speakers.csv lists even when its profiles fail validation, so that
    recordings can still be checked against them; None when the file cannot be read
    at all (unknown, not empty: no recording is blamed for it)."""
    try:
        table = read_csv_cells(path, path.name)
    except CorpusError:
        return None
    if "speaker_id" not in table.columns:
        return None
    return {s.strip() for s in table["speaker_id"] if s.strip()}


@dataclass
class _FileRow:
    """One row of recordings.csv, parsed (one file of a recording)."""

    line: int
    recording_id: str
    speaker_id: str
    kind: str
    n_speakers: int
    channels: dict[int, str]
    channels_text: str
    path: Path
    rel: str
    offset_s: float
    usable: bool


def _recordings_from_csv(
    root: Path, known: set[str] | None
) -> tuple[dict[str, Recording], list[Problem]]:
    """recordings.csv -> recordings. Rows sharing a ``recording_id`` are the files of
    one recording (one per participant), each with its channel map and ``offset_s``."""
    name = "recordings.csv"
    problems: list[Problem] = []
    try:
        table = read_csv_cells(root / name, name)
    except CorpusError as e:
        return {}, e.problems
    missing = [c for c in ("recording_id", "path", "speaker_id") if c not in table.columns]
    if missing:
        return {}, [Problem(name, f"missing required columns {missing} (have {list(table)})")]
    groups: dict[str, list[_FileRow]] = {}
    for i, row in enumerate(table.to_dict("records")):
        parsed = _parse_row(root, row, i + 2, known, problems)
        if parsed is not None:
            groups.setdefault(parsed.recording_id, []).append(parsed)
    recordings: dict[str, Recording] = {}
    for rid, rows in groups.items():
        recording = _assemble(rid, rows, problems)
        if recording is not None:
            recordings[rid] = recording
    return recordings, problems


def _parse_row(root: Path, row: dict, line: int, known: set[str] | None,
               problems: list[Problem]) -> _FileRow | None:
    """One row's own checks (each problem names the line); None when its id is unusable."""
    name = "recordings.csv"

    def report(message: str, column: str | None = None, value: str | None = None) -> None:
        problems.append(Problem(name, message, line=line, column=column, value=value))

    rid = row["recording_id"].strip()
    valid_id = bool(rid) and "/" not in rid and "\\" not in rid
    if not valid_id:
        report("empty recording id, or one with a path separator", "recording_id", rid)
    speaker = row["speaker_id"].strip()
    if known is not None and speaker not in known:
        report("speaker is not in speakers.csv", "speaker_id", speaker)
    kind = (row.get("kind") or "utterance").strip().lower()
    if kind not in RECORDING_KINDS:
        report(f"unknown kind; use one of {', '.join(RECORDING_KINDS)}", "kind", kind)
    rel = row["path"].strip()
    path = (root / rel).resolve()
    outside = _outside(root, root / rel) if rel else None
    if not rel:
        report("empty path", "path")
    elif outside:
        report(outside, "path", rel)
    elif path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        report(f"unsupported audio format; supported: {' '.join(SUPPORTED_EXTENSIONS)}", "path",
               rel)
    elif not path.is_file():
        report("audio file not found", "path", rel)
    n_text = (row.get("n_speakers") or "").strip()
    n_speakers = DEFAULT_N_SPEAKERS.get(kind, 1)
    if n_text:
        if n_text.isdigit() and int(n_text) >= 1:
            n_speakers = int(n_text)
        else:
            report("n_speakers must be a positive whole number", "n_speakers", n_text)
    channels_text = row.get("channels") or ""
    channels: dict[int, str] = {}
    try:
        channels = parse_channels(channels_text)
    except ValueError as e:
        report(str(e), "channels", channels_text)
    offset_text = (row.get("offset_s") or "").strip()
    offset_s = 0.0
    if offset_text:
        try:
            offset_s = float(offset_text)
        except ValueError:
            offset_s = float("nan")
        if not (np.isfinite(offset_s) and offset_s >= 0):
            report("offset_s must be a number of seconds >= 0 (the file's first sample, "
                   "from the recording's start)", "offset_s", offset_text)
            offset_s = 0.0
    if not valid_id:
        return None
    # A row with other problems is still worth checking if its audio is there, but
    # a file outside the corpus is never opened (it may be anyone's data).
    usable = bool(rel) and not outside and path.is_file()
    return _FileRow(line, rid, speaker, kind, n_speakers, channels, channels_text, path, rel,
                    offset_s, usable)


def _assemble(rid: str, rows: list[_FileRow], problems: list[Problem]) -> Recording | None:
    """The rows of one recording id -> a Recording (None when a file is unusable), with
    the checks across its rows: one speaker, kind and n_speakers; with several files,
    a channel map on each, no file or voice twice."""
    name, first = "recordings.csv", rows[0]

    def report(row: _FileRow, message: str, column: str | None = None,
               value: str | None = None) -> None:
        problems.append(Problem(name, message, line=row.line, column=column, value=value))

    if len(rows) > 1 and not all(r.channels for r in rows):
        # Not the files of one recording: a repeated id (the first row stands alone).
        for row in rows[1:]:
            report(row, f"duplicate recording id (first on line {first.line}); the files of one "
                   "recording share an id only when each row has a channel map naming its "
                   "voice (e.g. 0:S01)", "recording_id", rid)
        rows = [first]
    for row in rows[1:]:
        for column in ("speaker_id", "kind", "n_speakers"):
            mine, theirs = getattr(row, column), getattr(first, column)
            if mine != theirs:
                report(row, f"differs from line {first.line} ({theirs!r}) of the same recording "
                       "id: the files of one recording share its speaker_id, kind and "
                       "n_speakers", column, str(mine))
    seen_path: dict[Path, int] = {}
    seen_voice: dict[str, int] = {}
    for row in rows:
        if row.path in seen_path:
            report(row, f"the same file is already a file of this recording on line "
                   f"{seen_path[row.path]}", "path", row.rel)
        seen_path.setdefault(row.path, row.line)
        for voice in row.channels.values():
            if voice in seen_voice and seen_voice[voice] != row.line:
                report(row, f"voice {voice!r} is already mapped in another file of this "
                       f"recording (line {seen_voice[voice]})", "channels", row.channels_text)
            seen_voice.setdefault(voice, row.line)
    if seen_voice and first.speaker_id not in seen_voice:
        report(first, f"channel map does not name the recording's speaker "
               f"{first.speaker_id!r}", "channels", first.channels_text)
    if len(seen_voice) > first.n_speakers:
        report(first, f"channel map names {len(seen_voice)} voices but n_speakers is "
               f"{first.n_speakers}", "channels", first.channels_text)
    if not all(r.usable for r in rows):
        return None
    sources = tuple(AudioSource(r.path, r.channels, r.offset_s) for r in rows)
    return Recording(rid, first.path, first.kind, first.speaker_id, first.n_speakers,  # type: ignore[arg-type]
                     stacked_channels(sources), None, sources)


def folder_recording_id(speaker_id: str, stem: str) -> str:
    """The recording id of ``audio/<speaker_id>/<stem>.<ext>`` without recordings.csv.

    ``<speaker_id>_<stem>``, unless the stem already starts with the speaker id and a
    separator (``MX1_day0`` in ``audio/MX1/``) or is the speaker id: then the stem
    itself. In the TIMIT layout (and the micro-worker one) every speaker reads the
    same prompts, ``audio/R01/sa1.flac`` and ``audio/R02/sa1.flac``: ids ``R01_sa1``
    and ``R02_sa1``. An id depends on its own file's folder and name only, so it
    never changes when files are added (a store keeps its rows).
    """
    if stem == speaker_id or any(stem.startswith(speaker_id + sep) for sep in "_-."):
        return stem
    return f"{speaker_id}_{stem}"


def _recordings_from_audio_dir(
    root: Path, known: set[str] | None
) -> tuple[dict[str, Recording], list[Problem]]:
    """Without recordings.csv: audio/<speaker_id>/<file> is one utterance."""
    problems: list[Problem] = []
    audio = root / "audio"
    if not audio.is_dir():
        return {}, [Problem("audio", "no recordings.csv and no audio/ directory: nothing to read")]
    recordings: dict[str, Recording] = {}
    # rglob does not descend into linked directories; a link leading out is reported,
    # not silently skipped, and a linked file is only read when it stays inside.
    entries = sorted(p for p in audio.rglob("*") if not p.name.startswith("."))
    for path in entries:
        rel = path.relative_to(root).as_posix()
        if path.is_symlink() and (outside := _outside(root, path)):
            problems.append(Problem(rel, outside))
            continue
        if not path.is_file():
            continue
        parts = path.relative_to(audio).parts
        if len(parts) != 2:
            problems.append(Problem(rel, "without recordings.csv, audio files must sit in "
                                    "audio/<speaker_id>/<file>"))
            continue
        if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
            problems.append(Problem(rel, "not a supported audio file; supported: "
                                    f"{' '.join(SUPPORTED_EXTENSIONS)}"))
            continue
        speaker = parts[0]
        if known is not None and speaker not in known:
            problems.append(Problem(rel, "folder names a speaker not in speakers.csv",
                                    value=speaker))
        rid = folder_recording_id(speaker, path.stem)
        if rid in recordings:
            problems.append(Problem(rel, f"recording id {rid!r} is also that of "
                                    f"{recordings[rid].path.relative_to(root).as_posix()} "
                                    "(audio/<speaker>/<name> has the id <speaker>_<name>); "
                                    "rename one, or list recordings in recordings.csv"))
            continue
        recordings[rid] = Recording(rid, path, "utterance", speaker, 1)
    return recordings, problems


def _attach_transcripts(root: Path, recordings: dict[str, Recording], *,
                        folder_layout: bool = False) -> list[Problem]:
    """Pair transcripts with their recordings (in place): ``transcripts/<recording_id>.<ext>``,
    or ``transcripts/<speaker_id>/<stem>.<ext>`` for the recording whose id
    :func:`folder_recording_id` gives (the TIMIT layout, mirroring audio/). In that
    layout (no recordings.csv) ``transcripts/<file stem>.<ext>`` also serves, when one
    audio file only has that stem (as before ids took the speaker prefix)."""
    folder = root / "transcripts"
    if not folder.is_dir():
        return []
    problems: list[Problem] = []
    found: dict[str, Path] = {}
    extensions = {e.lower() for e in TRANSCRIPT_EXTENSIONS}
    by_stem: dict[str, list[str]] = {}
    for rid, recording in recordings.items() if folder_layout else ():
        by_stem.setdefault(recording.path.stem, []).append(rid)
    files = sorted(p for p in folder.rglob("*") if not any(
        part.startswith(".") for part in p.relative_to(folder).parts))
    for path in files:
        rel = path.relative_to(root).as_posix()
        depth = len(path.relative_to(folder).parts)
        if outside := _outside(root, path):
            problems.append(Problem(rel, outside))
            continue
        if not path.is_file():
            continue
        rid = path.stem if depth == 1 else folder_recording_id(path.parent.name, path.stem)
        if depth == 1 and rid not in recordings and len(by_stem.get(rid, ())) == 1:
            rid = by_stem[rid][0]  # transcripts/<file stem>.<ext>, when the stem is unique
        if depth > 2:
            problems.append(Problem(rel, "transcripts sit in transcripts/<recording_id>.<ext> "
                                    "or transcripts/<speaker_id>/<name>.<ext>"))
        elif path.suffix.lower() not in extensions:
            problems.append(Problem(rel, "not a transcript format; supported: "
                                    f"{' '.join(TRANSCRIPT_EXTENSIONS)}"))
        elif rid in found:
            problems.append(Problem(rel, "a second transcript for the same recording "
                                    f"{rid!r} (also {found[rid].relative_to(root).as_posix()})"))
        elif rid not in recordings:
            problems.append(Problem(rel, "transcript names no known recording", value=rid))
        else:
            found[rid] = path
    for rid, path in found.items():
        old = recordings[rid]
        recordings[rid] = replace(old, transcript=path)
    return problems


def _outside(root: Path, path: Path) -> str | None:
    """Why ``path`` leads outside the corpus ``root`` (resolved), or None if it stays in.

    A path with ``..`` or an absolute path that leaves the corpus, and a symbolic link
    (to a file, or a directory on the way) whose target lies outside, are refused: a
    corpus is a self-contained directory, and a row of recordings.csv must not make the
    pipeline read, fingerprint or analyse someone else's files (``../../etc/passwd``).
    """
    lexical = Path(os.path.normpath(root / path))
    if not lexical.is_relative_to(root):
        return ("path leads outside the corpus directory; audio must lie inside it "
                "(give the path relative to the corpus root)")
    target = lexical.resolve()
    if not target.is_relative_to(root):
        return (f"symbolic link leading outside the corpus (to {target}); copy the file "
                "into the corpus instead")
    return None
