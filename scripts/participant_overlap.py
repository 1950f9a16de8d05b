"""Overlap detection from one file per participant, against a planted truth.

Usage::

    python scripts/participant_overlap.py [--crosstalk-db -20] [--interviews 4]

Each interview (45 s, seeds 0..n-1) gets planted overlaps: in every second
interviewee IPU, an interviewer backchannel of 1-2 words starting at its middle.
The interview is rendered one file per participant
(:func:`corpora.synth.participants.render_participants`), the files' levels and
the mix's voice activity computed as the segmenter does, and
:func:`features.overlap.channel_overlap` (what the segmenter runs on such files)
scored frame by frame: the share of the time where both voices' IPUs run that it
finds, and the share of the time where one voice's IPUs run that it marks.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from corpora.synth import draw_speakers
from corpora.synth import profiles as prof
from corpora.synth.corpus import lexicon_and_prompts
from corpora.synth.participants import render_participants
from corpora.synth.session import SR, RecordingPlan, _ipu, plan_interview
from corpora.synth.text import draw_phrase
from features.activity import voice_activity
from features.overlap import channel_overlap
from features.quality import live_mix
from features.tracks import intensity_db

HOP_S = 0.01


def overlapping_plan(seed: int) -> RecordingPlan:
    """A 45 s interview with an interviewer backchannel in every second interviewee IPU."""
    speaker = draw_speakers(seed + 1, seed=seed)[seed]
    lexicon, _ = lexicon_and_prompts(seed)
    rng = np.random.default_rng(seed)
    plan = plan_interview(
        "X", speaker.voice, prof.interviewer_for(seed), lexicon, target_s=45.0, rng=rng
    )
    extra = [
        _ipu(
            draw_phrase(lexicon, rng, n_words=int(rng.integers(1, 3))),
            plan.voices[1],
            (ipu.start_ms + ipu.end_ms) // 2,
            ipu.turn,
            False,
            rng,
        )
        for k, ipu in enumerate(plan.ipus)
        if ipu.voice is speaker.voice and k % 2 == 0
    ]
    ipus = tuple(sorted(plan.ipus + tuple(extra), key=lambda i: i.start_ms))
    end = max(i.end_ms for i in ipus) + 400
    return replace(plan, ipus=ipus, duration_ms=max(plan.duration_ms, end))


def score(crosstalk_db: float, interviews: int) -> tuple[float, float, float, float]:
    """(share of overlapped time found, its seconds, share of single-voice time
    marked, its seconds)."""
    found = overlapped = marked = single = 0
    for seed in range(interviews):
        plan = overlapping_plan(seed)
        files = render_participants(
            plan, rng=np.random.default_rng(100 + seed), crosstalk_db=crosstalk_db
        )
        audio = np.stack(files.signals)
        levels = np.stack([intensity_db(a, SR, hop_s=HOP_S) for a in audio])
        active = voice_activity(intensity_db(live_mix(audio), SR, hop_s=HOP_S), None, hop_s=HOP_S)
        t = np.arange(levels.shape[1]) * HOP_S
        cover = [
            np.any(
                [
                    (t >= i.start_ms / 1000) & (t < i.end_ms / 1000)
                    for i in plan.ipus
                    if i.voice.speaker_id == v
                ],
                axis=0,
            )
            for v in files.voices
        ]
        truth, alone = cover[0] & cover[1], cover[0] ^ cover[1]
        estimate = channel_overlap(levels, hop_s=HOP_S, active=active)
        found += int((estimate & truth).sum())
        overlapped += int(truth.sum())
        marked += int((estimate & alone).sum())
        single += int(alone.sum())
    return found / overlapped, overlapped * HOP_S, marked / single, single * HOP_S


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crosstalk-db", type=float, default=-20.0)
    parser.add_argument("--interviews", type=int, default=4)
    args = parser.parse_args()
    found, overlapped_s, marked, single_s = score(args.crosstalk_db, args.interviews)
    print(
        f"crosstalk {args.crosstalk_db:g} dB: overlapped time found {found:.3f} of "
        f"{overlapped_s:.1f} s; single-voice time marked {marked:.4f} of {single_s:.1f} s"
    )


if __name__ == "__main__":
    main()
