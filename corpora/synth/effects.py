"""The text of ``truth/effects.md``: planted effects, their formulas and the null column."""

from __future__ import annotations

from corpora.synth import profiles as prof


def effects_markdown() -> str:
    """Markdown description of every planted effect, built from the live constants."""
    red = ", ".join(f"{k} {v:.2f}" for k, v in prof.REDUCTION_BY_EDUCATION.items())
    rate = ", ".join(
        f"{r} ({' '.join(prof.REGIONS[r])}) {v:.1f}" for r, v in prof.RATE_BY_REGION.items()
    )
    return f"""# Planted effects of the synthetic reference corpus

Per-speaker planted values are in `truth/speakers.csv`; per-token realised values
in `truth/tokens.csv`; the planted F0 contour every 10 ms in `truth/f0/`.

## 1. Vowel reduction decreases with education

Speaker reduction `r = clip(R[education] + N(0, {prof.REDUCTION_SD}), 0, {prof.REDUCTION_MAX})`,
R = {{{red}}}.

Each vowel token's F1, F2, F3 target:
`realised = centroid + (1 - r_tok) * (canonical - centroid)`, where `centroid` is
the mean of the speaker's five canonical vowel targets and
`r_tok = r` for stressed tokens, `min({prof.UNSTRESSED_REDUCTION_MAX}, \
{prof.UNSTRESSED_REDUCTION_FACTOR} * r)` for unstressed ones
(`tokens.csv`: `reduction`, `f1_hz`.., `canonical_f1_hz`..).
Canonical targets = male targets (i 280/2250/2900, e 450/1850/2550,
a 700/1300/2450, o 460/950/2450, u 310/780/2300 Hz) times `vtl_scale`
(male U(0.96, 1.04), female {prof.FEMALE_VTL} * U(0.96, 1.04)).

## 2. Articulation rate by region

`rate_syll_s = base[region] + N(0, {prof.RATE_SD})` syllables per second of speech
(pauses excluded): {rate}.  Each IPU is timed at `rate_syll_s * exp(N(0, 0.05))`.

## 3. F0 by gender and age

Median F0 = `210 - 0.7 (age - 20)` Hz (female), `118 + 0.15 (age - 20)` Hz (male),
times `exp(N(0, 0.05))`.  Contours: declination 2-4 st over the IPU, accents of
1.5-3 st peaking at the end of the stressed vowel, declarative fall 2-3 st over the
last 300 ms, question rise 5-7 st from the last stressed vowel (interviewers only).

## 4. Coda /s/ aspiration

Each coda /s/ is realised [h] (`realisation = h`, labelled `s` in the TextGrid)
with probability {prof.S_ASPIRATION_P["caribbean"]} in Caribbean countries
(VE DO PA) and {prof.S_ASPIRATION_P_DEFAULT} elsewhere; onset /s/ is always [s].

## 5. Null control: `main_income`

`main_income` ~ Bernoulli(0.35) from its own random stream: independent of every
other profile column and of every acoustic parameter.  Any model finding an effect
of it is reporting noise.

## Independent of the profile

jitter (local) U(0.4, 1.0) %, shimmer (local) U(2, 5) %, aspiration noise
U(-30, -18) dB re the glottal pulse, open quotient U(0.55, 0.65).

## Recording conditions

16 kHz, 16-bit; interviewer 4 dB below the interviewee; white noise floor 47 dB
below the interviewee's speech RMS; each recording peak-normalised to -3 dBFS.
"""
