"""The parent side: feeds every input to worker processes and enforces what a worker cannot
enforce on itself. A worker that dies (segfault, OOM kill, SIGXCPU for an input that spent
HANG_CPU_S of CPU) or is heard from by no message in HANG_WALL_S is killed if need be, its input
recorded as a failure, and a fresh worker takes its place. Every input runs, however long the
run takes, up to HANG_RUN_S: nothing is judged by the clock but a hang."""

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

from tests.fuzz.inputs import InputSpec, memory_mb
from tests.fuzz.limits import HANG_CPU_S, HANG_RUN_S, HANG_WALL_S, WORKER_ADDRESS_SPACE, WORKERS, memory_limit
from tests.fuzz.seeds import SEED_BY_NAME
from tests.fuzz.worker import BAD_THUMBNAIL, BUILD_FAILED, UNTYPED, Measured, serve

HUNG, CRASH = "hung", "crash"
# Every other outcome is typed: "thumbnails" or the name of a PermanentError subclass.
FAILED = frozenset({UNTYPED, BAD_THUMBNAIL, BUILD_FAILED, HUNG, CRASH})
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
    seconds: float | None = None  # by the wall clock; None when the worker never answered
    cpu_seconds: float | None = None  # the worker's CPU, its threads' included
    peak_bytes: int | None = None  # resident memory the call added at its peak
    input_bytes: int | None = None

    @property
    def typed(self) -> bool:
        return self.outcome not in FAILED

    @property
    def peak_mb(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / MB

    def problems(self) -> list[str]:
        """Why this input fails the test: an untyped (or hung, or crashed) outcome, the memory
        bound exceeded, or a hostile seed ending other than as it must. Time is not one."""
        found = [] if self.typed else [f"{self.outcome}: {self.detail}"]
        if self.peak_bytes is not None and self.input_bytes is not None:
            limit = memory_limit(self.input_bytes, memory_mb(self.spec))
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
        self.deadline = time.monotonic() + HANG_WALL_S

    @property
    def idle(self) -> bool:
        return self.warm_up_s is not None and self.spec is None

    @property
    def awaited(self) -> bool:
        """Something is due from it: its warm-up, or its input's result."""
        return self.warm_up_s is None or self.spec is not None

    def give(self, spec: InputSpec) -> None:
        self.spec, self.description = spec, ""
        self.deadline = time.monotonic() + HANG_WALL_S
        self.connection.send(spec)

    def receive(self) -> Result | None:
        """The result once the input is done; None after the "ready" and "built" messages."""
        try:
            kind, payload = self.connection.recv()
        except (EOFError, OSError):
            if self.warm_up_s is None:
                status, log = self._exit_status(), self.log.read_text(errors="replace")[-2000:]
                raise WorkerFailed(f"a worker died warming up: {status}\n{log}") from None
            status = self._exit_status()
            if self.process.exitcode == -signal.SIGXCPU:  # worker.py's CPU limit
                return self._lost(HUNG, f"spent {HANG_CPU_S} s of CPU: {status}")
            return self._lost(CRASH, status)
        if kind == "ready":
            self.warm_up_s, self.deadline = payload, float("inf")
            return None
        if kind == "built":
            self.description = payload
            self.deadline = time.monotonic() + HANG_WALL_S
            return None
        assert self.spec is not None
        measured: Measured = payload
        result = Result(
            self.spec, self.description, measured.outcome, measured.detail, measured.where,
            measured.seconds, measured.cpu_seconds, measured.peak_bytes, measured.input_bytes,
        )  # fmt: skip
        self.spec, self.deadline = None, float("inf")
        return result

    def time_out(self) -> Result:
        self.process.kill()
        if self.warm_up_s is None:
            raise WorkerFailed(f"a worker did not warm up in {HANG_WALL_S:g} s")
        phase = "running" if self.description else "building the input"
        return self._lost(HUNG, f"no word in {HANG_WALL_S:g} s by the wall clock, while {phase}")

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


def run_inputs(specs: Sequence[InputSpec], workers: int = WORKERS) -> Run:
    """Every spec through a warm worker, each once, all of them."""
    with tempfile.TemporaryDirectory(prefix="fuzz-workers-") as logs:
        numbers = itertools.count()

        def new_worker() -> _Worker:
            return _Worker(Path(logs) / f"worker-{next(numbers)}.log")

        return _run(specs, workers, new_worker)


def _run(specs: Sequence[InputSpec], workers: int, new_worker: Callable[[], _Worker]) -> Run:
    run, queue, started = Run(), deque(specs), time.monotonic()
    pool = [new_worker() for _ in range(workers)]
    try:
        while True:
            if queue and time.monotonic() - started > HANG_RUN_S:  # every input slow: a hang
                run.results += [Result(spec, "", HUNG, f"not started: the run passed {HANG_RUN_S:g} s") for spec in queue]
                queue.clear()
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
                    if result.outcome in (HUNG, CRASH):
                        worker.stop()
                        pool[index] = new_worker()
    finally:
        for worker in pool:
            worker.stop()
    run.seconds = time.monotonic() - started
    return run
