"""Speaker profiles (the survey) and the voice parameters planted from them.

This module draws everything about a speaker *without* synthesising audio, so
tests and notebooks can inspect the planted design cheaply
(:func:`draw_speakers`).

Planted effects (also written to ``truth/effects.md``)
------------------------------------------------------
1. Vowel reduction decreases with education.  Speaker reduction
   ``r = clip(R[education] + N(0, 0.02), 0, 0.45)`` with
   ``R = {secondary: 0.30, short_higher: 0.22, bachelor: 0.15, master_phd: 0.08}``.
   A vowel token's target is ``centroid + (1 - r_tok) * (canonical - centroid)``
   for F1, F2, F3, the centroid being the mean of the speaker's five canonical
   vowels, with ``r_tok = r`` for stressed and ``min(0.6, 1.5 r)`` for
   unstressed tokens.
2. Articulation rate (syllables/s of speech, pauses excluded) by region:
   ES 6.2, Caribbean (VE DO PA) 6.6, Southern Cone (AR UY CL PY) 5.6,
   Andean (BO PE EC CO) 5.3, Mexico & Central America (MX GT SV HN NI CR) 5.9,
   each ``+ N(0, 0.25)``.
3. Median F0: female ``210 - 0.7 (age - 20)`` Hz, male ``118 + 0.15 (age - 20)``
   Hz, times ``exp(N(0, 0.05))``.
4. Coda /s/ is aspirated ([h]) with probability 0.75 in Caribbean countries and
   0.08 elsewhere; onset /s/ is always [s].
5. ``main_income`` is drawn from its own random stream, independent of every
   other column and of the voice: the null control.

Voice quality independent of the profile: ``jitter_local ~ U(0.4, 1.0) %``,
``shimmer_local ~ U(2, 5) %``, aspiration noise ``~ U(-30, -18) dB`` re the
glottal pulse, open quotient ``~ U(0.55, 0.65)``.  Vocal-tract-length factor:
male ``U(0.96, 1.04)``, female ``1.165 * U(0.96, 1.04)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from corpora import profiles as vocabulary
from corpora.synth.phones import MALE_VOWEL_FORMANTS, VOWELS

#: The reference study's countries (Spain and 17 Latin American countries): synthetic
#: speakers come from these only (Cuba and Puerto Rico are Caribbean but were not surveyed).
SURVEY_COUNTRIES: frozenset[str] = frozenset({
    "ES", "AR", "BO", "CL", "CO", "CR", "EC", "DO", "SV", "GT", "HN", "MX", "NI", "PA", "PY",
    "PE", "UY", "VE",
})  # fmt: skip
#: The vocabulary's dialect regions (:data:`corpora.profiles.REGIONS`), surveyed countries only.
REGIONS: dict[str, tuple[str, ...]] = {
    region: tuple(c for c in countries if c in SURVEY_COUNTRIES)
    for region, countries in vocabulary.REGIONS.items()
}
COUNTRY_REGION: dict[str, str] = {c: r for r, cs in REGIONS.items() for c in cs}
#: Region of speaker ``i`` is ``_REGION_CYCLE[i % 5]``: every region is present
#: from 5 speakers on and Spain holds 20 %; within a region the countries rotate.
_REGION_CYCLE: tuple[str, ...] = (
    "spain",
    "mexico_central_america",
    "caribbean",
    "southern_cone",
    "andean",
)

RATE_BY_REGION: dict[str, float] = {
    "spain": 6.2,
    "caribbean": 6.6,
    "southern_cone": 5.6,
    "andean": 5.3,
    "mexico_central_america": 5.9,
}
RATE_SD = 0.25
REDUCTION_BY_EDUCATION: dict[str, float] = {
    "secondary": 0.30,
    "short_higher": 0.22,
    "bachelor": 0.15,
    "master_phd": 0.08,
}
REDUCTION_SD = 0.02
REDUCTION_MAX = 0.45
UNSTRESSED_REDUCTION_FACTOR = 1.5
UNSTRESSED_REDUCTION_MAX = 0.6
S_ASPIRATION_P: dict[str, float] = {"caribbean": 0.75}
S_ASPIRATION_P_DEFAULT = 0.08
FEMALE_VTL = 1.165

EDUCATION_LEVELS: tuple[str, ...] = vocabulary.EDUCATION_LEVELS
_EDUCATION_P = (0.15, 0.20, 0.40, 0.25)
FIELDS: tuple[str, ...] = ("stem", "social_sciences", "humanities", "health", "business", "other")
_FIELD_P = (0.30, 0.20, 0.15, 0.10, 0.15, 0.10)
INCOME_BANDS: tuple[str, ...] = ("<250", "250-500", "500-1000", "1000-2000", ">2000")
PLATFORMS: tuple[str, ...] = (
    "Appen",
    "Clickworker",
    "Amazon Mechanical Turk",
    "Microworkers",
    "Toloka",
    "Prolific",
)
_PLATFORM_P = (0.45, 0.50, 0.30, 0.35, 0.30, 0.25)
_HIGH_INCOME_COUNTRIES = frozenset({"ES"})
_MID_INCOME_COUNTRIES = frozenset({"CL", "UY", "CR", "PA"})

PROFILE_COLUMNS: tuple[str, ...] = vocabulary.PROFILE_COLUMNS


@dataclass(frozen=True)
class Voice:
    """Planted acoustic parameters of one voice (interviewee or interviewer).

    Attributes
    ----------
    speaker_id : str
    gender : {"F", "M"}
    f0_median_hz : float
        Centre of the F0 contours (Hz); declination and accents are placed around it.
    vtl_scale : float
        Multiplies every male formant frequency and bandwidth (1.0 = male reference).
    rate_syll_s : float
        Articulation rate, syllables per second of speech (pauses excluded).
    reduction : float
        Speaker vowel reduction ``r`` in [0, 0.45] (stressed tokens; see module docstring).
    jitter_local, shimmer_local : float
        Expected local jitter / shimmer as fractions (mean absolute difference of
        consecutive periods / amplitudes over their mean).
    aspiration_db : float
        Level of the open-phase aspiration noise re the glottal pulse RMS (dB).
    open_quotient : float
        Open quotient of the KLGLOTT88 pulse.
    s_aspiration_p : float
        Probability that a coda /s/ is realised [h].
    """

    speaker_id: str
    gender: str
    f0_median_hz: float
    vtl_scale: float
    rate_syll_s: float
    reduction: float
    jitter_local: float
    shimmer_local: float
    aspiration_db: float
    open_quotient: float
    s_aspiration_p: float

    def canonical_vowels(self) -> dict[str, tuple[float, float, float]]:
        """Canonical (unreduced) F1, F2, F3 targets (Hz) of the five vowels."""
        return {
            v: tuple(float(f * self.vtl_scale) for f in MALE_VOWEL_FORMANTS[v])  # type: ignore[misc]
            for v in VOWELS
        }

    def vowel_centroid(self) -> tuple[float, float, float]:
        """Mean F1, F2, F3 (Hz) of the five canonical vowels."""
        arr = np.array(list(self.canonical_vowels().values()))
        return tuple(float(x) for x in arr.mean(axis=0))  # type: ignore[return-value]

    def token_reduction(self, *, stressed: bool) -> float:
        """Reduction of one vowel token: ``r`` stressed, ``min(0.6, 1.5 r)`` unstressed."""
        if stressed:
            return self.reduction
        return min(UNSTRESSED_REDUCTION_MAX, UNSTRESSED_REDUCTION_FACTOR * self.reduction)

    def vowel_target(self, vowel: str, *, stressed: bool) -> tuple[float, float, float]:
        """Realised F1, F2, F3 target (Hz) of a vowel token (planted effect 1)."""
        r = self.token_reduction(stressed=stressed)
        canon = self.canonical_vowels()[vowel]
        cent = self.vowel_centroid()
        return tuple(c + (1.0 - r) * (f - c) for f, c in zip(canon, cent, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True)
class Speaker:
    """One profiled speaker: survey answers plus the planted voice."""

    speaker_id: str
    gender: str
    age: int
    country: str
    education: str
    student: bool
    field: str
    languages: str
    income_band: str
    main_income: bool
    platforms: str
    consent: bool
    region: str
    voice: Voice

    def profile_row(self) -> dict[str, object]:
        """The ``speakers.csv`` row, columns in :data:`PROFILE_COLUMNS` order."""
        d = asdict(self)
        return {k: d[k] for k in PROFILE_COLUMNS}


def speaker_id(index: int) -> str:
    """``S001`` for index 0 (zero-padded to three digits)."""
    return f"S{index + 1:03d}"


def country_for(index: int) -> str:
    """Deterministic country of speaker ``index`` (see :data:`_REGION_CYCLE`)."""
    region = _REGION_CYCLE[index % len(_REGION_CYCLE)]
    countries = REGIONS[region]
    return countries[(index // len(_REGION_CYCLE)) % len(countries)]


def planted_f0_median(gender: str, age: float) -> float:
    """Population median F0 (Hz) for gender and age, before speaker noise (effect 3)."""
    if gender == "F":
        return 210.0 - 0.7 * (age - 20.0)
    return 118.0 + 0.15 * (age - 20.0)


def draw_speaker(index: int, seq: np.random.SeedSequence) -> Speaker:
    """Draw the profile and planted voice of speaker ``index`` from its seed sequence.

    ``seq`` is the speaker's child of ``SeedSequence(seed).spawn(n)``; its first
    two children drive the profile and voice, the third ``main_income`` only
    (the null control), the fourth is left to the audio renderer.
    """
    prof_seq, voice_seq, null_seq, _audio = seq.spawn(4)
    rng = np.random.default_rng(prof_seq)
    sid = speaker_id(index)
    country = country_for(index)
    region = COUNTRY_REGION[country]
    gender = "F" if rng.random() < 0.5 else "M"
    # Micro-workers are young adults on average (mean ~33).
    age = int(np.clip(np.round(19 + rng.gamma(2.0, 7.0)), 19, 65))
    edu_i = int(rng.choice(len(EDUCATION_LEVELS), p=_EDUCATION_P))
    education = EDUCATION_LEVELS[edu_i]
    student = bool(rng.random() < (0.45 if age < 28 else 0.10))
    field = FIELDS[int(rng.choice(len(FIELDS), p=_FIELD_P))]
    langs = []
    if country == "ES" and rng.random() < 0.3:
        langs.append("ca")
    for code, p in (
        ("en", 0.45 + 0.1 * edu_i),
        ("pt", 0.25 if region == "southern_cone" else 0.08),
        ("fr", 0.10),
        ("de", 0.05),
        ("it", 0.05),
    ):
        if rng.random() < p:
            langs.append(code)
    latent = 0.6 * edu_i + rng.normal(0.0, 1.0)
    latent += 1.2 if country in _HIGH_INCOME_COUNTRIES else 0.0
    latent += 0.5 if country in _MID_INCOME_COUNTRIES else 0.0
    income_band = INCOME_BANDS[int(np.searchsorted([0.3, 1.1, 1.9, 2.8], latent))]
    chosen = [p for p, q in zip(PLATFORMS, _PLATFORM_P, strict=True) if rng.random() < q]
    if not chosen:
        chosen = [PLATFORMS[int(rng.integers(len(PLATFORMS)))]]
    main_income = bool(np.random.default_rng(null_seq).random() < 0.35)

    vr = np.random.default_rng(voice_seq)
    f0 = planted_f0_median(gender, age) * float(np.exp(vr.normal(0.0, 0.05)))
    vtl = (FEMALE_VTL if gender == "F" else 1.0) * float(vr.uniform(0.96, 1.04))
    rate = RATE_BY_REGION[region] + float(vr.normal(0.0, RATE_SD))
    red = float(
        np.clip(
            REDUCTION_BY_EDUCATION[education] + vr.normal(0.0, REDUCTION_SD), 0.0, REDUCTION_MAX
        )
    )
    voice = Voice(
        speaker_id=sid,
        gender=gender,
        f0_median_hz=f0,
        vtl_scale=vtl,
        rate_syll_s=rate,
        reduction=red,
        jitter_local=float(vr.uniform(0.004, 0.010)),
        shimmer_local=float(vr.uniform(0.02, 0.05)),
        aspiration_db=float(vr.uniform(-30.0, -18.0)),
        open_quotient=float(vr.uniform(0.55, 0.65)),
        s_aspiration_p=S_ASPIRATION_P.get(region, S_ASPIRATION_P_DEFAULT),
    )
    return Speaker(
        speaker_id=sid,
        gender=gender,
        age=age,
        country=country,
        education=education,
        student=student,
        field=field,
        languages=";".join(langs),
        income_band=income_band,
        main_income=main_income,
        platforms=";".join(chosen),
        consent=True,
        region=region,
        voice=voice,
    )


def speaker_seeds(seed: int, n_speakers: int) -> list[np.random.SeedSequence]:
    """Per-speaker seed sequences: ``SeedSequence(seed).spawn(n_speakers)``.

    Child ``i`` depends only on ``seed`` and ``i``, so speaker ``S001`` is the
    same in a 3-speaker and a 40-speaker corpus, and no result depends on
    worker scheduling.
    """
    return np.random.SeedSequence(seed).spawn(n_speakers)


def draw_speakers(n_speakers: int, seed: int = 0) -> list[Speaker]:
    """Profiles and planted voices of ``n_speakers`` speakers, no audio synthesised."""
    return [draw_speaker(i, s) for i, s in enumerate(speaker_seeds(seed, n_speakers))]


#: The fixed pool of interviewers (Spanish, one female, one male), alternating
#: by speaker index: even indices get INT1.
INTERVIEWERS: tuple[Voice, ...] = (
    Voice("INT1", "F", 200.0, 1.16, 6.0, 0.12, 0.005, 0.03, -24.0, 0.6, 0.08),
    Voice("INT2", "M", 125.0, 1.0, 6.0, 0.12, 0.006, 0.03, -24.0, 0.6, 0.08),
)


def interviewer_for(index: int) -> Voice:
    """Interviewer voice of the interview with speaker ``index``."""
    return INTERVIEWERS[index % len(INTERVIEWERS)]
