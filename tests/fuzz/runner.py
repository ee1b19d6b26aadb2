"""The parent side: feeds inputs to worker processes and enforces what a worker cannot enforce
on itself. A worker that dies (segfault, OOM kill) or overruns its deadline is killed if need
be, its input recorded as a failure, and a fresh worker takes its place."""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import re
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from tests.fuzz.inputs import InputSpec
from tests.fuzz.limits import (
    BUILD_LIMIT_S,
    RUN_LIMIT_S,
    TIME_LIMIT_S,
    WARM_UP_LIMIT_S,
    WORKER_ADDRESS_SPACE,
    WORKERS,
    memory_limit,
)
from tests.fuzz.seeds import SEED_BY_NAME
from tests.fuzz.worker import BAD_THUMBNAIL, BUILD_FAILED, UNTYPED, Measured, serve

TIMEOUT, CRASH = "timeout", "crash"
# Every other outcome is typed: "thumbnails" or the name of a PermanentError subclass.
FAILED = frozenset({UNTYPED, BAD_THUMBNAIL, BUILD_FAILED, TIMEOUT, CRASH})
_GRACE_S = 0.25  # for the reply to cross the pipe; the worker's own clock is what is asserted
MB = 1024 * 1024


class WorkerFailed(RuntimeError):
    """A worker could not warm up: valid seeds already break the image path, or the harness."""


@dataclass(frozen=True, slots=True)
class Result:
    spec: InputSpec
    description: str
    outcome: str  # "thumbnails", a PermanentError subclass's name, or one of FAILED
    detail: str = ""
    where: str = ""
    seconds: float | None = None  # None when the worker never answered
    peak_bytes: int | None = None  # resident memory the call added at its peak
    input_bytes: int | None = None

    @property
    def typed(self) -> bool:
        return self.outcome not in FAILED

    @property
    def peak_mb(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / MB

    def problems(self) -> list[str]:
        """Why this input fails the test: an untyped outcome, a bound exceeded, or a hostile
        seed ending other than as it must."""
        found = [] if self.typed else [f"{self.outcome}: {self.detail}"]
        if self.seconds is not None and self.seconds >= TIME_LIMIT_S:
            found.append(f"took {self.seconds:.2f} s (limit {TIME_LIMIT_S:g} s)")
        if self.peak_bytes is not None and self.input_bytes is not None:
            limit = memory_limit(self.input_bytes)
            if self.peak_bytes >= limit:
                found.append(f"peak {self.peak_bytes / MB:.0f} MB (limit {limit / MB:.0f} MB)")
        expect = SEED_BY_NAME[self.spec.seed].expect
        if expect is not None and self.typed and self.outcome != expect:
            ended = self.detail or "made thumbnails"
            found.append(f"ended as {self.outcome} ({ended}), must end as {expect}")
        return found


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    not_run: int = 0
    seconds: float = 0.0
    warm_ups: list[float] = field(default_factory=list)  # seconds, one per worker started


class _Worker:
    def __init__(self, log: Path) -> None:
        # spawn, not fork: a clean interpreter, so no pytest pages count in the worker's RSS.
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.log = log
        arguments = (child, WORKER_ADDRESS_SPACE, log)
        self.process = context.Process(target=serve, args=arguments, daemon=True)
        self.process.start()
        child.close()
        self.warm_up_s: float | None = None  # None until the worker says it is ready
        self.spec: InputSpec | None = None
        self.description = ""
        self.deadline = time.monotonic() + WARM_UP_LIMIT_S

    @property
    def idle(self) -> bool:
        return self.warm_up_s is not None and self.spec is None

    @property
    def awaited(self) -> bool:
        """Something is due from it: its warm-up, or its input's result."""
        return self.warm_up_s is None or self.spec is not None

    def give(self, spec: InputSpec) -> None:
        self.spec, self.description = spec, ""
        self.deadline = time.monotonic() + BUILD_LIMIT_S
        self.connection.send(spec)

    def receive(self) -> Result | None:
        """The result once the input is done; None after the "ready" and "built" messages."""
        try:
            kind, payload = self.connection.recv()
        except (EOFError, OSError):
            if self.warm_up_s is None:
                status, log = self._exit_status(), self.log.read_text(errors="replace")[-2000:]
                raise WorkerFailed(f"a worker died warming up: {status}\n{log}") from None
            return self._lost(CRASH, self._exit_status())
        if kind == "ready":
            self.warm_up_s, self.deadline = payload, float("inf")
            return None
        if kind == "built":
            self.description = payload
            self.deadline = time.monotonic() + TIME_LIMIT_S + _GRACE_S
            return None
        assert self.spec is not None
        measured: Measured = payload
        result = Result(
            self.spec, self.description, measured.outcome, measured.detail, measured.where,
            measured.seconds, measured.peak_bytes, measured.input_bytes,
        )  # fmt: skip
        self.spec, self.deadline = None, float("inf")
        return result

    def time_out(self) -> Result:
        self.process.kill()
        if self.warm_up_s is None:
            raise WorkerFailed(f"a worker did not warm up in {WARM_UP_LIMIT_S:g} s")
        phase = "running" if self.description else "building the input"
        return self._lost(TIMEOUT, f"killed after the deadline, while {phase}")

    def _lost(self, outcome: str, detail: str) -> Result:
        assert self.spec is not None
        self.process.join(5)
        return Result(self.spec, self.description, outcome, detail)

    def _exit_status(self) -> str:
        self.process.join(5)
        code = self.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            status = f"worker died of {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        else:
            status = f"worker exited with status {code}"
        return status + _crash_frames(self.log)

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # the pipe may already be gone
                self.connection.send(None)
            self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def _crash_frames(log: Path) -> str:
    """The innermost frames of faulthandler's traceback in a dead worker's log, if it wrote one."""
    text = log.read_text(errors="replace") if log.exists() else ""
    _, found, trace = text.rpartition("(most recent call first):")
    frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', trace)[:3] if found else []
    shown = [f"{Path(file).name}:{line} {function}" for file, line, function in frames]
    return f"; at {' <- '.join(shown)}" if shown else ""


def run_inputs(
    specs: Sequence[InputSpec], workers: int = WORKERS, run_limit_s: float = RUN_LIMIT_S
) -> Run:
    """Every spec through a warm worker, at most run_limit_s of starting new ones."""
    with tempfile.TemporaryDirectory(prefix="fuzz-workers-") as logs:
        numbers = itertools.count()

        def new_worker() -> _Worker:
            return _Worker(Path(logs) / f"worker-{next(numbers)}.log")

        return _run(specs, workers, run_limit_s, new_worker)


def _run(
    specs: Sequence[InputSpec], workers: int, run_limit_s: float, new_worker: Callable[[], _Worker]
) -> Run:
    run, queue, started = Run(), deque(specs), time.monotonic()
    pool = [new_worker() for _ in range(workers)]
    try:
        while True:
            if time.monotonic() - started < run_limit_s:
                for worker in pool:
                    if worker.idle and queue:
                        worker.give(queue.popleft())
            awaited = [w for w in pool if w.awaited and (queue or w.spec is not None)]
            if not awaited:
                break
            timeout = max(0.0, min(w.deadline for w in awaited) - time.monotonic())
            ready = wait([w.connection for w in awaited], timeout)
            for index, worker in enumerate(pool):
                result = None
                warming = worker.warm_up_s is None
                if worker.connection in ready:
                    result = worker.receive()
                elif worker.awaited and time.monotonic() >= worker.deadline:
                    result = worker.time_out()
                if warming and worker.warm_up_s is not None:
                    run.warm_ups.append(worker.warm_up_s)
                if result is not None:
                    run.results.append(result)
                    if result.outcome in (TIMEOUT, CRASH):
                        worker.stop()
                        pool[index] = new_worker()
    finally:
        for worker in pool:
            worker.stop()
    run.not_run, run.seconds = len(queue), time.monotonic() - started
    return run
