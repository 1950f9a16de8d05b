"""Synthetic reference corpus: a Klatt-style source-filter synthesiser with exact truth.

Public API
----------
write_corpus(out_dir, n_speakers=40, seed=0, minutes_per_speaker=2.0, jobs=None)
    Write a complete corpus (audio, TextGrids, profiles, truth); see
    :mod:`corpora.synth.corpus`.
synthesize_ipu(phones, voice, *, sr=16000, rng, question=False, pad_s=0.05)
    Synthesise one stretch of phones for one voice; returns the signal and its truth.
plan_ipu(words, voice, *, rng)
    Phones and durations of an IPU for a voice (rate, lengthening, /s/ aspiration).
draw_speakers(n_speakers, seed=0)
    Profiles and planted voice parameters without synthesising any audio.

Modules: ``phones`` (inventory, targets, durations), ``text`` (syllables, lexicon,
prompts), ``profiles`` (speakers and planted effects), ``prosody`` (F0 contours),
``source`` (glottal source), ``filter`` (resonators), ``tracks`` (smooth parameter
tracks), ``ipu`` (phones -> signal), ``session`` (one speaker's recordings),
``effects`` (truth/effects.md), ``corpus`` (writing the corpus).
"""

from corpora.synth.corpus import SynthSummary, write_corpus
from corpora.synth.ipu import IpuTruth, PhoneSpec, TokenTruth, plan_ipu, synthesize_ipu
from corpora.synth.profiles import Speaker, Voice, draw_speakers

__all__ = [
    "IpuTruth",
    "PhoneSpec",
    "Speaker",
    "SynthSummary",
    "TokenTruth",
    "Voice",
    "draw_speakers",
    "plan_ipu",
    "synthesize_ipu",
    "write_corpus",
]
