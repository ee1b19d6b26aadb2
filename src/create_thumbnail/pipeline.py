"""One event -> a report of what happened per record, in the invoking service's terms.

Whatever envelope the event came in (S3 direct, SNS, SQS, EventBridge, Batch Operations), each
record names a key, and the key is reconciled (lifecycle.py): its thumbnails are made to match
what the key holds now, whatever the record says happened. The report answers in the envelope's
own terms (Report.reply).

Every record is attempted. A permanent problem with one object is logged and counted and does
not stop the others; transient ones are collected in the report, and the handler raises once all
records are done, so that Lambda retries the event. A record is not started when too little of
the invocation's time is left (DeadlineExceeded, transient).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aws_lambda_powertools import Logger

from create_thumbnail.config import Rule, Settings
from create_thumbnail.errors import (
    ImagingFailed,
    InvalidRecord,
    PermanentError,
    RecursionRefused,
    ThumbnailError,
    TransientError,
    UnexpectedError,
)
from create_thumbnail.events import Change, Item, Kind, Skip, Unreadable, parse_event
from create_thumbnail.imaging import Budget, Rendered, make_renditions, parse_focal_point
from create_thumbnail.lifecycle import Destination, Read, Renderer, Result, reconcile
from create_thumbnail.storage import Storage

logger = Logger(child=True)

Status = Literal["created", "duplicate", "removed", "skipped", "failed", "retryable"]
STATUSES: tuple[Status, ...] = ("created", "duplicate", "removed", "skipped", "failed", "retryable")
# Batch Operations result codes: what S3 should do with the task.
_RESULT_CODES = {"failed": "PermanentFailure", "retryable": "TemporaryFailure"}


@dataclass(frozen=True, slots=True)
class Made:
    """A thumbnail written, as the reply and the log describe it."""

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
    thumbnails: tuple[Made, ...] = ()
    ms: float = 0.0
    error: ThumbnailError | None = field(default=None, repr=False)
    receipt: str | None = None  # the SQS message, SNS message or Batch Operations task
    removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # made, but not quite as the source was (a profile ignored)
    manifest: dict[str, Any] | None = field(default=None, repr=False)  # for completion events
    manifest_key: str | None = None  # where it was written, if it was
    read: Read | None = None  # a video's: what was read of the source, and in how many ranged GETs

    def as_dict(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"bucket": self.bucket, "key": self.key, "status": self.status}
        if self.reason:
            reply["reason"] = self.reason
        if self.source_bytes is not None:
            reply["source_bytes"] = self.source_bytes
        if self.read is not None:
            reply["source_bytes_read"], reply["ranged_requests"] = self.read.bytes, self.read.requests
        if self.thumbnails:
            reply["thumbnails"] = [asdict(written) for written in self.thumbnails]
        if self.manifest_key is not None:
            reply["manifest"] = self.manifest_key
        if self.removed:
            reply["removed"] = list(self.removed)
        if self.warnings:
            reply["warnings"] = list(self.warnings)
        reply["ms"] = round(self.ms, 1)
        return reply


@dataclass(slots=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    kind: Kind = "s3"
    invocation: Mapping[str, Any] | None = None

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
        """What the console, sam local invoke and the demo show for a direct invocation."""
        counts = {status: self.count(status) for status in STATUSES}
        return {**counts, "records": [outcome.as_dict() for outcome in self.outcomes]}

    @property
    def raises(self) -> bool:
        """Only an invocation with no per-item reply fails as a whole for a transient error."""
        return self.kind not in ("sqs", "batch") and bool(self.retryable)

    def reply(self) -> dict[str, Any]:
        """The handler's return value, in the shape the invoking service reads."""
        if self.kind == "sqs":
            return {"batchItemFailures": [{"itemIdentifier": r} for r in self._redeliver()]}
        if self.kind == "batch":
            return {**(self.invocation or {}), "treatMissingKeysAs": "PermanentFailure", "results": [
                {"taskId": o.receipt, "resultCode": _RESULT_CODES.get(o.status, "Succeeded"),
                 "resultString": _result_string(o)}
                for o in self.outcomes
            ]}  # fmt: skip
        return self.as_dict()

    def _redeliver(self) -> list[str]:
        """SQS messages to hand back: a transient failure, or poison that cannot be read (after
        the queue's maxReceiveCount it lands in the dead-letter queue for a person to see).
        A bad image is not retried: that cannot help, and it is logged and counted already."""
        receipts = [
            o.receipt
            for o in self.outcomes
            if o.receipt and (o.status == "retryable" or isinstance(o.error, InvalidRecord))
        ]
        return list(dict.fromkeys(receipts))


def handle_event(
    event: Mapping[str, Any], settings: Settings, storage: Storage, deadline: float = math.inf
) -> Report:
    """Raises InvalidEvent for a payload that is none of the shapes events.py knows. Transient
    failures are in the report: the caller decides, by envelope, whether to raise for them.

    deadline: the time.monotonic() instant at which Lambda ends the invocation.
    """
    parsed = parse_event(event)
    report = Report(kind=parsed.kind, invocation=parsed.invocation)
    destination = Destination(settings, storage, renderer(settings), deadline)
    for index, item in enumerate(parsed.items):
        outcome = _attempt(item, destination)
        _log(index, outcome, settings)
        report.outcomes.append(outcome)
    return report


def _attempt(item: Item, destination: Destination) -> Outcome:
    started = time.perf_counter()
    receipt = item.receipt
    bucket = getattr(item, "bucket", None)
    key = getattr(item, "key", None)
    try:
        if isinstance(item, Skip):
            return Outcome(bucket, key, "skipped", item.reason, ms=_ms(started), receipt=receipt)
        if isinstance(item, Unreadable):
            raise InvalidRecord(item.reason)
        _refuse_destination(item, destination.settings)
        if outside := _outside_prefix(item, destination.settings):
            return Outcome(bucket, key, "skipped", outside, ms=_ms(started), receipt=receipt)
        key, result = _reconcile(item, destination)
        return _outcome(item.bucket, key, result, started, receipt)
    except PermanentError as error:
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "failed", reason, ms=_ms(started), error=error, receipt=receipt)
    except TransientError as error:
        if isinstance(error, ImagingFailed):  # libvips, on pixels we made: its traceback helps
            logger.exception("imaging failed", extra={"bucket": bucket, "key": key})
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "retryable", reason, ms=_ms(started), error=error, receipt=receipt)
    except Exception as error:  # a bug, not bad input: seen, retried, counted as one
        logger.exception("unexpected error", extra={"bucket": bucket, "key": key, "error": type(error).__name__})
        unexpected = UnexpectedError(error)
        reason = f"{type(unexpected).__name__}: {unexpected}"
        return Outcome(bucket, key, "retryable", reason, ms=_ms(started), error=unexpected, receipt=receipt)


def _reconcile(change: Change, destination: Destination) -> tuple[str, Result]:
    """Every spelling of the key the change may be about (an EventBridge key with %XX escapes
    is also tried percent-decoded): reconciling a key that did not change does nothing, so
    a hint at the wrong one is harmless. The reply names the one where something was done."""
    results = [(key, reconcile(change.bucket, key, destination)) for key in change.spellings()]
    return next(((key, result) for key, result in results if result.status != "skipped"), results[0])


def _outcome(bucket: str, key: str, result: Result, started: float, receipt: str | None) -> Outcome:
    made = tuple(Made(w.key, w.thumbnail.width, w.thumbnail.height, len(w.thumbnail.data), w.thumbnail.content_type)
                 for w in result.written)  # fmt: skip
    return Outcome(
        bucket, key, result.status, result.reason, result.source.size if result.source else None, made,
        _ms(started), error=result.error, receipt=receipt, removed=result.removed, warnings=result.warnings,
        manifest=result.manifest, manifest_key=result.manifest_key,
        read=result.read,
    )  # fmt: skip


def _refuse_destination(change: Change, settings: Settings) -> None:
    if change.bucket == settings.destination_bucket:
        raise RecursionRefused(
            f"event came from the destination bucket {change.bucket!r}; writing there would "
            "re-trigger this function. Point the trigger at the source bucket only."
        )


def _outside_prefix(change: Change, settings: Settings) -> str | None:
    """A bucket shared with other data: the trigger's filter keeps other keys away, this keeps a
    stray event (a backfill of the whole bucket, a hand-made test event) from reading them."""
    prefix = settings.source_key_prefix
    if any(key.startswith(prefix) for key in change.spellings()):
        return None
    return f"outside SOURCE_KEY_PREFIX {prefix!r}"


def renderer(settings: Settings) -> Renderer:
    """The imaging path with the function's limits: pixel cap, memory budget, source formats."""

    def render(data: bytes, rule: Rule, focal_point: str | None) -> tuple[Rendered, list[str]]:
        warnings: list[str] = []
        rendered = make_renditions(
            data, rule.sizes, settings.max_source_pixels, rule.encoding, warnings.append,
            Budget.for_memory(settings.memory_mb), gravity=rule.gravity,
            focal_point=_focal_point(focal_point, warnings), source_formats=settings.source_formats,
            reading=rule.reading,
        )  # fmt: skip
        return rendered, warnings

    return render


def _focal_point(value: str | None, warnings: list[str]) -> tuple[float, float] | None:
    """x-amz-meta-focal-point, 'X,Y' in fractions of the upright image, as a CMS sets it at
    upload; one that does not parse is a warning, and the gravity decides instead."""
    point = parse_focal_point(value)
    if value is not None and point is None:
        warnings.append(f"x-amz-meta-focal-point {value!r} is not 'X,Y' with both from 0 to 1: ignored")
    return point


def _result_string(outcome: Outcome) -> str:
    """Batch Operations puts this in its completion report: what was written, or why not."""
    if outcome.thumbnails:
        text = "created " + " ".join(written.key for written in outcome.thumbnails)
    else:
        text = f"{outcome.status}: {outcome.reason or ''}".rstrip(": ")
    return text[:1000]


_LOG_LEVEL = {
    "created": "info",
    "duplicate": "info",
    "removed": "info",
    "skipped": "warning",
    "failed": "error",
    "retryable": "error",
}
_LOG_MESSAGE = {
    "created": "thumbnails written",
    "duplicate": "thumbnails already there",
    "removed": "thumbnails removed",
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
        if outcome.read is not None:
            fields["source_bytes_read"], fields["ranged_requests"] = outcome.read.bytes, outcome.read.requests
    fields["ms"] = round(outcome.ms, 1)
    getattr(logger, _LOG_LEVEL[outcome.status])(_LOG_MESSAGE[outcome.status], extra=fields)
    for warning in outcome.warnings:
        logger.warning("made with a warning", extra={"record": index, "bucket": outcome.bucket,
                                                     "key": outcome.key, "reason": warning})


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
