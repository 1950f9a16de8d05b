"""Problems found in a corpus, and the one exception that carries them.

Every reader in :mod:`corpora` reports *all* the problems it finds, each naming
the file and, where there is one, the line, column and offending value, so that
``speech-profile check`` can list them together instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file.

    Attributes
    ----------
    path : str
        The file, as given (relative to the corpus root where the caller knows it).
    message : str
        What is wrong, in words a corpus maintainer can act on.
    line : int or None
        1-based line number in the file (the header is line 1 of a CSV).
    column : str or None
        Column, tier or field name.
    value : str or None
        The offending value, quoted in the rendered message.
    """

    path: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = self.message
        if self.column is not None:
            what = f"column {self.column!r}: {what}"
        if self.value is not None:
            what = f"{what} (got {self.value!r})"
        return f"{where}: {what}"


class CorpusError(ValueError):
    """Raised with every :class:`Problem` a reader found in its input."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("CorpusError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, path: str, message: str, **where: object) -> CorpusError:
        """Shorthand for an error with one problem."""
        return cls([Problem(str(path), message, **where)])  # type: ignore[arg-type]
