"""Text input files (CSV tables, TextGrids) decoded once, at the edge, with clear errors.

Corpus metadata arrives from spreadsheets and old tools: a UTF-8 byte-order mark
(Excel's "CSV UTF-8"), Windows line endings, a Windows-1252 / Latin-1 export, or a
TextGrid that Praat saved in UTF-16. This module turns bytes into text the same way
for every reader:

- a byte-order mark decides (UTF-8, UTF-16 LE/BE) and is removed;
- otherwise the file must be UTF-8; a file that is not is refused with the line, the
  column and the offending byte, and a hint to re-save it as UTF-8. Readers that
  mirror Praat may instead fall back to ISO 8859-1 (Latin-1), as Praat itself does
  for text files that are neither UTF-16 nor valid UTF-8 (Praat manual, "Unicode").
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pandas as pd

from corpora.problems import CorpusError

__all__ = ["decode_text", "read_csv_cells"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes, label: str, *, latin1_fallback: bool = False) -> str:
    """Decode a text file's bytes.

    Parameters
    ----------
    data : bytes
        The whole file.
    label : str
        How to name the file in a problem.
    latin1_fallback : bool
        Decode a file without a byte-order mark that is not valid UTF-8 as ISO
        8859-1 (Praat's rule for text files) instead of refusing it.

    Returns
    -------
    str
        The text, byte-order mark removed, line endings untouched.

    Raises
    ------
    CorpusError
        Not valid in the encoding its byte-order mark announces, or (without
        ``latin1_fallback``) not valid UTF-8; the problem names the line, the
        column and the offending byte.
    """
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    else:
        if latin1_fallback:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                return data.decode("latin-1")  # every byte is a Latin-1 character
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise CorpusError.single(
            label,
            f"not valid {encoding.upper()} text (byte {e.object[e.start:e.start + 1]!r} at "
            f"column {column}); re-save the file as UTF-8 (in Excel: 'CSV UTF-8')",
            line=line,
        ) from e


def read_csv_cells(path: str | Path, label: str) -> pd.DataFrame:
    """Read a comma-separated table as strings (empty cells as ``""``).

    UTF-8 with or without a byte-order mark, LF or CRLF line endings. Leading
    spaces after a comma are dropped; header names are stripped.

    Raises
    ------
    CorpusError
        Unreadable, not UTF-8 (naming the line), empty (no header row), or not
        parsable as CSV (pandas' message, which names the line).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CorpusError.single(label, f"cannot read the file: {e.strerror or e}") from e
    text = decode_text(data, label)
    if not text.strip():
        raise CorpusError.single(label, "empty file: a header row is needed")
    try:
        table = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise CorpusError.single(label, f"not a readable CSV file: {e}") from e
    return table.rename(columns=lambda c: str(c).strip())
