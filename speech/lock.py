"""One writer at a time per store: an exclusive ``fcntl.flock`` on ``STORE/.lock``.

Every command that writes a store (``extract``, ``fit``, ``report``, ``forget``)
holds this lock for its whole run; readers (``query``, ``check STORE``, notebooks)
never take it. The operating system releases a ``flock`` when the last descriptor
of the locked file closes, so a writer killed by SIGKILL (or a power cut) never
leaves the store locked: the next writer simply gets the lock.

- The holder writes its command, pid, host and start time into the lock file, so
  that a second writer can say who it waits for (or, with ``wait=False``, refuse
  with that description: :class:`StoreBusy`).
- Reentrant within a process: ``forget`` holds the lock and calls the refit and the
  report rebuild, which take it again without deadlocking.
- Worker processes forked while the lock is held (the local process pool) close
  their inherited copy of the descriptor at once, so an orphaned worker of a killed
  writer cannot keep the store locked.
- The lock file is removed on release (while still held). A waiter that then gets
  the lock on the removed file notices (the path no longer names its inode) and
  locks the new file instead, so two writers can never both believe they hold it.

Reference: flock(2); the remove-on-release pattern is the one of
``filelock.UnixFileLock``, written here because that package is not a dependency.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

LOCK_NAME = ".lock"
#: Locks this process holds: resolved store root -> [descriptor, depth].
_HELD: dict[Path, list[int]] = {}


class StoreBusy(RuntimeError):
    """Another process holds the store's write lock (raised with ``wait=False``).

    Attributes
    ----------
    root : Path
        The store.
    holder : str
        Who holds it: command, pid, host and start time (or ``"unknown"``).
    """

    def __init__(self, root: Path, holder: str):
        self.root, self.holder = Path(root), holder
        super().__init__(f"the store {root} is being written by {holder}; wait for it to "
                         "finish, or run again without --no-wait to wait for it")


def _close_inherited() -> None:
    # A forked child must not keep the parent's lock alive (see the module doc).
    for fd, _ in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_inherited)


def holder_of(root: str | Path) -> str:
    """Who holds (or last held) the lock of ``root``, in words; ``"unknown"`` when
    the lock file is missing or was being rewritten."""
    try:
        info = json.loads((Path(root) / LOCK_NAME).read_text(encoding="utf-8"))
        return (f"`{info['command']}` (pid {info['pid']} on {info['host']}, "
                f"since {info['started_at']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (unknown)"


def is_locked(root: str | Path) -> bool:
    """Whether a writer holds the lock of ``root`` now (a reader's question; takes nothing)."""
    path = Path(root) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _acquire(root: Path, command: str, wait: bool,
             on_wait: Callable[[str], None] | None) -> int:
    path = root / LOCK_NAME
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = holder_of(root)
                if not wait:
                    raise StoreBusy(root, holder) from None
                if on_wait is not None and not told:
                    on_wait(holder)
                    told = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = path.stat()
                mine = os.fstat(fd)
                same = (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev)
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)  # the previous holder removed this file: lock the new one
    info = {"command": command, "pid": os.getpid(), "host": socket.gethostname(),
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    return fd


@contextlib.contextmanager
def store_lock(root: str | Path, command: str, *, wait: bool = True,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the exclusive write lock of the store ``root`` (created if needed).

    Parameters
    ----------
    root : str or Path
        The store directory.
    command : str
        What this writer is (``"extract"``, ``"forget"``...), shown to a waiting writer.
        Never put a speaker id here: the lock file lies in the store.
    wait : bool
        Wait for the current holder (default), or raise :class:`StoreBusy` at once.
    on_wait : callable, optional
        Called once with the holder's description before waiting.

    Raises
    ------
    StoreBusy
        ``wait=False`` and another process holds the lock.
    OSError
        The lock file cannot be created (read-only store, full disk...).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    key = root.resolve()
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    fd = _acquire(root, command, wait, on_wait)
    _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        del _HELD[key]
        with contextlib.suppress(OSError):
            (root / LOCK_NAME).unlink()  # while still held: see the module doc
        os.close(fd)
