"""One storm, start to finish: fresh buckets, the seeded operations performed one after another
while the worker pool invokes the function for the events released so far, every event
delivered, then the judge. Returns the figures and the violations; asserts nothing, so the
test and the benchmark decide what a result means.

The events come from an event source (storm/sources.py): by default built from the operations
(storm/events.py), or those an emulator's S3 sent (storm/sent_events.py).

Before judging, the bucket's current state is checked against what the operations should have
left by the plan's model of S3: a difference is a HarnessError (the emulator is not the S3
the storm assumes), not a finding about the function.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from local_run.shared import LOCAL_AWS_ENV, local_s3_client

from storm.delivery import DeliverySchedule, Dispatcher, Figures
from storm.errors import HarnessError
from storm.events import TEST_EVENT, Shape, built_events, documented_label
from storm.judge import Current, Violation, judge, read_destination, read_source
from storm.keys import storm_keys
from storm.operations import (
    KINDS,
    Kind,
    Performed,
    Performer,
    operation_counts,
    plan_operations,
)
from storm.sources import Arrival, EventSourceFactory
from storm.workers import WorkerPool

SIZES = "64x64,128x128"  # fit boxes, both smaller than the ~200 x 150 sources


@dataclass(frozen=True)
class StormConfig:
    """duplicate_rate: share of events delivered twice; late_rate: share of copies released
    after 1 to max_delay later operations instead of right after their own; max_in_flight:
    invocations outstanding before the driver waits (default: the pool's processes)."""

    seed: int
    versioned: bool
    shape: Shape = "s3"
    keys: int = 10
    operations: int = 40
    sizes: str = SIZES
    duplicate_rate: float = 0.35
    late_rate: float = 0.6
    max_delay: int = 6
    max_in_flight: int | None = None

    @property
    def name(self) -> str:
        return (f"seed={self.seed} {'versioned' if self.versioned else 'unversioned'} "
                f"{self.shape}")  # fmt: skip


@dataclass
class StormResult:
    config: StormConfig
    keys: tuple[str, ...]
    operations: list[Performed]
    arrivals: list[Arrival]
    figures: Figures
    processes: int
    wall_s: float
    violations: list[Violation] = field(default_factory=list)

    def summary(self) -> str:
        """One line of figures, for a test's output or a benchmark's table."""
        counts = operation_counts([done.operation for done in self.operations])
        figures = self.figures
        errors = ", ".join(f"{name} {n}" for name, n in figures.errors.most_common()) or "none"
        return (
            f"{self.config.name}: {len(self.keys)} keys, {len(self.operations)} operations "
            f"({', '.join(f'{kind} {n}' for kind, n in counts.items())}), "
            f"{len(self.arrivals)} events ({self._events_by_kind()}; {self._lateness()}), "
            f"{figures.deliveries} deliveries "
            f"({figures.duplicates} duplicates, {figures.overlaps} while one for the key was "
            f"outstanding), {self.processes} processes ({len(figures.by_process)} used, up to "
            f"{figures.most_in_flight} in flight), "
            f"{figures.invocations} invocations, {figures.retries} retries "
            f"({figures.exhausted} exhausted; raised: {errors}), {self.wall_s:.1f} s, "
            f"{len(self.violations)} violations"
        )

    def announced(self, arrival: Arrival) -> Kind | None:
        """The kind of operation an event announces, None if none."""
        if arrival.operation is None:
            return None
        return self.operations[arrival.operation].operation.kind

    def undocumented(self) -> list[str]:
        """Each event that is not what AWS documents for the operation it announces, or that
        announces none (S3's test event aside): what the event source saw that S3 would not
        send."""
        found = []
        for arrival in self.arrivals:
            kind = self.announced(arrival)
            if kind is None:
                if arrival.label != TEST_EVENT:
                    found.append(f"{arrival.label} announcing no operation: {arrival.event}")
                continue
            documented = documented_label(kind, self.config.versioned, self.config.shape)
            if arrival.label != documented:
                found.append(f"operation {arrival.operation} ({kind} {arrival.key!r}) came as "
                             f"{arrival.label}, not {documented}: {arrival.event}")  # fmt: skip
        return found

    def _events_by_kind(self) -> str:
        """'kind: label n' for each pair of operation kind and event label, in KINDS order."""
        counts = Counter((self.announced(a), a.label) for a in self.arrivals)
        order = sorted(counts, key=lambda pair: (KINDS.index(pair[0]) if pair[0] else len(KINDS),
                                                 pair[1]))  # fmt: skip
        return ", ".join(f"{kind or 'none'}: {label} {counts[kind, label]}"
                         for kind, label in order)  # fmt: skip

    def _lateness(self) -> str:
        """How many operations after its own each event arrived, and how many arrived after
        the event of a later operation."""
        announcing = [a for a in self.arrivals if a.operation is not None]
        if not announcing:
            return "none announces an operation"
        lags = [a.point - a.operation for a in announcing]
        overtaken, latest = 0, -1
        for arrival in announcing:
            overtaken += arrival.operation < latest
            latest = max(latest, arrival.operation)
        if max(lags) == 0 and not overtaken:
            return "each right after its operation"
        return (f"arrived {min(lags)} to {max(lags)} operations after their own, "
                f"{overtaken} after a later operation's")  # fmt: skip


def function_env(endpoint: str, destination: str, sizes: str) -> dict[str, str]:
    """The function's environment as template.yaml sets it, pointed at the emulator."""
    return {
        **LOCAL_AWS_ENV,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,  # wins over AWS_ENDPOINT_URL if the shell set one
        "DESTINATION_BUCKET": destination,
        "THUMBNAIL_SIZES": sizes,
        "POWERTOOLS_SERVICE_NAME": "create-thumbnail",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


def run_storm(
    config: StormConfig, endpoint: str, pool: WorkerPool,
    events: EventSourceFactory = built_events,
) -> StormResult:  # fmt: skip
    """endpoint: the emulator that the driver, the workers and the judge all talk to; events:
    where the events come from, once the buckets exist."""
    s3 = local_s3_client(endpoint)
    source, resized = _buckets(s3, config.versioned)
    keys = storm_keys(config.keys)
    plan = plan_operations(config.seed, keys, config.operations, config.versioned)
    schedule = DeliverySchedule(config.seed, len(plan), config.duplicate_rate, config.late_rate,
                                config.max_delay)  # fmt: skip
    performer = Performer(s3, source, config.versioned)
    dispatcher = Dispatcher(pool, function_env(endpoint, resized, config.sizes), schedule,
                            config.seed, config.max_in_flight)  # fmt: skip
    performed: list[Performed] = []
    arrivals: list[Arrival] = []

    def arrived(found: list[Arrival]) -> None:
        for arrival in found:
            arrivals.append(arrival)
            dispatcher.arrived(arrival.key, arrival.event, arrival.point)

    started = time.perf_counter()
    event_source = events(config, source)
    try:
        for operation in plan:
            performed.append(performer.perform(operation))
            arrived(event_source.after(performed[-1]))
            dispatcher.operation_done(operation.index)
        arrived(event_source.rest(len(plan)))
    except Exception:
        dispatcher.abandon()
        raise
    finally:
        event_source.close()
    dispatcher.finish()
    wall_s = time.perf_counter() - started
    current = read_source(s3, source, config.versioned)
    _check_emulator(performer.expected_current(), current)
    violations = judge(current, read_destination(s3, resized), keys, config.sizes.split(","),
                       source, config.versioned)  # fmt: skip
    return StormResult(config, keys, performed, arrivals, dispatcher.figures, pool.processes,
                       wall_s, violations)  # fmt: skip


def _buckets(s3: Any, versioned: bool) -> tuple[str, str]:
    """A fresh pair per storm, so storms sharing one emulator never see each other's objects."""
    suffix = uuid.uuid4().hex[:12]
    source, resized = f"storm-src-{suffix}", f"storm-resized-{suffix}"
    for bucket in (source, resized):
        s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
    return source, resized


def _check_emulator(
    expected: dict[str, tuple[str, str | None]], current: dict[str, Current]
) -> None:
    found = {key: (c.etag, c.version_id) for key, c in current.items()}
    if found != expected:
        differ = sorted(key for key in expected.keys() | found.keys()
                        if expected.get(key) != found.get(key))  # fmt: skip
        raise HarnessError(
            "the source bucket is not what the operations should have left: "
            + "; ".join(f"{k!r}: expected {expected.get(k)}, found {found.get(k)}" for k in differ)
        )
