"""Phone inventory of the synthetic corpus: classes, formant targets, durations.

All formant values are for an adult *male* vocal tract (vocal-tract-length
factor 1.0); a voice scales frequencies and bandwidths by its ``vtl_scale``.
Vowel targets follow the usual Spanish five-vowel system (e.g. Quilis 1981,
*Fonética acústica de la lengua española*; Martínez Celdrán 1995), consonant
"loci" the classic locus values of Delattre, Liberman & Cooper (1955).
Durations are in milliseconds at the reference articulation rate; the planner
(:func:`corpora.synth.ipu.plan_ipu`) rescales each inter-pausal unit to the
speaker's planted articulation rate.
"""

from __future__ import annotations

VOWELS: tuple[str, ...] = ("a", "e", "i", "o", "u")
VOICELESS_STOPS: tuple[str, ...] = ("p", "t", "k")
VOICED_STOPS: tuple[str, ...] = ("b", "d", "g")
STOPS: tuple[str, ...] = VOICELESS_STOPS + VOICED_STOPS
NASALS: tuple[str, ...] = ("m", "n")
LIQUIDS: tuple[str, ...] = ("l", "r")
FRICATIVES: tuple[str, ...] = ("f", "s")
#: Realisation label of an aspirated coda /s/ (a realisation, never a canonical phone).
ASPIRATED_S = "h"

#: Syllable onsets ("" = no onset, allowed word-initially only) and codas.
ONSETS: tuple[str, ...] = ("p", "t", "k", "b", "d", "g", "m", "n", "l", "r", "s", "f", "")
CODAS: tuple[str, ...] = ("s", "n", "l", "r", "")

#: Canonical phones whose realisation is voiced (the glottal source is on).
VOICED: frozenset[str] = frozenset(VOWELS + VOICED_STOPS + NASALS + LIQUIDS)

PLACE: dict[str, str] = {
    "p": "labial",
    "b": "labial",
    "m": "labial",
    "f": "labial",
    "t": "alveolar",
    "d": "alveolar",
    "n": "alveolar",
    "s": "alveolar",
    "l": "alveolar",
    "r": "alveolar",
    "k": "velar",
    "g": "velar",
}

#: Male vowel targets F1, F2, F3 (Hz).
MALE_VOWEL_FORMANTS: dict[str, tuple[float, float, float]] = {
    "i": (280.0, 2250.0, 2900.0),
    "e": (450.0, 1850.0, 2550.0),
    "a": (700.0, 1300.0, 2450.0),
    "o": (460.0, 950.0, 2450.0),
    "u": (310.0, 780.0, 2300.0),
}
#: Vowel bandwidths B1, B2, B3 (Hz), within the usual 60-90 / 90-120 / 150-200 ranges.
VOWEL_BANDWIDTHS: dict[str, tuple[float, float, float]] = {
    "i": (65.0, 100.0, 180.0),
    "e": (70.0, 100.0, 170.0),
    "a": (90.0, 110.0, 170.0),
    "o": (80.0, 95.0, 160.0),
    "u": (70.0, 90.0, 160.0),
}
#: Fixed higher formants (Hz) and their bandwidths (Hz), male.
F4_HZ, F5_HZ = 3500.0, 4500.0
B4_HZ, B5_HZ = 250.0, 300.0

#: Consonant targets: (F1, F2, F3) and (B1, B2, B3), male.  Nasal murmurs have a
#: low, narrow F1 and damped upper formants; stops/fricatives carry their place
#: locus so that the transitions into neighbouring vowels point the right way.
CONSONANT_FORMANTS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "p": ((250.0, 900.0, 2200.0), (90.0, 120.0, 200.0)),
    "b": ((250.0, 900.0, 2200.0), (90.0, 120.0, 200.0)),
    "f": ((250.0, 900.0, 2200.0), (90.0, 120.0, 200.0)),
    "m": ((250.0, 1100.0, 2200.0), (70.0, 250.0, 300.0)),
    "t": ((250.0, 1700.0, 2600.0), (90.0, 120.0, 200.0)),
    "d": ((250.0, 1700.0, 2600.0), (90.0, 120.0, 200.0)),
    "s": ((250.0, 1700.0, 2600.0), (90.0, 120.0, 200.0)),
    "n": ((250.0, 1500.0, 2500.0), (70.0, 250.0, 300.0)),
    "l": ((350.0, 1250.0, 2700.0), (80.0, 150.0, 250.0)),
    "r": ((420.0, 1500.0, 2300.0), (100.0, 150.0, 250.0)),
    "k": ((250.0, 1800.0, 2150.0), (90.0, 120.0, 200.0)),
    "g": ((250.0, 1800.0, 2150.0), (90.0, 120.0, 200.0)),
}

#: Reference durations (ms).  A voiceless stop is closure + burst + VOT, a
#: voiced stop closure + burst; the burst and VOT keep their length, the
#: closure absorbs any rescaling.
STRESSED_VOWEL_MS = 110.0
UNSTRESSED_VOWEL_MS = 75.0
FINAL_LENGTHENING = 1.4
CLOSURE_MS = 55.0
BURST_MS = 8.0
VOT_MS = 15.0
CONSONANT_MS: dict[str, float] = {
    "p": CLOSURE_MS + BURST_MS + VOT_MS,
    "t": CLOSURE_MS + BURST_MS + VOT_MS,
    "k": CLOSURE_MS + BURST_MS + VOT_MS,
    "b": CLOSURE_MS + BURST_MS,
    "d": CLOSURE_MS + BURST_MS,
    "g": CLOSURE_MS + BURST_MS,
    "s": 85.0,
    "f": 80.0,
    "m": 60.0,
    "n": 60.0,
    "l": 55.0,
    "r": 25.0,
    ASPIRATED_S: 60.0,
}
#: Shortest a phone may get after rate scaling (ms): a stop must hold its
#: burst, VOT and a closure of at least 15 ms.
MIN_MS: dict[str, float] = {
    **{p: BURST_MS + VOT_MS + 15.0 for p in VOICELESS_STOPS},
    **{p: BURST_MS + 15.0 for p in VOICED_STOPS},
}
DEFAULT_MIN_MS = 15.0


def is_vowel(phone: str) -> bool:
    """True for the five vowels."""
    return phone in VOWELS


def reference_duration_ms(phone: str, realisation: str, *, stressed: bool) -> float:
    """Reference duration (ms) of one phone before rate scaling and jitter."""
    if phone in VOWELS:
        return STRESSED_VOWEL_MS if stressed else UNSTRESSED_VOWEL_MS
    return CONSONANT_MS[realisation if realisation == ASPIRATED_S else phone]
