"""Where a storm's events come from: an event source is told of each operation as it is
performed and hands over the events that have reached the storm by then.

Two sources: the events built from the operations, as AWS documents them (BuiltEvents in
storm/events.py: each arrives right after its own operation, which is how the moto storm works,
since moto's own notifications are too thin), and the events an emulator's S3 sent
(QueueEvents in storm/sent_events.py: read from the queues its notifications fill, whenever
they get there). The rest of the storm (the delivery schedule, the workers, the judge) does not
know which one it runs with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from storm.operations import Performed
    from storm.run import StormConfig


@dataclass(frozen=True, slots=True)
class Arrival:
    """One event, as it reached the storm. key: the source key it names, decoded (None for an
    event about no object, such as s3:TestEvent). label: what it says happened (label_of in
    storm/events.py). operation: the index of the operation it announces, None if it
    announces none. point: the last operation performed when it arrived (the number of
    operations: after the last)."""

    event: dict[str, Any]
    key: str | None
    label: str
    operation: int | None
    point: int


class EventSource(Protocol):
    def after(self, done: Performed) -> list[Arrival]:
        """The events that reached the storm by the time operation `done` was performed."""
        ...

    def rest(self, operations: int) -> list[Arrival]:
        """After the last operation: every event still to come (operations: how many were
        performed)."""
        ...

    def close(self) -> None:
        """Removes whatever the source set up to receive events."""
        ...


class EventSourceFactory(Protocol):
    def __call__(self, config: StormConfig, bucket: str) -> EventSource:
        """The source of the events about `bucket`, a fresh source bucket with no object yet."""
        ...
