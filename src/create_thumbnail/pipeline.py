"""One event through naming, storage and imaging -> a report of what happened per record.

Whatever envelope the event came in (S3 direct, SNS, SQS, EventBridge, Batch Operations), each
object change is handled alike: a creation makes thumbnails, a removal deletes them. Events
arrive out of order, so thumbnails record the S3 sequencer of the event that made them: a
creation older than the thumbnails already there is stale, and a removal older than them leaves
them alone. The report answers in the envelope's own terms (Report.reply).

Every record is attempted. A permanent problem with one object is logged and counted and does
not stop the others; transient ones are collected in the report, and the handler raises once all
records are done, so that Lambda retries the event. A record is not started when too little of
the invocation's time is left (DeadlineExceeded, transient), nor made again when its thumbnails
already record the same source bytes (a duplicate: one HeadObject per box, no GET, no decode).
All thumbnails of an object are made before the first write, so a decoding error writes nothing.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any, Literal

from aws_lambda_powertools import Logger

from create_thumbnail.budget import Budget
from create_thumbnail.config import Rule, Settings
from create_thumbnail.crop import parse_focal_point
from create_thumbnail.errors import (
    DeadlineExceeded,
    ImageTooLarge,
    InvalidRecord,
    PermanentError,
    RecursionRefused,
    SourceMissing,
    ThumbnailError,
    TransientError,
    VersionMissing,
)
from create_thumbnail.events import (
    Change,
    Item,
    Kind,
    ObjectRef,
    Skip,
    Unreadable,
    parse_event,
    sequencer_after,
)
from create_thumbnail.imaging import make_renditions
from create_thumbnail.manifest import CONTENT_TYPE as MANIFEST_TYPE
from create_thumbnail.manifest import build_manifest, manifest_key
from create_thumbnail.naming import (
    destination_key,
    destination_key_candidates,
    expected_keys,
    identity_metadata,
    same_identity,
    skip_reason,
    thumbnail_metadata,
)
from create_thumbnail.storage import SourceObject, Storage

logger = Logger(child=True)

Status = Literal["created", "duplicate", "removed", "skipped", "failed", "retryable"]
STATUSES: tuple[Status, ...] = ("created", "duplicate", "removed", "skipped", "failed", "retryable")
# Batch Operations result codes: what S3 should do with the task.
_RESULT_CODES = {"failed": "PermanentFailure", "retryable": "TemporaryFailure"}


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
    receipt: str | None = None  # the SQS message, SNS message or Batch Operations task
    removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # made, but not quite as the source was (a profile ignored)
    manifest: dict[str, Any] | None = field(default=None, repr=False)  # for completion events
    manifest_key: str | None = None  # where it was written, if it was

    def as_dict(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"bucket": self.bucket, "key": self.key, "status": self.status}
        if self.reason:
            reply["reason"] = self.reason
        if self.source_bytes is not None:
            reply["source_bytes"] = self.source_bytes
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
    for index, item in enumerate(parsed.items):
        outcome = _attempt(item, settings, storage, deadline)
        _log(index, outcome, settings)
        report.outcomes.append(outcome)
    return report


def _attempt(item: Item, settings: Settings, storage: Storage, deadline: float) -> Outcome:
    started = time.perf_counter()
    receipt = item.receipt
    bucket = getattr(item, "bucket", None)
    key = getattr(item, "key", None)
    try:
        if isinstance(item, Skip):
            return Outcome(bucket, key, "skipped", item.reason, ms=_ms(started), receipt=receipt)
        if isinstance(item, Unreadable):
            raise InvalidRecord(item.reason)
        _refuse_destination(item, settings)
        if item.removed:
            return remove_thumbnails(item, settings, storage, started)
        outcome = thumbnail_object(item.ref(), settings, storage, started, deadline)
        return replace(outcome, receipt=receipt)
    except PermanentError as error:
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "failed", reason, ms=_ms(started), error=error, receipt=receipt)
    except TransientError as error:
        reason = f"{type(error).__name__}: {error}"
        return Outcome(bucket, key, "retryable", reason, ms=_ms(started), error=error, receipt=receipt)


def _refuse_destination(change: Change, settings: Settings) -> None:
    if change.bucket == settings.destination_bucket:
        raise RecursionRefused(
            f"event came from the destination bucket {change.bucket!r}; writing there would "
            "re-trigger this function. Point the trigger at the source bucket only."
        )


def remove_thumbnails(change: Change, settings: Settings, storage: Storage, started: float) -> Outcome:
    """Deletes every thumbnail of the key, except those a later upload made. A key with two
    spellings (EventBridge, percent-escapes) is looked up as carried first, as reads are."""
    reason = skip_reason(change.ref(), settings.source_formats)
    if reason:  # no thumbnails were ever made for it: nothing to look up
        return Outcome(change.bucket, change.key, "skipped", f"{reason}: no thumbnails", ms=_ms(started), receipt=change.receipt)
    for ref in spellings(change.ref()):
        removed, newer = _remove_older(ref, settings, storage)
        if removed or newer:
            break
    done = partial(Outcome, change.bucket, ref.key, receipt=change.receipt)
    if removed:
        return done("removed", None, removed=tuple(removed), ms=_ms(started))
    reason = "thumbnails are from a later upload: kept" if newer else "no thumbnails to remove"
    return done("skipped", reason, ms=_ms(started))


def _remove_older(ref: ObjectRef, settings: Settings, storage: Storage) -> tuple[list[str], list[str]]:
    """(keys deleted, keys kept because a later event made them): thumbnails, then the manifest."""
    removed, newer = [], []
    rule = settings.rule_for(ref.key)
    candidates = [key for box in rule.sizes for key in sorted(destination_key_candidates(ref.key, box, rule, settings.source_formats))]
    for key in candidates + ([manifest_key(ref.key)] if settings.manifest else []):
        stored = storage.metadata(settings.destination_bucket, key)
        if stored is None:
            continue
        if sequencer_after(stored.get("source-sequencer"), ref.sequencer):
            newer.append(key)
            continue
        storage.delete(settings.destination_bucket, key)
        removed.append(key)
    return removed, newer


def spellings(ref: ObjectRef) -> list[ObjectRef]:
    """The key as the event carries it and, for an EventBridge key with %XX escapes, the key
    percent-decoded: tried in that order, the second only when the first does not exist."""
    if not ref.decoded_key:
        return [ref]
    return [replace(ref, decoded_key=None), replace(ref, key=ref.decoded_key, decoded_key=None)]


def thumbnail_object(
    ref: ObjectRef, settings: Settings, storage: Storage, started: float, deadline: float = math.inf
) -> Outcome:
    *literal, last = spellings(ref)
    for spelling in literal:
        try:
            return _thumbnail_key(spelling, settings, storage, started, deadline)
        except SourceMissing as missing:
            logger.info("no object under the key as carried: trying it percent-decoded", extra={
                "bucket": ref.bucket, "key": spelling.key, "decoded_key": last.key, "reason": str(missing),
            })  # fmt: skip
    return _thumbnail_key(last, settings, storage, started, deadline)


def _thumbnail_key(
    ref: ObjectRef, settings: Settings, storage: Storage, started: float, deadline: float
) -> Outcome:
    reason = skip_reason(ref, settings.source_formats)
    if reason:
        return Outcome(ref.bucket, ref.key, "skipped", reason, ref.size, ms=_ms(started))
    rule = settings.rule_for(ref.key)
    if ref.size is not None and ref.size > settings.max_source_bytes:
        raise ImageTooLarge(f"object is {ref.size:,} bytes, over the limit of {settings.max_source_bytes:,}")
    _check_time_left(deadline, settings.deadline_margin_ms)
    existing = _existing(ref, rule, settings, storage)
    if existing == "duplicate":
        reason = "thumbnails already made from these bytes with these settings"
        return Outcome(ref.bucket, ref.key, "duplicate", reason, ms=_ms(started))
    if existing == "stale":
        reason = "a later upload's thumbnails are already there (sequencer): event is stale"
        return Outcome(ref.bucket, ref.key, "skipped", reason, ms=_ms(started))
    read, source = read_source(ref, settings, storage)
    data = source.data
    if not data:
        return Outcome(ref.bucket, ref.key, "skipped", "empty object (0 bytes)", 0, ms=_ms(started))
    warnings: list[str] = []
    rendered = make_renditions(
        data, rule.sizes, settings.max_source_pixels, rule.encoding, warnings.append, Budget.for_memory(settings.memory_mb),
        gravity=rule.gravity, focal_point=_focal_point(source.metadata, warnings), source_formats=settings.source_formats,
    )  # fmt: skip
    keyed = [(destination_key(ref.key, t.box, t.extensions), t) for t in rendered.thumbnails]
    for key, thumbnail in keyed:  # every key is known before the first write: a long key writes nothing
        metadata = {**thumbnail_metadata(read, thumbnail.box, rule), **rendered.placeholder.as_metadata()}
        storage.write(settings.destination_bucket, key, thumbnail.data, thumbnail.content_type, metadata)
    manifest = build_manifest(read, rendered, keyed, rule)  # also the completion event's detail
    written_to = _write_manifest(read, manifest, rule, settings, storage) if settings.manifest else None
    written = tuple(Written(key, t.width, t.height, len(t.data), t.content_type) for key, t in keyed)
    return Outcome(ref.bucket, ref.key, "created", None, len(data), written, _ms(started),
                   warnings=tuple(warnings), manifest=manifest, manifest_key=written_to)  # fmt: skip


def _write_manifest(read: ObjectRef, manifest: dict[str, Any], rule: Rule, settings: Settings, storage: Storage) -> str:
    """After the thumbnails: a manifest names only what is there. Its metadata is the
    thumbnails' identity, so the duplicate and sequencer rules treat it as one of them."""
    key = manifest_key(read.key)
    body = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    storage.write(settings.destination_bucket, key, body, MANIFEST_TYPE, identity_metadata(read, rule))
    return key


def _focal_point(metadata: Mapping[str, str], warnings: list[str]) -> tuple[float, float] | None:
    """x-amz-meta-focal-point, 'X,Y' in fractions of the upright image, as a CMS sets it at
    upload; one that does not parse is a warning, and the gravity decides instead."""
    value = metadata.get("focal-point")
    point = parse_focal_point(value)
    if value is not None and point is None:
        warnings.append(f"x-amz-meta-focal-point {value!r} is not 'X,Y' with both from 0 to 1: ignored")
    return point


def read_source(ref: ObjectRef, settings: Settings, storage: Storage) -> tuple[ObjectRef, SourceObject]:
    """The object's bytes, and ref corrected to describe exactly them, for the thumbnails'
    metadata: the ETag, version and size read, not those the event claims. A console test
    event's claims are made up; an object overwritten since its event is read as it is now,
    and the newer upload's own, later event makes its thumbnails again.

    The event's sequencer is kept only when the event's ETag is that of the bytes read: only
    then does it date them. A test event's made-up sequencer (the console's 0A1B2C3D4E5F678901
    sorts after every real one) would otherwise make every later real upload of the key look
    stale. A version S3 does not know (deleted since, or made up in a sample event) is a
    WARNING, and the object as it is now is read instead, as for an unversioned bucket.
    """
    try:
        source = storage.read(ref, settings.max_source_bytes)
    except VersionMissing as missing:
        logger.warning("version not found: reading the object as it is now", extra={
            "bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id, "reason": str(missing),
        })  # fmt: skip
        source = storage.read(replace(ref, version_id=None), settings.max_source_bytes)
    dated = ref.etag is not None and ref.etag.strip('"') == source.etag
    read = replace(
        ref,
        etag=source.etag,
        version_id=source.version_id,
        size=len(source.data),
        sequencer=ref.sequencer if dated else None,
    )
    return read, source


def _result_string(outcome: Outcome) -> str:
    """Batch Operations puts this in its completion report: what was written, or why not."""
    if outcome.thumbnails:
        text = "created " + " ".join(written.key for written in outcome.thumbnails)
    else:
        text = f"{outcome.status}: {outcome.reason or ''}".rstrip(": ")
    return text[:1000]


def _check_time_left(deadline: float, margin_ms: int) -> None:
    left_ms = (deadline - time.monotonic()) * 1000
    if left_ms < margin_ms:
        raise DeadlineExceeded(
            f"{max(left_ms, 0):,.0f} ms of the invocation left, under DEADLINE_MARGIN_MS "
            f"({margin_ms:,}): not started, left for the retry"
        )


def _existing(ref: ObjectRef, rule: Rule, settings: Settings, storage: Storage) -> Literal["duplicate", "stale"] | None:
    """What the thumbnails already there say about this event.

    'stale': a thumbnail records a later event on this key (S3 sequencer), so this one must not
    overwrite it. 'duplicate': every thumbnail records exactly what this event would write
    (source ETag, size, version, sequencer, the rule's digest): nothing to do. Costs one
    HeadObject per thumbnail, last-written first (the one an interrupted attempt lacks), so a
    fresh upload costs one. Keys are predicted from the key's extension, since the bytes are not read
    yet: a PNG named .jpg is simply made again. Without an ETag nothing proves which bytes a
    thumbnail came from, so nothing is a duplicate.
    """
    if not (ref.etag or ref.sequencer):
        return None  # nothing to compare a thumbnail with: no HeadObject
    expected = [(key, thumbnail_metadata(ref, box, rule)) for box, key in expected_keys(ref.key, rule, settings.source_formats)]
    if settings.manifest:
        expected.append((manifest_key(ref.key), identity_metadata(ref, rule)))
    for key, identity in reversed(expected):  # the last written first
        stored = storage.metadata(settings.destination_bucket, key)
        if stored is None:
            return None
        if sequencer_after(stored.get("source-sequencer"), ref.sequencer):
            return "stale"
        if not ref.etag or not same_identity(stored, identity):
            return None
    return "duplicate"


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
    fields["ms"] = round(outcome.ms, 1)
    getattr(logger, _LOG_LEVEL[outcome.status])(_LOG_MESSAGE[outcome.status], extra=fields)
    for warning in outcome.warnings:
        logger.warning("made with a warning", extra={"record": index, "bucket": outcome.bucket,
                                                     "key": outcome.key, "reason": warning})


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
