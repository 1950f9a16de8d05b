"""Language knowledge over text: the vowels a written word will be spoken with.

A language plugs in by adding a module here that defines ``word_nuclei(word) ->
tuple[Nucleus, ...]`` (one entry per syllable nucleus, in order) and registering it
in :data:`LANGUAGES` under its ISO 639-1 code, the code ``corpus.toml``'s
``language`` names. :func:`text_nuclei` then reads a whole transcribed interval.
A corpus whose language has no module gets unlabelled vowel tokens (``label_source``
``none``) when it has no phone alignment; nothing fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["LANGUAGES", "Nucleus", "UnreadableText", "rules_for", "text_nuclei", "text_words"]


class Nucleus(NamedTuple):
    """One expected syllable nucleus of a written text."""

    vowel: str  #: inventory vowel ("a", "e", ...)
    stressed: bool  #: the word's stressed syllable
    word: int  #: index of the word in the text (0-based)
    position: float  #: where its letter sits in the text, in [0, 1] (for timing)


class UnreadableText(ValueError):
    """A text the rules cannot read (digits, symbols): its vowel count is unknown."""


WordRules = Callable[[str], tuple[tuple[str, bool, int], ...]]

# A word: letters and the apostrophe/hyphen inside it; anything else separates words.
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_UNREADABLE = re.compile(r"\d")


def _spanish() -> WordRules:
    from corpora.languages import es

    return es.word_nuclei


#: Language code -> loader of its word rules (imported on first use).
LANGUAGES: dict[str, Callable[[], WordRules]] = {"es": _spanish}


def rules_for(language: str | None) -> WordRules | None:
    """The word rules of ``language`` (ISO 639-1, case-insensitive), None when no module
    knows it."""
    loader = LANGUAGES.get(str(language or "").strip().lower())
    return loader() if loader else None


def text_words(text: str) -> list[str]:
    """The words of a text as :func:`text_nuclei` reads them (``Nucleus.word`` indexes
    this list)."""
    return _WORD.findall(text)


def text_nuclei(text: str, rules: WordRules) -> tuple[Nucleus, ...]:
    """Expected nuclei of a transcribed text, word by word.

    Parameters
    ----------
    text : str
        The interval's transcription (punctuation and case are ignored).
    rules : callable
        ``word -> ((vowel, stressed, letter_index), ...)``, from :func:`rules_for`.

    Returns
    -------
    tuple of Nucleus
        In spoken order; ``position`` is the nucleus letter's index over the text's
        letters, in [0, 1] (a proxy for its time inside the interval).

    Raises
    ------
    UnreadableText
        When the text holds digits (a number's spoken syllables are unknown).
    """
    if _UNREADABLE.search(text):
        raise UnreadableText(f"digits in transcript text {text[:60]!r}: write numbers out")
    words = text_words(text)
    n_letters = sum(len(w) for w in words)
    out: list[Nucleus] = []
    seen = 0
    for k, word in enumerate(words):
        for vowel, stressed, letter in rules(word):
            out.append(Nucleus(vowel, stressed, k, (seen + letter + 0.5) / max(n_letters, 1)))
        seen += len(word)
    if len(words) == 1 and len(out) == 1 and not out[0].stressed:
        out[0] = out[0]._replace(stressed=True)  # a word said alone is stressed ("a", "y")
    return tuple(out)
