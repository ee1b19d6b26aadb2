"""Make the objects an event names exist in the local S3, so a sample event can run as is.

events/put.json names `example-source-bucket/photos/sample.jpg`, which exists nowhere. Where an
event announces a new object that is missing, we upload a sample of the kind its key suggests
and, since the function reads with If-Match on the event's ETag, put the new object's ETag in
place of the event's wherever it appears (SQS and SNS bodies are JSON inside strings, so the
replacement is on string values, at any depth): the event S3 would have sent for the upload we
just made. An object that already exists is left alone, and so is its record. The objects are
found by the function's own parser, so every shape it accepts (S3, SNS, SQS, EventBridge, Batch
Operations) is seeded by the same decoding rules it reads them with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from create_thumbnail.errors import InvalidEvent
from create_thumbnail.events import Change, parse_event
from local_run.samples import encode, photo, transparent_logo


@dataclass(frozen=True)
class Seeded:
    bucket: str
    key: str
    what: str
    size: int


def _sample(key: str) -> tuple[bytes, str, str]:
    """(bytes, content type, description) of a plausible object for key."""
    suffix = key.lower().rsplit(".", 1)[-1] if "." in key else ""
    if suffix in ("jpg", "jpeg"):
        return (
            encode(photo((1600, 1200), seed=7), "JPEG", quality=90),
            "image/jpeg",
            "a 1600x1200 JPEG",
        )
    if suffix == "png":
        return encode(transparent_logo(), "PNG"), "image/png", "a 1200x800 RGBA PNG"
    return b"placeholder seeded by thumbnail-local\n", "text/plain", "a text placeholder"


def created_objects(event: Any) -> list[Change]:
    """The objects event announces as created, as the function itself reads them; none for an
    event the function would reject (it is sent all the same: the rejection is the function's
    to report)."""
    try:
        items = parse_event(event).items
    except InvalidEvent:
        return []
    return [item for item in items if isinstance(item, Change) and not item.removed]


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise
    return True


def ensure_buckets(s3: Any, names: Iterable[str]) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for name in sorted(set(names) - existing):
        s3.create_bucket(Bucket=name)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace(item, old, new) for item in value]
    if isinstance(value, dict):
        return {name: _replace(item, old, new) for name, item in value.items()}
    return value


def seed_event_objects(s3: Any, event: Any) -> tuple[Any, list[Seeded]]:
    """A copy of event whose created objects all exist, and what had to be uploaded for it.

    A record pinning a version (Batch Operations tasks, versioned sources) gets the seeded
    object's version: the bucket is made versioned first, as the real one must be.
    """
    seeded: list[Seeded] = []
    for change in created_objects(event):
        if _exists(s3, change.bucket, change.key):
            continue
        if change.version_id:
            s3.put_bucket_versioning(
                Bucket=change.bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        data, content_type, what = _sample(change.key)
        put = s3.put_object(
            Bucket=change.bucket, Key=change.key, Body=data, ContentType=content_type
        )
        if change.etag:
            event = _replace(event, change.etag.strip('"'), put["ETag"].strip('"'))
        if change.version_id:
            event = _replace(event, change.version_id, put["VersionId"])
        seeded.append(Seeded(change.bucket, change.key, what, len(data)))
    return event, seeded
