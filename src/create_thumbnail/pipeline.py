"""One S3 event through naming, storage and imaging -> a report of what happened per record.

Every record is attempted. A permanent problem with one object is logged and counted and does
not stop the others; transient ones are collected and raised at the end (RetryableRecordsFailed)
so that Lambda retries the event. All thumbnails of an object are made before the first write,
so a decoding error writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Logger

from create_thumbnail.config import Settings
from create_thumbnail.errors import (
    ImageTooLarge,
    PermanentError,
    RecursionRefused,
    RetryableRecordsFailed,
    TransientError,
)
from create_thumbnail.events import Ignored, ObjectRef, event_records, is_test_event, parse_record
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.naming import destination_key, skip_reason, thumbnail_metadata
from create_thumbnail.storage import Storage

logger = Logger(child=True)

Status = Literal["created", "skipped", "failed", "retryable"]


@dataclass(frozen=True, slots=True)
class Written:
    key: str
    width: int
    height: int
    bytes: int
    content_type: str


@dataclass(frozen=True, slots=True)
class Outcome:
    bucket: str | None
    key: str | None
    status: Status
    reason: str | None = None
    source_bytes: int | None = None
    thumbnails: tuple[Written, ...] = ()
    ms: float = 0.0
    error: TransientError | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"bucket": self.bucket, "key": self.key, "status": self.status}
        if self.reason:
            reply["reason"] = self.reason
        if self.source_bytes is not None:
            reply["source_bytes"] = self.source_bytes
        if self.thumbnails:
            reply["thumbnails"] = [asdict(written) for written in self.thumbnails]
        reply["ms"] = round(self.ms, 1)
        return reply


@dataclass(slots=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def retryable(self) -> list[tuple[str, str, TransientError]]:
        return [
            (outcome.bucket or "?", outcome.key or "?", outcome.error)
            for outcome in self.outcomes
            if outcome.error is not None
        ]

    def count(self, status: Status) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        """The handler's return value: what the console, sam local invoke and the demo show."""
        counts = {status: self.count(status) for status in ("created", "skipped", "failed", "retryable")}
        return {**counts, "records": [outcome.as_dict() for outcome in self.outcomes]}


def handle_event(event: Mapping[str, Any], settings: Settings, storage: Storage) -> Report:
    """Raises InvalidEvent for a payload that is not an S3 notification, and
    RetryableRecordsFailed after the last record if any failed transiently."""
    report = Report()
    if is_test_event(event):
        logger.info("s3 test event ignored", extra={"bucket": event.get("Bucket")})
        return report
    for index, record in enumerate(event_records(event)):
        report.outcomes.append(handle_record(index, record, settings, storage))
    if report.retryable:
        raise RetryableRecordsFailed(report.retryable)
    return report


def handle_record(index: int, record: Any, settings: Settings, storage: Storage) -> Outcome:
    started = time.perf_counter()
    bucket = key = None
    try:
        parsed = parse_record(record)
        bucket, key = parsed.bucket, parsed.key
        logger.append_keys(bucket=bucket, key=key, record=index)
        if isinstance(parsed, Ignored):
            logger.info("record ignored", extra={"reason": parsed.reason})
            return Outcome(bucket, key, "skipped", parsed.reason, ms=_ms(started))
        return thumbnail_object(parsed, settings, storage, started)
    except PermanentError as error:
        logger.error(
            "record failed permanently",
            extra={"reason": str(error), "error": type(error).__name__},
        )
        return Outcome(bucket, key, "failed", f"{type(error).__name__}: {error}", ms=_ms(started))
    except TransientError as error:
        logger.error(
            "record failed, will raise for retry",
            extra={"reason": str(error), "error": type(error).__name__},
        )
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "retryable", reason, ms=_ms(started), error=error)
    finally:
        logger.remove_keys(["bucket", "key", "record"])


def thumbnail_object(ref: ObjectRef, settings: Settings, storage: Storage, started: float) -> Outcome:
    if ref.bucket == settings.destination_bucket:
        raise RecursionRefused(
            f"event came from the destination bucket {ref.bucket!r}; writing there would "
            "re-trigger this function. Point the trigger at the source bucket only."
        )
    reason = skip_reason(ref)
    if reason:
        logger.warning("record skipped", extra={"reason": reason})
        return Outcome(ref.bucket, ref.key, "skipped", reason, ref.size, ms=_ms(started))
    keys = {box: destination_key(ref.key, box) for box in settings.sizes}
    if ref.size is not None and ref.size > settings.max_source_bytes:
        raise ImageTooLarge(f"object is {ref.size:,} bytes, over the limit of {settings.max_source_bytes:,}")
    data = storage.read(ref, settings.max_source_bytes)
    if not data:
        logger.warning("record skipped", extra={"reason": "empty object (0 bytes)"})
        return Outcome(ref.bucket, ref.key, "skipped", "empty object (0 bytes)", 0, ms=_ms(started))
    thumbnails = make_thumbnails(data, settings.sizes, settings.max_source_pixels)
    written = []
    for thumbnail in thumbnails:
        key = keys[thumbnail.box]
        storage.write(
            settings.destination_bucket,
            key,
            thumbnail.data,
            thumbnail.content_type,
            thumbnail_metadata(ref, thumbnail.box),
        )
        written.append(
            Written(key, thumbnail.width, thumbnail.height, len(thumbnail.data), thumbnail.content_type)
        )
    outcome = Outcome(ref.bucket, ref.key, "created", None, len(data), tuple(written), _ms(started))
    logger.info(
        "thumbnails written",
        extra={
            "destination_bucket": settings.destination_bucket,
            "thumbnails": [w.key for w in written],
            "source_bytes": len(data),
            "ms": round(outcome.ms, 1),
        },
    )
    return outcome


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
