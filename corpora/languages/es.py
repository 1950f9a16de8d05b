"""Spanish spelling -> syllable nuclei: which vowel each syllable has and which is stressed.

Rules (RAE, *Ortografía de la lengua española* 2010, ch. 1-2; Hualde 2005, *The
Sounds of Spanish*, ch. 9-10):

* ``qu`` and ``gu`` before e/i spell /k/ and /g/: their ``u`` is silent (``que``,
  ``guerra``); ``gü`` keeps it (``pingüino``). ``h`` is silent and does not break a
  vowel sequence (``ahora`` a.o).
* ``y`` before a vowel is a consonant (``mayo``); after a vowel it is a glide
  (``hoy``, ``muy``, ``veinte`` likewise with ``i``); alone (the word ``y``) or between
  consonants it is the vowel /i/.
* In a vowel sequence, a, e, o and the accented í, ú are strong, unaccented i, u
  (and glide y) weak. Two strong vowels are in hiatus (two syllables: ``le.o``,
  ``dí.a``); a weak vowel joins its strong neighbour in a diphthong or triphthong
  whose nucleus is the strong vowel (``cua.tro``, ``buey``); in a weak+weak
  diphthong the second is the nucleus (``ciu.dad``, ``cui.da``) unless it is a
  final glide y (``muy``).
* Stress: the syllable with the written accent; without one, the penultimate when
  the word ends in a vowel, n or s, else the last. Monosyllabic function words
  (articles, clitics, common prepositions and conjunctions) are unstressed.
"""

from __future__ import annotations

import unicodedata

__all__ = ["UNSTRESSED", "word_nuclei"]

_ACUTE = {"á": "a", "é": "e", "í": "i", "ó": "o", "ú": "u"}
_VOWELS = set("aeiou") | set(_ACUTE) | {"ü"}
_FRONT = set("eiéí")
#: Monosyllables spoken without stress (written without an accent, RAE 2010 §2.3).
UNSTRESSED = frozenset({
    "a", "al", "de", "del", "el", "la", "las", "le", "les", "lo", "los", "me", "mi", "mis",
    "nos", "os", "por", "que", "se", "su", "sus", "te", "tu", "tus", "un", "y", "e", "o",
    "u", "ni", "si", "en", "con", "sin", "cual", "pues",
})  # fmt: skip


def _units(letters: str) -> list[tuple[int, str, bool, bool] | None]:
    """Per letter: (index, vowel, accented, glide) for a vowel, None for a consonant;
    silent letters (h, the u of qu/gu + e/i) are left out."""
    out: list[tuple[int, str, bool, bool] | None] = []
    n = len(letters)
    i = 0
    while i < n:
        c = letters[i]
        if c in "qg" and i + 2 < n and letters[i + 1] == "u" and letters[i + 2] in _FRONT:
            out.append(None)
            i += 2  # the u is silent
            continue
        if c == "h":
            i += 1  # silent; does not break a vowel sequence
            continue
        if c == "y":
            after_vowel = bool(out) and out[-1] is not None
            if i + 1 < n and letters[i + 1] in _VOWELS:
                out.append(None)  # consonant: mayo, yo
            else:
                out.append((i, "i", False, after_vowel))  # glide (hoy) or the vowel (y)
        elif c in _VOWELS:
            accented = c in _ACUTE
            out.append((i, _ACUTE.get(c, "u" if c == "ü" else c), accented, False))
        else:
            out.append(None)
        i += 1
    return out


def _syllable_nuclei(run: list[tuple[int, str, bool, bool]]) -> list[tuple[int, str, bool]]:
    """Split one vowel sequence into syllables; (letter index, vowel, accented) of each
    syllable's nucleus."""
    groups: list[list[tuple[int, str, bool, bool]]] = [[]]
    for unit in run:
        strong = unit[1] in "aeo" or unit[2]
        if strong and any(u[1] in "aeo" or u[2] for u in groups[-1]):
            groups.append([])  # hiatus: two strong vowels
        groups[-1].append(unit)
    nuclei = []
    for group in groups:
        strong = [u for u in group if u[1] in "aeo" or u[2]]
        if strong:
            head = strong[0]
        else:
            full = [u for u in group if not u[3]]
            head = full[-1] if full else group[-1]
        nuclei.append((head[0], head[1], head[2] or any(u[2] for u in group)))
    return nuclei


def word_nuclei(word: str) -> tuple[tuple[str, bool, int], ...]:
    """The syllable nuclei of one written Spanish word.

    Parameters
    ----------
    word : str
        One word (case, apostrophes and hyphens are ignored).

    Returns
    -------
    tuple of (vowel, stressed, letter_index)
        One per syllable in order: the nucleus vowel ("a" "e" "i" "o" "u"), whether
        the syllable carries the word's stress, and the index of its letter among
        the word's letters. Empty for a word without vowels ("mm", "sr").

    Examples
    --------
    >>> [v for v, s, _ in word_nuclei("cuatro")], [s for v, s, _ in word_nuclei("cuatro")]
    (['a', 'o'], [True, False])
    """
    letters = "".join(c for c in unicodedata.normalize("NFC", word.lower()) if c.isalpha())
    runs: list[list[tuple[int, str, bool, bool]]] = []
    previous = None
    for unit in _units(letters):
        if unit is not None:
            if previous is None:
                runs.append([])
            runs[-1].append(unit)
        previous = unit
    nuclei = [n for run in runs for n in _syllable_nuclei(run)]
    if not nuclei:
        return ()
    accented = [k for k, n in enumerate(nuclei) if n[2]]
    if accented:
        stress = accented[-1]
    elif len(nuclei) == 1:
        stress = -1 if letters in UNSTRESSED else 0
    else:
        final_open = letters[-1] in "aeiouns"
        stress = len(nuclei) - 2 if final_open else len(nuclei) - 1
    return tuple((v, k == stress, i) for k, (i, v, _) in enumerate(nuclei))
