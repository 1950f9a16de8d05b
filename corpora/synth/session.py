"""One speaker's recordings: plan the interview and read utterances, render them.

Times are planned in whole milliseconds (so every boundary is on the 16 kHz
sample grid and prints exactly with 6 decimals); each IPU is synthesised on its
own with 50 ms padding and added into the recording at its offset.

Interview: the interviewer opens; interviewer turns have 1-2 IPUs of 5-9 words,
the last IPU a question (final rise) with probability 0.6; interviewee turns
have 2-5 IPUs of 3-7 words; pauses inside a turn 250-800 ms, gaps between
turns 300-900 ms; turns continue until the interview reaches 75 % of the
speaker's audio budget, ending on the interviewee.  Two options make it a
conversation (both off by default, when the plan, and so every byte of the
corpus, is what it was without them; :func:`plan_interview`): overlapping turn
starts, the next voice starting 100-600 ms before the previous turn ends, at a
share of the turn changes; and backchannels of the listener (:data:`BACKCHANNELS`)
at a rate per minute of the other voice's speech.  Read
utterances: prompts from the shared set, 230-270 ms of silence at both ends,
300-500 ms between the phrases of a prompt.  Each voice is scaled to a fixed
speech RMS (interviewer 4 dB below the interviewee), a white noise floor 47 dB
below the interviewee's speech RMS is added, and each recording is
peak-normalised to -3 dBFS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from corpora.synth.ipu import PhoneSpec, TokenTruth, plan_ipu, synthesize_ipu
from corpora.synth.profiles import Voice
from corpora.synth.text import Syllable, Word, draw_phrase, n_syllables

SR = 16000
PAD_S = 0.05
INTERVIEW_SHARE = 0.75
UTTERANCE_TARGET_S = 4.0
INTERVIEWER_DB = -4.0
NOISE_FLOOR_DB = -47.0
PEAK_DBFS = -3.0
F0_STEP_S = 0.01

#: Backchannels ("continuers" and acknowledgements) of a Spanish listener, spelled as
#: heard, with the synthesiser's nearest phones: [mumu], [si], [afa] (no /x/), [eso],
#: [a]. "claro" and "vale" begin with a stop, whose silent closure would put the
#: truth's start before anything audible, so, like every IPU here, none does.
BACKCHANNELS: tuple[Word, ...] = (
    Word("mhm", (Syllable("m", "u", ""), Syllable("m", "u", "")), 1),
    Word("sí", (Syllable("s", "i", ""),), 0),
    Word("ajá", (Syllable("", "a", ""), Syllable("f", "a", "")), 1),
    Word("eso", (Syllable("", "e", ""), Syllable("s", "o", "")), 0),
    Word("ah", (Syllable("", "a", ""),), 0),
)
#: Shortest and longest backchannel (ms); a voice's rate outside them is rescaled.
BACKCHANNEL_MS = (150, 500)
#: Overlapped turn starts: how early (ms) the next voice starts, at most half of
#: either IPU.
OVERLAP_MS = (100, 600)
#: Silence (ms) kept between a backchannel and the listener's own IPUs or backchannels.
BACKCHANNEL_CLEARANCE_MS = 300


@dataclass(frozen=True)
class PlacedIpu:
    """An IPU planned at a position in a recording (times in ms)."""

    voice: Voice
    words: tuple[Word, ...]
    phones: tuple[PhoneSpec, ...]
    start_ms: int
    turn: int
    question: bool
    backchannel: bool = False

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
    overlap: float = 0.0,
    backchannel_per_min: float = 0.0,
) -> RecordingPlan:
    """Alternate interviewer and interviewee turns until ``target_s`` (see module doc).

    Parameters
    ----------
    recording_id : str
    interviewee, interviewer : Voice
    lexicon : sequence of Word
    target_s : float
        The interview stops after the first interviewee turn that reaches it (s).
    rng : numpy.random.Generator
    overlap : float
        Share in [0, 1] of the turn changes where the next voice starts 100-600 ms
        (uniform, at most half of either IPU) before the previous turn ends instead of
        after a 300-900 ms gap. In face-to-face conversation about 30-40 % of turn
        changes overlap (Heldner & Edlund 2010: about 40 % in their three corpora;
        Levinson & Torreira 2015); the transmission delay of video calls makes
        speakers wait longer and overlap less (Boland et al. 2022: mean transition
        135 ms face to face, 487 ms over Zoom; Seuren et al. 2021), hence 0.15 in
        ``webconf``.
    backchannel_per_min : float
        Backchannels of the listener (:func:`add_backchannels`) per minute of the
        other voice's speech.

    Returns
    -------
    RecordingPlan
        IPUs sorted by start; with either option off, no extra random draw is made,
        so the plan is the one without the option.

    References
    ----------
    Heldner, M. & Edlund, J. (2010). Pauses, gaps and overlaps in conversations.
    Journal of Phonetics 38(4), 555-568.
    Levinson, S. C. & Torreira, F. (2015). Timing in turn-taking and its implications
    for processing models of language. Frontiers in Psychology 6, 731.
    Seuren, L. M., Wherton, J., Greenhalgh, T. & Shaw, S. E. (2021). Whose turn is it
    anyway? Latency and the organization of turn-taking in video-mediated
    interaction. Journal of Pragmatics 172, 63-78.
    Boland, J. E., Fonseca, P., Mermelstein, I. & Williamson, M. (2022). Zoom
    disrupts the rhythm of conversation. J. Exp. Psychol.: General 151(6), 1272-1282.
    """
    _check_share("overlap", overlap, 1.0)
    _check_share("backchannel_per_min", backchannel_per_min, 60.0)
    t = int(rng.integers(300, 501))
    ipus: list[PlacedIpu] = []
    turn = 0
    lead = 0  # ms by which this turn's first IPU overlaps the previous turn's end
    while True:
        is_int = turn % 2 == 0
        voice = interviewer if is_int else interviewee
        n_ipu = int(rng.integers(1, 3) if is_int else rng.integers(2, 6))
        for j in range(n_ipu):
            n_words = int(rng.integers(5, 10) if is_int else rng.integers(3, 8))
            words = draw_phrase(lexicon, rng, n_words=n_words)
            question = is_int and j == n_ipu - 1 and bool(rng.random() < 0.6)
            ipus.append(_ipu(words, voice, t, turn, question, rng))
            if j == 0 and lead:
                ipus[-1] = _start_early(ipus[-1], ipus[-2], lead)
            t = ipus[-1].end_ms
            if j < n_ipu - 1:
                t += int(rng.integers(250, 801))
        if not is_int and t + 400 >= target_s * 1000:
            break
        lead = 0
        if overlap > 0 and rng.random() < overlap:
            lead = int(rng.integers(OVERLAP_MS[0], OVERLAP_MS[1] + 1))
        else:
            t += int(rng.integers(300, 901))
        turn += 1
    if backchannel_per_min > 0:
        ipus = add_backchannels(ipus, backchannel_per_min, rng=rng)
    duration = t + int(rng.integers(300, 501))
    return RecordingPlan(
        recording_id, "interview", duration, tuple(ipus), (interviewee, interviewer)
    )


def _check_share(name: str, value: float, high: float) -> None:
    if not 0.0 <= value <= high:
        raise ValueError(f"{name} must be in [0, {high:g}], got {value!r}")


def _start_early(ipu: PlacedIpu, previous: PlacedIpu, lead_ms: int) -> PlacedIpu:
    """``ipu`` moved to start ``lead_ms`` before ``previous`` ends, by at most half of
    either IPU (the next voice joins the end of the turn, never swallows it)."""
    half = min(previous.end_ms - previous.start_ms, ipu.end_ms - ipu.start_ms) // 2
    return replace(ipu, start_ms=previous.end_ms - min(lead_ms, half))


def add_backchannels(
    ipus: Sequence[PlacedIpu], per_min: float, *, rng: np.random.Generator
) -> list[PlacedIpu]:
    """Backchannels of the listener inside each turn of the other voice.

    A turn of ``s`` seconds of speech gets Poisson(``per_min * s / 60``) backchannels
    (a word of :data:`BACKCHANNELS` each, spoken by the other voice at its own rate,
    rescaled into :data:`BACKCHANNEL_MS`), each at a uniform position in the turn
    (so most overlap the speaker's speech and some fall in its pauses), at least
    :data:`BACKCHANNEL_CLEARANCE_MS` from the listener's own IPUs and other
    backchannels (up to 20 positions tried; a turn too short for one gets none).
    A backchannel takes the turn number of the turn it is heard in.

    Returns
    -------
    list of PlacedIpu
        ``ipus`` and the backchannels, sorted by start.
    """
    voices = list(dict.fromkeys(i.voice.speaker_id for i in ipus))
    by_sid = {i.voice.speaker_id: i.voice for i in ipus}
    out = list(ipus)
    for turn in sorted({i.turn for i in ipus}):
        host = [i for i in ipus if i.turn == turn]
        others = [v for v in voices if v != host[0].voice.speaker_id]
        if not others:
            continue
        listener = by_sid[others[0]]
        speech_s = sum(i.end_ms - i.start_ms for i in host) / 1000
        for _ in range(int(rng.poisson(per_min * speech_s / 60))):
            word = BACKCHANNELS[int(rng.integers(len(BACKCHANNELS)))]
            bc = _backchannel(word, listener, turn, rng)
            placed = _place(bc, host[0].start_ms, host[-1].end_ms, out, rng)
            if placed is not None:
                out.append(placed)
    return sorted(out, key=lambda i: (i.start_ms, i.voice.speaker_id))


def _backchannel(word: Word, voice: Voice, turn: int, rng: np.random.Generator) -> PlacedIpu:
    phones = plan_ipu([word], voice, rng=rng)
    total = sum(round(p.duration_s * 1000) for p in phones)
    lo, hi = BACKCHANNEL_MS
    if not lo <= total <= hi:
        scale = min(max(total, lo), hi) / total
        phones = tuple(
            replace(p, duration_s=round(p.duration_s * scale * 1000) / 1000) for p in phones
        )
    return PlacedIpu(voice, (word,), phones, 0, turn, False, True)


def _place(
    bc: PlacedIpu, first_ms: int, last_ms: int, ipus: Sequence[PlacedIpu], rng: np.random.Generator
) -> PlacedIpu | None:
    """``bc`` at a uniform start in [first_ms, last_ms - its length], clear of its
    voice's other IPUs; None when 20 tries find no room."""
    length = bc.end_ms - bc.start_ms
    if last_ms - length <= first_ms:
        return None
    sid, gap = bc.voice.speaker_id, BACKCHANNEL_CLEARANCE_MS
    own = np.array([(i.start_ms, i.end_ms) for i in ipus if i.voice.speaker_id == sid])
    for _ in range(20):
        start = int(rng.integers(first_ms, last_ms - length + 1))
        if not own.size or not np.any(
            (own[:, 0] < start + length + gap) & (own[:, 1] > start - gap)
        ):
            return replace(bc, start_ms=start)
    return None


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
    f0_hz: np.ndarray  # (n_frames,), NaN where nobody voices or two voices do
    f0_speaker: list[str]  # (n_frames,), "" where nobody voices, "A+B" where two do


@dataclass(frozen=True)
class RenderedVoices:
    """Every voice of a plan synthesised on the full timeline, not yet mixed.

    Attributes
    ----------
    plan : RecordingPlan
    tracks : dict of str to np.ndarray, shape (n,)
        Speaker id -> that voice alone (float64, zeros outside its IPUs), scaled to
        its speech RMS (the first voice 1.0, the others ``INTERVIEWER_DB`` below).
    ipus, f0_hz, f0_speaker
        As :class:`RenderedRecording`.
    """

    plan: RecordingPlan
    tracks: dict[str, np.ndarray]
    ipus: tuple[RenderedIpu, ...]
    f0_hz: np.ndarray
    f0_speaker: list[str]


def render_voices(plan: RecordingPlan, *, rng: np.random.Generator, sr: int = SR) -> RenderedVoices:
    """Synthesise every IPU of ``plan`` into one track per voice (see
    :class:`RenderedVoices`): the unmixed sources, e.g. for one file per participant
    with the other voice leaking in. IPU ids number the plan's IPUs in order."""
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
        _planted_f0(f0, f0_spk, sel, truth.f0_hz(frame_t[sel] - offset / sr), ipu.voice.speaker_id)
        rendered.append(
            RenderedIpu(ipu, f"{plan.recording_id}_{k + 1:03d}", bounds, bounds[n_ph], truth.tokens)
        )
    main = plan.voices[0].speaker_id
    tracks = {}
    for sid in dict.fromkeys(p[2] for p in pieces):
        tot, cnt = energy[sid]
        target = 1.0 if sid == main else 10.0 ** (INTERVIEWER_DB / 20.0)
        track = np.zeros(n)
        for offset, sig, _ in (p for p in pieces if p[2] == sid):
            track[offset : offset + sig.size] += sig * (target / np.sqrt(tot / max(cnt, 1)))
        tracks[sid] = track
    return RenderedVoices(plan, tracks, tuple(rendered), f0, f0_spk)


def _planted_f0(
    f0: np.ndarray, f0_spk: list[str], frames: np.ndarray, values: np.ndarray, speaker_id: str
) -> None:
    """Write one IPU's planted F0 into the recording's grid, in place; a frame that
    another voice already voices has no single F0: NaN, labelled "A+B"."""
    for i, v in zip(frames.tolist(), values.tolist(), strict=True):
        if v != v:  # NaN: this voice is silent or unvoiced here
            continue
        if f0_spk[i] and f0_spk[i] != speaker_id:
            if "+" not in f0_spk[i]:
                f0_spk[i] = f"{f0_spk[i]}+{speaker_id}"
            f0[i] = np.nan
        else:
            f0[i] = v
            f0_spk[i] = speaker_id


def render(plan: RecordingPlan, *, rng: np.random.Generator, sr: int = SR) -> RenderedRecording:
    """Synthesise every IPU of ``plan`` and mix them into one mono recording: the
    voices of :func:`render_voices` summed, a white noise floor ``NOISE_FLOOR_DB``
    below the first voice's speech RMS, peak-normalised to ``PEAK_DBFS``."""
    voices = render_voices(plan, rng=rng, sr=sr)
    n = plan.duration_ms * sr // 1000
    mix = np.zeros(n)
    for track in voices.tracks.values():
        mix += track
    mix += 10.0 ** (NOISE_FLOOR_DB / 20.0) * rng.standard_normal(n)
    mix *= 10.0 ** (PEAK_DBFS / 20.0) / np.max(np.abs(mix))
    return RenderedRecording(
        plan, mix.astype(np.float32), voices.ipus, voices.f0_hz, voices.f0_speaker
    )


def voice_plan(plan: RecordingPlan, speaker_id: str) -> RecordingPlan:
    """``plan`` with only ``speaker_id``'s IPUs, on the same timeline (same duration
    and voices). Rendering it synthesises that voice alone, with fresh random draws;
    for several voices sharing one realisation use :func:`render_voices`."""
    if speaker_id not in {v.speaker_id for v in plan.voices}:
        raise ValueError(f"{plan.recording_id}: no voice {speaker_id!r} in the plan")
    ipus = tuple(i for i in plan.ipus if i.voice.speaker_id == speaker_id)
    return replace(plan, ipus=ipus)


def overlaps_ms(plan: RecordingPlan) -> list[tuple[int, int]]:
    """The intervals (ms) where two voices of ``plan`` speak at once: the union of the
    pairwise intersections of IPUs of different voices, sorted and disjoint."""
    spans = sorted(
        (max(a.start_ms, b.start_ms), min(a.end_ms, b.end_ms))
        for k, a in enumerate(plan.ipus)
        for b in plan.ipus[k + 1 :]
        if a.voice.speaker_id != b.voice.speaker_id
        and max(a.start_ms, b.start_ms) < min(a.end_ms, b.end_ms)
    )
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


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
    "BACKCHANNELS",
    "PlacedIpu",
    "RecordingPlan",
    "RenderedIpu",
    "RenderedRecording",
    "RenderedVoices",
    "add_backchannels",
    "n_syllables",
    "n_utterances",
    "overlaps_ms",
    "plan_interview",
    "plan_utterance",
    "render",
    "render_voices",
    "speech_seconds",
    "voice_plan",
]
