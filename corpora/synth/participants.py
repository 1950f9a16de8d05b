"""One file per participant: an interview as a web-conference tool records it with
"a separate audio file for each participant".

Each voice is rendered alone over the interview's whole timeline
(:func:`corpora.synth.session.render` on the plan filtered to that voice), scaled
to a speech RMS of 1, and written to its own file, into which the other voices
leak at ``crosstalk_db`` (their speech RMS relative to the file's own voice) with
a delay of a few milliseconds (the far end's loudspeaker picked up by the near
microphone, or the same voice arriving through two paths). Each file is then
peak-normalised to -3 dBFS on its own, as each participant's own client does.

With ``max_offset_s > 0`` the files start at different times (a participant who
starts recording later) and end at different times (one who stops earlier): the
plan is first delayed by a lead of silence longer than any offset, so that no
voice speaks before its own file starts; a file ends somewhere between its own
voice's last IPU (+0.3 s) and the end of the interview. The truth (IPUs, tokens,
F0) stays on the interview's timeline; recordings.csv gives each file's
``offset_s`` (docs: README "The corpus on disk").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from corpora.synth.session import (
    PEAK_DBFS,
    SR,
    RecordingPlan,
    RenderedRecording,
    render,
    voice_plan,
)

__all__ = [
    "CROSSTALK_DB",
    "ParticipantFiles",
    "delay_plan",
    "render_participants",
]

#: Default level of the other voices in a participant's file (dB re its own voice).
CROSSTALK_DB = -20.0
#: Delay of the leaked voices (ms): a few ms of acoustic path and buffering.
LEAK_DELAY_MS = (2, 10)
#: A file ends at least this long after its own voice's last IPU (ms).
TAIL_MS = 300


@dataclass(frozen=True)
class ParticipantFiles:
    """The files of one interview and its truth.

    Attributes
    ----------
    voices : tuple of str
        The voice of each file (the plan's voice order: interviewee first).
    signals : tuple of np.ndarray
        float32 samples of each file (from its own start), peak -3 dBFS.
    offsets_s : tuple of float
        Each file's first sample on the interview's timeline (s).
    truth : RenderedRecording
        IPUs, tokens and F0 on the interview's timeline, IPU ids as a mixed
        rendering of the same plan numbers them; ``signal`` is the voices' sum.
    """

    voices: tuple[str, ...]
    signals: tuple[np.ndarray, ...]
    offsets_s: tuple[float, ...]
    truth: RenderedRecording


def _alone(plan: RecordingPlan, speaker_id: str) -> RecordingPlan:
    """:func:`corpora.synth.session.voice_plan` with that voice alone in ``voices``
    (so that it renders at the level of a plan's main voice)."""
    voice = next(v for v in plan.voices if v.speaker_id == speaker_id)
    return replace(voice_plan(plan, speaker_id), voices=(voice,))


def delay_plan(plan: RecordingPlan, lead_ms: int) -> RecordingPlan:
    """The plan with ``lead_ms`` of silence before it (every IPU later by that much)."""
    ipus = tuple(replace(ipu, start_ms=ipu.start_ms + lead_ms) for ipu in plan.ipus)
    return replace(plan, ipus=ipus, duration_ms=plan.duration_ms + lead_ms)


def _speech_rms(rendered: RenderedRecording, sr: int) -> float:
    """RMS of the rendered signal inside its IPUs (the voice's speech level)."""
    spans = [(r.ipu.start_ms * sr // 1000, r.ipu.end_ms * sr // 1000) for r in rendered.ipus]
    x = np.concatenate([rendered.signal[a:b] for a, b in spans]).astype(np.float64)
    return float(np.sqrt(np.mean(x**2))) if x.size else 1.0


def _merged_truth(
    plan: RecordingPlan, stems: list[RenderedRecording], mix: np.ndarray
) -> RenderedRecording:
    """One truth for the plan from the voices rendered alone: IPUs in plan order with
    the ids a mixed rendering gives, F0 from whichever voice voices the frame."""
    order = {id(ipu): k for k, ipu in enumerate(plan.ipus)}
    ipus = sorted((r for stem in stems for r in stem.ipus), key=lambda r: order[id(r.ipu)])
    ipus = [replace(r, ipu_id=f"{plan.recording_id}_{order[id(r.ipu)] + 1:03d}") for r in ipus]
    f0 = np.full(stems[0].f0_hz.shape, np.nan)
    speaker = [""] * f0.size
    for stem in stems:  # overlapping turns: the first voice in plan order keeps the frame
        take = np.isnan(f0) & np.isfinite(stem.f0_hz)
        f0[take] = stem.f0_hz[take]
        for i in np.flatnonzero(take).tolist():
            speaker[i] = stem.f0_speaker[i]
    return RenderedRecording(plan, mix.astype(np.float32), tuple(ipus), f0, speaker)


def render_participants(
    plan: RecordingPlan,
    *,
    rng: np.random.Generator,
    crosstalk_db: float = CROSSTALK_DB,
    max_offset_s: float = 0.0,
    sr: int = SR,
) -> ParticipantFiles:
    """Render an interview as one file per participant (see the module doc).

    Parameters
    ----------
    plan : RecordingPlan
        The interview (several voices; overlapping IPUs are rendered as planned).
    rng : np.random.Generator
        Source of the synthesis noise, the leak delays and the offsets.
    crosstalk_db : float
        Level of the other voices in each file (dB re the file's own voice; <= 0).
    max_offset_s : float
        Largest start offset of a file (s); 0: every file covers the whole interview.
    sr : int
        Sample rate (Hz).

    Returns
    -------
    ParticipantFiles
    """
    if not crosstalk_db <= 0:
        raise ValueError(f"crosstalk_db must be <= 0 dB (got {crosstalk_db!r})")
    if not max_offset_s >= 0:
        raise ValueError(f"max_offset_s must be >= 0 s (got {max_offset_s!r})")
    if max_offset_s > 0:
        plan = delay_plan(plan, int(np.ceil(max_offset_s * 1000)) + 200)
    voices = tuple(v.speaker_id for v in plan.voices)
    stems = [render(_alone(plan, v), rng=rng, sr=sr) for v in voices]
    levels = [stem.signal.astype(np.float64) / _speech_rms(stem, sr) for stem in stems]
    gain = 10.0 ** (crosstalk_db / 20.0)
    n = levels[0].size
    signals, offsets = [], []
    for k, stem in enumerate(stems):
        y = levels[k].copy()
        for j, other in enumerate(levels):
            if j != k:
                delay = round(int(rng.integers(*LEAK_DELAY_MS, endpoint=True)) * sr / 1000)
                y[delay:] += gain * other[: n - delay]
        first, last = 0, n
        if max_offset_s > 0:
            first = round(float(rng.uniform(0.0, max_offset_s)) * 1000) * sr // 1000
            own_end = max(r.ipu.end_ms for r in stem.ipus) if stem.ipus else 0
            earliest = min(n, (own_end + TAIL_MS) * sr // 1000)
            last = int(rng.integers(earliest, n + 1))
        y = y[first:last]
        y *= 10.0 ** (PEAK_DBFS / 20.0) / max(float(np.max(np.abs(y))), 1e-12)
        signals.append(y.astype(np.float32))
        offsets.append(first / sr)
    truth = _merged_truth(plan, stems, np.sum(levels, axis=0))
    return ParticipantFiles(voices, tuple(signals), tuple(offsets), truth)
