"""One speaker's recordings: plan the interview and read utterances, render them.

Times are planned in whole milliseconds (so every boundary is on the 16 kHz
sample grid and prints exactly with 6 decimals); each IPU is synthesised on its
own with 50 ms padding and added into the recording at its offset.

Interview: the interviewer opens; interviewer turns have 1-2 IPUs of 5-9 words,
the last IPU a question (final rise) with probability 0.6; interviewee turns
have 2-5 IPUs of 3-7 words; pauses inside a turn 250-800 ms, gaps between
turns 300-900 ms, never overlapping; turns continue until the interview reaches
75 % of the speaker's audio budget, ending on the interviewee.  Read
utterances: prompts from the shared set, 230-270 ms of silence at both ends,
300-500 ms between the phrases of a prompt.  Each voice is scaled to a fixed
speech RMS (interviewer 4 dB below the interviewee), a white noise floor 47 dB
below the interviewee's speech RMS is added, and each recording is
peak-normalised to -3 dBFS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpora.synth.ipu import PhoneSpec, TokenTruth, plan_ipu, synthesize_ipu
from corpora.synth.profiles import Voice
from corpora.synth.text import Word, draw_phrase, n_syllables

SR = 16000
PAD_S = 0.05
INTERVIEW_SHARE = 0.75
UTTERANCE_TARGET_S = 4.0
INTERVIEWER_DB = -4.0
NOISE_FLOOR_DB = -47.0
PEAK_DBFS = -3.0
F0_STEP_S = 0.01


@dataclass(frozen=True)
class PlacedIpu:
    """An IPU planned at a position in a recording (times in ms)."""

    voice: Voice
    words: tuple[Word, ...]
    phones: tuple[PhoneSpec, ...]
    start_ms: int
    turn: int
    question: bool

    @property
    def phone_ms(self) -> np.ndarray:
        return np.array([round(p.duration_s * 1000) for p in self.phones], dtype=np.int64)

    @property
    def end_ms(self) -> int:
        return self.start_ms + int(self.phone_ms.sum())


@dataclass(frozen=True)
class RecordingPlan:
    """A recording to render: id, kind, duration (ms), IPUs, voices in tier order."""

    recording_id: str
    kind: str
    duration_ms: int
    ipus: tuple[PlacedIpu, ...]
    voices: tuple[Voice, ...]


def _ipu(
    words: Sequence[Word],
    voice: Voice,
    start_ms: int,
    turn: int,
    question: bool,
    rng: np.random.Generator,
) -> PlacedIpu:
    phones = plan_ipu(words, voice, rng=rng)
    return PlacedIpu(voice, tuple(words), phones, start_ms, turn, question)


def plan_interview(
    recording_id: str,
    interviewee: Voice,
    interviewer: Voice,
    lexicon: Sequence[Word],
    *,
    target_s: float,
    rng: np.random.Generator,
) -> RecordingPlan:
    """Alternate interviewer and interviewee turns until ``target_s`` (see module doc)."""
    t = int(rng.integers(300, 501))
    ipus: list[PlacedIpu] = []
    turn = 0
    while True:
        is_int = turn % 2 == 0
        voice = interviewer if is_int else interviewee
        n_ipu = int(rng.integers(1, 3) if is_int else rng.integers(2, 6))
        for j in range(n_ipu):
            n_words = int(rng.integers(5, 10) if is_int else rng.integers(3, 8))
            words = draw_phrase(lexicon, rng, n_words=n_words)
            question = is_int and j == n_ipu - 1 and bool(rng.random() < 0.6)
            ipus.append(_ipu(words, voice, t, turn, question, rng))
            t = ipus[-1].end_ms
            if j < n_ipu - 1:
                t += int(rng.integers(250, 801))
        if not is_int and t + 400 >= target_s * 1000:
            break
        t += int(rng.integers(300, 901))
        turn += 1
    duration = t + int(rng.integers(300, 501))
    return RecordingPlan(
        recording_id, "interview", duration, tuple(ipus), (interviewee, interviewer)
    )


def plan_utterance(
    recording_id: str,
    voice: Voice,
    prompt: Sequence[Sequence[Word]],
    *,
    rng: np.random.Generator,
) -> RecordingPlan:
    """One read prompt (one IPU per phrase) with ~250 ms silence at both ends."""
    t = int(rng.integers(230, 271))
    ipus = []
    for j, phrase in enumerate(prompt):
        if j:
            t += int(rng.integers(300, 501))
        ipus.append(_ipu(phrase, voice, t, 0, False, rng))
        t = ipus[-1].end_ms
    return RecordingPlan(
        recording_id, "utterance", t + int(rng.integers(230, 271)), tuple(ipus), (voice,)
    )


@dataclass(frozen=True)
class RenderedIpu:
    """Truth of one rendered IPU, times in ms from the recording start."""

    ipu: PlacedIpu
    ipu_id: str
    bounds_ms: np.ndarray  # (n_phones + 1,)
    word_bounds_ms: np.ndarray  # (n_words + 1,)
    tokens: tuple[TokenTruth, ...]


@dataclass(frozen=True)
class RenderedRecording:
    plan: RecordingPlan
    signal: np.ndarray  # float32, peak -3 dBFS
    ipus: tuple[RenderedIpu, ...]
    f0_hz: np.ndarray  # (n_frames,), NaN where nobody voices
    f0_speaker: list[str]  # (n_frames,), "" where nobody voices


def render(plan: RecordingPlan, *, rng: np.random.Generator, sr: int = SR) -> RenderedRecording:
    """Synthesise every IPU of ``plan`` and mix them into one mono recording."""
    n = plan.duration_ms * sr // 1000
    pad = round(PAD_S * sr)
    n_frames = int(np.floor(plan.duration_ms / 1000 / F0_STEP_S)) + 1
    frame_t = np.arange(n_frames) * F0_STEP_S
    f0 = np.full(n_frames, np.nan)
    f0_spk = [""] * n_frames
    pieces = []
    energy: dict[str, list[float]] = {}
    rendered = []
    for k, ipu in enumerate(plan.ipus):
        sig, truth = synthesize_ipu(
            ipu.phones, ipu.voice, sr=sr, rng=rng, question=ipu.question, pad_s=PAD_S
        )
        offset = ipu.start_ms * sr // 1000 - pad
        speech = sig[pad : sig.size - pad].astype(np.float64)
        e = energy.setdefault(ipu.voice.speaker_id, [0.0, 0.0])
        e[0] += float(np.dot(speech, speech))
        e[1] += speech.size
        pieces.append((offset, sig, ipu.voice.speaker_id))
        bounds = ipu.start_ms + np.concatenate(([0], np.cumsum(ipu.phone_ms)))
        n_ph = np.cumsum([0] + [len(w.phones()) for w in ipu.words])
        # Planted F0 on the 10 ms grid, where this IPU voices.
        sel = np.flatnonzero((frame_t >= ipu.start_ms / 1000) & (frame_t < ipu.end_ms / 1000))
        local = frame_t[sel] - offset / sr
        vals = truth.f0_hz(local)
        for i, v in zip(sel.tolist(), vals.tolist(), strict=True):
            if v == v:  # not NaN
                f0[i] = v
                f0_spk[i] = ipu.voice.speaker_id
        rendered.append(
            RenderedIpu(ipu, f"{plan.recording_id}_{k + 1:03d}", bounds, bounds[n_ph], truth.tokens)
        )
    main = plan.voices[0].speaker_id
    mix = np.zeros(n)
    for offset, sig, sid in pieces:
        tot, cnt = energy[sid]
        target = 1.0 if sid == main else 10.0 ** (INTERVIEWER_DB / 20.0)
        mix[offset : offset + sig.size] += sig * (target / np.sqrt(tot / max(cnt, 1)))
    mix += 10.0 ** (NOISE_FLOOR_DB / 20.0) * rng.standard_normal(n)
    mix *= 10.0 ** (PEAK_DBFS / 20.0) / np.max(np.abs(mix))
    return RenderedRecording(plan, mix.astype(np.float32), tuple(rendered), f0, f0_spk)


def speech_seconds(plan: RecordingPlan) -> dict[str, float]:
    """Seconds of speech (IPU spans) per voice in ``plan``."""
    out: dict[str, float] = {}
    for ipu in plan.ipus:
        sid = ipu.voice.speaker_id
        out[sid] = out.get(sid, 0.0) + (ipu.end_ms - ipu.start_ms) / 1000
    return out


def n_utterances(minutes_per_speaker: float) -> int:
    """Number of read utterances: ~25 % of the budget at ~4 s each, at least one."""
    return max(1, round((1 - INTERVIEW_SHARE) * minutes_per_speaker * 60 / UTTERANCE_TARGET_S))


__all__ = [
    "PlacedIpu",
    "RecordingPlan",
    "RenderedIpu",
    "RenderedRecording",
    "n_syllables",
    "n_utterances",
    "plan_interview",
    "plan_utterance",
    "render",
    "speech_seconds",
]
