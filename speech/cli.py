"""The ``speech-profile`` command line.

Exit status: 0 on success, 2 on bad input (every problem listed, not only the
first), 1 on an internal failure.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from speech import __version__
from speech.cli_output import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    ExtractionBar,
    bad_input,
    console,
    errors,
    print_check,
    print_eval,
    print_extracted,
    print_speakers,
    print_synth,
)
from speech.cli_store import NoWait, check_store_cli, print_store_notes, waiting, writer
from speech.cli_synth import synthesise

app = typer.Typer(
    name="speech-profile",
    help="Speech-corpus sociolinguistic analysis: segment, measure, and relate speech to "
    "speaker profiles.",
    rich_markup_mode="markdown",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold survey answers
)


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


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile synth corpus/ --speakers 40 --seed 1\n\n"
    "    speech-profile synth small/ --speakers 4 --minutes 0.5\n\n"
    "    speech-profile synth noisy/ --speakers 10 --noise babble --snr 10\n\n"
    "    speech-profile synth call/ --speakers 10 --condition webconf\n\n"
    "    speech-profile synth lossy/ --speakers 10 --condition opus=12,loss=0.05\n\n"
    "    speech-profile synth gated/ --speakers 4 --gate   # pauses as exact zeros\n\n"
    "    speech-profile synth zoom/ --speakers 4 --per-participant --crosstalk-db -20 "
    "--max-offset 2"
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
                     "opus=kbit/s, aac=kbit/s, loss=0-0.5, reverb=RT60 s; and in the "
                     "interview plan: overlap=share of turn changes, backchannel=per min."),
    ] = None,
    codec_rate: Annotated[
        int, typer.Option(help="Sample rate of the --condition codec (48000 or 16000 Hz).")
    ] = 48000,
    gate: Annotated[bool, typer.Option(
        "--gate", help="Gate every pause to exact zeros, as noise suppression does "
                       "(after --noise, before --condition; truth unchanged).")] = False,
    per_participant: Annotated[bool, typer.Option(
        "--per-participant", help="Write each interview as one file per participant, the "
        "other voice leaking in at --crosstalk-db (recordings.csv: one row per file).")] = False,
    crosstalk_db: Annotated[float, typer.Option(
        help="Level of the other voice in a participant's file (dB re its own voice).")] = -20.0,
    max_offset: Annotated[float, typer.Option(
        help="Largest start offset of a participant's file (s); files also end apart.")] = 0.0,
) -> None:
    """Write a synthetic reference corpus with known truth (F0, formants, boundaries, effects).

    Speakers get survey-like profiles (country, gender, age, education, income...);
    each has one interview with an interviewer and several read utterances, with
    TextGrids at the exact synthesized boundaries and the planted parameters in
    `truth/`.
    """
    participants = ({"crosstalk_db": crosstalk_db, "max_offset_s": max_offset}
                    if per_participant else None)
    synthesise(out, speakers=speakers, seed=seed, minutes=minutes, jobs=jobs, noise=noise, snr=snr,
           condition=condition, codec_rate=codec_rate, gate=gate, participants=participants)


@app.command(
    epilog="**Examples**\n\n"
    "    speech-profile check my-corpus/\n\n"
    "    speech-profile check my-corpus/ --no-decode   # headers only, faster"
)
def check(
    corpus: Annotated[Path, typer.Argument(
        help="Corpus directory (docs/architecture.md), or a store written by extract.")],
    decode: Annotated[
        bool, typer.Option(help="Decode every audio file to its end (catches truncation).")
    ] = True,
) -> None:
    """Validate a corpus and summarise it: speakers, recordings, hours, by country and
    education, and each recording's condition (band limit, gating, clipping, SNR,
    reverberation; features.conditions). Given a store (a directory with
    manifest.json), verify it instead.

    Checks the schema of speakers.csv and recordings.csv, that every audio file
    exists and decodes, that transcripts parse, and that ids agree across files.
    For a store: every file against the size and SHA-256 its manifest recorded,
    and files outside the manifest (orphaned). Lists every problem with its file
    (and line) and exits with status 2 if there is any.
    """
    from speech.integrity import is_store

    if is_store(corpus):
        if not check_store_cli(corpus, console, errors):
            raise typer.Exit(code=EXIT_BAD_INPUT)
    else:
        _check(corpus, decode=decode, conditions=decode)


def _check(corpus: Path, *, decode: bool = True, conditions: bool = False) -> None:
    from corpora.check import check_corpus

    with Progress(
        TextColumn("Checking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=errors, transient=True, disable=not errors.is_terminal,
    ) as bar:
        task = bar.add_task("check", total=None)
        report = check_corpus(corpus, decode=decode, progress=lambda _: bar.advance(task))
    print_check(report, corpus, conditions=conditions)


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

    from corpora.problems import CorpusError
    from speech.demo import DEMO_STEPS, build_demo

    corpus, store = out / "corpus", out / "store"
    titles = {"synth": "1. synth", "check": "2. check", "extract": "3. extract",
              "eval": "4. eval", "fit": "6. fit", "report": "7. report"}
    bar = ExtractionBar()
    fitting = console.status("PCA, clustering, associations, regressions, prediction")

    steps: list[str] = []

    def starting(step: str) -> None:
        steps.append(step)
        console.rule(f"[bold]{titles[step]}")
        if step == "extract":
            bar.__enter__()
        elif step == "fit":
            fitting.start()

    def finished(step: str, result) -> None:
        if step == "synth" and result is not None:  # None: an existing corpus reused
            print_synth(result)
        elif step == "check":
            bar.bar.update(bar.task, total=len(result.corpus) if result.corpus else None)
            print_check(result, corpus)
        elif step == "extract":
            bar.__exit__()
            print_extracted(result, store)
        elif step == "eval":
            print_eval(result, f"{store} against {corpus}", 0.05)
            console.rule("[bold]5. speakers")
            print_speakers(store)
        elif step == "fit":
            fitting.stop()
        else:
            findings = json.loads((out / "report" / "findings.json").read_text(encoding="utf-8"))
            console.print("[bold]Main findings[/]")
            for sentence in findings.get("main", []):
                console.print(f"  - {sentence}", soft_wrap=True)
            console.print(f"\nDemo corpus in [bold]{corpus}[/] (truth in {corpus / 'truth'}), "
                          f"store in [bold]{store}[/].")
            console.print(f"Report: [bold]{result}[/]", soft_wrap=True)

    try:
        build_demo(out, speakers=speakers, minutes=minutes, seed=seed, steps=DEMO_STEPS,
                   fresh=True, progress=starting, on_step=finished, on_recording=bar.advance)
    except CorpusError as e:  # the check step has listed the problems
        raise typer.Exit(code=EXIT_BAD_INPUT) from e
    except ValueError as e:
        if steps[-1:] != ["synth"]:
            raise  # an internal failure, not a bad option
        raise bad_input(str(e), "Cannot synthesise:") from e
    finally:
        bar.bar.stop()
        fitting.stop()


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
    engine: Annotated[
        str, typer.Option(help="Measurement engine: vectorised (Praat's algorithms on all "
                          "frames at once) or praat (Praat itself, to reproduce Praat "
                          "scripts exactly)."),
    ] = "vectorised",
    keep_overlap: Annotated[
        bool, typer.Option(help="Measure F0, voice quality and formants in overlapped "
                           "speech too (two voices at once); off by default."),
    ] = False,
    no_wait: NoWait = False,
) -> None:
    """Segment a corpus into the store: recordings, segments and errors tables.

    Only consented speakers' recordings are read. Re-running with unchanged inputs
    and settings does no work; a changed file or setting recomputes what it touches.
    A recording that fails is listed in the errors table and the others finish.
    """
    from corpora.corpus import read_corpus
    from corpora.problems import CorpusError
    from speech import extract as batch
    from speech.lock import StoreBusy
    from speech.privacy import StoreKeyLost
    from speech.segmentation import SegmentationConfig
    from speech.store import Store, StoreDamaged, StoreError

    try:
        config = SegmentationConfig(vad=vad, attribution=attribution, min_pause_s=min_pause,
                                    features=features, keep_text=keep_text,
                                    formant_ceilings=formant_ceilings, engine=engine,
                                    keep_overlap=keep_overlap)
        if jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {jobs}")
        Store(store).check_writable()  # before any work: a full or read-only store
        loaded = read_corpus(corpus)
    except StoreError as e:
        errors.print(f"x {e}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL) from e
    except CorpusError as e:
        raise bad_input([str(p) for p in e.problems], f"{corpus} has problems:") from e
    except ValueError as e:
        raise bad_input(str(e), "Bad setting:") from e
    with ExtractionBar(len(loaded)) as bar:
        try:
            summary = batch.extract(loaded, Store(store), config=config, jobs=jobs,
                                    progress=bar.advance, scheduler=scheduler,
                                    wait=not no_wait, on_wait=waiting(store, errors))
        except ConnectionError as e:
            raise bad_input(str(e), "Cannot reach the cluster:") from e
        except StoreBusy as e:
            raise bad_input(str(e), "The store is busy:") from e
        except (StoreDamaged, StoreKeyLost) as e:
            raise bad_input(str(e), "Cannot extract:") from e
        except StoreError as e:
            errors.print(f"x {e}", markup=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERNAL) from e
    print_extracted(summary, store)
    print_store_notes(summary, errors)


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
        raise bad_input(str(e), "Cannot evaluate:") from e
    if as_json:
        console.print_json(json.dumps(summary))
        return
    print_eval(summary, f"{store} against {reference}", tolerance)


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
        raise bad_input(str(e), "Query failed:") from e
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
    engine: Annotated[
        str, typer.Option(help="Measurement engine: vectorised (Praat's algorithms on all "
                          "frames at once) or praat (Praat itself, to reproduce Praat "
                          "scripts exactly)."),
    ] = "vectorised",
) -> None:
    """Profile one recording without a corpus: segments, then per voice the
    duration-weighted means of every feature (voice 1 = the one with most speech)."""
    import json

    from speech.profile import ProfileError, profile_recording
    from speech.segmentation import SegmentationConfig

    try:
        config = SegmentationConfig(engine=engine)
    except ValueError as e:
        raise bad_input(str(e), "Bad setting:") from e
    try:
        result = profile_recording(audio, speakers=speakers, config=config)
    except ProfileError as e:
        raise bad_input(str(e), e.title) from e
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
        return
    table = result.voices
    shown = ["speech_s", "n_segments", "f0_median_st", "f0_sd_st", "intensity_mean_db",
             "speech_rate_syll_s", "articulation_rate_syll_s", "pause_duration_mean_s",
             "jitter_local_pct", "shimmer_local_pct", "hnr_db", "hnr_report_db", "cpps_mean_db",
             "h1h2_mean_db", "alpha_ratio_mean_db", "hammarberg_mean_db", "vocalic_pct"]
    out = Table(title=f"{result.file} ({result.duration_s:.1f} s)", title_justify="left")
    out.add_column("feature")
    for voice in table["speaker_id"]:
        out.add_column(str(voice), justify="right")
    for name in shown:
        if name in table:
            out.add_row(name, *(f"{v:.2f}" if v == v else "-" for v in table[name]))
    console.print(out)
    if result.warnings:
        console.print(f"[yellow]note[/]: {result.warnings}")
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
    engine: Annotated[
        str, typer.Option(help="Measurement engine: vectorised (Praat's algorithms on all "
                          "frames at once) or praat (Praat itself, to reproduce Praat "
                          "scripts exactly)."),
    ] = "vectorised",
) -> None:
    """Time the full extraction against openSMILE eGeMAPSv02 functionals on the same
    audio, one CPU each (pinned), alternately; prints times-real-time and the ratio.

    openSMILE is optional: `pip install 'speech-profile[bench]'`.
    """
    import tempfile

    from speech.bench import run_bench, synthetic_speech
    from speech.segmentation import SegmentationConfig

    try:
        SegmentationConfig(engine=engine)
    except ValueError as e:
        raise bad_input(str(e), "Bad setting:") from e
    with tempfile.TemporaryDirectory() as tmp:
        if audio is None:
            with console.status(f"Synthesising {seconds:.0f} s of speech ..."):
                audio = synthetic_speech(Path(tmp) / "bench.wav", seconds)
        elif not audio.is_file():
            raise bad_input(f"{audio}: file not found", "Cannot bench:")
        with console.status(f"Timing {repeats} runs of each ..."):
            result = run_bench(audio, repeats=repeats, formant_ceilings=formant_ceilings,
                               engine=engine)
    where = ("one CPU each (process pinned)" if result.pinned else
             "threads limited to 1 each (this OS cannot pin a process: Praat's pitch "
             "analysis may still use several CPUs)")
    console.print(f"audio: {result.audio_s:.0f} s; engine {engine}; medians of {repeats} "
                  f"runs, {where}")
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
    no_wait: NoWait = False,
) -> None:
    """Write a self-contained HTML report (figures embedded, no network) and findings.json,
    then print the report's path and its main findings."""
    import json

    from speech.report import build_report

    if k < 1:
        raise bad_input(f"--k must be at least 1, got {k}", "Cannot build the report:")
    if not (store / "models").is_dir():
        raise bad_input(f"{store / 'models'} does not exist: run `speech-profile fit {store}` "
                         "first", "Cannot build the report:")
    from speech.lock import StoreBusy
    from speech.store import StoreDamaged

    try:
        with writer(store, "report", no_wait, errors):  # it records OUT in the store's manifest
            path = build_report(store, out, k_anonymity=k)
    except (FileNotFoundError, StoreDamaged, StoreBusy) as e:
        raise bad_input(str(e), "Cannot build the report:") from e
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
    no_wait: NoWait = False,
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
        raise bad_input(f"--permutations must be at least 1, got {permutations}", "Bad setting:")
    started = time.perf_counter()
    steps: list[str] = []
    with console.status("Fitting ...") as status:

        def progress(step: str) -> None:
            steps.append(step)
            status.update(f"[{len(steps)}/5] {step} ({time.perf_counter() - started:.0f} s)")

        from speech.lock import StoreBusy
        from speech.store import StoreDamaged

        try:
            with writer(store, "fit", no_wait, errors):
                out = fit_store(store, random_state=seed, n_permutations=permutations,
                                progress=progress)
        except (FitInputError, StoreDamaged, StoreBusy) as e:
            raise bad_input(str(e), f"Cannot fit {store}:") from e
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
    no_wait: NoWait = False,
) -> None:
    """Erase a speaker completely: every table row, model output and report.

    Their recordings leave every table; rows naming them elsewhere go too; the
    speakers table, the models (refitted with the same settings) and every report
    written from the store (rebuilt with the same k) no longer hold them. The
    manifest logs the erasure as a keyed hash, never the id, and later `extract`
    runs skip the speaker even if the corpus still lists them.
    """
    from speech.fit import refit_store
    from speech.integrity import is_store
    from speech.lock import StoreBusy
    from speech.privacy import StoreKeyLost, forget_speaker
    from speech.report import rebuild_report
    from speech.store import Store, StoreDamaged, StoreError

    if not is_store(store):
        raise bad_input(f"{store}: not a store (no manifest.json)", "forget")

    try:
        summary = forget_speaker(Store(store), speaker_id, refit=refit_store,
                                 rebuild=rebuild_report, wait=not no_wait,
                                 on_wait=waiting(store, errors, erasure=True))
    except KeyError as e:
        raise bad_input(str(e.args[0]), "forget") from e
    except StoreBusy as e:
        raise bad_input(str(e), "forget: nothing was erased") from e
    except StoreError as e:
        errors.print(f"x {e}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL) from e
    except (StoreDamaged, StoreKeyLost) as e:
        raise bad_input(str(e), "forget did not finish (run it again once the store is "
                         "repaired; erasing twice is harmless):") from e
    rows = ", ".join(f"{n} {t}" for t, n in sorted(summary.rows_removed.items())) or "none"
    console.print(f"Erased: {summary.recordings_removed} recordings, other rows removed: {rows}; "
                  f"models {summary.models}; reports rebuilt: {len(summary.reports)}. "
                  "The manifest logs the erasure as a keyed hash.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
