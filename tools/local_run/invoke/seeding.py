"""Make the objects an event names exist in the local S3, so a sample event can run as is.

events/put.json names `example-source-bucket/photos/sample.jpg`, which exists nowhere. Where an
event announces a new object that is missing, we upload a sample of the kind its key suggests.
The event itself is sent as given, made-up ETag, version and sequencer included, as the Lambda
console sends a test event: how the function copes with those is part of what a local invoke
shows. An object that already exists is left alone. The objects are found by the function's own
parser, so every shape it accepts (S3, SNS, SQS, EventBridge, Batch Operations) is seeded by the
same decoding rules it reads them with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from create_thumbnail.errors import InvalidEvent
from create_thumbnail.events import Change, parse_event
from local_run.inputs.samples import encode, photo, transparent_logo


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


def seed_event_objects(s3: Any, event: Any) -> list[Seeded]:
    """Uploads the objects event announces as created and that do not exist; returns them.

    An EventBridge key with percent-escapes is seeded under its decoded spelling, where S3
    would have stored the object an emulator's encoded event names."""
    seeded: list[Seeded] = []
    for change in created_objects(event):
        key = change.decoded_key or change.key
        if _exists(s3, change.bucket, change.key) or _exists(s3, change.bucket, key):
            continue
        data, content_type, what = _sample(key)
        s3.put_object(Bucket=change.bucket, Key=key, Body=data, ContentType=content_type)
        seeded.append(Seeded(change.bucket, key, what, len(data)))
    return seeded
