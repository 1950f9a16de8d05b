"""Write the synthetic reference corpus (audio, transcripts, profiles, truth).

Layout (relative to ``out_dir``)::

    corpus.toml  speakers.csv  recordings.csv
    audio/<sid>/<recording_id>.wav          16 kHz mono, 16-bit PCM
    transcripts/<recording_id>.TextGrid     MFA-style "<voice> - words/phones" tiers
    truth/speakers.csv  truth/ipus.csv  truth/tokens.csv  truth/f0/<recording_id>.csv
    truth/overlaps.csv  truth/effects.md

Determinism: speaker ``i`` draws everything from ``SeedSequence(seed).spawn(n)[i]``
(profile, voice and audio streams are its children), the lexicon and prompts
from a separate key, so output bytes never depend on ``jobs`` or scheduling;
aggregated CSVs are sorted and floats printed with fixed formats.
"""

from __future__ import annotations

import csv
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from praatio import textgrid

from corpora.synth import profiles as prof
from corpora.synth.effects import effects_markdown
from corpora.synth.participants import CROSSTALK_DB, render_participants
from corpora.synth.profiles import Speaker, Voice
from corpora.synth.session import (
    INTERVIEW_SHARE,
    SR,
    RecordingPlan,
    RenderedRecording,
    n_utterances,
    overlaps_ms,
    plan_interview,
    plan_utterance,
    render,
)
from corpora.synth.text import Word, make_lexicon, make_prompts, n_syllables

#: Spawn key of the lexicon/prompt stream (far above any speaker index).
LEXICON_KEY = 2**31 - 1
N_LEXICON_WORDS = 300
N_PROMPTS = 20

OVERLAP_COLUMNS = ("recording_id", "start_s", "end_s")
RECORDING_COLUMNS = ("recording_id", "path", "kind", "speaker_id", "n_speakers", "channels")
IPU_COLUMNS = (
    "recording_id",
    "ipu_id",
    "speaker_id",
    "turn_id",
    "start_s",
    "end_s",
    "n_syllables",
    "text",
    "question",
)
TOKEN_COLUMNS = (
    "recording_id",
    "ipu_id",
    "speaker_id",
    "word",
    "phone",
    "realisation",
    "start_s",
    "end_s",
    "is_vowel",
    "stressed",
    "f1_hz",
    "f2_hz",
    "f3_hz",
    "canonical_f1_hz",
    "canonical_f2_hz",
    "canonical_f3_hz",
    "reduction",
    "f0_mid_hz",
    "position",
)
TRUTH_SPEAKER_COLUMNS = (
    "speaker_id",
    "region",
    "f0_median_hz",
    "vtl_scale",
    "rate_syll_s",
    "reduction",
    "jitter_local",
    "shimmer_local",
    "aspiration_db",
    "open_quotient",
    "s_aspiration_p",
    *(f"{v}_f{k}_hz" for v in "aeiou" for k in (1, 2, 3)),
)


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_corpus` wrote.

    Attributes
    ----------
    out_dir : Path
    n_speakers : int
    n_recordings : int
    audio_s : float
        Total audio duration (s).
    elapsed_s : float
        Wall-clock time of the run (s).
    """

    out_dir: Path
    n_speakers: int
    n_recordings: int
    audio_s: float
    elapsed_s: float


def _b(x: bool) -> str:
    return "true" if x else "false"


def _f(x: float, digits: int) -> str:
    return "" if x != x else f"{x:.{digits}f}"  # NaN -> empty


def _t(ms: int | np.integer) -> str:
    return f"{int(ms) / 1000:.6f}"


def _write_csv(path: Path, header: tuple[str, ...] | list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def lexicon_and_prompts(seed: int) -> tuple[tuple[Word, ...], tuple]:
    """The corpus lexicon and the shared read prompts for ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(LEXICON_KEY,)))
    lexicon = make_lexicon(rng, n_words=N_LEXICON_WORDS)
    return lexicon, make_prompts(lexicon, rng, n_prompts=N_PROMPTS)


def _write_textgrid(path: Path, rec: RenderedRecording) -> None:
    tg = textgrid.Textgrid()
    dur = rec.plan.duration_ms / 1000
    for voice in rec.plan.voices:
        words, phones = [], []
        for r in rec.ipus:
            if r.ipu.voice.speaker_id != voice.speaker_id:
                continue
            for w, a, b in zip(
                r.ipu.words, r.word_bounds_ms[:-1], r.word_bounds_ms[1:], strict=True
            ):
                words.append((int(a) / 1000, int(b) / 1000, w.spelling))
            for p, a, b in zip(r.ipu.phones, r.bounds_ms[:-1], r.bounds_ms[1:], strict=True):
                phones.append((int(a) / 1000, int(b) / 1000, p.phone))
        tg.addTier(textgrid.IntervalTier(f"{voice.speaker_id} - words", words, 0.0, dur))
        tg.addTier(textgrid.IntervalTier(f"{voice.speaker_id} - phones", phones, 0.0, dur))
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def _recording_rows(rec: RenderedRecording) -> tuple[list[list[str]], list[list[str]]]:
    rid = rec.plan.recording_id
    ipu_rows, tok_rows = [], []
    for r in rec.ipus:
        sid = r.ipu.voice.speaker_id
        ipu_rows.append(
            [
                rid,
                r.ipu_id,
                sid,
                str(r.ipu.turn),
                _t(r.ipu.start_ms),
                _t(r.ipu.end_ms),
                str(n_syllables(r.ipu.words)),
                " ".join(w.spelling for w in r.ipu.words),
                _b(r.ipu.question),
            ]
        )
        for tok, a, b in zip(r.tokens, r.bounds_ms[:-1], r.bounds_ms[1:], strict=True):
            tok_rows.append(
                [
                    rid,
                    r.ipu_id,
                    sid,
                    tok.word,
                    tok.phone,
                    tok.realisation,
                    _t(a),
                    _t(b),
                    _b(tok.is_vowel),
                    _b(tok.stressed),
                    _f(tok.f1_hz, 2),
                    _f(tok.f2_hz, 2),
                    _f(tok.f3_hz, 2),
                    _f(tok.canonical_f1_hz, 2),
                    _f(tok.canonical_f2_hz, 2),
                    _f(tok.canonical_f3_hz, 2),
                    _f(tok.reduction, 4),
                    _f(tok.f0_mid_hz, 2),
                    tok.position,
                ]
            )
    return ipu_rows, tok_rows


def _speaker_job(
    args: tuple[Path, int, int, Speaker, Voice, float, tuple, tuple, dict | None, dict[str, float]],
) -> tuple[list[list[str]], list[list[str]], list[list[str]], float, list[list[str]]]:
    """Plan, render and write every recording of one speaker (runs in a worker)."""
    (
        out,
        seed,
        index,
        speaker,
        interviewer,
        minutes,
        lexicon,
        prompts,
        participants,
        conversation,
    ) = args
    audio_seq = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(4)[3]
    plan_rng, render_rng = (np.random.default_rng(s) for s in audio_seq.spawn(2))
    sid = speaker.speaker_id
    voice = speaker.voice
    # Utterances first: the interview then fills the rest of the speaker's budget
    # (~75 %), stopping after the first interviewee turn that reaches it.
    n_utt = n_utterances(minutes)
    order = plan_rng.permutation(len(prompts))
    utts = [
        plan_utterance(
            f"{sid}_u{j + 1:02d}", voice, prompts[int(order[j % len(prompts)])], rng=plan_rng
        )
        for j in range(n_utt)
    ]
    utt_s = sum(u.duration_ms for u in utts) / 1000
    target = max(minutes * 60 - utt_s, INTERVIEW_SHARE * minutes * 60 * 0.5)
    interview = plan_interview(
        f"{sid}_interview",
        voice,
        interviewer,
        lexicon,
        target_s=target,
        rng=plan_rng,
        **conversation,
    )
    plans: list[RecordingPlan] = [interview, *utts]
    rec_rows, ipu_rows, tok_rows = [], [], []
    overlap_rows: list[list[str]] = []
    audio_s = 0.0
    (out / "audio" / sid).mkdir(parents=True, exist_ok=True)
    for plan in plans:
        rid = plan.recording_id
        if participants is not None and plan.kind == "interview":
            # One file per participant (corpora.synth.participants), one row per file.
            files = render_participants(plan, rng=render_rng, **participants)
            rec = files.truth
            for voice, signal, offset in zip(
                files.voices, files.signals, files.offsets_s, strict=True
            ):
                rel = f"audio/{sid}/{rid}_{voice}.wav"
                sf.write(out / rel, signal, SR, subtype="PCM_16")
                rec_rows.append(
                    [rid, rel, plan.kind, sid, str(len(plan.voices)), f"0:{voice}", f"{offset:.3f}"]
                )
        else:
            rec = render(plan, rng=render_rng)
            rel = f"audio/{sid}/{rid}.wav"
            sf.write(out / rel, rec.signal, SR, subtype="PCM_16")
            rec_rows.append(
                [rid, rel, plan.kind, sid, str(len(plan.voices)), ""]
                + ([] if participants is None else ["0.000"])
            )
        _write_textgrid(out / "transcripts" / f"{rid}.TextGrid", rec)
        f0_rows = [
            [f"{i * 0.01:.6f}", _f(v, 2), s]
            for i, (v, s) in enumerate(zip(rec.f0_hz.tolist(), rec.f0_speaker, strict=True))
        ]
        _write_csv(out / "truth" / "f0" / f"{rid}.csv", ("time_s", "f0_hz", "speaker_id"), f0_rows)
        # From the rendered plan: per-participant files may delay it (offsets).
        overlap_rows += [[rid, _t(a), _t(b)] for a, b in overlaps_ms(rec.plan)]
        a, b = _recording_rows(rec)
        ipu_rows += a
        tok_rows += b
        audio_s += plan.duration_ms / 1000
    return rec_rows, ipu_rows, tok_rows, audio_s, overlap_rows


def _corpus_toml(seed: int, n_speakers: int, minutes: float, conversation: dict[str, float]) -> str:
    # The plan options appear only when on, so a corpus without them is unchanged.
    extra = "".join(f"{k} = {float(v)!r}\n" for k, v in conversation.items() if v)
    return (
        'name = "speech-profile synthetic reference corpus"\n'
        'language = "es"\n'
        f"sample_rate = {SR}\n"
        'vowels = ["a", "e", "i", "o", "u"]\n'
        "\n[synth]\n"
        f"seed = {seed}\n"
        f"n_speakers = {n_speakers}\n"
        f"minutes_per_speaker = {float(minutes)!r}\n" + extra
    )


def truth_speaker_row(sp: Speaker) -> list[str]:
    """One row of ``truth/speakers.csv`` (columns :data:`TRUTH_SPEAKER_COLUMNS`)."""
    v = sp.voice
    canon = v.canonical_vowels()
    return [
        sp.speaker_id,
        sp.region,
        _f(v.f0_median_hz, 2),
        _f(v.vtl_scale, 4),
        _f(v.rate_syll_s, 3),
        _f(v.reduction, 4),
        _f(v.jitter_local, 5),
        _f(v.shimmer_local, 5),
        _f(v.aspiration_db, 2),
        _f(v.open_quotient, 3),
        _f(v.s_aspiration_p, 2),
        *(_f(canon[vw][k], 2) for vw in "aeiou" for k in range(3)),
    ]


def _check_options(
    out: Path,
    n_speakers: int,
    minutes_per_speaker: float,
    jobs: int | None,
    overlap: float,
    backchannel_per_min: float,
) -> None:
    """:func:`write_corpus`'s argument checks (ValueError naming the value)."""
    if not isinstance(n_speakers, int | np.integer) or n_speakers < 1:
        raise ValueError(f"n_speakers must be an integer >= 1, got {n_speakers!r}")
    if not minutes_per_speaker > 0:
        raise ValueError(f"minutes_per_speaker must be > 0, got {minutes_per_speaker!r}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be >= 1 or None, got {jobs!r}")
    if not (0 <= overlap <= 1 and 0 <= backchannel_per_min <= 60):
        raise ValueError(
            f"overlap must be in [0, 1] and backchannel_per_min in [0, 60], "
            f"got {overlap!r} and {backchannel_per_min!r}"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"out_dir exists and is not an empty directory: {str(out)!r}")


def write_corpus(
    out_dir: str | Path,
    n_speakers: int = 40,
    seed: int = 0,
    minutes_per_speaker: float = 2.0,
    jobs: int | None = None,
    per_participant: bool = False,
    crosstalk_db: float = CROSSTALK_DB,
    max_offset_s: float = 0.0,
    overlap: float = 0.0,
    backchannel_per_min: float = 0.0,
) -> SynthSummary:
    """Synthesise and write the reference corpus with exact ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Corpus root; must not exist or be an empty directory.
    n_speakers : int
        Number of profiled speakers (>= 1).
    seed : int
        Root seed; the same seed gives a byte-identical corpus.
    minutes_per_speaker : float
        Audio per speaker (min): ~75 % interview, ~25 % read utterances.
    jobs : int or None
        Worker processes (None: ``os.cpu_count()``; 1: in-process, no pool).
    per_participant : bool
        Write each interview as one file per participant (the other voice leaking
        at ``crosstalk_db``), rows sharing the recording id in recordings.csv with
        an ``offset_s`` column (:mod:`corpora.synth.participants`).
    crosstalk_db : float
        Level of the other voice in a participant's file (dB re its own voice).
    max_offset_s : float
        Largest start offset of a participant's file (s); 0: all start together.
    overlap, backchannel_per_min : float
        Overlapped turn starts (share of turn changes) and backchannels (per minute
        of the other voice's speech) in the interviews
        (:func:`corpora.synth.session.plan_interview`); recorded in corpus.toml when
        on, the overlaps in ``truth/overlaps.csv`` (empty without them). Both 0 by
        default: the corpus is then byte for byte the one without these options.

    Returns
    -------
    SynthSummary

    Raises
    ------
    ValueError
        For ``n_speakers < 1``, ``minutes_per_speaker <= 0``, ``jobs < 1``, a plan
        option out of range, or an
        ``out_dir`` that exists and is not an empty directory.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    _check_options(out, n_speakers, minutes_per_speaker, jobs, overlap, backchannel_per_min)
    for sub in ("audio", "transcripts", "truth/f0"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    conversation = {"overlap": float(overlap), "backchannel_per_min": float(backchannel_per_min)}
    speakers = prof.draw_speakers(n_speakers, seed)
    lexicon, prompts = lexicon_and_prompts(seed)
    participants = None
    if per_participant:
        if not (crosstalk_db <= 0 and max_offset_s >= 0):
            raise ValueError(
                f"crosstalk_db must be <= 0 dB and max_offset_s >= 0 s, "
                f"got {crosstalk_db!r} and {max_offset_s!r}"
            )
        participants = {"crosstalk_db": float(crosstalk_db), "max_offset_s": float(max_offset_s)}
    tasks = [
        (
            out,
            seed,
            i,
            sp,
            prof.interviewer_for(i),
            float(minutes_per_speaker),
            lexicon,
            prompts,
            participants,
            conversation,
        )
        for i, sp in enumerate(speakers)
    ]
    n_jobs = min(jobs or os.cpu_count() or 1, n_speakers)
    if n_jobs == 1:
        results = [_speaker_job(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            results = list(pool.map(_speaker_job, tasks))

    rec_rows = sorted(r for res in results for r in res[0])
    ipu_rows = sorted((r for res in results for r in res[1]), key=lambda r: (r[0], r[1]))
    tok_rows = sorted((r for res in results for r in res[2]), key=lambda r: (r[0], float(r[6])))
    audio_s = float(sum(res[3] for res in results))
    overlap_rows = sorted((r for res in results for r in res[4]), key=lambda r: (r[0], float(r[1])))

    _write_csv(
        out / "speakers.csv",
        prof.PROFILE_COLUMNS,
        [
            [
                sp.speaker_id,
                sp.gender,
                str(sp.age),
                sp.country,
                sp.education,
                _b(sp.student),
                sp.field,
                sp.languages,
                sp.income_band,
                _b(sp.main_income),
                sp.platforms,
                _b(sp.consent),
            ]
            for sp in speakers
        ],
    )
    columns = RECORDING_COLUMNS + (("offset_s",) if per_participant else ())
    _write_csv(out / "recordings.csv", columns, rec_rows)
    _write_csv(
        out / "truth" / "speakers.csv",
        TRUTH_SPEAKER_COLUMNS,
        [truth_speaker_row(sp) for sp in speakers],
    )
    _write_csv(out / "truth" / "ipus.csv", IPU_COLUMNS, ipu_rows)
    _write_csv(out / "truth" / "tokens.csv", TOKEN_COLUMNS, tok_rows)
    _write_csv(out / "truth" / "overlaps.csv", OVERLAP_COLUMNS, overlap_rows)
    (out / "truth" / "effects.md").write_text(effects_markdown(), encoding="utf-8")
    (out / "corpus.toml").write_text(
        _corpus_toml(seed, n_speakers, minutes_per_speaker, conversation), encoding="utf-8"
    )
    return SynthSummary(out, n_speakers, len(rec_rows), audio_s, time.perf_counter() - t0)
