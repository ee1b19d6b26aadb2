"""The storm's event sources and delivery schedule on plain values: the events built for moto
are the kinds AWS documents (the LocalStack storm holds LocalStack's to the same table), the
messages LocalStack sent are matched to the operations they announce, keys decoded as
LocalStack encodes them, and a schedule never releases an event before it arrived."""

from __future__ import annotations

import json
from typing import Any

import pytest
from storm.delivery import DeliverySchedule, plan_deliveries
from storm.errors import HarnessError
from storm.events import SHAPES, EventFactory, Shape, documented_label, label_of
from storm.operations import KINDS, Kind, Operation, Performed
from storm.sent_events import QueueEvents

KEY = "a b+c/ü%20.jpg"
# What LocalStack 2026.3.0 put on the queues for KEY, seen in a run and trimmed to what matching
# reads: percent-encoded keys, one sequencer for all (tools/storm/sent_events.py's docstring).
ENCODED = "a%20b%2Bc/%C3%BC%2520.jpg"
PUT, OVERWRITE = "f97c5d29941bfb1b2fdab0874906ab82", "b8a9f715dbb64fd5c56e7783c6820a61"
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def performed(index: int, kind: Kind, version: str | None, etag: str | None = None) -> Performed:
    operation = Operation(index, kind, KEY, "JPEG" if etag else None, index if etag else None)
    return Performed(operation, version, etag, 3 if etag else None, False, False)


def notification(name: str, version: str | None, etag: str | None = None) -> dict[str, Any]:
    obj = {"key": ENCODED, "sequencer": "0055AED6DCD90281E5", "versionId": version, "eTag": etag}
    obj = {field: value for field, value in obj.items() if value is not None}
    return {"Records": [{"eventSource": "aws:s3", "eventName": name, "s3": {"object": obj}}]}


def eventbridge(kind: str, version: str, etag: str | None, deletion: str | None) -> dict[str, Any]:
    obj = {"key": ENCODED, "sequencer": "0062E99A88DC407460", "version-id": version}
    detail = {"object": {**obj, **({"etag": etag} if etag else {})},
              "reason": "DeleteObject" if deletion else "PutObject"}  # fmt: skip
    if deletion:
        detail["deletion-type"] = deletion
    return {"source": "aws.s3", "detail-type": kind, "detail": detail}


class QueueOf:
    """boto3's SQS client as QueueEvents reads it, over bodies queued by the test."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def receive_message(self, **request: Any) -> dict[str, Any]:
        most = request["MaxNumberOfMessages"]
        taken, self.bodies = self.bodies[:most], self.bodies[most:]
        return {"Messages": [{"Body": body, "ReceiptHandle": str(n)}
                             for n, body in enumerate(taken)]}  # fmt: skip

    def delete_message_batch(self, **request: Any) -> dict[str, Any]:
        return {"Successful": [{"Id": entry["Id"]} for entry in request["Entries"]]}


# Every kind an unversioned bucket allows, and every kind on a versioned one.
APPLICABLE = [(kind, versioned) for versioned in (False, True) for kind in KINDS
              if versioned or kind in ("put", "overwrite", "delete")]  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("kind", "versioned"), APPLICABLE)
def test_built_events_say_what_aws_documents_for_each_operation(
    kind: Kind, versioned: bool, shape: Shape
) -> None:
    created = kind in ("put", "overwrite")
    done = performed(0, kind, "v1" if versioned else None, PUT if created else None)

    event = EventFactory(shape, "src", versioned, seed=1).event_for(done)

    assert label_of(event) == documented_label(kind, versioned, shape)


def test_localstacks_notifications_are_matched_to_the_operations_they_announce() -> None:
    """A versioned key's five operations, each event read once its operation is done: the two
    puts' events swapped, as LocalStack's three sending threads did once, and a marker's
    removal (an undelete) before its creation, which names the same version."""
    queue = QueueOf()
    source = QueueEvents(queue, "url", "s3")
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "src"}

    queue.bodies = [json.dumps(test_event)]
    first = source.after(performed(0, "put", "v1", PUT))
    queue.bodies = [json.dumps(notification("ObjectCreated:Put", "v2", OVERWRITE)),
                    json.dumps(notification("ObjectCreated:Put", "v1", PUT))]  # fmt: skip
    swapped = source.after(performed(1, "overwrite", "v2", OVERWRITE))
    nothing = source.after(performed(2, "delete", "m1"))
    queue.bodies = [json.dumps(notification("ObjectRemoved:Delete", "m1")),
                    json.dumps(notification("ObjectRemoved:DeleteMarkerCreated", "m1", EMPTY_MD5))]
    undelete_first = source.after(performed(3, "undelete", "m1"))
    source.after(performed(4, "delete_current_version", "v2"))
    queue.bodies = [json.dumps(notification("ObjectRemoved:Delete", "v2"))]
    last = source.rest(5)

    assert [(a.label, a.key, a.operation) for a in first] == [("s3:TestEvent", None, None)]
    assert [(a.key, a.operation, a.point) for a in swapped] == [(KEY, 1, 1), (KEY, 0, 1)]
    assert nothing == []
    assert [a.operation for a in undelete_first] == [3, 2]
    assert [(a.label, a.operation, a.point) for a in last] == [("ObjectRemoved:Delete", 4, 5)]


def test_an_operation_no_event_announces_is_named_once_the_wait_is_over() -> None:
    source = QueueEvents(QueueOf(), "url", "s3", announced_within_s=0)
    source.after(performed(0, "put", "v1", PUT))
    with pytest.raises(HarnessError, match=r"for operations 0 .*'a b\+c/ü%20.jpg'"):
        source.rest(1)


def test_localstacks_eventbridge_keys_are_percent_decoded_and_matched_by_version() -> None:
    queue = QueueOf()
    source = QueueEvents(queue, "url", "eventbridge")
    source.after(performed(0, "put", "v1", PUT))
    source.after(performed(1, "delete", "m1"))
    marker = eventbridge("Object Deleted", "m1", EMPTY_MD5, "Delete Marker Created")
    queue.bodies = [json.dumps(marker), json.dumps(eventbridge("Object Created", "v1", PUT, None))]
    arrivals = source.rest(2)

    assert [(a.key, a.label, a.operation) for a in arrivals] == [
        (KEY, "Object Deleted (Delete Marker Created)", 1), (KEY, "Object Created (PutObject)", 0)
    ]  # fmt: skip


def test_a_schedule_releases_every_copy_once_and_never_before_its_event_arrived() -> None:
    schedule = DeliverySchedule(seed=4, operations=10)
    arrived_at = {0: 0, 1: 0, 2: 3, 3: 9, 4: 10}
    released = []
    for point in range(11):
        for event, at in arrived_at.items():
            if at == point:
                schedule.arrived(event, point)
        released += schedule.due(point)

    assert sorted({r.event for r in released}) == sorted(arrived_at)
    assert all(r.after >= arrived_at[r.event] for r in released)
    assert len(released) == len({(r.event, r.copy) for r in released})
    assert all(r.copy in (0, 1) for r in released)


def test_the_plan_for_built_events_is_the_schedule_fed_one_event_per_operation() -> None:
    plan = plan_deliveries(5, 30)
    assert [sorted((r.event, r.copy) for r in due) for due in plan] == [
        sorted((r.event, r.copy) for r in due) for due in _fed(5, 30)
    ]


def _fed(seed: int, operations: int) -> list[list[Any]]:
    schedule = DeliverySchedule(seed, operations)
    plan = []
    for point in range(operations):
        schedule.arrived(point, point)
        plan.append(schedule.due(point))
    return [*plan, schedule.due(operations)]
