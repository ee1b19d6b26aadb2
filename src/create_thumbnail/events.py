"""S3 event notifications -> plain values; the only module that knows the payload's shape.

S3 delivers batches (`Records` may hold several), so every record is read. Object keys arrive
form-encoded, as in a URL query string: '+' is a space and a literal '+' is '%2B', so the one
correct decoder is unquote_plus (plain unquote leaves '+' and breaks keys with spaces).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from create_thumbnail.errors import InvalidEvent, InvalidRecord

S3_EVENT_SOURCE = "aws:s3"
TEST_EVENT = "s3:TestEvent"


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One source object, key already decoded; etag pins the bytes the event announced."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None
    event_name: str = "ObjectCreated:Put"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed record that asks nothing of us (a delete, a restore): logged, not an error."""

    bucket: str
    key: str
    reason: str


def is_test_event(event: Mapping[str, Any]) -> bool:
    """S3 sends this once when a notification is configured; it has no Records."""
    return event.get("Event") == TEST_EVENT


def event_records(event: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The records of an S3 notification; anything else is an InvalidEvent, not a KeyError."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"expected an S3 event notification (a JSON object), got {type(event).__name__}")
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidEvent(
            "expected an S3 event notification with a 'Records' list; "
            f"got an object with keys {sorted(event)[:10]}"
        )
    return records


def parse_record(record: Mapping[str, Any]) -> ObjectRef | Ignored:
    """One record -> what to thumbnail, or why not. Raises InvalidRecord for a broken shape."""
    if not isinstance(record, Mapping):
        raise InvalidRecord(f"record is a {type(record).__name__}, not an object")
    source = record.get("eventSource")
    if source != S3_EVENT_SOURCE:
        raise InvalidRecord(f"eventSource {source!r} is not {S3_EVENT_SOURCE!r}")
    try:
        s3 = record["s3"]
        bucket = s3["bucket"]["name"]
        raw_key = s3["object"]["key"]
    except (KeyError, TypeError) as missing:
        raise InvalidRecord(f"record lacks s3.bucket.name or s3.object.key ({missing!r})") from None
    if not isinstance(bucket, str) or not bucket or not isinstance(raw_key, str) or not raw_key:
        raise InvalidRecord("s3.bucket.name and s3.object.key must be non-empty strings")
    key = unquote_plus(raw_key)
    event_name = str(record.get("eventName", ""))
    if not event_name.startswith("ObjectCreated:"):
        return Ignored(bucket, key, f"{event_name or 'an event without eventName'} is not an object creation")
    obj = s3["object"]
    return ObjectRef(
        bucket=bucket,
        key=key,
        etag=obj.get("eTag") or None,
        version_id=obj.get("versionId") or None,
        size=_size(obj.get("size")),
        event_name=event_name,
    )


def _size(value: object) -> int | None:
    """Copy events from some tools omit size; a string or a negative number is not a size."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
