"""The ``synth`` command's work: the reference corpus and the degradations asked for.

Kept out of :mod:`speech.cli`, which only parses and prints, as :mod:`speech.cli_store`
is for the store commands.
"""

from __future__ import annotations

from pathlib import Path

from speech.cli_output import bad_input, console, print_synth

__all__ = ["synthesise"]


def synthesise(
    out: Path, *, speakers: int, seed: int, minutes: float, jobs: int | None,
    noise: str | None = None, snr: float = 10.0, condition: str | None = None,
    codec_rate: int = 48000, gate: bool = False, participants: dict | None = None,
) -> None:  # fmt: skip
    """``synth``: write the corpus, then add noise, gate the pauses or apply the
    conditions asked for; bad options or combinations exit 2 (:func:`bad_input`)."""
    from corpora.synth import write_corpus
    from corpora.synth.conditions import degrade_corpus, parse_conditions, split_conditions
    from corpora.synth.noise import NOISE_KINDS, add_noise, gate_pauses

    if noise is not None and noise not in NOISE_KINDS:
        raise bad_input(f"unknown noise {noise!r}; use one of {', '.join(NOISE_KINDS)}",
                         "Cannot synthesise:")
    if participants is not None and (noise is not None or gate):
        raise bad_input("--noise and --gate work on one file per recording; they cannot be "
                        "combined with --per-participant (use --condition)",
                        "Cannot synthesise:")
    try:
        conditions = parse_conditions(condition) if condition is not None else None
        if codec_rate not in (16000, 48000):
            raise ValueError(f"--codec-rate must be 16000 or 48000, got {codec_rate}")
    except ValueError as e:
        raise bad_input(str(e), "Cannot synthesise:") from e
    try:
        with console.status(f"Synthesising {speakers} speakers into {out} ..."):
            planned = split_conditions(conditions)[0] if conditions is not None else {}
            summary = write_corpus(
                out, n_speakers=speakers, seed=seed, minutes_per_speaker=minutes, jobs=jobs,
                per_participant=participants is not None, **(participants or {}), **planned,
            )
        if noise is not None:
            with console.status(f"Adding {noise} noise at {snr:g} dB SNR ..."):
                add_noise(out, kind=noise, snr_db=snr, seed=seed)
        if gate:
            with console.status("Gating the pauses to digital silence ..."):
                gate_pauses(out)
        if conditions is not None:
            named = ", ".join(f"{k}={v:g}" for k, v in conditions.items())
            with console.status(f"Applying {named} ..."):
                degrade_corpus(out, conditions, seed=seed, codec_sr=codec_rate)
    except ValueError as e:
        raise bad_input(str(e), "Cannot synthesise:") from e
    print_synth(summary)
