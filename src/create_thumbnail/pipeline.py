"""One S3 event through naming, storage and imaging -> a report of what happened per record.

Every record is attempted. A permanent problem with one object is logged and counted and does
not stop the others; transient ones are collected in the report, and the handler raises once all
records are done, so that Lambda retries the event. A record is not started when too little of
the invocation's time is left (DeadlineExceeded, transient), nor made again when its thumbnails
already record the same source bytes (a duplicate: one HeadObject per box, no GET, no decode).
All thumbnails of an object are made before the first write, so a decoding error writes nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Logger

from create_thumbnail.config import Settings
from create_thumbnail.errors import (
    DeadlineExceeded,
    ImageTooLarge,
    PermanentError,
    RecursionRefused,
    ThumbnailError,
    TransientError,
)
from create_thumbnail.events import Ignored, ObjectRef, event_records, is_test_event, parse_record
from create_thumbnail.formats import FORMATS, JPEG, PNG, output_format
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.naming import destination_key, skip_reason, thumbnail_metadata
from create_thumbnail.storage import Storage

logger = Logger(child=True)

Status = Literal["created", "duplicate", "skipped", "failed", "retryable"]
STATUSES: tuple[Status, ...] = ("created", "duplicate", "skipped", "failed", "retryable")


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
    error: ThumbnailError | None = field(default=None, repr=False)

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
            if isinstance(outcome.error, TransientError)
        ]

    def count(self, status: Status) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        """The handler's return value: what the console, sam local invoke and the demo show."""
        counts = {status: self.count(status) for status in STATUSES}
        return {**counts, "records": [outcome.as_dict() for outcome in self.outcomes]}


def handle_event(
    event: Mapping[str, Any], settings: Settings, storage: Storage, deadline: float = math.inf
) -> Report:
    """Raises InvalidEvent for a payload that is not an S3 notification. Transient failures are
    in report.retryable: the caller raises for them once it has counted and logged the rest.

    deadline: the time.monotonic() instant at which Lambda ends the invocation.
    """
    report = Report()
    if is_test_event(event):
        logger.info("s3 test event ignored", extra={"bucket": event.get("Bucket")})
        return report
    for index, record in enumerate(event_records(event)):
        report.outcomes.append(handle_record(index, record, settings, storage, deadline))
    return report


def handle_record(
    index: int, record: Any, settings: Settings, storage: Storage, deadline: float = math.inf
) -> Outcome:
    outcome = _attempt(record, settings, storage, deadline)
    _log(index, outcome, settings)
    return outcome


def _attempt(record: Any, settings: Settings, storage: Storage, deadline: float) -> Outcome:
    started = time.perf_counter()
    bucket = key = None
    try:
        parsed = parse_record(record)
        bucket, key = parsed.bucket, parsed.key
        if isinstance(parsed, Ignored):
            return Outcome(bucket, key, "skipped", parsed.reason, ms=_ms(started))
        return thumbnail_object(parsed, settings, storage, started, deadline)
    except PermanentError as error:
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "failed", reason, ms=_ms(started), error=error)
    except TransientError as error:
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "retryable", reason, ms=_ms(started), error=error)


def thumbnail_object(
    ref: ObjectRef, settings: Settings, storage: Storage, started: float, deadline: float = math.inf
) -> Outcome:
    if ref.bucket == settings.destination_bucket:
        raise RecursionRefused(
            f"event came from the destination bucket {ref.bucket!r}; writing there would "
            "re-trigger this function. Point the trigger at the source bucket only."
        )
    reason = skip_reason(ref)
    if reason:
        return Outcome(ref.bucket, ref.key, "skipped", reason, ref.size, ms=_ms(started))
    if ref.size is not None and ref.size > settings.max_source_bytes:
        raise ImageTooLarge(f"object is {ref.size:,} bytes, over the limit of {settings.max_source_bytes:,}")
    _check_time_left(deadline, settings.deadline_margin_ms)
    if _already_made(ref, settings, storage):
        reason = "thumbnails already made from these bytes with these settings"
        return Outcome(ref.bucket, ref.key, "duplicate", reason, ms=_ms(started))
    data = storage.read(ref, settings.max_source_bytes)
    if not data:
        return Outcome(ref.bucket, ref.key, "skipped", "empty object (0 bytes)", 0, ms=_ms(started))
    written = []
    thumbnails = make_thumbnails(data, settings.sizes, settings.max_source_pixels, settings.encoding)
    keys = [destination_key(ref.key, thumbnail.box, thumbnail.extensions) for thumbnail in thumbnails]
    for key, thumbnail in zip(keys, thumbnails, strict=True):
        metadata = thumbnail_metadata(ref, thumbnail.box, settings.encoding)
        storage.write(settings.destination_bucket, key, thumbnail.data, thumbnail.content_type, metadata)
        written.append(
            Written(key, thumbnail.width, thumbnail.height, len(thumbnail.data), thumbnail.content_type)
        )
    return Outcome(ref.bucket, ref.key, "created", None, len(data), tuple(written), _ms(started))


def _check_time_left(deadline: float, margin_ms: int) -> None:
    left_ms = (deadline - time.monotonic()) * 1000
    if left_ms < margin_ms:
        raise DeadlineExceeded(
            f"{max(left_ms, 0):,.0f} ms of the invocation left, under DEADLINE_MARGIN_MS "
            f"({margin_ms:,}): not started, left for the retry"
        )


def _already_made(ref: ObjectRef, settings: Settings, storage: Storage) -> bool:
    """Whether every thumbnail already records these source bytes and settings.

    Costs one HeadObject per box, last-written box first (the one an interrupted earlier attempt
    lacks), so a fresh upload costs one. The keys are predicted from the key's extension, since
    the bytes are not read yet: a PNG named .jpg is simply made again. Without an ETag in the
    event nothing proves which bytes a thumbnail came from, so nothing is skipped.
    """
    claimed = next((name for name in (JPEG, PNG) if ref.key.lower().endswith(FORMATS[name].extensions)), None)
    if not ref.etag or claimed is None:
        return False
    extensions = output_format(claimed, settings.encoding).extensions
    for box in reversed(settings.sizes):
        stored = storage.metadata(settings.destination_bucket, destination_key(ref.key, box, extensions))
        if stored != thumbnail_metadata(ref, box, settings.encoding):
            return False
    return True


_LOG_LEVEL = {
    "created": "info",
    "duplicate": "info",
    "skipped": "warning",
    "failed": "error",
    "retryable": "error",
}
_LOG_MESSAGE = {
    "created": "thumbnails written",
    "duplicate": "thumbnails already there",
    "skipped": "record skipped",
    "failed": "record failed permanently",
    "retryable": "record failed, the invocation will raise for a retry",
}


def _log(index: int, outcome: Outcome, settings: Settings) -> None:
    """One line per record, with bucket and key on it, whatever happened."""
    fields: dict[str, Any] = {"record": index, "bucket": outcome.bucket, "key": outcome.key}
    if outcome.reason:
        fields["reason"] = outcome.reason
    if outcome.thumbnails:
        fields["destination_bucket"] = settings.destination_bucket
        fields["thumbnails"] = [written.key for written in outcome.thumbnails]
        fields["source_bytes"] = outcome.source_bytes
    fields["ms"] = round(outcome.ms, 1)
    getattr(logger, _LOG_LEVEL[outcome.status])(_LOG_MESSAGE[outcome.status], extra=fields)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
