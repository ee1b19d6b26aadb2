"""Every event shape that can announce an object -> plain values; the only module that knows them.

Shapes: S3 notifications sent directly, through SNS, through SQS, and through SNS then SQS;
EventBridge "Object Created"/"Object Deleted"; S3 Batch Operations tasks (schema 1.0 and 2.0).
Every record of every message is read (SQS and SNS deliver batches). Key decoding, one rule per
source: notifications (in any envelope) and Batch Operations form-encode keys, '+' being a space
and '%2B' a plus, so they get unquote_plus. EventBridge keys are taken as they are (real AWS
payloads show ':' unencoded, and AWS's guidance-for-medialake-on-aws PR #21 fixed a literal '+'
that decoding had turned into a space), but LocalStack's S3 percent-encodes them ('a%20b.jpg'),
so a key holding %XX escapes also carries its percent-decoded spelling (unquote: '+' stays a
plus), and both keys are reconciled. A record that is not about
an object's creation or removal (s3:TestEvent, a restore, a tagging change) is a Skip, and one
that cannot be read is Unreadable: neither is ever a KeyError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus

from create_thumbnail.errors import InvalidEvent, InvalidRecord

S3_EVENT_SOURCE = "aws:s3"
TEST_EVENT = "s3:TestEvent"
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


def is_test_event(event: Mapping[str, Any]) -> bool:
    """S3 sends this once when a notification is configured; it has no Records."""
    return event.get("Event") == TEST_EVENT


def _size(value: object) -> int | None:
    """Copy events from some tools omit size; a string or a negative number is not a size."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _sequencer(value: object) -> str | None:
    """S3's sequencers are hex strings; anything else (the Go and Rust runtimes' sample events
    say "Happy Sequencer") cannot be ordered, so it counts as absent."""
    return value if isinstance(value, str) and _HEX.match(value) else None


def _percent_decoded(key: str) -> str | None:
    """The key with %XX escapes decoded, if it has any; '+' stays a plus."""
    decoded = unquote(key) if _PERCENT_ESCAPE.search(key) else key
    return decoded if decoded != key else None


# ---- every envelope -> items ---------------------------------------------------------------------

Kind = Literal["s3", "sns", "sqs", "eventbridge", "batch"]
_REMOVALS = ("ObjectRemoved:", "LifecycleExpiration:")


@dataclass(frozen=True, slots=True)
class Change:
    """An object created or removed, key decoded. What the event claims about the object (ETag,
    size, version, sequencer) is kept for the log, never acted on: the function reads the key
    as it is now. receipt names the SQS message, SNS message, EventBridge event or Batch
    Operations task it came in, so a reply can point at it."""

    bucket: str
    key: str
    removed: bool = False
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None
    sequencer: str | None = None
    origin: str = "s3"
    receipt: str | None = None
    decoded_key: str | None = None  # EventBridge only: the key percent-decoded

    def spellings(self) -> tuple[str, ...]:
        """The keys this change may be about: the key as carried and, for an EventBridge key
        with %XX escapes, the key percent-decoded (LocalStack encodes keys, AWS does not)."""
        return (self.key,) if self.decoded_key is None else (self.key, self.decoded_key)


@dataclass(frozen=True, slots=True)
class Skip:
    """Well-formed, but asks nothing of us: logged and counted, never retried."""

    reason: str
    bucket: str | None = None
    key: str | None = None
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A record or message that cannot be interpreted (not JSON, missing fields): poison."""

    reason: str
    receipt: str | None = None


Item = Change | Skip | Unreadable


@dataclass(frozen=True)
class ParsedEvent:
    """kind decides the reply: SQS wants batchItemFailures, Batch Operations a result per task."""

    kind: Kind
    items: tuple[Item, ...]
    invocation: Mapping[str, Any] | None = None  # Batch Operations: schema version and id


def parse_event(event: Any) -> ParsedEvent:
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"expected an event object, got {type(event).__name__}")
    if is_test_event(event):
        return ParsedEvent("s3", (Skip(TEST_EVENT, event.get("Bucket")),))
    if "invocationSchemaVersion" in event:
        return _batch_operations(event)
    if event.get("source") == "aws.s3" and "detail-type" in event:
        return ParsedEvent("eventbridge", (_eventbridge(event),))
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidEvent(
            "expected S3, SNS, SQS, EventBridge or S3 Batch Operations event; "
            f"got an object with keys {sorted(event)[:10]}"
        )
    kind = _envelope(records[0]) if records else "s3"
    return ParsedEvent(kind, tuple(item for record in records for item in _record(record)))


def _envelope(record: Any) -> Kind:
    source = record.get("eventSource") or record.get("EventSource") if isinstance(record, Mapping) else None
    return {"aws:sqs": "sqs", "aws:sns": "sns"}.get(source, "s3")


def _record(record: Any) -> list[Item]:
    kind = _envelope(record)
    if kind == "sqs":
        return _wrapped(record.get("body"), "sqs", record.get("messageId"))
    if kind == "sns":
        sns = record.get("Sns") if isinstance(record.get("Sns"), Mapping) else {}
        return _wrapped(sns.get("Message"), "sns", sns.get("MessageId"))
    return [_notification_record(record, "s3", None)]


def _wrapped(body: Any, via: str, receipt: str | None) -> list[Item]:
    """An S3 notification as the body of an SQS message or SNS notification (or SNS in SQS)."""
    payload = _json(body)
    if payload is None:
        return [Unreadable(f"{via} message body is not a JSON object", receipt)]
    if payload.get("Type") == "Notification" and "Message" in payload:  # SNS inside SQS
        return _wrapped(payload["Message"], f"{via}:sns", receipt)
    if is_test_event(payload):
        return [Skip(TEST_EVENT, payload.get("Bucket"), receipt=receipt)]
    records = payload.get("Records")
    if not isinstance(records, list):
        return [Unreadable(f"{via} message is not an S3 event notification", receipt)]
    return [_notification_record(record, f"{via}:s3", receipt) for record in records]


def _json(body: Any) -> Mapping[str, Any] | None:
    try:
        payload = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return None
    return payload if isinstance(payload, Mapping) else None


def _notification_record(record: Any, origin: str, receipt: str | None) -> Item:
    try:
        return parse_record(record, origin, receipt)
    except InvalidRecord as error:
        return Unreadable(str(error), receipt)


def parse_record(record: Any, origin: str = "s3", receipt: str | None = None) -> Change | Skip:
    """One S3 notification record. Raises InvalidRecord for a shape S3 never sends."""
    if not isinstance(record, Mapping):
        raise InvalidRecord(f"record is a {type(record).__name__}, not an object")
    source = record.get("eventSource")
    if source != S3_EVENT_SOURCE:
        raise InvalidRecord(f"eventSource {source!r} is not {S3_EVENT_SOURCE!r}")
    try:
        obj = record["s3"]["object"]
        bucket, raw_key = record["s3"]["bucket"]["name"], obj["key"]
    except (KeyError, TypeError) as missing:
        raise InvalidRecord(f"record lacks s3.bucket.name or s3.object.key ({missing!r})") from None
    if not isinstance(bucket, str) or not bucket or not isinstance(raw_key, str) or not raw_key:
        raise InvalidRecord("s3.bucket.name and s3.object.key must be non-empty strings")
    key = unquote_plus(raw_key)
    event_name = str(record.get("eventName", ""))
    removed = event_name.startswith(_REMOVALS)
    if not removed and not event_name.startswith("ObjectCreated:"):
        reason = f"{event_name or 'an event without eventName'} is not an object creation"
        return Skip(reason, bucket, key, receipt)
    return Change(
        bucket,
        key,
        removed=removed,
        etag=obj.get("eTag") or None,
        version_id=obj.get("versionId") or None,
        size=_size(obj.get("size")),
        sequencer=_sequencer(obj.get("sequencer")),
        origin=origin,
        receipt=receipt,
    )


def _eventbridge(event: Mapping[str, Any]) -> Item:
    receipt = event.get("id")
    detail = event.get("detail")
    kind = event.get("detail-type")
    try:
        bucket, key = detail["bucket"]["name"], detail["object"]["key"]
    except (KeyError, TypeError):
        return Unreadable("EventBridge event lacks detail.bucket.name or detail.object.key", receipt)
    if kind not in ("Object Created", "Object Deleted"):
        return Skip(f"EventBridge {kind!r} is not an object creation or deletion", bucket, key, receipt)
    obj = detail["object"]
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        return Unreadable("EventBridge detail.bucket.name and detail.object.key must be non-empty strings", receipt)
    return Change(
        bucket,
        key,  # as carried: AWS does not encode EventBridge keys
        removed=kind == "Object Deleted",
        etag=obj.get("etag") or None,
        version_id=obj.get("version-id") or None,
        size=_size(obj.get("size")),
        sequencer=_sequencer(obj.get("sequencer")),
        origin="eventbridge",
        receipt=receipt,
        decoded_key=_percent_decoded(key),
    )


def _batch_operations(event: Mapping[str, Any]) -> ParsedEvent:
    version = event.get("invocationSchemaVersion")
    tasks = event.get("tasks")
    if version not in ("1.0", "2.0") or not isinstance(tasks, list):
        raise InvalidEvent(f"S3 Batch Operations schema {version!r} with tasks {type(tasks).__name__} is not supported")
    invocation = {"invocationSchemaVersion": version, "invocationId": event.get("invocationId")}
    return ParsedEvent("batch", tuple(_batch_task(task) for task in tasks), invocation)


def _batch_task(task: Any) -> Item:
    receipt = task.get("taskId") if isinstance(task, Mapping) else None
    try:
        bucket = task["s3Bucket"] if "s3Bucket" in task else task["s3BucketArn"].split(":::", 1)[1]
        key = unquote_plus(task["s3Key"])
    except (KeyError, TypeError, IndexError, AttributeError):
        return Unreadable("Batch Operations task lacks s3Bucket/s3BucketArn or s3Key", receipt)
    return Change(bucket, key, version_id=task.get("s3VersionId") or None, origin="batch", receipt=receipt)
