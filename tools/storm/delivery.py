"""How a storm's events reach the function: at least once, late and out of order, while the
bucket keeps changing, as S3 and EventBridge deliver them.

The schedule is seeded: every event, numbered in the order it reached the storm, gets one copy,
sometimes two (S3 delivers at least once), and each copy is released into the workers' queue
as soon as it arrived or after a number of later operations (so a delete can overtake the
upload before it, and an upload's event can arrive after the object was overwritten or
deleted). Copies due at the same point are queued in a seeded order; copies due after the last
operation are released together at the end, shuffled. Events built from the operations
(storm/events.py) arrive each right after its own operation, so a seed fixes the whole plan
(plan_deliveries shows it); events an emulator sent (storm/sent_events.py) arrive when its S3
gets round to them, so their numbering and arrival depend on the emulator's timing too.

The dispatcher runs the schedule against the worker pool while the driver performs operations:
it keeps at most max_in_flight invocations outstanding, waiting for one to finish before the
next operation when that many are, so that operations and invocations always overlap instead
of the driver racing ahead of them. An invocation that raises is what Lambda retries for an
asynchronous event: the same event is released again a few operations later (or at once,
after the last), at most twice more, and counted; one that raises a third time is exhausted
(Lambda would send it to the failure destination). Which invocations raise depends on how
the processes interleave, so retries are the one part of a run that a seed does not fix.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storm.workers import Invocation, Task, WorkerPool, environment_of

MAX_ATTEMPTS = 3  # the first delivery and Lambda's two retries


@dataclass(frozen=True, slots=True)
class Release:
    """One copy of event `event` (numbered in arrival order), queued once operation `after` is
    done; after == the number of operations means after the last one."""

    event: int
    copy: int
    after: int


class DeliverySchedule:
    """Decides, as each event arrives, when its copies are released (module docstring)."""

    def __init__(
        self, seed: int, operations: int, duplicate_rate: float = 0.35, late_rate: float = 0.6,
        max_delay: int = 6,
    ) -> None:  # fmt: skip
        self.operations = operations
        self._rng = random.Random(f"storm-deliveries:{seed}")
        self._order = random.Random(f"storm-delivery-order:{seed}")
        self._duplicate_rate = duplicate_rate
        self._late_rate = late_rate
        self._max_delay = max_delay
        self._due: list[list[Release]] = [[] for _ in range(operations + 1)]

    def arrived(self, event: int, point: int) -> None:
        """Event `event` reached the storm after operation `point` (operations: after the last)."""
        copies = 2 if self._rng.random() < self._duplicate_rate else 1
        for copy in range(copies):
            late = self._rng.random() < self._late_rate
            delay = self._rng.randint(1, self._max_delay) if late else 0
            after = min(point + delay, self.operations)
            self._due[after].append(Release(event, copy, after))

    def due(self, point: int) -> list[Release]:
        """The copies to release after operation `point`, in queue order; each only once."""
        releases, self._due[point] = self._due[point], []
        self._order.shuffle(releases)
        return releases


def plan_deliveries(
    seed: int, operations: int, duplicate_rate: float = 0.35, late_rate: float = 0.6,
    max_delay: int = 6,
) -> list[list[Release]]:  # fmt: skip
    """The whole schedule when event n arrives right after operation n, as events built from
    the operations do: per point of release (after operation 0 .. n-1, then after the last),
    the copies queued there, in queue order."""
    schedule = DeliverySchedule(seed, operations, duplicate_rate, late_rate, max_delay)
    for index in range(operations):
        schedule.arrived(index, index)
    return [schedule.due(point) for point in range(operations + 1)]


@dataclass
class Figures:
    """What a run delivered. deliveries: copies released (duplicates included, retries not);
    invocations: handler calls, retries included; overlaps: deliveries queued while another
    for the same key was outstanding (the chances for two invocations of a key to race);
    errors: by exception type."""

    deliveries: int = 0
    duplicates: int = 0
    invocations: int = 0
    retries: int = 0
    exhausted: int = 0
    overlaps: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    by_process: Counter[int] = field(default_factory=Counter)
    most_in_flight: int = 0
    failures: list[Invocation] = field(default_factory=list)  # the first few, with log tails


@dataclass(frozen=True, slots=True)
class _Attempt:
    event: int
    copy: int
    attempt: int


class Dispatcher:
    """Runs one storm's delivery schedule on the pool (see the module's docstring); figures
    says what it delivered. The driver calls arrived() for each event as it reaches the storm,
    operation_done() after each operation, then finish()."""

    def __init__(
        self, pool: WorkerPool, env: Mapping[str, str], schedule: DeliverySchedule, seed: int,
        max_in_flight: int | None = None,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._env = environment_of(env)
        self._schedule = schedule
        self._events: list[dict[str, Any]] = []
        self._keys: list[str | None] = []  # the source key each event names (None: none)
        self._rng = random.Random(f"storm-retries:{seed}")
        self._limit = max_in_flight or pool.processes
        self._in_flight: dict[int, _Attempt] = {}
        self._retries: list[tuple[int, _Attempt]] = []  # (release after operation, attempt)
        self._next_id = 0
        self._now = -1  # the last operation done
        self.figures = Figures()

    def arrived(self, key: str | None, event: dict[str, Any], point: int) -> int:
        """An event reached the storm after operation `point`, which is not done with yet (or
        after the last: point == operations); key: the source key it names. Its number."""
        if point <= self._now:
            raise ValueError(f"an event arriving after operation {point}, which is released")
        self._events.append(event)
        self._keys.append(key)
        self._schedule.arrived(len(self._events) - 1, point)
        return len(self._events) - 1

    def operation_done(self, index: int) -> None:
        """Releases what is due after operation index, collects what has finished, then waits
        while too many invocations are outstanding."""
        self._now = index
        for release in self._schedule.due(index):
            self._release(release.event, release.copy, attempt=1, counted=True)
        self._release_retries(up_to=index)
        self._collect(block=False)
        while len(self._in_flight) >= self._limit:
            self._collect(block=True)

    def finish(self) -> None:
        """After the last operation: release every remaining copy and retry, wait for all."""
        self._now = self._schedule.operations
        for release in self._schedule.due(self._schedule.operations):
            self._release(release.event, release.copy, attempt=1, counted=True)
        while self._in_flight or self._retries:
            self._release_retries(up_to=None)
            if self._in_flight:
                self._collect(block=True)

    def abandon(self) -> None:
        """The run failed: wait only for the invocations outstanding, so that none of their
        results is left in the pool for the next run to mistake for its own."""
        self._retries = []
        while self._in_flight:
            self._collect(block=True)

    def _release(self, event: int, copy: int, attempt: int, counted: bool = False) -> None:
        task_id = self._next_id
        self._next_id += 1
        key = self._keys[event]
        outstanding = (self._keys[other.event] for other in self._in_flight.values())
        self.figures.overlaps += key is not None and key in outstanding
        self._in_flight[task_id] = _Attempt(event, copy, attempt)
        self._pool.submit(Task(task_id, self._env, self._events[event]))
        self.figures.most_in_flight = max(self.figures.most_in_flight, len(self._in_flight))
        if counted:
            self.figures.deliveries += 1
            self.figures.duplicates += copy > 0

    def _release_retries(self, up_to: int | None) -> None:
        due = [r for r in self._retries if up_to is None or r[0] <= up_to]
        self._retries = [r for r in self._retries if not (up_to is None or r[0] <= up_to)]
        for _, attempt in due:
            self.figures.retries += 1
            self._release(attempt.event, attempt.copy, attempt.attempt)

    def _collect(self, block: bool) -> None:
        """Records finished invocations: at least one if block, then whatever else is there."""
        if block and self._in_flight:
            self._record(self._pool.result())
        while self._in_flight and (invocation := self._pool.poll()) is not None:
            self._record(invocation)

    def _record(self, invocation: Invocation) -> None:
        attempt = self._in_flight.pop(invocation.task_id)
        self.figures.invocations += 1
        self.figures.by_process[invocation.pid] += 1
        if invocation.error is None:
            return
        self.figures.errors[invocation.error] += 1
        if len(self.figures.failures) < 5:
            self.figures.failures.append(invocation)
        if attempt.attempt >= MAX_ATTEMPTS:
            self.figures.exhausted += 1
            return
        later = self._now + self._rng.randint(1, 3)
        self._retries.append((later, _Attempt(attempt.event, attempt.copy,
                                              attempt.attempt + 1)))  # fmt: skip
