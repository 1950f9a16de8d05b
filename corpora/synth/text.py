"""Pseudo-Spanish text: syllables, words, a seeded lexicon and the read prompts.

Words are CV(C) syllables built from the onsets, five vowels and codas of
:mod:`corpora.synth.phones`.  Stress follows the Spanish default rule (Harris
1983, *Syllable structure and stress in Spanish*): penultimate when the word
ends in a vowel, ``n`` or ``s``, final otherwise; monosyllables are stressed.
About 28 % of the words end in a plural-like ``s``; no word ends in a stop
(stops are never codas).  Spelling is the phone string except /k/, written
``c`` before a, o, u and ``qu`` before e, i, and /g/, written ``gu`` before e, i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpora.synth.phones import STOPS, VOWELS

# Onset weights: sonorants and /s/ are frequent in Spanish, /g/ and /f/ rare.
_ONSET_WEIGHTS: dict[str, float] = {
    "p": 0.08,
    "t": 0.10,
    "k": 0.09,
    "b": 0.06,
    "d": 0.08,
    "g": 0.03,
    "m": 0.09,
    "n": 0.07,
    "l": 0.09,
    "r": 0.07,
    "s": 0.10,
    "f": 0.04,
    "": 0.10,
}
_VOWEL_WEIGHTS: dict[str, float] = {"a": 0.30, "e": 0.28, "i": 0.14, "o": 0.20, "u": 0.08}
# Word-final codas: the plural-like /s/ in ~28 % of words.
_FINAL_CODA_WEIGHTS: dict[str, float] = {"s": 0.28, "n": 0.12, "l": 0.05, "r": 0.05, "": 0.50}
_MEDIAL_CODA_WEIGHTS: dict[str, float] = {"s": 0.08, "n": 0.07, "l": 0.03, "r": 0.04, "": 0.78}
_N_SYLLABLE_WEIGHTS: dict[int, float] = {1: 0.15, 2: 0.42, 3: 0.31, 4: 0.12}


@dataclass(frozen=True)
class Syllable:
    """One CV(C) syllable; an empty string means "no onset" / "no coda"."""

    onset: str
    vowel: str
    coda: str


@dataclass(frozen=True)
class Word:
    """A pseudo-word: spelling, syllables and the index of its stressed syllable."""

    spelling: str
    syllables: tuple[Syllable, ...]
    stress: int

    @property
    def starts_with_stop(self) -> bool:
        return self.syllables[0].onset in STOPS

    def phones(self) -> list[tuple[str, str, bool]]:
        """(phone, position, stressed) for every phone; position is onset|nucleus|coda."""
        out: list[tuple[str, str, bool]] = []
        for i, syl in enumerate(self.syllables):
            stressed = i == self.stress
            if syl.onset:
                out.append((syl.onset, "onset", stressed))
            out.append((syl.vowel, "nucleus", stressed))
            if syl.coda:
                out.append((syl.coda, "coda", stressed))
        return out


def _pick(rng: np.random.Generator, weights: dict) -> object:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def spell(syllables: Sequence[Syllable]) -> str:
    """Orthographic form of a syllable sequence (see module docstring)."""
    parts = []
    for syl in syllables:
        onset = syl.onset
        if onset == "k":
            onset = "qu" if syl.vowel in "ei" else "c"
        elif onset == "g" and syl.vowel in "ei":
            onset = "gu"
        parts.append(onset + syl.vowel + syl.coda)
    return "".join(parts)


def stress_index(syllables: Sequence[Syllable]) -> int:
    """Spanish default stress: penultimate after a final vowel, n or s, else final."""
    n = len(syllables)
    if n == 1:
        return 0
    return n - 2 if syllables[-1].coda in ("", "n", "s") else n - 1


def random_word(rng: np.random.Generator) -> Word:
    """Draw one pseudo-word (1-4 syllables)."""
    n = int(_pick(rng, _N_SYLLABLE_WEIGHTS))
    syllables: list[Syllable] = []
    for i in range(n):
        onset = str(_pick(rng, _ONSET_WEIGHTS))
        if i > 0 and onset == "":
            onset = "l"  # no hiatus inside a word: keeps every vowel a separate nucleus
        vowel = str(_pick(rng, _VOWEL_WEIGHTS))
        coda = str(_pick(rng, _FINAL_CODA_WEIGHTS if i == n - 1 else _MEDIAL_CODA_WEIGHTS))
        if syllables and syllables[-1].coda and syllables[-1].coda == onset:
            syllables[-1] = Syllable(syllables[-1].onset, syllables[-1].vowel, "")
        syllables.append(Syllable(onset, vowel, coda))
    return Word(spell(syllables), tuple(syllables), stress_index(syllables))


def make_lexicon(rng: np.random.Generator, *, n_words: int = 300) -> tuple[Word, ...]:
    """A lexicon of ``n_words`` distinct pseudo-words, in rank (frequency) order."""
    seen: set[str] = set()
    words: list[Word] = []
    while len(words) < n_words:
        w = random_word(rng)
        if w.spelling not in seen:
            seen.add(w.spelling)
            words.append(w)
    return tuple(words)


def zipf_weights(n: int, *, exponent: float = 0.9) -> np.ndarray:
    """Normalised Zipf weights for ranks 1..n."""
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def draw_phrase(
    lexicon: Sequence[Word], rng: np.random.Generator, *, n_words: int
) -> tuple[Word, ...]:
    """Draw ``n_words`` words (Zipf frequencies); the phrase never begins with a stop.

    An IPU-initial stop closure is acoustically silent, so its start boundary
    would be unmeasurable; the first word is redrawn until it starts otherwise.
    """
    p = zipf_weights(len(lexicon))
    idx = rng.choice(len(lexicon), size=n_words, p=p)
    words = [lexicon[int(i)] for i in idx]
    while words[0].starts_with_stop:
        words[0] = lexicon[int(rng.choice(len(lexicon), p=p))]
    return tuple(words)


def n_syllables(words: Sequence[Word]) -> int:
    return sum(len(w.syllables) for w in words)


def draw_phrase_syllables(
    lexicon: Sequence[Word], rng: np.random.Generator, *, min_syllables: int
) -> tuple[Word, ...]:
    """Draw words (as :func:`draw_phrase`) until the phrase has ``min_syllables``."""
    words = list(draw_phrase(lexicon, rng, n_words=1))
    p = zipf_weights(len(lexicon))
    while n_syllables(words) < min_syllables:
        words.append(lexicon[int(rng.choice(len(lexicon), p=p))])
    return tuple(words)


def make_prompts(
    lexicon: Sequence[Word], rng: np.random.Generator, *, n_prompts: int = 20
) -> tuple[tuple[tuple[Word, ...], ...], ...]:
    """The read micro-task: ``n_prompts`` sentences of one or two phrases (IPUs).

    Each sentence has about 16-26 syllables, 3-4 s of speech at 6 syllables/s.
    """
    prompts = []
    for _ in range(n_prompts):
        target = int(rng.integers(16, 27))
        n_phrases = 1 if rng.random() < 0.5 else 2
        prompts.append(
            tuple(
                draw_phrase_syllables(lexicon, rng, min_syllables=target // n_phrases)
                for _ in range(n_phrases)
            )
        )
    return tuple(prompts)


__all__ = [
    "VOWELS",
    "Syllable",
    "Word",
    "draw_phrase",
    "draw_phrase_syllables",
    "make_lexicon",
    "make_prompts",
    "n_syllables",
    "random_word",
    "spell",
    "stress_index",
    "zipf_weights",
]
