"""A source key's thumbnails, from upload to removal: the one place that decides what the
destination holds for a key, and makes it so.

Every event about a key is a hint, whatever it says happened: created, overwritten, deleted, a
version or a delete marker removed, a lifecycle expiration, a Batch Operations task; in any
envelope, late, twice or out of order. Reconciling reads the key as it is *now* and makes the
destination match it:

- no current object (deleted; the latest version is a delete marker): everything recorded as
  the key's is deleted, and only that;
- a current object: its thumbnails are those of that object, made if missing or stale, left
  alone if they already record it (a duplicate);
- a current object that cannot be thumbnailed (not an image, too large, empty): nothing of an
  earlier version may stand for it, so what the key had is deleted too.

An event's own version, ETag and sequencer are never used: a late event for an old version finds
the current one, and writes nothing for the old. So ordering, redelivery, deleted versions,
lifecycle expirations and undeletes all follow from the one rule.

Two invocations may reconcile one key at once (a redelivery, a delete racing an upload). One
attempt: (1) GET the source as it is now, body unread; (2) GET the manifest, the key's record
of what was written for it; (3) keep, make or clear; (4) commit the manifest on a condition on
what step 2 saw: If-Match its ETag, If-None-Match: * if there was none, or a conditional DELETE
when clearing; (5) HEAD the source again. If the commit's condition failed, or the source is no
longer what the attempt acted on, it starts over: whatever an invocation wrote for a state that
stopped being current, it undoes itself on its next attempt, and the last change to a key is
seen by the reconcile of its own event, which starts after it. A record whose attempts all
conflict fails as retryable (WriteConflict).

Deletes name the ETag the manifest recorded for each thumbnail (If-Match), so nothing but what
was written for the key can go; a thumbnail known only by name (an older manifest, no manifest)
is deleted only if its own metadata names the key.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from create_thumbnail.config import Rule, Settings
from create_thumbnail.errors import DeadlineExceeded, PermanentError, SharedDestination, WriteConflict
from create_thumbnail.imaging import Rendered, read_in_ranges
from create_thumbnail.manifest import CONTENT_TYPE as MANIFEST_TYPE
from create_thumbnail.manifest import Listed, Written, build_manifest, manifest_key, read_manifest, with_base_url
from create_thumbnail.naming import (
    IDENTITY,
    SourceIdentity,
    candidate_keys,
    destination_key,
    expected_keys,
    identity_metadata,
    owned_by,
    same_identity,
    skip_reason,
    thumbnail_metadata,
)
from create_thumbnail.storage import Document, Opened, Storage, Stored

if TYPE_CHECKING:
    from create_thumbnail.ranged import RangedFile

# Each attempt that conflicts is another invocation's progress on the same key; five in a row
# means the key is being rewritten faster than it can be thumbnailed: left for the retry.
MAX_ATTEMPTS = 5

Status = Literal["created", "duplicate", "removed", "skipped", "failed"]
# bytes, rule, the object's focal point -> the renditions, and what was not quite as the source was
# The source's bytes, or a video's RangedFile; the rule; the object's focal point.
Renderer = Callable[["bytes | RangedFile", Rule, "str | None"], tuple[Rendered, list[str]]]


@dataclass(frozen=True, slots=True)
class Result:
    """What reconciling one key did."""

    status: Status
    reason: str | None = None
    source: SourceIdentity | None = None  # the current object, if there is one
    written: tuple[Written, ...] = ()
    removed: tuple[str, ...] = ()
    manifest: dict[str, Any] | None = field(default=None, repr=False)
    manifest_key: str | None = None
    warnings: tuple[str, ...] = ()
    error: PermanentError | None = None  # why the current object has no thumbnails
    read: Read | None = None  # what was read of the source, when only part of it was (a video)


@dataclass(frozen=True, slots=True)
class Read:
    """What a video's poster frame cost: bytes brought from the object (the first GET's head
    included) and the ranged GETs made."""

    bytes: int
    requests: int


@dataclass(frozen=True, slots=True)
class Record:
    """The manifest as read: its ETag (what the commit's condition names), the identity it
    records, the thumbnails it lists, and the document itself with the base URL its urls were
    built from."""

    etag: str
    metadata: dict[str, str]
    listed: tuple[Listed, ...]
    base_url: str | None = None
    document: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Destination:
    """Where thumbnails go and how they are made: the settings, the storage, the renderer."""

    settings: Settings
    storage: Storage
    render: Renderer
    deadline: float = math.inf  # time.monotonic() at which Lambda ends the invocation

    @property
    def bucket(self) -> str:
        return self.settings.destination_bucket


def reconcile(bucket: str, key: str, destination: Destination) -> Result:
    """Makes the destination match the key as it is now; see the module's docstring."""
    reason = skip_reason(key, destination.settings.source_formats)
    if reason:  # never ours, so nothing of it to reconcile: no request at all
        return Result("skipped", reason)
    rule = destination.settings.rule_for(key)
    wrote: set[str] = set()  # keys this invocation wrote: looked at again on a later attempt
    last = ""
    for _ in range(MAX_ATTEMPTS):
        _check_time_left(destination)
        try:
            result, acted_on, changed = _attempt(bucket, key, rule, destination, wrote)
        except WriteConflict as conflict:
            last = str(conflict)
            continue
        if not changed or _current(destination.storage, bucket, key) == acted_on:
            return result
        last = "the source changed while it was being reconciled"
    raise WriteConflict(
        f"s3://{bucket}/{key} changed during each of {MAX_ATTEMPTS} attempts to reconcile it "
        f"(last: {last}); left for the retry"
    )


def _attempt(
    bucket: str, key: str, rule: Rule, destination: Destination, wrote: set[str]
) -> tuple[Result, SourceIdentity | None, bool]:
    """(what was done, the source state it was done for, whether anything was written or deleted)."""
    opened = destination.storage.open(bucket, key)  # first the source, then the record: see _clear
    with opened or nullcontext():
        record = _record(bucket, key, destination)
        if opened is None:
            result = _clear(bucket, key, rule, destination, record, wrote, None)
            return result, None, bool(result.removed)
        current = identity(bucket, key, opened.stored)
        names = _up_to_date(current, rule, destination, record)
        if names is not None:  # made already: by an earlier event, or by whoever won a conflict
            strays = _delete_owned(bucket, key, destination, [Listed(n, None) for n in sorted(wrote - names)])
            base_url = destination.settings.delivery_base_url
            if record is not None and record.document is not None and record.base_url != base_url:
                return _readdress(current, rule, destination, record, strays), current, True
            done = Result("duplicate", "thumbnails already record the current object", current, removed=tuple(strays))
            return done, current, bool(strays)
        try:
            made = _render(opened, current, rule, destination)
        except PermanentError as error:
            result = _clear(bucket, key, rule, destination, record, wrote, error)
            return result, current, bool(result.removed)
        if made is None:  # an empty object
            result = _clear(bucket, key, rule, destination, record, wrote, None, "empty object (0 bytes)")
            return result, current, bool(result.removed)
    return _make(current, rule, destination, record, wrote, *made), current, True


def identity(bucket: str, key: str, stored: Stored) -> SourceIdentity:
    return SourceIdentity(bucket, key, stored.etag, stored.size, stored.version_id, stored.metadata.get("focal-point"))


def _current(storage: Storage, bucket: str, key: str) -> SourceIdentity | None:
    """The source's state after an attempt's writes: one HEAD."""
    stored = storage.head(bucket, key)
    return None if stored is None else identity(bucket, key, stored)


def _record(bucket: str, key: str, destination: Destination) -> Record | None:
    if not destination.settings.manifest:
        return None
    document: Document | None = destination.storage.get(destination.bucket, manifest_key(key))
    if document is None:
        return None
    metadata = dict(document.stored.metadata)
    if metadata.get("source-bucket") not in (None, bucket):
        raise SharedDestination(
            f"{manifest_key(key)} in {destination.bucket} records s3://{metadata['source-bucket']}/{key}: two "
            "source buckets feed this destination and name the same key"
        )
    contents = read_manifest(document.data)
    return Record(document.stored.etag, metadata, contents.listed, contents.base_url, contents.document)


def _up_to_date(
    current: SourceIdentity, rule: Rule, destination: Destination, record: Record | None
) -> set[str] | None:
    """The thumbnails' names if every one the current object needs is there and records it,
    else None: the manifest (when kept), then each thumbnail it lists, last written first, one
    HEAD each. Without a manifest, the thumbnails the key's extension predicts. A miss costs at
    most one HEAD. Whatever an earlier attempt of this invocation wrote is among them, or a
    stray to delete: another invocation finished the job, for the object that is current."""
    expected = identity_metadata(current, rule)
    if destination.settings.manifest:
        if record is None or not same_identity(record.metadata, expected):
            return None
        names = [listed.key for listed in record.listed]
    else:
        names = [name for _, name in expected_keys(current.key, rule, destination.settings.source_formats)]
    for name in reversed(names):
        stored = destination.storage.head(destination.bucket, name)
        if stored is None or not all(stored.metadata.get(f) == expected.get(f) for f in IDENTITY if f != "thumbnail-box"):
            return None
    return set(names) if names else None


def _render(
    opened: Opened, current: SourceIdentity, rule: Rule, destination: Destination
) -> tuple[Rendered, list[tuple[str, Any]], list[str], Read | None] | None:
    """Every thumbnail and its key, before the first write: a decoding error or a key too long
    for S3 writes nothing. None for an empty object. A video is read in ranges, each on the
    condition that the object is still the one this attempt opened (ranged.py); anything else
    is read whole, up to MAX_SOURCE_BYTES."""
    source = _source(opened, current, destination.settings, destination.storage)
    if not source:
        return None
    rendered, warnings = destination.render(source, rule, current.focal_point)
    manifest_key(current.key)  # too long: refused before anything is written
    keyed = [(destination_key(current.key, t.box, t.extensions), t) for t in rendered.thumbnails]
    read = None if isinstance(source, bytes) else Read(source.fetched, source.requests)
    return rendered, keyed, warnings, read


def _source(opened: Opened, current: SourceIdentity, settings: Settings, storage: Storage) -> bytes | RangedFile:
    """A video as a RangedFile over the object (ranged.py, imported with the first video: a
    JPEG's cold start does not pay for it); anything else read whole. Without video on, an
    object over MAX_SOURCE_BYTES is refused before a byte is read."""
    if "video" in settings.source_formats:
        from create_thumbnail.ranged import BLOCK, RangedFile

        if read_in_ranges(opened.head(BLOCK), settings.source_formats):
            def fetch(start: int, end: int) -> bytes:
                return storage.read_range(current.bucket, current.key, start, end, current.etag)

            return RangedFile(current.size, fetch, head=opened.head(BLOCK), max_bytes=settings.max_video_read_bytes)
    return opened.read(settings.max_source_bytes)


def _make(
    current: SourceIdentity, rule: Rule, destination: Destination, record: Record | None, wrote: set[str],
    rendered: Rendered, keyed: list[tuple[str, Any]], warnings: list[str], read: Read | None,
) -> Result:
    """Writes the thumbnails, deletes what the key had that they do not replace (another rule's
    boxes, another format's names), then commits the manifest."""
    storage, written = destination.storage, []
    for key, thumbnail in keyed:
        metadata = {**thumbnail_metadata(current, thumbnail.box, rule), **rendered.placeholder.as_metadata()}
        etag = storage.write(destination.bucket, key, thumbnail.data, thumbnail.content_type, metadata,
                             cache_control=destination.settings.thumbnail_cache_control)  # fmt: skip
        wrote.add(key)
        written.append(Written(key, etag, thumbnail))
    keep = {w.key for w in written}
    removed = _delete_owned(current.bucket, current.key, destination, _held(record, wrote, keep))
    # also the completion event's detail
    manifest = build_manifest(current, rendered, written, rule, base_url=destination.settings.delivery_base_url)
    committed = _commit(current, rule, destination, record, manifest) if destination.settings.manifest else None
    return Result("created", None, current, tuple(written), tuple(removed), manifest, committed, tuple(warnings),
                  read=read)  # fmt: skip


def _commit(
    current: SourceIdentity, rule: Rule, destination: Destination, record: Record | None, manifest: dict[str, Any]
) -> str:
    """The manifest, on the condition that it is still what this attempt read."""
    key = manifest_key(current.key)
    body = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    destination.storage.write(
        destination.bucket, key, body, MANIFEST_TYPE, identity_metadata(current, rule),
        if_match=record.etag if record else None, if_absent=record is None,
        cache_control=destination.settings.manifest_cache_control,
    )  # fmt: skip
    return key


def _readdress(
    current: SourceIdentity, rule: Rule, destination: Destination, record: Record, strays: list[str]
) -> Result:
    """The thumbnails record the current object, but the manifest's urls were built from another
    DELIVERY_BASE_URL (or none): the manifest is rewritten with the new urls, on the same
    If-Match condition as any commit, and the thumbnails are left as they are. Still a
    duplicate: nothing was made, and no completion event tells of it."""
    manifest = with_base_url(record.document or {}, destination.settings.delivery_base_url)
    key = _commit(current, rule, destination, record, manifest)
    reason = "thumbnails already record the current object; manifest rewritten for DELIVERY_BASE_URL"
    return Result("duplicate", reason, current, removed=tuple(strays), manifest=manifest, manifest_key=key)


def _clear(
    bucket: str, key: str, rule: Rule, destination: Destination, record: Record | None, wrote: set[str],
    error: PermanentError | None, skip: str | None = None,
) -> Result:
    """Deletes everything recorded as the key's, then the manifest (If-Match what was read).

    The source was read before the manifest, so a manifest committed after that read belongs to
    an invocation that will see, when it checks the source after its commit, that the key
    changed, and will clear what it wrote itself. Thumbnails an interrupted attempt wrote
    before its manifest are found by name: the current rule's names not listed are HEADed."""
    listed = {item.key for item in record.listed} if record else set()
    unlisted = [name for name in candidate_keys(key, rule, destination.settings.source_formats) if name not in listed]
    held = _held(record, wrote | set(unlisted), set())
    removed = _delete_owned(bucket, key, destination, held)
    if record is not None:
        destination.storage.delete(destination.bucket, manifest_key(key), if_match=record.etag)
        removed.append(manifest_key(key))
    if error is not None:
        return Result("failed", f"{type(error).__name__}: {error}", removed=tuple(removed), error=error)
    if skip is not None:
        return Result("skipped", skip, removed=tuple(removed))
    if removed:
        return Result("removed", None, removed=tuple(removed))
    return Result("skipped", "no current object and no thumbnails: nothing to do")


def _held(record: Record | None, known: Iterable[str], keep: set[str]) -> list[Listed]:
    """What the key may hold besides keep: the manifest's list (with the ETags it recorded), and
    other names (ETag unknown: asked before deleting)."""
    held = {item.key: item for item in record.listed} if record else {}
    for name in known:
        held.setdefault(name, Listed(name, None))
    return [item for name, item in sorted(held.items()) if name not in keep]


def _delete_owned(bucket: str, key: str, destination: Destination, held: list[Listed]) -> list[str]:
    """Deletes each one that is the key's: by the ETag the manifest recorded, which proves it
    is what was written for the key, or else (no ETag recorded, or the object was written
    again since, by an invocation that did not get to commit) only if its own metadata names
    the key, If-Match the ETag that HEAD saw: a WriteConflict if it changes even then."""
    storage, removed = destination.storage, []
    for item in held:
        if item.etag is not None:
            try:
                storage.delete(destination.bucket, item.key, if_match=item.etag)
                removed.append(item.key)
                continue
            except WriteConflict:
                pass
        stored = storage.head(destination.bucket, item.key)
        if stored is None or not owned_by(stored.metadata, bucket, key):
            continue
        storage.delete(destination.bucket, item.key, if_match=stored.etag)
        removed.append(item.key)
    return removed


def _check_time_left(destination: Destination) -> None:
    margin_ms = destination.settings.deadline_margin_ms
    left_ms = (destination.deadline - time.monotonic()) * 1000
    if left_ms < margin_ms:
        raise DeadlineExceeded(
            f"{max(left_ms, 0):,.0f} ms of the invocation left, under DEADLINE_MARGIN_MS "
            f"({margin_ms:,}): not started, left for the retry"
        )
