"""Where the tasks of a batch run: in-process, a local process pool, or a Dask cluster.

One function, :func:`run_tasks`, hides the three; it yields ``(key, result)``
pairs as tasks complete, so the caller (``speech.extract``) writes every result
itself, from one process, whatever ran the work. A task that produces no result
comes back as a :class:`TaskFailed` instead of stopping the batch:

- **worker death** (segfault in native code, ``os._exit``, an out-of-memory
  kill): with a local :class:`~concurrent.futures.ProcessPoolExecutor` one dead
  worker breaks the whole pool (``BrokenProcessPool``). The tasks that finished
  keep their results; the tasks that were running when the pool broke are the
  suspects and are retried once each, alone, in a fresh process; the ones that
  were still waiting go to a fresh pool. A suspect that kills its lone process
  too is reported with that process's exit code or signal. On Dask, the
  scheduler retries a task whose worker died on other workers
  (``distributed.scheduler.allowed-failures``, default 3) and then gives up with
  ``KilledWorker``: that becomes the failure;
- **an exception** raised by the task (or by unpickling it on a worker that
  cannot import the project): its type and message.

In-process execution (``jobs=1``, no scheduler) cannot survive a crash of its
own process: crash isolation needs worker processes (``jobs >= 2``) or Dask.

Dask: ``scheduler`` is a scheduler address (``tcp://HOST:PORT``) or the path of
a scheduler file (``dask scheduler --scheduler-file F``, what dask-jobqueue and
dask-mpi set-ups share). Workers must run the same environment (``import speech``
must work on them) and see the corpus at the same path (a shared filesystem);
they never touch the store. See Rocklin (2015), "Dask: parallel computation with
blocked algorithms and task scheduling", Proc. SciPy, for the engine.
"""

from __future__ import annotations

import multiprocessing
import signal
import uuid
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: ``TaskFailed.error`` of a task whose worker process died under it.
WORKER_DIED = "WorkerDied"


@dataclass(frozen=True)
class TaskFailed:
    """A task that produced no result.

    Attributes
    ----------
    error : str
        ``"WorkerDied"`` when the worker process died under the task, else the
        type name of the exception it raised.
    message : str
        What happened, for the ``errors`` table.
    """

    error: str
    message: str


def death_message(exitcode: int | None) -> str:
    """Explain a worker process's exit status (``multiprocessing`` convention:
    a negative code is the signal that killed it)."""
    if exitcode is None:
        return "the worker process died while running this task (exit status unknown)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        hint = ("; an out-of-memory kill looks like this" if -exitcode == signal.SIGKILL
                else "")
        return (f"the worker process died while running this task: killed by signal "
                f"{-exitcode} ({name}){hint}")
    return f"the worker process died while running this task: exit code {exitcode}"


def run_tasks(
    function: Callable[..., Any],
    tasks: Mapping[Hashable, tuple],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    initializer: Callable[[], None] | None = None,
) -> Iterator[tuple[Hashable, Any]]:
    """Run ``function(*args)`` for every ``key: args`` of ``tasks``.

    Parameters
    ----------
    function : callable
        A module-level function (pickled by reference to reach the workers).
    tasks : mapping
        Task key -> positional arguments.
    jobs : int
        Local worker processes; 1 runs in this process. Ignored with ``scheduler``.
    scheduler : str, optional
        A Dask scheduler address (``tcp://HOST:PORT``) or scheduler-file path.
    initializer : callable, optional
        Called once in each local worker process before its first task (warm-up).

    Yields
    ------
    key, result
        In order of completion; ``result`` is what ``function`` returned, or a
        :class:`TaskFailed`.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if not tasks:
        return
    if scheduler is not None:
        yield from _run_dask(function, tasks, scheduler)
    elif jobs == 1:
        for key, args in tasks.items():
            yield key, _call(function, args)
    else:
        yield from _run_pool(function, tasks, jobs, initializer)


def _call(function: Callable[..., Any], args: tuple) -> Any:
    try:
        return function(*args)
    except Exception as e:  # one task's exception must not stop the batch
        return TaskFailed(type(e).__name__, str(e))


def _run_pool(function, tasks, jobs, initializer) -> Iterator[tuple[Hashable, Any]]:
    waiting = deque(tasks)
    while waiting:
        suspects: list[Hashable] = []
        workers = min(jobs, len(waiting))
        with ProcessPoolExecutor(max_workers=workers, initializer=initializer) as pool:
            # At most one task per worker is handed to the pool, so when it breaks
            # the tasks in flight are exactly the ones that may have killed it.
            running: dict[Future, Hashable] = {}
            broken = _fill(pool, function, tasks, waiting, running, workers)
            while running and not broken:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                finished = []
                for future in done:
                    key = running.pop(future)
                    try:
                        finished.append((key, future.result()))
                    except BrokenProcessPool:
                        suspects.append(key)
                        broken = True
                    except Exception as e:  # raised by the task, or by pickling it
                        finished.append((key, TaskFailed(type(e).__name__, str(e))))
                # Hand out the next tasks before the caller spends time on the results.
                broken = broken or _fill(pool, function, tasks, waiting, running, workers)
                yield from finished
            suspects.extend(running.values())
        for key in suspects:
            yield key, _run_alone(function, tasks[key], initializer)


def _fill(pool, function, tasks, waiting: deque, running: dict, workers: int) -> bool:
    """Keep one task per worker in the pool; True when the pool turns out broken."""
    while waiting and len(running) < workers:
        key = waiting.popleft()
        try:
            running[pool.submit(function, *tasks[key])] = key
        except BrokenProcessPool:
            waiting.appendleft(key)
            return True
    return False


def _run_alone(function, args: tuple, initializer) -> Any:
    """Run one task in a fresh process of its own: its exit status names the culprit."""
    context = multiprocessing.get_context()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, function, args, initializer),
                              daemon=True)
    process.start()
    send.close()
    try:
        ok, value = receive.recv()
    except EOFError:  # the child died before it could answer
        process.join()
        return TaskFailed(WORKER_DIED, death_message(process.exitcode))
    finally:
        receive.close()
    process.join()
    return value if ok else TaskFailed(*value)


def _child(send, function, args: tuple, initializer) -> None:
    try:
        if initializer is not None:
            initializer()
        answer = (True, function(*args))
    except Exception as e:
        answer = (False, (type(e).__name__, str(e)))
    try:
        send.send(answer)
    except Exception as e:  # an unpicklable result
        send.send((False, (type(e).__name__, str(e))))
    send.close()


def _connect(scheduler: str):
    from distributed import Client

    # Gives up after Dask's distributed.comm.timeouts.connect (30 s unless configured).
    try:
        if "://" not in scheduler and Path(scheduler).is_file():
            return Client(scheduler_file=scheduler)
        return Client(scheduler)
    except (OSError, TimeoutError, ValueError) as e:
        raise ConnectionError(f"cannot reach the Dask scheduler {scheduler!r}: {e}") from e


def _run_dask(function, tasks, scheduler: str) -> Iterator[tuple[Hashable, Any]]:
    from distributed import KilledWorker, as_completed

    client = _connect(scheduler)
    try:
        run = uuid.uuid4().hex[:8]
        # Readable keys for the dashboard; the run token keeps two runs apart.
        futures = {
            client.submit(function, *args, key=f"{function.__name__}-{key}-{run}", pure=False): key
            for key, args in tasks.items()
        }  # fmt: skip
        for future in as_completed(futures):
            key = futures.pop(future)
            if future.status == "error":
                error = future.exception()
                if isinstance(error, KilledWorker):
                    result = TaskFailed(WORKER_DIED, (
                        "the Dask worker process died while running this task, on every "
                        "worker it was tried on (distributed.scheduler.allowed-failures); "
                        f"its exit code is in the nanny's log. Dask: {error}"))
                else:
                    result = TaskFailed(type(error).__name__, str(error))
            else:
                result = future.result()
            future.release()  # the client keeps no result it has handed over
            yield key, result
    finally:
        client.close()
