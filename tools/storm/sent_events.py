"""The events an emulator's S3 sent, for a storm on LocalStack: the source bucket notifies a queue
of its own (S3-notification shape), or sends to EventBridge, whose rule on the default bus
targets that queue (EventBridge shape); the queue is read after every operation, so events
reach the workers while operations go on, and once more after the last until every operation
has been announced. Each message body is handed over as it is: for the S3 shape, an S3
notification (or s3:TestEvent), as S3 invokes a function directly; for EventBridge, the event.

Set up with boto3, not the stack: tests/rehearsal/test_rehearsal.py already proves that the
template wires the bucket, the queue and the rule this way. No queue policy: LocalStack does
not enforce one (docs/testing.md).

What LocalStack's S3 sends (2026.3.0: seen in storms, and read in its source,
localstack/services/s3/provider.py `delete_object` and notifications.py), against what AWS
documents (storm/events.py builds that for moto):

  operation                S3 notification (eventName)         EventBridge (detail-type: ...)
  put, overwrite           ObjectCreated:Put                   Object Created (PutObject)
  delete, unversioned      ObjectRemoved:Delete                Object Deleted: Permanently Deleted
  delete, versioned        ObjectRemoved:DeleteMarkerCreated   Object Deleted: Delete Marker Created
  delete a noncurrent or   ObjectRemoved:Delete                Object Deleted: Permanently Deleted
    the current version
  undelete (delete the     ObjectRemoved:Delete                Object Deleted: Permanently Deleted
    marker by its version)

So the kinds are AWS's, one event per operation, and a version delete or an undelete names
the version removed (the marker's for an undelete), with no eTag and no size: nothing says
which version became current, as on AWS (documented_label checks the kinds, run by run). The
differences:

- keys are percent-encoded (Python's quote, '/' kept) in both shapes: a space is '%20' where an
  AWS notification has '+', a literal '%20' arrives as '%2520', and EventBridge keys are
  encoded too, where AWS sends them as they are. unquote_plus reads the notification key; the
  EventBridge key is read with unquote here (the function reconciles both spellings);
- every event of every bucket carries one sequencer ("0055AED6DCD90281E5" in notifications,
  "0062E99A88DC407460" for EventBridge), so the order of a key's events cannot be recovered;
  and they are sent by a pool of three threads, so one key's events can arrive in the reverse
  order of its operations (seen: two puts of one key, the later one's event first);
- ObjectRemoved:DeleteMarkerCreated carries eTag d41d8cd98f00b204e9800998ecf8427e (the empty
  body's MD5, as AWS's EventBridge example of a marker does), where AWS's notification
  structure lists eTag for creations only; versionId is absent on an unversioned bucket;
- an unversioned delete of a key that does not exist sends nothing (storms never do one);
- EventBridge events carry a fixed foreign `requester` (074255357339), `time` to the second,
  no `event-version`; s3:TestEvent comes once per PutBucketNotificationConfiguration with a
  queue configuration, as on AWS.

And the function's own requests: LocalStack implements DeleteObject's If-Match only for
directory buckets, answering 501 NotImplemented otherwise; the function's S3Storage.delete
then falls back to a HEAD and a plain delete from then on (for that S3Storage: each worker
builds one per storm). So the LocalStack storm exercises that fallback (a HEAD-then-delete,
not atomic), where moto takes the conditional delete. PutObject's If-Match and If-None-Match
are implemented, as on AWS.
And one more difference the figures can show: a GetObject still streaming an object that a
DeleteObject removes meanwhile breaks off (storage/ephemeral.py closes the object's file
without its read lock; LocalStack logs "I/O operation on closed file"), where AWS would finish
the read. The function sees IncompleteRead, a transient StorageUnavailable, and raises; the
storm retries the event as Lambda would (a retry or two in some runs, none exhausted so far).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, unquote_plus

from storm.errors import HarnessError
from storm.events import TEST_EVENT, Shape, label_of
from storm.operations import Performed
from storm.sources import Arrival

if TYPE_CHECKING:
    from storm.run import StormConfig

NOTIFIED = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*")
RULE_DETAIL_TYPES = ("Object Created", "Object Deleted")  # template.yaml's rule pattern
ANNOUNCED_WITHIN_S = 30.0  # after the last operation; LocalStack takes well under a second


class SentEvents:
    """The event source factory (storm/sources.py) for an emulator whose S3, SQS and
    EventBridge these clients reach."""

    def __init__(self, s3: Any, sqs: Any, events: Any) -> None:
        self._s3, self._sqs, self._events = s3, sqs, events

    def __call__(self, config: StormConfig, bucket: str) -> QueueEvents:
        url = self._sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        queue_arn = arn["Attributes"]["QueueArn"]
        rule = None
        if config.shape == "s3":
            configuration = {"QueueConfigurations": [{"QueueArn": queue_arn,
                                                      "Events": list(NOTIFIED)}]}  # fmt: skip
        else:
            configuration = {"EventBridgeConfiguration": {}}
            rule = bucket
            pattern = {"source": ["aws.s3"], "detail-type": list(RULE_DETAIL_TYPES),
                       "detail": {"bucket": {"name": [bucket]}}}  # fmt: skip
            self._events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
            self._events.put_targets(Rule=rule, Targets=[{"Id": "storm", "Arn": queue_arn}])
        self._s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration
        )
        return QueueEvents(self._sqs, url, config.shape, self._events, rule)


Change = Literal["created", "marker created", "removed"]


@dataclass(frozen=True, slots=True)
class _Announced:
    """What an event or an operation says about the object: matched one to the other. A
    marker's creation and its removal (an undelete) name the same version: change tells them
    apart when they arrive in the other order."""

    key: str
    change: Change
    version_id: str | None
    etag: str | None


class QueueEvents:
    """Reads one storm's queue (see the module's docstring) and matches every event to the
    operation it announces."""

    def __init__(
        self, sqs: Any, url: str, shape: Shape, events: Any = None, rule: str | None = None,
        announced_within_s: float = ANNOUNCED_WITHIN_S,
    ) -> None:  # fmt: skip
        """events and rule: the EventBridge client and the rule to remove on close, if any."""
        self._sqs, self._url, self._shape = sqs, url, shape
        self._events, self._rule = events, rule
        self._within_s = announced_within_s
        self._pending: dict[int, _Announced] = {}  # operations not announced yet

    def after(self, done: Performed) -> list[Arrival]:
        self._pending[done.operation.index] = _Announced(
            done.operation.key, _change_made(done), done.version_id, done.etag
        )
        return self._receive(done.operation.index, wait_s=0)

    def rest(self, operations: int) -> list[Arrival]:
        arrivals: list[Arrival] = []
        deadline = time.monotonic() + self._within_s
        while self._pending:
            if time.monotonic() > deadline:
                missing = ", ".join(f"{index} {a}" for index, a in sorted(self._pending.items()))
                raise HarnessError(f"no event within {self._within_s:.0f} s of the last "
                                   f"operation for operations {missing}")  # fmt: skip
            arrivals += self._receive(operations, wait_s=1)
        return arrivals + self._receive(operations, wait_s=0)  # a surplus, sent with the rest

    def close(self) -> None:
        if self._events is not None and self._rule is not None:
            self._events.remove_targets(Rule=self._rule, Ids=["storm"])
            self._events.delete_rule(Name=self._rule)
        self._sqs.delete_queue(QueueUrl=self._url)

    def _receive(self, point: int, wait_s: int) -> list[Arrival]:
        """Every message the queue holds now (waiting up to wait_s for the first), deleted."""
        arrivals: list[Arrival] = []
        while True:
            answer = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10,
                                               WaitTimeSeconds=wait_s)  # fmt: skip
            messages = answer.get("Messages", [])
            if not messages:
                return arrivals
            arrivals += [self._arrival(message["Body"], point) for message in messages]
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                       for n, m in enumerate(messages)]  # fmt: skip
            failed = self._sqs.delete_message_batch(QueueUrl=self._url, Entries=entries)
            if failed.get("Failed"):
                raise HarnessError(f"the queue kept messages: {failed['Failed']}")
            if len(messages) < 10:  # what the queue held is all received
                return arrivals
            wait_s = 0

    def _arrival(self, body: str, point: int) -> Arrival:
        try:
            event = json.loads(body)
        except ValueError as error:
            raise HarnessError(f"a message that is not JSON ({error}): {body[:300]}") from None
        label = label_of(event)
        if label == TEST_EVENT:
            return Arrival(event, None, label, None, point)
        announced = _announced(event, self._shape)
        return Arrival(event, announced.key, label, self._match(announced), point)

    def _match(self, announced: _Announced) -> int | None:
        """The earliest pending operation the event can be about: same key and change, and
        the same version (or, for a creation, the same ETag: every put uploads new bytes)."""
        for index, pending in sorted(self._pending.items()):
            if (pending.key, pending.change) != (announced.key, announced.change):
                continue
            if announced.version_id is not None and pending.version_id != announced.version_id:
                continue
            if announced.change == "created" and pending.etag != announced.etag:
                continue
            del self._pending[index]
            return index
        return None


def _change_made(done: Performed) -> Change:
    if done.etag is not None:
        return "created"
    marker = done.operation.kind == "delete" and done.version_id is not None  # versioned
    return "marker created" if marker else "removed"


def _announced(event: dict[str, Any], shape: Shape) -> _Announced:
    """The object an event names, its key decoded as this emulator encodes it (docstring)."""
    try:
        if shape == "s3":
            (record,) = event["Records"]  # S3 sends one record per message
            obj, name = record["s3"]["object"], record["eventName"]
            change = _change(name.startswith("ObjectCreated:"),
                             name == "ObjectRemoved:DeleteMarkerCreated")  # fmt: skip
            return _Announced(unquote_plus(obj["key"]), change, obj.get("versionId"),
                              obj.get("eTag"))  # fmt: skip
        detail = event["detail"]
        obj = detail["object"]
        change = _change(event["detail-type"] == "Object Created",
                         detail.get("deletion-type") == "Delete Marker Created")  # fmt: skip
        return _Announced(unquote(obj["key"]), change, obj.get("version-id"), obj.get("etag"))
    except (KeyError, TypeError, ValueError) as error:
        raise HarnessError(f"an event the storm cannot read ({error!r}): {event}") from None


def _change(created: bool, marker: bool) -> Change:
    return "created" if created else "marker created" if marker else "removed"
