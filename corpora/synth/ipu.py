"""One inter-pausal unit (IPU): phones -> signal, with exact ground truth.

Architecture (Klatt 1980): a glottal source (:mod:`corpora.synth.source`) plus
aspiration noise excite a cascade of five time-varying formant resonators
(:mod:`corpora.synth.filter`); fricatives and stop bursts are band-passed noise
added in parallel after the cascade.  Aspirated /s/ ([h]) and the VOT of
voiceless stops are noise sent *through* the cascade, so they carry the
neighbouring vowel's formants.

Every phone expands into sub-segments with constant targets: source gains
(voicing, aspiration, one gain per frication branch) and formants F1-F5 with
bandwidths.  Gains change over raised-cosine ramps of 8 ms (1 ms at a burst
release), formants over 28 ms centred on each boundary, both capped at 45 % of
the shorter neighbour, so the central part of any vowel of 80 ms or more sits
exactly at its target.

References
----------
Klatt, D. H. (1980). Software for a cascade/parallel formant synthesizer.
*JASA*, 67(3), 971-995.
Klatt, D. H., & Klatt, L. C. (1990). Analysis, synthesis, and perception of voice
quality variations among female and male talkers. *JASA*, 87(2), 820-857.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpora.synth import phones as ph
from corpora.synth.filter import cascade_filter, frication_noise
from corpora.synth.profiles import Voice
from corpora.synth.prosody import F0Contour, plan_contour
from corpora.synth.source import glottal_epochs, klglott88, pulse_rms
from corpora.synth.text import Word
from corpora.synth.tracks import smooth_steps

#: Source channels of a sub-segment: voicing, cascade aspiration, parallel branches.
CHANNELS: tuple[str, ...] = (
    "av",
    "ah",
    "s",
    "f",
    "burst_labial",
    "burst_alveolar",
    "burst_velar",
)
_CH = {c: i for i, c in enumerate(CHANNELS)}

# Source gains (linear).  Voicing is relative to a vowel (1.0); noise gains are
# calibrated so that, after the cascade, /s/ is ~6-8 dB below the vowels, [f]
# ~20 dB, [h] ~15 dB, bursts 10-20 dB (Stevens 1998, *Acoustic Phonetics*).
AV_GAIN: dict[str, float] = {"m": 0.3, "n": 0.3, "l": 0.55, "r": 0.35}
VOICE_BAR_GAIN = 0.04
AH_VOT_GAIN = 0.5
AH_H_GAIN = 0.35
FRIC_GAIN: dict[str, float] = {"s": 0.9, "f": 0.12}
BURST_GAIN = 1.2
VOICED_BURST_GAIN = 0.5

GAIN_HALF_WIDTH_S = 0.004
BURST_HALF_WIDTH_S = 0.0005
FORMANT_HALF_WIDTH_S = 0.014
#: Frame length of the time-varying filter (5 ms at 16 kHz).
BLOCK_S = 0.005
#: Spectral-tilt pole of the source low-pass.
SOURCE_TILT = 0.25


@dataclass(frozen=True)
class PhoneSpec:
    """One phone to synthesise.

    Attributes
    ----------
    phone : str
        Canonical phone (a label of :mod:`corpora.synth.phones`).
    duration_s : float
        Duration (s).
    stressed : bool
        Belongs to a stressed syllable (vowel reduction, accents).
    realisation : str or None
        Surface realisation if different from ``phone`` (``"h"`` for aspirated /s/).
    word : str
        Orthographic word the phone belongs to (carried into the truth).
    position : str
        ``onset``, ``nucleus`` or ``coda`` ("" when unknown).
    """

    phone: str
    duration_s: float
    stressed: bool = False
    realisation: str | None = None
    word: str = ""
    position: str = ""

    @property
    def surface(self) -> str:
        return self.realisation or self.phone


@dataclass(frozen=True)
class TokenTruth:
    """Ground truth of one synthesised phone; times in s from the signal start.

    Formant fields are NaN for consonants; ``f0_mid_hz`` is NaN for voiceless phones.
    """

    phone: str
    realisation: str
    word: str
    position: str
    start_s: float
    end_s: float
    is_vowel: bool
    stressed: bool
    voiced: bool
    f1_hz: float
    f2_hz: float
    f3_hz: float
    canonical_f1_hz: float
    canonical_f2_hz: float
    canonical_f3_hz: float
    reduction: float
    f0_mid_hz: float


@dataclass(frozen=True)
class IpuTruth:
    """Ground truth of one synthesised IPU (times in s from the signal start)."""

    tokens: tuple[TokenTruth, ...]
    f0: F0Contour
    start_s: float
    end_s: float
    question: bool

    def voiced(self, t_s: np.ndarray) -> np.ndarray:
        """True where a voiced phone spans ``t_s`` (s)."""
        t = np.asarray(t_s, dtype=float)
        starts = np.array([tok.start_s for tok in self.tokens])
        ends = np.array([tok.end_s for tok in self.tokens])
        flags = np.array([tok.voiced for tok in self.tokens])
        i = np.searchsorted(starts, t, side="right") - 1
        ok = (i >= 0) & (t < ends[np.maximum(i, 0)])
        return ok & flags[np.maximum(i, 0)]

    def f0_hz(self, t_s: np.ndarray) -> np.ndarray:
        """Planted F0 (Hz) at ``t_s`` where voiced, NaN elsewhere."""
        t = np.asarray(t_s, dtype=float)
        return np.where(self.voiced(t), self.f0(t), np.nan)


def plan_ipu(
    words: Sequence[Word],
    voice: Voice,
    *,
    rng: np.random.Generator,
    rate_jitter: float = 0.05,
    duration_jitter: float = 0.10,
) -> tuple[PhoneSpec, ...]:
    """Phones and durations of one IPU spoken by ``voice``.

    Reference durations (:mod:`corpora.synth.phones`) get phrase-final
    lengthening (x1.4 on the last syllable's nucleus and coda) and log-normal
    jitter (SD ``duration_jitter``), then the whole IPU is scaled so that its
    articulation rate is ``voice.rate_syll_s * exp(N(0, rate_jitter))``
    syllables/s; durations are rounded to whole milliseconds, so every boundary
    lies on the sample grid and prints exactly with 6 decimals.  Coda /s/ is
    realised [h] with probability ``voice.s_aspiration_p`` (planted effect 4).

    Parameters
    ----------
    words : sequence of Word
    voice : Voice
    rng : numpy.random.Generator
    rate_jitter, duration_jitter : float
        Log-normal SDs of the per-IPU rate and per-phone duration perturbations.

    Returns
    -------
    tuple of PhoneSpec
    """
    specs: list[tuple[str, str, bool, str, str, float]] = []
    n_syll = 0
    for wi, word in enumerate(words):
        for si, syl in enumerate(word.syllables):
            n_syll += 1
            final = wi == len(words) - 1 and si == len(word.syllables) - 1
            stressed = si == word.stress
            for phone, pos in ((syl.onset, "onset"), (syl.vowel, "nucleus"), (syl.coda, "coda")):
                if not phone:
                    continue
                real = phone
                if phone == "s" and pos == "coda" and rng.random() < voice.s_aspiration_p:
                    real = ph.ASPIRATED_S
                d = ph.reference_duration_ms(phone, real, stressed=stressed)
                if final and pos != "onset":
                    d *= ph.FINAL_LENGTHENING
                d *= float(np.exp(rng.normal(0.0, duration_jitter)))
                specs.append((phone, real, stressed, word.spelling, pos, d))
    rate = voice.rate_syll_s * float(np.exp(rng.normal(0.0, rate_jitter)))
    scale = 1000.0 * n_syll / rate / sum(s[-1] for s in specs)
    out = []
    for phone, real, stressed, spelling, pos, d in specs:
        ms = max(round(d * scale), round(ph.MIN_MS.get(phone, ph.DEFAULT_MIN_MS)))
        out.append(
            PhoneSpec(phone, ms / 1000.0, stressed, None if real == phone else real, spelling, pos)
        )
    return tuple(out)


@dataclass
class _Sub:
    """A sub-segment with constant targets (sample bounds, gains, formants)."""

    start: int
    end: int
    gains: np.ndarray  # (len(CHANNELS),)
    formants: np.ndarray  # (10,) F1..F5 then B1..B5, Hz
    burst: bool = False


def _consonant_formants(phone: str, vtl: float) -> np.ndarray:
    (f1, f2, f3), (b1, b2, b3) = ph.CONSONANT_FORMANTS[phone]
    return vtl * np.array([f1, f2, f3, ph.F4_HZ, ph.F5_HZ, b1, b2, b3, ph.B4_HZ, ph.B5_HZ])


def _vowel_formants(f123: Sequence[float], vowel: str, vtl: float) -> np.ndarray:
    b1, b2, b3 = ph.VOWEL_BANDWIDTHS[vowel]
    f = [*f123, vtl * ph.F4_HZ, vtl * ph.F5_HZ]
    return np.array([*f, *(vtl * np.array([b1, b2, b3, ph.B4_HZ, ph.B5_HZ]))])


def _gains(**kw: float) -> np.ndarray:
    g = np.zeros(len(CHANNELS))
    for k, v in kw.items():
        g[_CH[k]] = v
    return g


def synthesize_ipu(
    phones: Sequence[PhoneSpec],
    voice: Voice,
    *,
    sr: int = 16000,
    rng: np.random.Generator,
    question: bool = False,
    pad_s: float = 0.05,
) -> tuple[np.ndarray, IpuTruth]:
    """Synthesise one stretch of phones for one voice (Klatt-style cascade/parallel).

    Parameters
    ----------
    phones : sequence of PhoneSpec
        The phones, in order, with durations; should not start with a stop
        (its closure would be silent and its start boundary unmeasurable).
    voice : Voice
        Planted speaker parameters (F0, vocal tract, reduction, voice quality).
    sr : int
        Sample rate (Hz).
    rng : numpy.random.Generator
        Drives the F0 contour, jitter, shimmer and noise sources.
    question : bool
        Final rise instead of the declarative final fall.
    pad_s : float
        Silence (s) before and after the phones, so filter ringing decays
        inside the returned signal.

    Returns
    -------
    signal : np.ndarray of float32, shape (n_samples,)
        Unscaled waveform, ``n_samples = round(pad_s * sr) * 2 + sum of phone samples``.
    truth : IpuTruth
        Phone boundaries, realised formant targets and the F0 contour, in seconds
        from the start of ``signal``.

    Notes
    -----
    Vowel targets follow planted effect 1 (see :mod:`corpora.synth.profiles`):
    ``centroid + (1 - r_tok) (canonical - centroid)``.
    """
    if not phones:
        raise ValueError("synthesize_ipu needs at least one phone, got 0")
    pad = round(pad_s * sr)
    durs = np.array([max(1, round(p.duration_s * sr)) for p in phones])
    bounds = pad + np.concatenate(([0], np.cumsum(durs)))
    n = int(bounds[-1]) + pad
    # Realised vowel targets (planted effect 1); None for consonants.
    vform = [
        _vowel_formants(voice.vowel_target(p.phone, stressed=p.stressed), p.phone,
                        voice.vtl_scale) if ph.is_vowel(p.phone) else None
        for p in phones
    ]  # fmt: skip
    subs = [_Sub(0, pad, _gains(), np.empty(0))]  # the leading pad takes the first formants
    for i, p in enumerate(phones):
        subs += _phone_subs(p, int(bounds[i]), int(bounds[i + 1]), vform[i],
                            prv=_neighbour_vowel(phones, vform, i, -1),
                            nxt=_neighbour_vowel(phones, vform, i, +1), vtl=voice.vtl_scale, sr=sr)
    subs[0].formants = subs[1].formants
    subs.append(_Sub(int(bounds[-1]), n, _gains(), subs[-1].formants))
    env, tracks, block = _source_envelopes(subs, n, sr=sr)
    gains_used = np.array([sb.gains for sb in subs]).any(axis=0)

    # F0 contour and glottal source (continuous through unvoiced stretches).
    times = bounds / sr
    contour = plan_contour(
        voice.f0_median_hz,
        start_s=float(times[0]),
        end_s=float(times[-1]),
        stressed_vowels=[(float(times[i]), float(times[i + 1])) for i, p in enumerate(phones)
                         if p.stressed and ph.is_vowel(p.phone)],
        question=question,
        rng=rng,
    )  # fmt: skip
    out = _render(env, tracks, contour(np.arange(n, dtype=float) / sr), voice, sr=sr,
                  block=block, gains_used=gains_used, rng=rng)
    tokens = _token_truths(phones, vform, times, contour, voice)
    truth = IpuTruth(tokens, contour, float(times[0]), float(times[-1]), question)
    return out.astype(np.float32), truth


def _neighbour_vowel(
    phones: Sequence[PhoneSpec], vform: list[np.ndarray | None], i: int, step: int
) -> np.ndarray | None:
    """Formants of the vowel adjacent to phone ``i`` on side ``step`` (-1 or +1), if any."""
    j = i + step
    while 0 <= j < len(phones):
        if vform[j] is not None:
            return vform[j]
        if not ph.is_vowel(phones[j].phone):
            return None  # only the adjacent vowel counts
        j += step
    return None


def _phone_subs(
    p: PhoneSpec, s: int, e: int, vowel: np.ndarray | None, *, prv: np.ndarray | None,
    nxt: np.ndarray | None, vtl: float, sr: int,
) -> list[_Sub]:  # fmt: skip
    """Sub-segments of one phone spanning samples ``s:e`` (vowel targets, or consonant loci,
    closures, bursts and VOT; aspirated /s/ takes the neighbouring vowel's formants)."""
    if vowel is not None:
        return [_Sub(s, e, _gains(av=1.0), vowel)]
    locus = _consonant_formants(p.phone, vtl)
    burst_n = round(ph.BURST_MS * sr / 1000)
    if p.phone in ph.VOICELESS_STOPS:
        burst = "burst_" + ph.PLACE[p.phone]
        b0 = e - burst_n - round(ph.VOT_MS * sr / 1000)
        return [
            _Sub(s, b0, _gains(), locus),
            _Sub(b0, b0 + burst_n, _gains(**{burst: BURST_GAIN}), locus, burst=True),
            _Sub(b0 + burst_n, e, _gains(ah=AH_VOT_GAIN), nxt if nxt is not None else locus),
        ]
    if p.phone in ph.VOICED_STOPS:
        burst = "burst_" + ph.PLACE[p.phone]
        b0 = e - burst_n
        return [
            _Sub(s, b0, _gains(av=VOICE_BAR_GAIN), locus),
            _Sub(b0, e, _gains(av=VOICE_BAR_GAIN, **{burst: VOICED_BURST_GAIN}), locus,
                 burst=True),
        ]  # fmt: skip
    if p.surface == ph.ASPIRATED_S:
        ctx = prv if prv is not None else nxt
        return [_Sub(s, e, _gains(ah=AH_H_GAIN), ctx if ctx is not None else locus)]
    if p.phone in ph.FRICATIVES:
        return [_Sub(s, e, _gains(**{p.phone: FRIC_GAIN[p.phone]}), locus)]
    return [_Sub(s, e, _gains(av=AV_GAIN[p.phone]), locus)]  # nasals and liquids


def _source_envelopes(subs: list[_Sub], n: int, *, sr: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-sample source gains and per-block formant tracks, smoothed across sub-segments.

    Returns
    -------
    env : np.ndarray, shape (n, len(CHANNELS))
        Gain of each source channel per sample.
    tracks : np.ndarray, shape (n_blocks, 10)
        F1..F5 then B1..B5 (Hz) at the centre of each filter block.
    block : int
        Filter block length (samples).
    """
    edges = np.array([sb.start for sb in subs] + [n], dtype=float)
    is_burst = np.array([sb.burst for sb in subs])
    gain_hw = np.where(is_burst[:-1] | is_burst[1:], BURST_HALF_WIDTH_S, GAIN_HALF_WIDTH_S) * sr
    gains = np.array([sb.gains for sb in subs])
    used = np.flatnonzero(gains.any(axis=0))
    env = np.zeros((n, len(CHANNELS)))
    env[:, used] = smooth_steps(np.arange(n, dtype=float), edges, gains[:, used], gain_hw)
    block = round(BLOCK_S * sr)
    t_block = (np.arange(-(-n // block)) + 0.5) * block
    tracks = smooth_steps(
        t_block, edges, np.array([sb.formants for sb in subs]), FORMANT_HALF_WIDTH_S * sr
    )
    return env, tracks, block


def _render(
    env: np.ndarray, tracks: np.ndarray, f0: np.ndarray, voice: Voice, *, sr: int, block: int,
    gains_used: np.ndarray, rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """Glottal pulses plus aspiration through the cascade, frication in parallel (float64).

    ``env`` and ``tracks`` are :func:`_source_envelopes`'s, ``f0`` the contour per sample
    (Hz), ``gains_used`` which channels any sub-segment turns on (frication noise is drawn
    from ``rng`` only when one does).
    """
    n = env.shape[0]
    onsets, periods, amps = glottal_epochs(
        f0, sr=sr, jitter_local=voice.jitter_local, shimmer_local=voice.shimmer_local, rng=rng
    )
    pulses, open_phase = klglott88(
        n, onsets, periods, amps, sr=sr, open_quotient=voice.open_quotient, tilt=SOURCE_TILT
    )
    noise = rng.standard_normal(n)
    asp = pulse_rms(voice.open_quotient) * 10.0 ** (voice.aspiration_db / 20.0)
    asp /= np.sqrt(voice.open_quotient)
    excitation = env[:, _CH["av"]] * (pulses + asp * open_phase * noise)
    excitation += env[:, _CH["ah"]] * noise * pulse_rms(voice.open_quotient)
    out = cascade_filter(excitation, tracks[:, :5], tracks[:, 5:], sr=sr, block=block)
    fric_used = [c for c in CHANNELS[2:] if gains_used[_CH[c]]]
    if fric_used:
        fnoise = rng.standard_normal(n)
        for c in fric_used:
            out += env[:, _CH[c]] * frication_noise(fnoise, c, sr=sr)
    return out


def _token_truths(
    phones: Sequence[PhoneSpec], vform: list[np.ndarray | None], times: np.ndarray,
    contour: F0Contour, voice: Voice,
) -> tuple[TokenTruth, ...]:  # fmt: skip
    """Ground truth of every phone: boundaries (s), realised and canonical targets, F0."""
    canon = voice.canonical_vowels()
    tokens = []
    for i, p in enumerate(phones):
        t0, t1 = float(times[i]), float(times[i + 1])
        voiced = p.phone in ph.VOICED and p.surface != ph.ASPIRATED_S
        f0_mid = float(contour(np.array((t0 + t1) / 2.0))) if voiced else np.nan
        if vform[i] is not None:
            f123, c123 = vform[i][:3], canon[p.phone]
            red = voice.token_reduction(stressed=p.stressed)
        else:
            f123 = c123 = (np.nan, np.nan, np.nan)
            red = np.nan
        tokens.append(TokenTruth(
            p.phone, p.surface, p.word, p.position, t0, t1, ph.is_vowel(p.phone), p.stressed,
            voiced, *(float(f) for f in f123), *(float(c) for c in c123), float(red), f0_mid,
        ))  # fmt: skip
    return tuple(tokens)
