"""The worker processes: each imports the function once, as a warm Lambda execution environment
does, then invokes create_thumbnail.app.lambda_handler in-process for each event it is handed.
Several at once are what makes invocations for one key race, as concurrent Lambda
environments do. Started with "spawn": a fork would copy the parent's threads and sockets
(moto's server, when the parent runs one).

Each task carries the function's environment (template.yaml's variables, the emulator's
endpoint, local credentials); a worker applies it when it changes and clears the function's
cached wiring, which reads the environment once per process. The function's log lines and
metrics go to an in-memory sink, whose last lines come back with an invocation that raised.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import queue
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storm.errors import HarnessError

# Generous: a worker starts in seconds, even on a busy 2-core machine, and an invocation ends
# well inside LocalContext's 30 s. Only a hang or a dead worker should ever reach these.
START_TIMEOUT_S = 180.0
RESULT_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Task:
    task_id: int
    env: tuple[tuple[str, str], ...]  # sorted (name, value): compared to spot a change
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Invocation:
    """One handler call. error: the exception's type name if it raised, else None."""

    task_id: int
    pid: int
    error: str | None = None
    message: str = ""
    log_tail: tuple[str, ...] = ()
    ms: float = 0.0


@dataclass(frozen=True, slots=True)
class _Ready:
    pid: int
    failure: str | None = None  # the traceback, if the function could not even be imported


class _LogSink(io.StringIO):
    """Where the function's stdout goes: Powertools' Logger keeps the stream it sees at import."""

    def tail(self, lines: int) -> tuple[str, ...]:
        return tuple(self.getvalue().splitlines()[-lines:])

    def clear(self) -> None:
        self.seek(0)
        self.truncate()


def environment_of(values: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def _serve(tasks: Any, results: Any) -> None:
    """A worker's life: import the function, then invoke it until told to stop (None)."""
    sink = _LogSink()
    sys.stdout = sink
    try:
        from create_thumbnail import app
        from local_run.shared import LocalContext
    except Exception:
        results.put(_Ready(os.getpid(), traceback.format_exc()))
        return
    results.put(_Ready(os.getpid()))
    current: tuple[tuple[str, str], ...] = ()
    while (task := tasks.get()) is not None:
        if task.env != current:
            _switch_environment(dict(current), dict(task.env))
            app.wiring.cache_clear()
            current = task.env
        sink.clear()
        started = time.perf_counter()
        try:
            app.lambda_handler(task.event, LocalContext())
        except Exception as error:  # Lambda retries an asynchronous invocation for any error
            ms = (time.perf_counter() - started) * 1000
            results.put(Invocation(task.task_id, os.getpid(), type(error).__name__,
                                   str(error)[:500], sink.tail(15), ms))  # fmt: skip
            continue
        ms = (time.perf_counter() - started) * 1000
        results.put(Invocation(task.task_id, os.getpid(), ms=ms))


def _switch_environment(old: Mapping[str, str], new: Mapping[str, str]) -> None:
    for name in old.keys() - new.keys():
        os.environ.pop(name, None)
    os.environ.update(new)


class WorkerPool:
    """processes workers, started once and shared by every storm run through it. Tasks go to
    whichever worker is free, so the order of invocations is the scheduler's, not ours."""

    def __init__(self, processes: int = 6) -> None:
        if processes < 1:
            raise ValueError(f"a pool needs at least one process, not {processes}")
        self.processes = processes
        context = multiprocessing.get_context("spawn")
        self._tasks = context.Queue()
        self._results = context.Queue()
        self._workers = [
            context.Process(target=_serve, args=(self._tasks, self._results), daemon=True,
                            name=f"storm-worker-{n}")  # fmt: skip
            for n in range(processes)
        ]
        self.pids: tuple[int, ...] = ()

    def __enter__(self) -> WorkerPool:
        for worker in self._workers:
            worker.start()
        try:
            self.pids = tuple(self._ready(worker) for worker in self._workers)
        except BaseException:
            self.close()
            raise
        return self

    def _ready(self, worker: Any) -> int:
        try:
            ready = self._results.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            raise HarnessError(f"a worker did not start in {START_TIMEOUT_S:.0f} s") from None
        if ready.failure:
            raise HarnessError(f"a worker could not import the function:\n{ready.failure}")
        return ready.pid

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, task: Task) -> None:
        self._tasks.put(task)

    def result(self, timeout: float = RESULT_TIMEOUT_S) -> Invocation:
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            dead = [worker.name for worker in self._workers if not worker.is_alive()]
            raise HarnessError(
                f"no invocation finished in {timeout:.0f} s; workers dead: {dead or 'none'}"
            ) from None

    def poll(self) -> Invocation | None:
        """A finished invocation if one is waiting, without blocking."""
        try:
            return self._results.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stops our own workers: a sentinel each, then terminate any that did not stop."""
        for worker in self._workers:
            if worker.is_alive():
                self._tasks.put(None)
        for worker in self._workers:
            if worker.pid is not None:
                worker.join(timeout=10)
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=5)
