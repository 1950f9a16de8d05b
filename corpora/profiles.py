"""Speaker profiles: read and validate ``speakers.csv``.

One row per speaker: a pseudonymous ``speaker_id`` plus survey answers. The
schema is the one of DESIGN.md; every column but ``speaker_id`` is optional and
unknown columns are kept as extra covariates (numeric when every value parses as
a number). Every problem in the file is reported at once, with its line and
value, so a corpus maintainer can fix the whole file in one go.

Privacy is enforced here, at the edge: the speakers' voices and survey answers
are personal data, so a column whose name or values look like real names,
e-mail addresses or phone numbers is refused (the offending value is masked in
the message, so the error itself does not spread the data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from corpora.problems import CorpusError, Problem
from corpora.textfile import read_csv_cells

#: Ordered education levels, lowest first (the reference survey's highest degree).
EDUCATION_LEVELS: tuple[str, ...] = ("secondary", "short_higher", "bachelor", "master_phd")

#: Canonical gender codes and the spellings accepted for each (case-insensitive).
GENDER_CODES: dict[str, str] = {
    "f": "F", "female": "F", "woman": "F", "mujer": "F",
    "m": "M", "male": "M", "man": "M", "hombre": "M",
    "x": "X", "nonbinary": "X", "non-binary": "X", "other": "X", "otro": "X",
}  # fmt: skip

_TRUE = {"true", "t", "yes", "y", "1", "si", "sí"}
_FALSE = {"false", "f", "no", "n", "0"}

#: Profile columns with a fixed meaning, in the order they are written out.
PROFILE_COLUMNS: tuple[str, ...] = (
    "speaker_id", "gender", "age", "country", "education", "student", "field",
    "languages", "income_band", "main_income", "platforms", "consent",
)  # fmt: skip
BOOLEAN_COLUMNS: tuple[str, ...] = ("student", "main_income", "consent")

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
    if v in _TRUE:
        return True
    if v in _FALSE:
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

    out = pd.DataFrame(index=raw.index)
    ids = raw["speaker_id"].astype(str).str.strip()
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
    out["speaker_id"] = ids

    def column(c: str) -> pd.Series | None:
        return raw[c].astype(str).str.strip() if c in raw.columns else None

    if (gender := column("gender")) is not None:
        codes = []
        for i, v in enumerate(gender):
            code = GENDER_CODES.get(v.lower()) if v else None
            if v and code is None:
                report(i, "gender", "unknown gender; use F, M or X", v)
            codes.append(code)
        out["gender"] = pd.Series(codes, index=raw.index, dtype="string")

    if (age := column("age")) is not None:
        ages: list[int | None] = []
        for i, v in enumerate(age):
            parsed = None
            if v:
                try:
                    number = float(v)
                except ValueError:
                    number = float("nan")
                if not number.is_integer():
                    report(i, "age", "age must be a whole number of years", v)
                elif not AGE_RANGE[0] <= number <= AGE_RANGE[1]:
                    report(i, "age", f"age outside {AGE_RANGE[0]}-{AGE_RANGE[1]}", v)
                else:
                    parsed = int(number)
            ages.append(parsed)
        out["age"] = pd.array(ages, dtype="Int64")

    if (country := column("country")) is not None:
        codes = []
        for i, v in enumerate(country):
            code = country_code(v) if v else None
            if v and code is None:
                report(i, "country", "not an ISO 3166-1 alpha-2 country code (e.g. ES, MX)", v)
            codes.append(code)
        out["country"] = pd.Series(codes, index=raw.index, dtype="string")

    if (education := column("education")) is not None:
        levels = []
        for i, v in enumerate(education):
            level = v.lower() if v else None
            if level is not None and level not in EDUCATION_LEVELS:
                report(i, "education", f"unknown education level; use one of "
                       f"{', '.join(EDUCATION_LEVELS)}", v)
                level = None
            levels.append(level)
        out["education"] = pd.Categorical(levels, categories=EDUCATION_LEVELS, ordered=True)

    for c in BOOLEAN_COLUMNS:
        if (values := column(c)) is None:
            continue
        flags: list[bool | None] = []
        for i, v in enumerate(values):
            flag = parse_bool(v) if v else None
            if v and flag is None:
                report(i, c, "not a yes/no value (true/false, yes/no, si/no, 1/0)", v)
            flags.append(flag)
        out[c] = pd.array(flags, dtype="boolean")
    # No consent recorded means no consent: such a speaker is never analysed.
    out["consent"] = (
        out["consent"].fillna(False).astype(bool) if "consent" in out else False
    )

    if (languages := column("languages")) is not None:
        for i, v in enumerate(languages):
            bad = [code for code in _split_list(v) if not _language_ok(code)]
            if bad:
                report(i, "languages", "not ISO 639 language codes separated by ';'",
                       ";".join(bad))
        out["languages"] = languages.map(lambda v: ";".join(_split_list(v))).astype("string")

    if (income := column("income_band")) is not None:
        if income_bands is not None:
            order = list(income_bands)
            for i, v in enumerate(income):
                if v and v not in order:
                    report(i, "income_band", f"unknown income band; use one of {order}", v)
            out["income_band"] = pd.Categorical(
                income.where(income.isin(order), None), categories=order, ordered=True
            )
        else:
            out["income_band"] = income.replace("", None).astype("string")

    for c in ("field", "platforms"):
        if (values := column(c)) is not None:
            out[c] = values.replace("", None).astype("string")

    for c in columns:
        if c in PROFILE_COLUMNS or c in out:
            continue
        values = raw[c].astype(str).str.strip().replace("", None)
        numeric = pd.to_numeric(values, errors="coerce")
        is_numeric = values.notna().any() and numeric[values.notna()].notna().all()
        out[c] = numeric if is_numeric else values.astype("string")

    if problems:
        raise CorpusError(problems)
    return out.reset_index(drop=True)


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
