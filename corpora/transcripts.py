"""Transcripts of every supported format, read into one interval table.

:func:`read_transcript` dispatches on the extension (case-insensitive) to one small reader
per format and returns a DataFrame with exactly :data:`TRANSCRIPT_COLUMNS`:

========  ==========================================================================
speaker   the voice (str; ``""`` when the transcript does not say whose it is)
tier      the source tier name (str; the speaker label for VTT, SRT and CSV)
level     ``"words"``, ``"phones"`` or ``"turns"``
start_s   start time in seconds (float64)
end_s     end time in seconds (float64)
label     the transcribed text (str, never blank: pauses are dropped)
========  ==========================================================================

sorted by (speaker, level, start_s).

Every reader collects *all* problems -- an unparsable file, negative times, an interval
that ends before it starts, two intervals of one speaker on one level that overlap --
and raises them together as one :class:`~corpora.problems.CorpusError`, each
:class:`~corpora.problems.Problem` naming the file and, where the format has one, the line.

Privacy: web-conferencing exports (Zoom, Teams) label cues with participants' real
names. Real names must never reach any output, so every reader takes a ``speakers``
mapping from transcript label to pseudonymous speaker id. When a mapping is given, every
labelled speaker must be in it (an unmapped label is a problem, not passed through), and
the tier names are rewritten with the mapped ids too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import webvtt
from praatio import textgrid
from praatio.utilities import textgrid_io
from pympi.Elan import Eaf
from webvtt.errors import MalformedCaptionError, MalformedFileError

from corpora.problems import CorpusError, Problem
from corpora.textfile import decode_text, read_csv_cells

__all__ = [
    "CSV_COLUMNS",
    "LEVELS",
    "TRANSCRIPT_COLUMNS",
    "TRANSCRIPT_EXTENSIONS",
    "read_csv_transcript",
    "read_eaf",
    "read_srt",
    "read_textgrid",
    "read_transcript",
    "read_vtt",
]

TRANSCRIPT_COLUMNS: tuple[str, ...] = ("speaker", "tier", "level", "start_s", "end_s", "label")
LEVELS: tuple[str, ...] = ("words", "phones", "turns")
#: Columns of a CSV transcript (times in seconds); ``level`` is optional (default "turns").
CSV_COLUMNS: tuple[str, ...] = ("start", "end", "speaker", "text")
_CSV_OPTIONAL: tuple[str, ...] = ("level",)

# MFA names its tiers "<speaker> - words" / "<speaker> - phones"; single-speaker output
# has plain "words" / "phones".
_MFA_TIER = re.compile(r"^(?:(?P<speaker>.*?)\s+-\s+)?(?P<level>words|phones)$", re.IGNORECASE)
# Zoom writes "Ana García: text"; a label is short and has no sentence punctuation.
_SPEAKER_PREFIX = re.compile(r"^\s*(?P<speaker>[^:\n?!<>]{1,60}?)\s*:\s+(?P<text>.*)$", re.DOTALL)
_TIMING_LINE = re.compile(r"^\s*(?P<start>[\d:.,]+)\s*-->\s*(?P<end>[\d:.,]+)")

Records = list[dict[str, object]]


# --------------------------------------------------------------------------- shared


def _tier_speaker_level(name: str) -> tuple[str, str]:
    """Tier name -> (speaker, level): MFA "<spk> - words" style, else a turn tier."""
    m = _MFA_TIER.match(name.strip())
    if m:
        return (m.group("speaker") or "").strip(), m.group("level").lower()
    return name, "turns"


def _record(
    speaker: str,
    tier: str,
    level: str,
    start: float,
    end: float,
    label: object,
    line: int | None = None,
) -> dict[str, object]:
    return {
        "speaker": str(speaker),
        "tier": str(tier),
        "level": level,
        "start_s": float(start),
        "end_s": float(end),
        "label": str(label).strip(),
        "line": line,
    }


def _where(rec: Mapping[str, object]) -> str:
    line = rec["line"]
    at = f"line {line}" if line is not None else f"tier {rec['tier']!r}"
    return f"{at} ({rec['start_s']:.3f}-{rec['end_s']:.3f} s)"


def _finish(
    path: str | Path,
    records: Records,
    problems: list[Problem],
    speakers: Mapping[str, str] | None,
) -> pd.DataFrame:
    """Drop blanks, check times, rename speakers, check overlaps; raise or return the table."""
    p = str(path)
    kept: Records = []
    for rec in records:
        if not rec["label"]:
            continue  # an empty interval is a pause, not a token
        line = rec["line"]
        start, end = rec["start_s"], rec["end_s"]
        column = None if line is not None else str(rec["tier"])
        if not (math.isfinite(start) and math.isfinite(end)):  # type: ignore[arg-type]
            problems.append(Problem(p, "time is not finite", line, column, f"{start}-{end}"))
            continue
        if start < 0:  # type: ignore[operator]
            problems.append(Problem(p, "negative start time", line, column, str(start)))
            continue
        if end <= start:  # type: ignore[operator]
            problems.append(
                Problem(p, "interval ends at or before its start", line, column, f"{start}-{end}")
            )
            continue
        kept.append(rec)

    if speakers is not None:
        missing = sorted({str(r["speaker"]) for r in kept if r["speaker"]} - set(speakers))
        problems.extend(
            Problem(p, "speaker label not in the speakers mapping", value=label)
            for label in missing
        )
        for rec in kept:
            old = str(rec["speaker"])
            if old in speakers:
                new = str(speakers[old])
                rec["speaker"] = new
                # Tier names carry the label too ("Ana García - words"); rewrite them so a
                # real name cannot leak through the tier column.
                rec["tier"] = str(rec["tier"]).replace(old, new)

    problems.extend(_overlaps(p, kept))
    if problems:
        raise CorpusError(problems)

    df = pd.DataFrame.from_records(kept, columns=[*TRANSCRIPT_COLUMNS, "line"])
    df = df.drop(columns="line").astype(
        {
            "speaker": "str",
            "tier": "str",
            "level": "str",
            "label": "str",
            "start_s": "float64",
            "end_s": "float64",
        }
    )
    df = df.sort_values(["speaker", "level", "start_s", "end_s"], kind="stable")
    return df.reset_index(drop=True)


def _overlaps(path: str, records: Records) -> list[Problem]:
    """Intervals of one (known) speaker on one level that overlap in time.

    Touching intervals (end == next start) are fine. The unknown speaker ``""`` is not
    checked: unlabelled cues may be different voices talking over each other.
    """
    groups: dict[tuple[str, str], Records] = {}
    for rec in records:
        if rec["speaker"]:
            groups.setdefault((str(rec["speaker"]), str(rec["level"])), []).append(rec)
    problems = []
    for (speaker, level), recs in groups.items():
        recs = sorted(recs, key=lambda r: (r["start_s"], r["end_s"]))
        latest = recs[0]  # the interval reaching furthest so far
        for rec in recs[1:]:
            if rec["start_s"] < latest["end_s"]:  # type: ignore[operator]
                problems.append(
                    Problem(
                        path,
                        f"{level} of speaker {speaker!r} overlap: {_where(latest)} and "
                        f"{_where(rec)}",
                        line=rec["line"],  # type: ignore[arg-type]
                    )
                )
            if rec["end_s"] > latest["end_s"]:  # type: ignore[operator]
                latest = rec
    return problems


def _unparsable(path: str | Path, what: str, e: BaseException) -> CorpusError:
    return CorpusError.single(str(path), f"cannot parse {what}: {type(e).__name__}: {e}")


def _check_exists(path: str | Path) -> None:
    if not Path(path).is_file():
        raise CorpusError.single(str(path), "transcript file not found")


# --------------------------------------------------------------------------- formats


def read_textgrid(path: str | Path, *, speakers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a Praat TextGrid (long or short text format) with praatio.

    Interval tiers only; point tiers carry no spans and are ignored. Tier names decide
    speaker and level: ``"<speaker> - words"`` / ``"<speaker> - phones"`` (Montreal Forced
    Aligner) give that speaker at level words/phones; plain ``"words"`` / ``"phones"``
    (single-speaker MFA output) give speaker ``""`` for the caller to fill in; any other
    tier is one speaker's turns, the speaker being the tier name.

    Parameters
    ----------
    path : str or Path
        The ``.TextGrid`` file.
    speakers : mapping, optional
        Transcript speaker label -> pseudonymous speaker id (see the module docstring).

    Returns
    -------
    pd.DataFrame
        Columns :data:`TRANSCRIPT_COLUMNS`, sorted by (speaker, level, start_s).

    Raises
    ------
    CorpusError
        Unparsable file, bad times or overlaps; TextGrids carry no line numbers, so
        problems name the tier.
    """
    _check_exists(path)
    # Decoded as Praat does: UTF-16 or UTF-8 by byte-order mark, else UTF-8, else
    # Latin-1 (old Praat versions wrote Latin-1; newer ones write UTF-16 when a label
    # is not ASCII). praatio alone would refuse the Latin-1 files Praat opens.
    text = decode_text(Path(path).read_bytes(), str(path), latin1_fallback=True)
    try:
        tiers = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)["tiers"]
    except Exception as e:  # praatio raises anything from IndexError to ParsingError
        raise _unparsable(path, "TextGrid", e) from e
    records: Records = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for tier in tiers:
        if tier["class"] != textgrid.INTERVAL_TIER:
            continue
        name = str(tier["name"])
        if name in seen:  # whose intervals would be whose is ambiguous
            problems.append(Problem(str(path), "two interval tiers have the same name",
                                    column=name))
            continue
        seen.add(name)
        speaker, level = _tier_speaker_level(name)
        records.extend(
            _record(speaker, name, level, iv.start, iv.end, iv.label) for iv in tier["entries"]
        )
    return _finish(path, records, problems, speakers)


def read_eaf(path: str | Path, *, speakers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read an ELAN ``.eaf`` file with pympi-ling.

    A tier's PARTICIPANT attribute is the speaker when set, else the tier name (or, for
    a tier named like MFA's ``"<speaker> - words"``, that speaker). The level is
    words/phones when the tier name says so, else turns. Times are converted from
    milliseconds to seconds. Annotations on symbolic tiers whose time slots are
    unaligned (no time value in the file) have no span and are skipped.

    Parameters
    ----------
    path : str or Path
        The ``.eaf`` file.
    speakers : mapping, optional
        Transcript speaker label -> pseudonymous speaker id.

    Returns
    -------
    pd.DataFrame
        Columns :data:`TRANSCRIPT_COLUMNS`, sorted by (speaker, level, start_s).

    Raises
    ------
    CorpusError
        Unparsable file, bad times or overlaps (problems name the tier and times).
    """
    _check_exists(path)
    try:
        eaf = Eaf(str(path), suppress_version_warning=True)
        tiers = {
            name: (eaf.get_parameters_for_tier(name), eaf.get_annotation_data_for_tier(name))
            for name in eaf.get_tier_names()
        }
    except Exception as e:  # ElementTree ParseError, KeyError on dangling references, ...
        raise _unparsable(path, "ELAN file", e) from e
    records: Records = []
    for name, (params, anns) in tiers.items():
        speaker, level = _tier_speaker_level(name)
        participant = (params.get("PARTICIPANT") or "").strip()
        if participant:
            speaker = participant
        for ann in anns:
            start_ms, end_ms, value = ann[0], ann[1], ann[2]
            if start_ms is None or end_ms is None:
                continue
            records.append(_record(speaker, name, level, start_ms / 1000, end_ms / 1000, value))
    return _finish(path, records, [], speakers)


def _cue_lines(path: str | Path) -> list[tuple[int, str]]:
    """1-based line numbers and start stamps of the cue timing lines, in file order.

    webvtt-py does not keep line numbers, so they are recovered by scanning the file.
    """
    with Path(path).open(encoding="utf-8-sig", errors="replace") as f:
        return [
            (i, m.group("start").replace(",", "."))
            for i, line in enumerate(f, start=1)
            if (m := _TIMING_LINE.match(line))
        ]


def _split_speaker(text: str) -> tuple[str, str]:
    m = _SPEAKER_PREFIX.match(text)
    return (m.group("speaker"), m.group("text")) if m else ("", text)


def _read_captions(
    path: str | Path,
    load: Callable[[str], webvtt.WebVTT],
    what: str,
    speakers: Mapping[str, str] | None,
) -> pd.DataFrame:
    _check_exists(path)
    try:
        captions = load(str(path)).captions
        cue_lines = _cue_lines(path)
    except (MalformedFileError, MalformedCaptionError, ValueError, UnicodeError) as e:
        raise _unparsable(path, what, e) from e
    records: Records = []
    k = 0  # cursor into the scanned timing lines
    for cap in captions:
        # Match each caption to the next timing line with the same start stamp, so a
        # block the parser skipped cannot shift every later line number.
        line = None
        for j in range(k, len(cue_lines)):
            if _stamp_ms(cue_lines[j][1]) == cap.start_time.in_milliseconds():
                line, k = cue_lines[j][0], j + 1
                break
        voice = cap.voice  # Teams: <v Ana García>text</v>
        text = " ".join(cap.text.split("\n")).strip()
        if voice:
            speaker = voice.strip()
        else:  # Zoom: "Ana García: text"
            speaker, text = _split_speaker(text)
        # Caption.start_in_seconds truncates to whole seconds (webvtt-py 0.6); use ms.
        start_s = cap.start_time.in_milliseconds() / 1000
        end_s = cap.end_time.in_milliseconds() / 1000
        records.append(_record(speaker, speaker, "turns", start_s, end_s, text, line))
    return _finish(path, records, [], speakers)


def _stamp_ms(stamp: str) -> int | None:
    """``"hh:mm:ss.ttt"`` or ``"mm:ss.ttt"`` (comma allowed, as in SRT) -> milliseconds."""
    try:
        *hm, sec = stamp.split(":")
        seconds = float(sec) + sum(int(v) * 60**k for k, v in enumerate(reversed(hm), start=1))
    except ValueError:
        return None
    return round(seconds * 1000)


def read_vtt(path: str | Path, *, speakers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a WebVTT file (Zoom or Microsoft Teams export) with webvtt-py.

    The speaker of a cue is its voice span (Teams: ``<v Ana García>text</v>``), else a
    ``"Name: "`` prefix of its text (Zoom), else ``""`` (unknown). Every cue is a turn.

    Parameters
    ----------
    path : str or Path
        The ``.vtt`` file.
    speakers : mapping, optional
        Transcript speaker label (the participant's display name) -> pseudonymous id.

    Returns
    -------
    pd.DataFrame
        Columns :data:`TRANSCRIPT_COLUMNS`, sorted by (speaker, level, start_s).

    Raises
    ------
    CorpusError
        Malformed file or cue, bad times, or two overlapping cues of one speaker (the
        problem names both cues' timing lines).
    """
    return _read_captions(path, lambda p: webvtt.read(p, strict=True), "WebVTT", speakers)


def read_srt(path: str | Path, *, speakers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a SubRip ``.srt`` file with webvtt-py; speakers as in Zoom VTT (``"Name: "``).

    Parameters, returns and errors as :func:`read_vtt`.
    """
    return _read_captions(path, webvtt.from_srt, "SubRip", speakers)


def read_csv_transcript(
    path: str | Path, *, speakers: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read a CSV transcript with header ``start,end,speaker,text`` (times in seconds).

    An optional ``level`` column (words, phones or turns; default turns) is accepted;
    any other column is a problem rather than silently ignored. The speaker label is
    also the tier name.

    Parameters
    ----------
    path : str or Path
        The ``.csv`` file (UTF-8).
    speakers : mapping, optional
        Transcript speaker label -> pseudonymous speaker id.

    Returns
    -------
    pd.DataFrame
        Columns :data:`TRANSCRIPT_COLUMNS`, sorted by (speaker, level, start_s).

    Raises
    ------
    CorpusError
        Missing or unknown columns, non-numeric times, unknown levels, bad times or
        overlaps, each naming its line (the header is line 1).
    """
    _check_exists(path)
    p = str(path)
    # Everything as text first, so a bad value can be quoted as written; UTF-8 (with or
    # without a byte-order mark), LF or CRLF, as for every CSV of the corpus.
    raw = read_csv_cells(path, p)
    problems: list[Problem] = []
    missing = [c for c in CSV_COLUMNS if c not in raw.columns]
    unknown = [c for c in raw.columns if c not in CSV_COLUMNS + _CSV_OPTIONAL]
    if missing:
        problems.append(Problem(p, f"missing column(s) {missing}", line=1))
    if unknown:
        problems.append(
            Problem(p, f"unknown column(s) {unknown}; expected {list(CSV_COLUMNS)}", line=1)
        )
    if problems:
        raise CorpusError(problems)

    times = {c: pd.to_numeric(raw[c].str.strip(), errors="coerce") for c in ("start", "end")}
    levels = raw["level"].str.strip() if "level" in raw.columns else None
    records: Records = []
    for i in range(len(raw)):
        line = i + 2  # header is line 1 (no multi-line quoted fields expected)
        bad = False
        for c in ("start", "end"):
            if pd.isna(times[c].iloc[i]):
                problems.append(Problem(p, "time is not a number", line, c, raw[c].iloc[i]))
                bad = True
        level = "turns" if levels is None or not levels.iloc[i] else levels.iloc[i]
        if level not in LEVELS:
            problems.append(
                Problem(p, f"level must be one of {list(LEVELS)}", line, "level", level)
            )
            bad = True
        if bad:
            continue
        speaker = raw["speaker"].iloc[i].strip()
        records.append(
            _record(
                speaker,
                speaker,
                level,
                times["start"].iloc[i],
                times["end"].iloc[i],
                raw["text"].iloc[i],
                line,
            )
        )
    return _finish(path, records, problems, speakers)


_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    ".textgrid": read_textgrid,
    ".eaf": read_eaf,
    ".vtt": read_vtt,
    ".srt": read_srt,
    ".csv": read_csv_transcript,
}
TRANSCRIPT_EXTENSIONS: tuple[str, ...] = (".TextGrid", ".eaf", ".vtt", ".srt", ".csv")


def read_transcript(path: str | Path, *, speakers: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read any supported transcript into the common interval table.

    Parameters
    ----------
    path : str or Path
        A ``.TextGrid``, ``.eaf``, ``.vtt``, ``.srt`` or ``.csv`` file (extension
        matched case-insensitively).
    speakers : mapping, optional
        Transcript speaker label -> pseudonymous speaker id. Real names (as in Zoom and
        Teams exports) must never reach outputs; pass this mapping to replace them.
        When given, every labelled speaker must be in it.

    Returns
    -------
    pd.DataFrame
        Columns :data:`TRANSCRIPT_COLUMNS` (speaker, tier, level, start_s, end_s, label),
        sorted by (speaker, level, start_s); blank intervals dropped.

    Raises
    ------
    CorpusError
        Unsupported extension, missing or unparsable file, and every invalid time,
        overlap or unmapped speaker found, together.
    """
    reader = _READERS.get(Path(path).suffix.lower())
    if reader is None:
        raise CorpusError.single(
            str(path),
            f"unsupported transcript extension; supported: {' '.join(TRANSCRIPT_EXTENSIONS)}",
            value=Path(path).suffix,
        )
    return reader(path, speakers=speakers)
