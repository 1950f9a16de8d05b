"""The ``speech-profile`` command line.

Exit status: 0 on success, 2 on bad input (every problem listed, not only the
first), 1 on an internal failure.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from speech import __version__

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

app = typer.Typer(
    name="speech-profile",
    help="Speech-corpus sociolinguistic analysis: segment, measure, and relate speech to "
    "speaker profiles.",
    rich_markup_mode="markdown",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold survey answers
)
console = Console()
errors = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"speech-profile {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """Speech-corpus sociolinguistic analysis pipeline."""


def _bad_input(lines: list[str] | str, title: str) -> typer.Exit:
    lines = [lines] if isinstance(lines, str) else lines
    errors.print(f"[bold red]{title}[/]")
    for line in lines:
        # One problem per line, never wrapped: users grep and copy these.
        errors.print(f"  x {line}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code=EXIT_BAD_INPUT)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile synth corpus/ --speakers 40 --seed 1\n\n"
    "    speech-profile synth small/ --speakers 4 --minutes 0.5\n\n"
    "    speech-profile synth noisy/ --speakers 10 --noise babble --snr 10\n\n"
    "    speech-profile synth call/ --speakers 10 --condition webconf\n\n"
    "    speech-profile synth lossy/ --speakers 10 --condition opus=12,loss=0.05\n\n"
    "    speech-profile synth gated/ --speakers 4 --gate   # pauses as exact zeros"
)
def synth(
    out: Annotated[Path, typer.Argument(help="Directory to create (must not exist or be empty).")],
    speakers: Annotated[int, typer.Option("--speakers", "-n", help="Number of speakers.")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, byte-identical corpus.")] = 0,
    minutes: Annotated[
        float, typer.Option(help="Minutes of audio per speaker (interview + utterances).")
    ] = 2.0,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes (default: all cores).")
    ] = None,
    noise: Annotated[
        str | None, typer.Option(help="Mix in noise: white or babble (truth unchanged).")
    ] = None,
    snr: Annotated[float, typer.Option(help="SNR of --noise over speech (dB).")] = 10.0,
    condition: Annotated[
        str | None,
        typer.Option(help="Web-conference conditions after synthesis (truth unchanged): a preset "
                     "(webconf) and/or NAME=STRENGTH pairs, comma-separated: agc=0-1, "
                     "opus=kbit/s, aac=kbit/s, loss=0-0.5, reverb=RT60 s."),
    ] = None,
    codec_rate: Annotated[
        int, typer.Option(help="Sample rate of the --condition codec (48000 or 16000 Hz).")
    ] = 48000,
    gate: Annotated[bool, typer.Option(
        "--gate", help="Gate every pause to exact zeros, as noise suppression does "
                       "(after --noise, before --condition; truth unchanged).")] = False,
) -> None:
    """Write a synthetic reference corpus with known truth (F0, formants, boundaries, effects).

    Speakers get survey-like profiles (country, gender, age, education, income...);
    each has one interview with an interviewer and several read utterances, with
    TextGrids at the exact synthesized boundaries and the planted parameters in
    `truth/`.
    """
    _synth(out, speakers=speakers, seed=seed, minutes=minutes, jobs=jobs, noise=noise, snr=snr,
           condition=condition, codec_rate=codec_rate, gate=gate)


def _synth(
    out: Path, *, speakers: int, seed: int, minutes: float, jobs: int | None,
    noise: str | None = None, snr: float = 10.0, condition: str | None = None,
    codec_rate: int = 48000, gate: bool = False,
) -> None:  # fmt: skip
    from corpora.synth import write_corpus
    from corpora.synth.conditions import degrade_corpus, parse_conditions
    from corpora.synth.noise import NOISE_KINDS, add_noise, gate_pauses

    if noise is not None and noise not in NOISE_KINDS:
        raise _bad_input(f"unknown noise {noise!r}; use one of {', '.join(NOISE_KINDS)}",
                         "Cannot synthesise:")
    try:
        conditions = parse_conditions(condition) if condition is not None else None
        if codec_rate not in (16000, 48000):
            raise ValueError(f"--codec-rate must be 16000 or 48000, got {codec_rate}")
    except ValueError as e:
        raise _bad_input(str(e), "Cannot synthesise:") from e
    try:
        with console.status(f"Synthesising {speakers} speakers into {out} ..."):
            summary = write_corpus(
                out, n_speakers=speakers, seed=seed, minutes_per_speaker=minutes, jobs=jobs
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
        raise _bad_input(str(e), "Cannot synthesise:") from e
    console.print(
        f"[green]Wrote[/] {summary.n_speakers} speakers, {summary.n_recordings} recordings, "
        f"{summary.audio_s / 60:.1f} min of audio to {summary.out_dir} "
        f"in {summary.elapsed_s:.1f} s ({summary.audio_s / summary.elapsed_s:.0f}x real time)"
    )


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile check my-corpus/\n\n"
    "    speech-profile check my-corpus/ --no-decode   # headers only, faster"
)
def check(
    corpus: Annotated[Path, typer.Argument(help="Corpus directory (see DESIGN.md layout).")],
    decode: Annotated[
        bool, typer.Option(help="Decode every audio file to its end (catches truncation).")
    ] = True,
) -> None:
    """Validate a corpus and summarise it: speakers, recordings, hours, by country and
    education.

    Checks the schema of speakers.csv and recordings.csv, that every audio file
    exists and decodes, that transcripts parse, and that ids agree across files.
    Lists every problem with its file and line and exits with status 2 if there is
    any.
    """
    _check(corpus, decode=decode)


def _check(corpus: Path, *, decode: bool = True) -> None:
    from corpora.check import check_corpus

    with Progress(
        TextColumn("Checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=errors, transient=True, disable=not errors.is_terminal,
    ) as bar:
        task = bar.add_task("check", total=None)
        report = check_corpus(corpus, decode=decode, progress=lambda _: bar.advance(task))
    if report.corpus is not None:
        _print_summary(report)
    if not report.ok:
        raise _bad_input(
            [str(p) for p in report.problems],
            f"{len(report.problems)} problem(s) in {corpus}:",
        )
    console.print(f"[green]OK[/]: {corpus} passed every check.")


def _print_summary(report) -> None:
    corpus = report.corpus
    speakers = report.speaker_hours()
    hours = sum(report.durations_s.values()) / 3600
    kinds = corpus.recordings_table()["kind"].value_counts().to_dict()
    consented = int(speakers["consent"].sum()) if len(speakers) else 0
    who = (
        f"{len(speakers)} speakers ({consented} consented)"
        if len(speakers)
        else "speakers unreadable (see problems)"
    )
    console.print(
        f"[bold]{corpus.config.name}[/]: {who}, {len(corpus)} recordings ("
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + f"), {hours:.2f} h of audio",
        soft_wrap=True,
    )
    for column in ("country", "education"):
        table_data = report.breakdown(column)
        if table_data.empty:
            continue
        table = Table(title=f"by {column}", title_justify="left")
        for name in table_data.columns:
            table.add_column(name, justify="left" if name == column else "right")
        for row in table_data.itertuples(index=False):
            *label, n, n_consent, h = row
            table.add_row(str(label[0]), str(n), str(int(n_consent)), f"{h:.2f}")
        console.print(table)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile demo\n\n"
    "    speech-profile demo --out /tmp/demo --speakers 6"
)
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the demo corpus and results.")] = Path(
        "demo-out"
    ),
    speakers: Annotated[int, typer.Option("--speakers", "-n", help="Number of speakers.")] = 30,
    minutes: Annotated[float, typer.Option(help="Minutes of audio per speaker.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Run the whole pipeline on a built-in synthetic corpus:
    synth -> check -> extract -> eval -> fit -> report.

    Re-running replaces the demo corpus, store and report in OUT. The default 30
    speakers leave most profile groups at 5 speakers or more, so the report (which
    hides any group under 5) has something to show.
    """
    import json
    import os
    import shutil

    from speech.demo import BUILT_BY, mark_built
    from speech.fit import fit_store
    from speech.report import build_report

    corpus, store, report = out / "corpus", out / "store", out / "report"
    (out / BUILT_BY).unlink(missing_ok=True)  # re-marked only once the demo is complete
    for path in (corpus, store, report):
        if path.exists():
            shutil.rmtree(path)
    console.rule("[bold]1. synth")
    _synth(corpus, speakers=speakers, seed=seed, minutes=minutes, jobs=None)
    console.rule("[bold]2. check")
    _check(corpus)
    console.rule("[bold]3. extract")
    extract(corpus, store=store, jobs=os.cpu_count() or 1)
    console.rule("[bold]4. eval")
    evaluate(store, reference=corpus)
    console.rule("[bold]5. speakers")
    _print_speakers(store)
    console.rule("[bold]6. fit")
    with console.status("PCA, clustering, associations, regressions, prediction"):
        fit_store(store, random_state=seed)
    console.rule("[bold]7. report")
    path = build_report(store, report)
    mark_built(out)
    findings = json.loads((report / "findings.json").read_text(encoding="utf-8"))
    console.print("[bold]Main findings[/]")
    for sentence in findings.get("main", []):
        console.print(f"  - {sentence}", soft_wrap=True)
    console.print(f"\nDemo corpus in [bold]{corpus}[/] (truth in {corpus / 'truth'}), "
                  f"store in [bold]{store}[/].")
    console.print(f"Report: [bold]{path}[/]", soft_wrap=True)


def _print_speakers(store: Path) -> None:
    """A per-speaker summary of the store's speakers table."""
    from speech.store import Store

    table = Store(store).read_table("speakers")
    shown = {
        "speaker_id": "speaker", "country": "country", "education": "education",
        "gender": "gender", "speech_s": "speech s", "f0_median_st": "F0 st",
        "articulation_rate_syll_s": "artic. syll/s", "jitter_local_pct": "jitter %",
        "hnr_db": "HNR dB", "cpps_mean_db": "CPPS dB",
    }  # fmt: skip
    out = Table(title="speakers (duration-weighted means of their own segments)",
                title_justify="left")
    columns = [c for c in shown if c in table]
    for c in columns:
        out.add_column(shown[c], justify="left" if table[c].dtype == object or c in (
            "speaker_id", "country", "education", "gender") else "right")
    for row in table[columns].itertuples(index=False):
        out.add_row(*(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row))
    console.print(out)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile extract corpus/ --store store/ --jobs 2\n\n"
    "    speech-profile extract corpus/ --store store-cl/ --attribution cluster\n\n"
    "    speech-profile extract noisy/ --store s/ --vad silero"
)
def extract(
    corpus: Annotated[Path, typer.Argument(help="Corpus directory.")],
    store: Annotated[Path, typer.Option(help="Store directory (created if needed).")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.")] = 1,
    vad: Annotated[str, typer.Option(help="Voice activity: energy or silero.")] = "energy",
    attribution: Annotated[
        str, typer.Option(help="Speaker attribution: auto, transcript, channel or cluster.")
    ] = "auto",
    min_pause: Annotated[
        float, typer.Option(help="Shortest pause between two IPUs (s).")
    ] = 0.2,
    features: Annotated[
        bool, typer.Option(help="Measure features, vowels and /s/ (else segments only).")
    ] = True,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler (tcp://HOST:PORT or a scheduler file): run the "
                     "recordings on that cluster instead of local processes (--jobs is "
                     "then ignored). Workers need this environment and the corpus path."),
    ] = None,
    keep_text: Annotated[
        bool, typer.Option(help="Keep transcript words in the outputs (segment text, token "
                           "words); off by default: only keyed word ids are stored."),
    ] = False,
    formant_ceilings: Annotated[
        int, typer.Option(help="Candidate formant ceilings per voice (Fast Track); the vowel "
                          "stage's time is proportional to it.", min=2),
    ] = 10,
) -> None:
    """Segment a corpus into the store: recordings, segments and errors tables.

    Only consented speakers' recordings are read. Re-running with unchanged inputs
    and settings does no work; a changed file or setting recomputes what it touches.
    A recording that fails is listed in the errors table and the others finish.
    """
    from corpora.corpus import read_corpus
    from corpora.problems import CorpusError
    from speech import extract as batch
    from speech.segmentation import SegmentationConfig
    from speech.store import Store, StoreError

    try:
        config = SegmentationConfig(vad=vad, attribution=attribution, min_pause_s=min_pause,
                                    features=features, keep_text=keep_text,
                                    formant_ceilings=formant_ceilings)
        if jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {jobs}")
        Store(store).check_writable()  # before any work: a full or read-only store
        loaded = read_corpus(corpus)
    except StoreError as e:
        errors.print(f"x {e}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL) from e
    except CorpusError as e:
        raise _bad_input([str(p) for p in e.problems], f"{corpus} has problems:") from e
    except ValueError as e:
        raise _bad_input(str(e), "Bad setting:") from e
    total_s = 0.0
    with Progress(
        TextColumn("Extracting"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), console=errors,
    ) as bar:
        task = bar.add_task("extract", total=len(loaded), speed="")
        started = time.perf_counter()

        def advance(recording, result) -> None:
            nonlocal total_s
            if result is not None:
                duration = float(result.recording["duration_s"].iloc[0])
                total_s += duration if duration == duration else 0.0
            elapsed = time.perf_counter() - started
            speed = f"{total_s / 3600:.2f} h audio, {total_s / elapsed:.0f}x real time"
            bar.update(task, advance=1, speed=speed)

        try:
            summary = batch.extract(loaded, Store(store), config=config, jobs=jobs,
                                    progress=advance, scheduler=scheduler)
        except ConnectionError as e:
            raise _bad_input(str(e), "Cannot reach the cluster:") from e
        except StoreError as e:
            errors.print(f"x {e}", markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERNAL) from e
    console.print(
        f"[green]Extracted[/] {len(summary.computed)} recordings "
        f"({summary.audio_s / 60:.1f} min of audio, "
        f"{summary.audio_s / max(summary.elapsed_s, 1e-9):.0f}x real time), "
        f"{len(summary.unchanged)} unchanged, {len(summary.failed)} failed, "
        f"{len(summary.removed)} removed, {summary.skipped_no_consent} skipped without consent"
        + (f", {summary.skipped_erased} erased speakers skipped" if summary.skipped_erased
           else "") + " "
        f"-> {store}",
        soft_wrap=True,
    )
    if summary.failed:
        from speech.store import Store as _Store

        failures = _Store(store).read_table("errors", recording_ids=summary.failed)
        for row in failures.itertuples(index=False):
            errors.print(f"  x {row.recording_id} [{row.stage}] {row.error}: {row.message}",
                         markup=False, soft_wrap=True)


@app.command(
    "eval",
    epilog="**Examples**\n\n"
    "    speech-profile eval store/ --reference corpus/      # a synthetic corpus's truth\n\n"
    "    speech-profile eval store/ --reference corrected/   # hand-corrected TextGrids",
)
def evaluate(
    store: Annotated[Path, typer.Argument(help="Store written by extract.")],
    reference: Annotated[
        Path, typer.Option(help="A synthetic corpus (truth/) or a folder of TextGrids.")
    ],
    tolerance: Annotated[float, typer.Option(help="Boundary tolerance (s).")] = 0.05,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Score segments against reference annotations: boundary precision/recall/F1,
    speaker-attribution accuracy and syllable-nucleus count error."""
    import json

    from speech.evaluate import evaluate as score
    from speech.store import Store

    try:
        _, _, summary = score(Store(store), reference, tolerance_s=tolerance)
    except (FileNotFoundError, ValueError) as e:
        raise _bad_input(str(e), "Cannot evaluate:") from e
    if as_json:
        console.print_json(json.dumps(summary))
        return
    table = Table(title=f"{store} against {reference}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("recordings", str(summary["recordings"]))
    for name in ("precision", "recall", "f1"):
        table.add_row(f"boundary {name} (±{tolerance * 1000:.0f} ms)",
                      f"{summary['boundary_' + name]:.3f}")
    table.add_row("speaker attribution accuracy", f"{summary['attribution_accuracy']:.3f}")
    for method, accuracy in summary["attribution_by_method"].items():
        table.add_row(f"  by {method}", f"{accuracy:.3f}")
    table.add_row("interviewee identified", f"{summary['profiled_identified']:.3f}")
    table.add_row("nucleus count error (median |rel|)", f"{summary['nucleus_error_median']:.3f}")
    console.print(table)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile query store/ \"select speaker_id, count(*) n, sum(duration_s) s "
    "from segments group by 1 order by 1\"\n\n"
    "    speech-profile query store/ \"select * from errors\" --csv > errors.csv"
)
def query(
    store: Annotated[Path, typer.Argument(help="Store written by extract.")],
    sql: Annotated[str, typer.Argument(help="SQL; tables: recordings, segments, errors...")],
    csv: Annotated[bool, typer.Option("--csv", help="Write CSV to standard output.")] = False,
    limit: Annotated[int, typer.Option(help="Rows shown in the table view.")] = 50,
) -> None:
    """Run SQL (DuckDB) over the store's tables, each a view of the same name."""
    import sys

    from speech.query import query as run_sql

    try:
        result = run_sql(store, sql)
    except (FileNotFoundError, ValueError) as e:
        raise _bad_input(str(e), "Query failed:") from e
    if csv:
        result.to_csv(sys.stdout, index=False)
        return
    table = Table(show_lines=False)
    for name in result.columns:
        table.add_column(str(name), overflow="fold")
    for row in result.head(limit).itertuples(index=False):
        table.add_row(*("" if v is None or v != v else str(v) for v in row))
    console.print(table)
    if len(result) > limit:
        console.print(f"({len(result)} rows, {limit} shown; --limit or --csv for more)")


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile profile interview.m4a --speakers 2\n\n"
    "    speech-profile profile reading.wav --json > reading.json"
)
def profile(
    audio: Annotated[Path, typer.Argument(help="An audio file (any supported format).")],
    speakers: Annotated[int, typer.Option("--speakers", "-n", help="Voices in it.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Every feature, as JSON.")] = False,
) -> None:
    """Profile one recording without a corpus: segments, then per voice the
    duration-weighted means of every feature (voice 1 = the one with most speech)."""
    import json

    from corpora.corpus import Recording
    from speech.extract import aggregate_segments
    from speech.segmentation import SegmentationConfig, segment_recording

    if not audio.is_file():
        raise _bad_input(f"{audio}: file not found", "Cannot profile:")
    kind = "interview" if speakers > 1 else "utterance"
    result = segment_recording(Recording(audio.stem, audio, kind, "V1", speakers),
                               SegmentationConfig())
    if not result.errors.empty:
        row = result.errors.iloc[0]
        raise _bad_input(f"[{row['stage']}] {row['message']}", f"Cannot profile {audio}:")
    segments = result.segments
    if segments.empty:
        raise _bad_input(f"{audio}: no speech found ({result.recording['warnings'].item()})",
                         "Cannot profile:")
    segments = segments.assign(speaker_id=segments["speaker_id"].replace(
        {f"INT{k}": f"V{k + 1}" for k in range(1, speakers)}))
    table = aggregate_segments(segments)
    if as_json:
        records = json.loads(table.to_json(orient="records"))
        console.print_json(json.dumps({"file": audio.name, "voices": records,
                                       "warnings": result.recording["warnings"].item()}))
        return
    shown = ["speech_s", "n_segments", "f0_median_st", "f0_sd_st", "intensity_mean_db",
             "speech_rate_syll_s", "articulation_rate_syll_s", "pause_duration_mean_s",
             "jitter_local_pct", "shimmer_local_pct", "hnr_db", "hnr_report_db", "cpps_mean_db",
             "h1h2_mean_db", "alpha_ratio_mean_db", "hammarberg_mean_db", "vocalic_pct"]
    out = Table(title=f"{audio.name} ({result.recording['duration_s'].item():.1f} s)",
                title_justify="left")
    out.add_column("feature")
    for voice in table["speaker_id"]:
        out.add_column(str(voice), justify="right")
    for name in shown:
        if name in table:
            out.add_row(name, *(f"{v:.2f}" if v == v else "-" for v in table[name]))
    console.print(out)
    if result.recording["warnings"].item():
        console.print(f"[yellow]note[/]: {result.recording['warnings'].item()}")
    console.print("All features: --json; definitions: docs/FEATURES.md")


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile bench                 # 10 minutes of synthetic speech\n\n"
    "    speech-profile bench interview.wav --repeats 5\n\n"
    "    speech-profile bench --formant-ceilings 3    # the vowel stage's cost"
)
def bench(
    audio: Annotated[Path | None, typer.Argument(help="Audio file (default: synthetic).")] = None,
    seconds: Annotated[float, typer.Option(help="Length of the synthetic audio (s).")] = 600.0,
    repeats: Annotated[int, typer.Option(help="Timed runs of each (medians reported).")] = 3,
    formant_ceilings: Annotated[
        int, typer.Option(help="Candidate formant ceilings of the full extraction.", min=2),
    ] = 10,
) -> None:
    """Time the full extraction against openSMILE eGeMAPSv02 functionals on the same
    audio, one CPU each (pinned), alternately; prints times-real-time and the ratio.

    openSMILE is optional: `pip install 'speech-profile[bench]'`.
    """
    import tempfile

    from speech.bench import run_bench, synthetic_speech

    with tempfile.TemporaryDirectory() as tmp:
        if audio is None:
            with console.status(f"Synthesising {seconds:.0f} s of speech ..."):
                audio = synthetic_speech(Path(tmp) / "bench.wav", seconds)
        elif not audio.is_file():
            raise _bad_input(f"{audio}: file not found", "Cannot bench:")
        with console.status(f"Timing {repeats} runs of each ..."):
            result = run_bench(audio, repeats=repeats, formant_ceilings=formant_ceilings)
    where = ("one CPU each (process pinned)" if result.pinned else
             "threads limited to 1 each (this OS cannot pin a process: Praat's pitch "
             "analysis may still use several CPUs)")
    console.print(f"audio: {result.audio_s:.0f} s; medians of {repeats} runs, {where}")
    console.print(f"speech-profile, full (segmentation, attribution, every feature, vowel "
                  f"and /s/ tokens, {formant_ceilings} formant ceilings): "
                  f"{result.ours_median_s:.2f} s = {result.ours_rt:.0f}x real time")
    console.print(f"speech-profile, feature core (the same without vowel and /s/ tokens): "
                  f"{result.core_median_s:.2f} s = {result.core_rt:.0f}x real time")
    if result.opensmile_s is None:
        console.print("openSMILE not installed: pip install 'speech-profile[bench]' to compare")
        return
    console.print(f"openSMILE eGeMAPSv02 functionals: {result.opensmile_median_s:.2f}"
                  f" s = {result.opensmile_rt:.0f}x real time")
    console.print(f"ratio to openSMILE's speed: full {result.ours_rt / result.opensmile_rt:.2f}"
                  f", feature core {result.core_rt / result.opensmile_rt:.2f}")


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile report store/ --out report/          # groups under 5 speakers hidden\n\n"
    "    speech-profile report store/ --out report/ --k 10   # stricter k-anonymity"
)
def report(
    store: Annotated[Path, typer.Argument(help="Store with models/ written by `fit`.")],
    out: Annotated[Path, typer.Option(help="Directory for report.html and findings.json.")],
    k: Annotated[int, typer.Option("--k", help="Hide any group or cell under k speakers.")] = 5,
) -> None:
    """Write a self-contained HTML report (figures embedded, no network) and findings.json,
    then print the report's path and its main findings."""
    import json

    from speech.report import build_report

    if k < 1:
        raise _bad_input(f"--k must be at least 1, got {k}", "Cannot build the report:")
    if not (store / "models").is_dir():
        raise _bad_input(f"{store / 'models'} does not exist: run `speech-profile fit {store}` "
                         "first", "Cannot build the report:")
    try:
        path = build_report(store, out, k_anonymity=k)
    except FileNotFoundError as e:
        raise _bad_input(str(e), "Cannot build the report:") from e
    console.print(f"[bold]Report:[/] {path}", highlight=False, soft_wrap=True)
    findings = json.loads((path.parent / "findings.json").read_text(encoding="utf-8"))
    console.print(f"Main findings ({len(findings['main'])}; all in findings.json):")
    for sentence in findings["main"]:
        console.print(f"  - {sentence}", highlight=False, markup=False, soft_wrap=True)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile fit store/\n\n"
    "    speech-profile fit store/ --seed 3 --permutations 999"
)
def fit(
    store: Annotated[Path, typer.Argument(help="Store written by extract.")],
    seed: Annotated[int, typer.Option(help="Seed of permutations, bootstrap and CV.")] = 0,
    permutations: Annotated[
        int, typer.Option(help="Permutations per association test (p >= 1 / (B + 1)).")
    ] = 9999,
) -> None:
    """Fit the sociolinguistic models; write the results under STORE/models/.

    Profiles, PCA and Ward clustering of the speaker features, associations of every
    feature, component and cluster with every profile variable (permutation p-values,
    Benjamini-Hochberg q-values), mixed-effects and speaker regressions, and prediction
    of profile variables under speaker-grouped cross-validation.
    """
    import pandas as pd

    from speech.fit import FitInputError, fit_store

    if permutations < 1:
        raise _bad_input(f"--permutations must be at least 1, got {permutations}", "Bad setting:")
    started = time.perf_counter()
    steps: list[str] = []
    with console.status("Fitting ...") as status:

        def progress(step: str) -> None:
            steps.append(step)
            status.update(f"[{len(steps)}/5] {step} ({time.perf_counter() - started:.0f} s)")

        try:
            out = fit_store(store, random_state=seed, n_permutations=permutations,
                            progress=progress)
        except FitInputError as e:
            raise _bad_input(str(e), f"Cannot fit {store}:") from e
    table = pd.read_parquet(out / "associations.parquet")
    structure = pd.read_parquet(out / "pca_variance.parquet")
    clusters = pd.read_parquet(out / "speaker_structure.parquet")
    console.print(
        f"[green]Fitted[/] {len(clusters)} speakers in {time.perf_counter() - started:.0f} s: "
        f"{len(structure)} components ({structure['explained_variance_ratio'].sum():.0%} of "
        f"the variance), {clusters['cluster'].nunique()} clusters, {len(table)} association "
        f"tests -> {out}", soft_wrap=True)
    import json

    models_run = json.loads((out / "fit.json").read_text(encoding="utf-8")).get("models", {})
    for name, outcome in models_run.items():
        if isinstance(outcome, str):  # a model that could not be fitted says why
            errors.print(f"  ! {name}: {outcome}", markup=False, soft_wrap=True)
    found = table[table["q_value"] < 0.05].sort_values(["q_value", "p_value"])
    if found.empty:
        console.print("No association at q < 0.05.")
        return
    shown = Table(title=f"Associations at q < 0.05 ({len(found)}; top 15)")
    # The effect's name says the test (rho: Spearman, epsilon2: Kruskal-Wallis, ...).
    for column, justify in (("feature", "left"), ("variable", "left"), ("effect", "right"),
                            ("q", "right"), ("n", "right")):
        shown.add_column(column, justify=justify, no_wrap=True)
    for row in found.head(15).itertuples(index=False):
        shown.add_row(row.feature, row.variable,
                      f"{row.effect_size_name} {row.effect_size:+.2f}", f"{row.q_value:.2g}",
                      str(row.n_speakers))
    console.print(shown)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile forget store/ S017"
)
def forget(
    store: Annotated[Path, typer.Argument(help="Store directory.")],
    speaker_id: Annotated[str, typer.Argument(help="Pseudonymous id of the speaker to erase.")],
) -> None:
    """Erase a speaker completely: every table row, model output and report.

    Their recordings leave every table; rows naming them elsewhere go too; the
    speakers table, the models (refitted with the same settings) and every report
    written from the store (rebuilt with the same k) no longer hold them. The
    manifest logs the erasure as a keyed hash, never the id, and later `extract`
    runs skip the speaker even if the corpus still lists them.
    """
    from speech.fit import refit_store
    from speech.privacy import forget_speaker
    from speech.report import rebuild_report
    from speech.store import Store

    if not (store / "manifest.json").is_file():
        raise _bad_input(f"{store}: not a store (no manifest.json)", "forget")

    try:
        with console.status(f"erasing {speaker_id} and recomputing what used them"):
            summary = forget_speaker(Store(store), speaker_id, refit=refit_store,
                                     rebuild=rebuild_report)
    except KeyError as e:
        raise _bad_input(str(e.args[0]), "forget") from e
    rows = ", ".join(f"{n} {t}" for t, n in sorted(summary.rows_removed.items())) or "none"
    console.print(f"Erased: {summary.recordings_removed} recordings, other rows removed: {rows}; "
                  f"models {summary.models}; reports rebuilt: {len(summary.reports)}. "
                  "The manifest logs the erasure as a keyed hash.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
