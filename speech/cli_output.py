"""What the ``speech-profile`` commands print: summaries, tables, progress bars, problems.

The commands (:mod:`speech.cli`) parse, call the library and hand its results here.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1

console = Console()
errors = Console(stderr=True)


def bad_input(lines: list[str] | str, title: str) -> typer.Exit:
    lines = [lines] if isinstance(lines, str) else lines
    errors.print(f"[bold red]{title}[/]")
    for line in lines:
        # One problem per line, never wrapped: users grep and copy these.
        errors.print(f"  x {line}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code=EXIT_BAD_INPUT)


def print_synth(summary) -> None:
    console.print(
        f"[green]Wrote[/] {summary.n_speakers} speakers, {summary.n_recordings} recordings, "
        f"{summary.audio_s / 60:.1f} min of audio to {summary.out_dir} "
        f"in {summary.elapsed_s:.1f} s ({summary.audio_s / summary.elapsed_s:.0f}x real time)"
    )


def print_check(report, corpus: Path, *, conditions: bool = False) -> None:
    """The corpus summary (with each recording's condition when ``conditions``), then
    every problem (exit 2) or OK."""
    if report.corpus is not None:
        print_summary(report)
        if conditions:
            print_conditions(report.corpus)
    if not report.ok:
        raise bad_input(
            [str(p) for p in report.problems],
            f"{len(report.problems)} problem(s) in {corpus}:",
        )
    console.print(f"[green]OK[/]: {corpus} passed every check.")


def print_conditions(corpus) -> None:
    """One row per recording: its condition estimates and flags (features.conditions)."""
    from speech.conditions import condition_table

    table_data = condition_table(corpus)
    table = Table(title="recording conditions (features.conditions)", title_justify="left")
    for name in ("recording", "band kHz", "gated %", "clipped %", "SNR dB", "decay s", "flags"):
        table.add_column(name, justify="left" if name in ("recording", "flags") else "right")
    for r in table_data.itertuples(index=False):
        table.add_row(r.recording_id, f"{r.band_limit_hz / 1000:.1f}", f"{100 * r.gated_ratio:.1f}",
                      f"{100 * r.clipped_ratio:.2f}", f"{r.snr_db:.0f}",
                      f"{r.reverb_decay_s:.2f}", r.flags)
    console.print(table)


def print_summary(report) -> None:
    corpus = report.corpus
    speakers = report.speaker_hours()
    hours = sum(report.durations_s.values()) / 3600
    kinds = Counter(r.kind for r in corpus)
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


def print_speakers(store: Path) -> None:
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


class ExtractionBar:
    """Recordings done, hours of audio and speed, on standard error."""

    def __init__(self, total: int | None = None):
        self.bar = Progress(
            TextColumn("Extracting"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), console=errors,
        )
        self.task = self.bar.add_task("extract", total=total, speed="")
        self.audio_s = 0.0
        self.started = time.perf_counter()

    def __enter__(self) -> ExtractionBar:
        self.started = time.perf_counter()
        self.bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.bar.stop()

    def advance(self, recording, result) -> None:
        if result is not None:
            duration = float(result.recording["duration_s"].iloc[0])
            self.audio_s += duration if duration == duration else 0.0
        elapsed = time.perf_counter() - self.started
        speed = f"{self.audio_s / 3600:.2f} h audio, {self.audio_s / elapsed:.0f}x real time"
        self.bar.update(self.task, advance=1, speed=speed)


def print_extracted(summary, store: Path) -> None:
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
        from speech.store import Store

        failures = Store(store).read_table("errors", recording_ids=summary.failed)
        for row in failures.itertuples(index=False):
            errors.print(f"  x {row.recording_id} [{row.stage}] {row.error}: {row.message}",
                         markup=False, soft_wrap=True)


def print_eval(summary: dict, title: str, tolerance: float) -> None:
    table = Table(title=title, title_justify="left")
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
