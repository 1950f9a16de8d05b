"""Speaker profiles: read and validate ``speakers.csv``.

One row per speaker: a pseudonymous ``speaker_id`` plus survey answers. The
schema is the one of docs/architecture.md, the vocabulary (education scale, yes/no
and gender spellings) that of ``vocabulary/profiles.toml``; every column but
``speaker_id`` is optional and unknown columns are kept as extra covariates
(numeric when every value parses as a number). Every problem in the file is
reported at once, with its line and value, so a corpus maintainer can fix the
whole file in one go.

Privacy is enforced here, at the edge: the speakers' voices and survey answers
are personal data, so a column whose name or values look like real names,
e-mail addresses or phone numbers is refused (the offending value is masked in
the message, so the error itself does not spread the data).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from corpora.problems import CorpusError, Problem
from corpora.textfile import read_csv_cells

# The vocabulary's one home is the data-only package ``vocabulary`` (models reads the same
# file), so corpora and models agree on it without importing each other.
VOCABULARY: dict = tomllib.loads(files("vocabulary").joinpath("profiles.toml").read_text("utf-8"))

#: Ordered education levels, lowest first (the reference survey's highest degree).
EDUCATION_LEVELS: tuple[str, ...] = tuple(VOCABULARY["education"]["levels"])

#: Canonical gender codes and the spellings accepted for each (case-insensitive).
GENDER_CODES: dict[str, str] = {
    spelling: code for code, spellings in VOCABULARY["gender"].items() for spelling in spellings
}

#: Yes/no spellings (English and Spanish, compared in lower case).
YES: frozenset[str] = frozenset(VOCABULARY["yes_no"]["yes"])
NO: frozenset[str] = frozenset(VOCABULARY["yes_no"]["no"])

#: Dialect regions: region -> ISO 3166-1 alpha-2 codes, in reporting order.
REGIONS: dict[str, tuple[str, ...]] = {
    region: tuple(codes) for region, codes in VOCABULARY["regions"].items()
}

#: Profile columns with a fixed meaning, in the order they are written out.
PROFILE_COLUMNS: tuple[str, ...] = tuple(VOCABULARY["columns"]["profile"])
BOOLEAN_COLUMNS: tuple[str, ...] = tuple(VOCABULARY["columns"]["boolean"])

AGE_RANGE = (14, 100)  # inclusive; outside it the value is a typo, not a speaker
_SPEAKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Column headers that announce identifying data (English and Spanish surveys).
_PII_HEADER = re.compile(
    r"^(?:(?:first|last|full|given|family|sur|real|user)[ _-]?name|names?|nombres?|apellidos?|"
    r"e[ _-]?mails?|correo(?:[ _-]electr[oó]nico)?|mail|phone(?:[ _-]?number)?|tel[eé]fonos?|"
    r"tel|mobile|m[oó]vil|celular|whats[ _-]?app|address|direcci[oó]n|dni|passport|pasaporte)$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# International or national phone numbers: 9-15 digits, optionally with + and separators;
# "1000-2000" style numeric ranges (income bands) are not phone numbers.
_PHONE = re.compile(r"^(?!\d+\s*-\s*\d+$)\+?\(?(?:\d[\s().-]{0,2}){8,14}\d$")
# Two to four capitalised alphabetic words: "María José Pérez".
_PERSON_NAME = re.compile(r"^[A-ZÁÉÍÓÚÑÜ][a-záéíóúñü'-]+(?: [A-ZÁÉÍÓÚÑÜ][a-záéíóúñü'-]+){1,3}$")


def mask(value: str) -> str:
    """Mask a personal value for an error message: keep its shape, not its content."""
    if "@" in value:
        user, _, domain = value.partition("@")
        return f"{user[:1]}***@{domain}"
    return value[:2] + "*" * max(len(value) - 2, 3)


def parse_bool(value: str) -> bool | None:
    """Survey yes/no (English or Spanish, any case) -> bool; ``None`` if not a boolean."""
    v = value.strip().lower()
    if v in YES:
        return True
    if v in NO:
        return False
    return None


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code in canonical upper case, or ``None`` if not one."""
    v = value.strip().upper()
    if len(v) == 2 and pycountry.countries.get(alpha_2=v) is not None:
        return v
    return None


def _language_ok(code: str) -> bool:
    code = code.strip().lower()
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    if len(code) == 3:
        return pycountry.languages.get(alpha_3=code) is not None
    return False


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(";") if item.strip()]


def read_speakers(
    path: str | Path, *, name: str | None = None, income_bands: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read and validate a ``speakers.csv`` file.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8 with or without a byte-order mark, LF or CRLF line
        endings, header row, comma-separated).
    name : str, optional
        How to name the file in problems (default: ``path`` as given), e.g.
        ``"speakers.csv"`` relative to the corpus root.
    income_bands : iterable of str, optional
        Allowed ``income_band`` values, lowest first (``corpus.toml``'s
        ``income_bands``); without it the column is kept as plain strings.

    Returns
    -------
    pandas.DataFrame
        One row per speaker, indexed by nothing (``speaker_id`` is a column), with
        typed columns: ``gender`` (F/M/X), ``age`` (Int64), ``country`` (ISO
        alpha-2, upper case), ``education`` (ordered categorical, lowest first:
        see :data:`EDUCATION_LEVELS`), ``student`` / ``main_income`` (nullable
        boolean), ``consent`` (boolean; missing means ``False``), ``languages``
        and ``platforms`` (semicolon-separated strings, languages as ISO 639
        codes), ``income_band`` and ``field`` (strings; ``income_band`` is an
        ordered categorical when ``income_bands`` gives the order), plus any
        extra columns, numeric where every value parses as a number.

    Raises
    ------
    CorpusError
        With one :class:`~corpora.problems.Problem` per bad cell, duplicate id
        or refused column, each naming the file, the line (header = line 1) and
        the value.
    """
    path = Path(path)
    label = name if name is not None else str(path)
    if not path.is_file():
        raise CorpusError.single(label, "speakers.csv is required and was not found")
    # UTF-8 (a byte-order mark is fine), LF or CRLF; anything else names its line.
    raw = read_csv_cells(path, label)
    return validate_speakers(raw, name=label, income_bands=income_bands)


def validate_speakers(
    raw: pd.DataFrame, *, name: str = "speakers.csv", income_bands: Iterable[str] | None = None
) -> pd.DataFrame:
    """Validate a table of raw string cells (as read from ``speakers.csv``).

    See :func:`read_speakers` for the schema. ``income_bands``, when given, is the
    ordered list of allowed ``income_band`` values (lowest first).
    """
    problems: list[Problem] = []
    raw = raw.rename(columns=lambda c: str(c).strip())
    columns = list(raw.columns)
    # Line numbers: header is line 1, the first data row line 2.
    lines = np.arange(len(raw)) + 2

    def report(i: int | None, column: str | None, message: str, value: str | None = None) -> None:
        problems.append(
            Problem(name, message, line=None if i is None else int(lines[i]), column=column,
                    value=value)
        )

    if "speaker_id" not in columns:
        report(None, None, f"missing required column 'speaker_id' (columns: {columns})")
        raise CorpusError(problems)
    dupes = [c for c in set(columns) if columns.count(c) > 1]
    for c in sorted(dupes):
        report(None, c, "column appears more than once")
    if dupes:  # which of the two holds the answer is unknowable: stop here
        raise CorpusError(problems)

    _check_privacy(raw, report)
    cells = pd.DataFrame({c: raw[c].astype(str).str.strip() for c in columns}, index=raw.index)
    out = pd.DataFrame({"speaker_id": cells["speaker_id"]}, index=raw.index)
    _check_ids(out["speaker_id"], lines, report)
    for c, (parse, build) in _CELL_PARSERS.items():
        if c in cells:
            out[c] = build(_parse_cells(cells[c], parse, c, report))
    # No consent recorded means no consent: such a speaker is never analysed.
    out["consent"] = (
        out["consent"].fillna(False).astype(bool) if "consent" in out else False
    )
    if "languages" in cells:
        out["languages"] = _languages(cells["languages"], report)
    if "income_band" in cells:
        out["income_band"] = _income_bands(cells["income_band"], income_bands, report)
    for c in ("field", "platforms"):
        if c in cells:
            out[c] = cells[c].replace("", None).astype("string")
    for c in columns:
        if c not in PROFILE_COLUMNS and c not in out:
            out[c] = _covariate(cells[c])
    if problems:
        raise CorpusError(problems)
    return out.reset_index(drop=True)


Report = Callable[..., None]
#: Parse one non-empty cell -> (value, None) or (None, what is wrong with it).
CellParser = Callable[[str], tuple[object, str | None]]


def _parse_cells(values: pd.Series, parse: CellParser, column: str, report: Report) -> list:
    """Parse every non-empty cell of a column; report each bad one with its line and value."""
    parsed: list = []
    for i, value in enumerate(values):
        result, problem = parse(value) if value else (None, None)
        if problem is not None:
            report(i, column, problem, value)
        parsed.append(result)
    return parsed


def _gender(value: str) -> tuple[str | None, str | None]:
    code = GENDER_CODES.get(value.lower())
    return code, None if code is not None else "unknown gender; use F, M or X"


def _age(value: str) -> tuple[int | None, str | None]:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number.is_integer():
        return None, "age must be a whole number of years"
    if not AGE_RANGE[0] <= number <= AGE_RANGE[1]:
        return None, f"age outside {AGE_RANGE[0]}-{AGE_RANGE[1]}"
    return int(number), None


def _country(value: str) -> tuple[str | None, str | None]:
    code = country_code(value)
    return code, None if code else "not an ISO 3166-1 alpha-2 country code (e.g. ES, MX)"


def _education(value: str) -> tuple[str | None, str | None]:
    if value.lower() in EDUCATION_LEVELS:
        return value.lower(), None
    return None, f"unknown education level; use one of {', '.join(EDUCATION_LEVELS)}"


def _yes_no(value: str) -> tuple[bool | None, str | None]:
    flag = parse_bool(value)
    return flag, None if flag is not None else "not a yes/no value (true/false, yes/no, si/no, 1/0)"


#: Columns parsed cell by cell: (parser, builder of the typed column from the parsed list).
_CELL_PARSERS: dict[str, tuple[CellParser, Callable[[list], object]]] = {
    "gender": (_gender, lambda xs: pd.array(xs, dtype="string")),
    "age": (_age, lambda xs: pd.array(xs, dtype="Int64")),
    "country": (_country, lambda xs: pd.array(xs, dtype="string")),
    "education": (_education,
                  lambda xs: pd.Categorical(xs, categories=EDUCATION_LEVELS, ordered=True)),
    **{c: (_yes_no, lambda xs: pd.array(xs, dtype="boolean")) for c in BOOLEAN_COLUMNS},
}


def _check_ids(ids: pd.Series, lines: np.ndarray, report: Report) -> None:
    """Report empty, malformed and duplicate speaker ids (a duplicate names the first line)."""
    first_seen: dict[str, int] = {}
    for i, sid in enumerate(ids):
        if not sid:
            report(i, "speaker_id", "empty speaker id")
        elif not _SPEAKER_ID.match(sid):
            report(i, "speaker_id", "a speaker id is a pseudonym of letters, digits, '_', '-', "
                   "'.' (no spaces)", sid)
        elif sid in first_seen:
            report(i, "speaker_id", f"duplicate speaker id (first on line {first_seen[sid]})", sid)
        else:
            first_seen[sid] = int(lines[i])


def _languages(values: pd.Series, report: Report) -> pd.Series:
    """ISO 639 codes separated by ';' (spaces and empty items dropped)."""
    for i, v in enumerate(values):
        bad = [code for code in _split_list(v) if not _language_ok(code)]
        if bad:
            report(i, "languages", "not ISO 639 language codes separated by ';'", ";".join(bad))
    return values.map(lambda v: ";".join(_split_list(v))).astype("string")


def _income_bands(values: pd.Series, bands: Iterable[str] | None, report: Report):
    """Ordered categorical over ``bands`` when given (others reported), else strings."""
    if bands is None:
        return values.replace("", None).astype("string")
    order = list(bands)
    for i, v in enumerate(values):
        if v and v not in order:
            report(i, "income_band", f"unknown income band; use one of {order}", v)
    return pd.Categorical(values.where(values.isin(order), None), categories=order, ordered=True)


def _covariate(values: pd.Series) -> pd.Series:
    """An extra column: numeric when every non-empty value parses as a number, else strings."""
    values = values.replace("", None)
    numeric = pd.to_numeric(values, errors="coerce")
    is_numeric = values.notna().any() and numeric[values.notna()].notna().all()
    return numeric if is_numeric else values.astype("string")


def _check_privacy(raw: pd.DataFrame, report) -> None:
    """Refuse columns that carry names, e-mail addresses or phone numbers."""
    for c in raw.columns:
        if _PII_HEADER.match(c):
            report(None, c, "column looks like personal data (names, e-mails, phone numbers "
                   "or addresses); remove it: speakers are identified by pseudonyms only")
            continue
        values = raw[c].astype(str).str.strip()
        nonempty = values[values != ""]
        if nonempty.empty:
            continue
        kinds = (
            ("an e-mail address", nonempty.str.contains(_EMAIL)),
            ("a phone number", nonempty.str.match(_PHONE)),
        )
        for kind, hits in kinds:
            for i in np.flatnonzero(hits.to_numpy(dtype=bool)):
                row = raw.index.get_loc(nonempty.index[i])
                report(row, c, f"value looks like {kind}", mask(nonempty.iloc[i]))
        # A column where most values look like "Given Family" names is a name column.
        name_like = nonempty.str.match(_PERSON_NAME)
        if c != "speaker_id" and c not in PROFILE_COLUMNS and name_like.mean() >= 0.5:
            report(None, c, f"{int(name_like.sum())} of {len(nonempty)} values look like "
                   "people's names; remove the column: speakers are identified by pseudonyms")
