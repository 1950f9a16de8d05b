"""The command line's side of the store's reliability (issue #17): the ``--no-wait``
option and waiting message of the writing commands, ``check STORE``, and the notes
``extract`` prints about what it repaired, recovered or withheld.

Kept apart from :mod:`speech.cli` so that module stays one command per screen;
the consoles are passed in (they print to whatever stream is current, so the
CLI's test runner captures them).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

NoWait = Annotated[bool, typer.Option(
    "--no-wait", help="When another command is writing the store, exit with status 2 "
    "(saying which command, pid and start time) instead of waiting for it.")]


def waiting(store: Path, errors: Console, *, erasure: bool = False):
    """The message a writer prints once before it waits for another one (``erasure``:
    ``forget``'s, whose request the running writer already obeys)."""
    then = ("The erasure request is filed: that run will not write this speaker's rows; the "
            "erasure completes when it finishes" if erasure
            else "This command starts when it finishes")

    def say(holder: str) -> None:
        errors.print(f"Waiting: the store {store} is being written by {holder}. {then} (Ctrl-C "
                     "to give up).", markup=False, soft_wrap=True)
    return say


def writer(store: Path, command: str, no_wait: bool, errors: Console):
    """The store's write lock for a command (one writer at a time, see speech.lock)."""
    from speech.store import Store

    return Store(store).writing(command, wait=not no_wait, on_wait=waiting(store, errors))


def check_store_cli(store: Path, console: Console, errors: Console) -> bool:
    """``speech-profile check STORE``: one line per problem, path first; False if any."""
    from speech.integrity import check_store

    started = time.perf_counter()
    found = check_store(store)
    if found.writer is not None:
        errors.print(f"note: {found.writer} is writing this store now; files it is "
                     "committing may show as orphaned until it finishes", markup=False,
                     soft_wrap=True)
    if not found.ok:
        errors.print(f"[bold red]{len(found.problems)} problem(s) in the store {store}:[/]")
        for line in found.problems:
            errors.print(f"  x {line}", highlight=False, markup=False, soft_wrap=True)
        return False
    console.print(f"[green]OK[/]: {store}: {found.files_checked} files "
                  f"({found.bytes_checked / 2**20:.1f} MiB) match the manifest's checksums "
                  f"({time.perf_counter() - started:.2f} s).", soft_wrap=True)
    return True


def print_store_notes(summary, errors: Console) -> None:
    """What extract repaired, recovered or withheld: one line each."""
    if summary.manifest_recovery:
        errors.print(f"  ! manifest: {summary.manifest_recovery}", markup=False, soft_wrap=True)
    for rid, problem in sorted(summary.repaired.items()):
        errors.print(f"  ! recomputed {rid}: {problem}", markup=False, soft_wrap=True)
    if summary.withheld:
        errors.print(f"  ! {len(summary.withheld)} recordings withheld: their speaker's erasure "
                     "was requested during this run", markup=False, soft_wrap=True)
