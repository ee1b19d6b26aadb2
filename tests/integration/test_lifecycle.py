"""A key's whole life, over moto's HTTP S3: uploads, overwrites, deletes, versions, delete
markers and setting changes, with the events S3 sends for them delivered late, twice or out of
order. Each event is only a hint: whatever arrives, the resized bucket must end up matching the
key's *current* state in the source bucket, and a removal must touch only what records the
removed key as its source.

Judged by what the resized bucket says about itself (each object's `source-*` and
`thumbnail-box` metadata, and the manifests), never by predicting thumbnail names."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import (
    encode_key,
    eventbridge_event,
    load_event,
    put_event,
    put_record,
)

from tests.integration.uploads import configured

BOXES = ("64x64", "256x256")  # THUMBNAIL_SIZES as the handler fixture sets it
CREATED = "ObjectCreated:Put"
DELETED = "ObjectRemoved:Delete"
MARKER_CREATED = "ObjectRemoved:DeleteMarkerCreated"


# ---- the source bucket, changed as a user changes it -------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change to a source key, as S3 announces it. version_id: the version created, the
    version deleted, or the delete marker created (S3 names the marker's id)."""

    key: str
    event_name: str
    sequencer: str
    version_id: str | None = None
    etag: str | None = None  # without quotes; creations only
    size: int | None = None  # creations only


class SourceBucket:
    """Makes each change in moto and returns what S3 would announce for it, with a sequencer
    that grows with every change, as S3's do for one key."""

    def __init__(self, s3: Any, name: str) -> None:
        self.s3, self.name = s3, name
        self._sequencers = count(0x0066000000000001)

    def enable_versioning(self) -> None:
        self.s3.put_bucket_versioning(
            Bucket=self.name, VersioningConfiguration={"Status": "Enabled"}
        )

    def put(self, key: str, data: bytes) -> Change:
        response = self.s3.put_object(Bucket=self.name, Key=key, Body=data)
        etag = response["ETag"].strip('"')
        return Change(key, CREATED, self._next(), response.get("VersionId"), etag, len(data))

    def delete(self, key: str, version_id: str | None = None) -> Change:
        """Without version_id on a versioned bucket: a delete marker, named by its own id."""
        if version_id is not None:
            self.s3.delete_object(Bucket=self.name, Key=key, VersionId=version_id)
            return Change(key, DELETED, self._next(), version_id)
        response = self.s3.delete_object(Bucket=self.name, Key=key)
        if response.get("DeleteMarker"):
            return Change(key, MARKER_CREATED, self._next(), response["VersionId"])
        return Change(key, DELETED, self._next())

    def _next(self) -> str:
        return f"{next(self._sequencers):018X}"


def notification(bucket: str, change: Change) -> dict[str, Any]:
    """The S3 event notification for one change, from events/put.json or events/delete.json:
    removals carry no eTag or size, and a versioned bucket's records carry versionId."""
    if change.event_name == CREATED:
        record = put_record(bucket, change.key, change.size or 0, change.etag or "",
                            change.sequencer)  # fmt: skip
    else:
        record = copy.deepcopy(load_event("delete.json")["Records"][0])
        record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
        record["s3"]["object"].update(key=encode_key(change.key), sequencer=change.sequencer)
    record["eventName"] = change.event_name
    if change.version_id:
        record["s3"]["object"]["versionId"] = change.version_id
    return put_event(record)


def eventbridge(bucket: str, change: Change) -> dict[str, Any]:
    """S3's EventBridge event for one change: the key as it is, "deletion-type" saying whether
    a delete marker was made."""
    if change.event_name == CREATED:
        event = eventbridge_event(bucket, change.key, change.size or 0, change.etag or "",
                                  change.sequencer)  # fmt: skip
    else:
        event = load_event("eventbridge-object-deleted.json")
        event["resources"] = [f"arn:aws:s3:::{bucket}"]
        event["detail"]["bucket"]["name"] = bucket
        event["detail"]["object"].update(key=change.key, sequencer=change.sequencer)
        marker = change.event_name == MARKER_CREATED
        kind = "Delete Marker Created" if marker else "Permanently Deleted"
        event["detail"]["deletion-type"] = kind
    if change.version_id:
        event["detail"]["object"]["version-id"] = change.version_id
    return event


@pytest.fixture
def source(s3: Any, buckets: Any) -> SourceBucket:
    return SourceBucket(s3, buckets.source)


@pytest.fixture
def deliver(handler: Any, buckets: Any, lambda_context: Any) -> Callable[..., None]:
    """Invokes the function once per change, in the order given, with S3 notifications."""

    def invoke(*changes: Change) -> None:
        for change in changes:
            handler(notification(buckets.source, change), lambda_context)

    return invoke




@pytest.fixture
def webp(handler: Any) -> Iterator[None]:
    """THUMBNAIL_FORMAT=webp, and WebP sources taken too."""
    with configured({"THUMBNAIL_FORMAT": "webp", "SOURCE_FORMATS": "jpeg,png,webp"}):
        yield


# ---- what the resized bucket says about itself -------------------------------------------------


def by_source(s3: Any, bucket: str) -> dict[str | None, list[tuple[str, dict[str, str]]]]:
    """Every object of the bucket with its metadata, grouped by the source key it records
    (percent-decoded; None for an object that records none)."""
    found: dict[str | None, list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            metadata = s3.head_object(Bucket=bucket, Key=item["Key"])["Metadata"]
            recorded = metadata.get("source-key")
            found[None if recorded is None else unquote(recorded)].append((item["Key"], metadata))
    return dict(found)


def manifest_of(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=f"manifests/{key}.json")["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise
    return json.loads(body)


def assert_current(
    s3: Any, bucket: str, key: str, etag: str, version_id: str | None = None
) -> None:
    """key has its manifest and one thumbnail per box of BOXES, all recording these bytes, and
    every rendition its manifest lists exists and records key as its source."""
    objects = by_source(s3, bucket)
    owned = dict(objects.get(key, []))
    manifest = manifest_of(s3, bucket, key)
    assert manifest is not None, f"no manifest for {key!r}; sources: {sorted(objects, key=str)}"
    assert (manifest["source"]["key"], manifest["source"]["etag"]) == (key, etag)
    if version_id is not None:
        assert manifest["source"]["version_id"] == version_id
    recorded = {name: source for source, found in objects.items() for name, _ in found}
    for rendition in manifest["renditions"]:
        assert recorded.get(rendition["key"], "<absent>") == key, (
            f"{key!r}'s manifest lists {rendition['key']!r}, which records "
            f"{recorded.get(rendition['key'], '<absent>')!r} as its source"
        )
    thumbnails = {name: metadata for name, metadata in owned.items() if "thumbnail-box" in metadata}
    assert sorted(m["thumbnail-box"] for m in thumbnails.values()) == sorted(BOXES), thumbnails
    assert {r["key"] for r in manifest["renditions"]} == set(thumbnails)
    for name, metadata in thumbnails.items():
        assert metadata.get("source-etag") == etag, (name, metadata)
        if version_id is not None:
            assert metadata.get("source-version-id") == version_id, (name, metadata)


def assert_gone(s3: Any, bucket: str, key: str) -> None:
    objects = by_source(s3, bucket)
    assert key not in objects, f"{key!r} still owns {[name for name, _ in objects[key]]}"
    assert manifest_of(s3, bucket, key) is None, f"{key!r}'s manifest is still there"


# ---- one owner per thumbnail -------------------------------------------------------------------


def test_deleting_a_key_leaves_the_thumbnails_of_a_key_that_extends_it(
    s3, buckets, source, deliver
):
    png = source.put("a.png", source_bytes("RGB", (80, 60), "PNG"))
    jpeg = source.put("a.png.jpg", source_bytes("RGB", (60, 80), "JPEG"))
    deliver(png, jpeg)
    assert_current(s3, buckets.resized, "a.png", png.etag)
    assert_current(s3, buckets.resized, "a.png.jpg", jpeg.etag)

    deliver(source.delete("a.png"))

    assert_gone(s3, buckets.resized, "a.png")
    assert_current(s3, buckets.resized, "a.png.jpg", jpeg.etag)


@pytest.mark.parametrize("deleted", ["x.jpg", "x.jpg.webp"])
def test_a_key_and_its_name_plus_the_output_extension_each_own_their_thumbnails(
    s3, buckets, source, webp, deliver, deleted
):
    """With THUMBNAIL_FORMAT=webp, x.jpg's thumbnails are WebP, as x.jpg.webp's are."""
    changes = {
        "x.jpg": source.put("x.jpg", source_bytes("RGB", (80, 60), "JPEG")),
        "x.jpg.webp": source.put("x.jpg.webp", source_bytes("RGB", (60, 80), "WEBP")),
    }
    deliver(*changes.values())
    for key, change in changes.items():  # neither upload overwrote the other's thumbnails
        assert_current(s3, buckets.resized, key, change.etag)

    deliver(source.delete(deleted))

    [kept] = set(changes) - {deleted}
    assert_gone(s3, buckets.resized, deleted)
    assert_current(s3, buckets.resized, kept, changes[kept].etag)


# ---- EventBridge spells keys as they are -------------------------------------------------------


def test_eventbridge_removal_of_a_percent_spelled_key_leaves_the_decoded_key_alone(
    s3, buckets, source, handler, lambda_context
):
    live = source.put("a b.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    handler(eventbridge(buckets.source, live), lambda_context)
    assert_current(s3, buckets.resized, "a b.jpg", live.etag)

    removal = eventbridge(buckets.source, source.delete("a%20b.jpg"))  # no such object
    for _ in range(2):
        handler(removal, lambda_context)

    assert_current(s3, buckets.resized, "a b.jpg", live.etag)
    assert_gone(s3, buckets.resized, "a%20b.jpg")


def test_eventbridge_removal_of_a_percent_spelled_key_that_existed_removes_only_its_own(
    s3, buckets, source, handler, lambda_context
):
    live = source.put("a b.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    spelled = source.put("a%20b.jpg", source_bytes("RGB", (60, 80), "JPEG"))
    for change in (live, spelled):
        handler(eventbridge(buckets.source, change), lambda_context)
    assert_current(s3, buckets.resized, "a%20b.jpg", spelled.etag)

    removal = eventbridge(buckets.source, source.delete("a%20b.jpg"))
    handler(removal, lambda_context)
    assert_gone(s3, buckets.resized, "a%20b.jpg")
    assert_current(s3, buckets.resized, "a b.jpg", live.etag)

    handler(removal, lambda_context)  # delivered again: at least once, never exactly once
    assert_current(s3, buckets.resized, "a b.jpg", live.etag)


# ---- a versioned source bucket -----------------------------------------------------------------


def test_permanently_deleting_a_noncurrent_version_keeps_the_current_versions_thumbnails(
    s3, buckets, source, deliver
):
    source.enable_versioning()
    first = source.put("p.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    second = source.put("p.jpg", source_bytes("RGB", (60, 80), "JPEG"))
    deliver(first, second)

    deliver(source.delete("p.jpg", version_id=first.version_id))

    assert_current(s3, buckets.resized, "p.jpg", second.etag, second.version_id)


@pytest.mark.parametrize("shape", [notification, eventbridge], ids=["s3", "eventbridge"])
def test_a_late_creation_event_does_not_resurrect_a_key_behind_a_delete_marker(
    s3, buckets, source, handler, lambda_context, shape
):
    source.enable_versioning()
    held_back = source.put("q.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    marker = source.delete("q.jpg")
    assert marker.event_name == MARKER_CREATED

    for change in (marker, held_back, held_back):
        handler(shape(buckets.source, change), lambda_context)

    assert_gone(s3, buckets.resized, "q.jpg")


def test_removing_the_delete_marker_brings_the_thumbnails_back(s3, buckets, source, deliver):
    source.enable_versioning()
    upload = source.put("r.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    deliver(upload)
    marker = source.delete("r.jpg")
    deliver(marker)
    assert_gone(s3, buckets.resized, "r.jpg")

    deliver(source.delete("r.jpg", version_id=marker.version_id))  # S3: ObjectRemoved:Delete

    assert_current(s3, buckets.resized, "r.jpg", upload.etag, upload.version_id)


def test_deleting_the_current_version_brings_back_the_previous_versions_thumbnails(
    s3, buckets, source, deliver
):
    source.enable_versioning()
    first = source.put("d.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    second = source.put("d.jpg", source_bytes("RGB", (60, 80), "JPEG"))
    deliver(first, second)
    assert_current(s3, buckets.resized, "d.jpg", second.etag, second.version_id)

    deliver(source.delete("d.jpg", version_id=second.version_id))

    assert_current(s3, buckets.resized, "d.jpg", first.etag, first.version_id)


def test_a_creation_event_for_a_noncurrent_version_makes_the_current_versions_thumbnails(
    s3, buckets, source, deliver
):
    source.enable_versioning()
    first = source.put("e.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    second = source.put("e.jpg", source_bytes("RGB", (60, 80), "JPEG"))

    deliver(first)  # second's event still in flight
    assert_current(s3, buckets.resized, "e.jpg", second.etag, second.version_id)
    deliver(second, first)
    assert_current(s3, buckets.resized, "e.jpg", second.etag, second.version_id)


# ---- settings change between an upload and its removal -----------------------------------------


def test_a_removal_after_the_sizes_changed_removes_thumbnails_of_the_old_sizes(
    s3, buckets, source, deliver
):
    upload = source.put("s.jpg", source_bytes("RGB", (300, 200), "JPEG"))
    deliver(upload)
    assert_current(s3, buckets.resized, "s.jpg", upload.etag)

    with configured({"THUMBNAIL_SIZES": "128x128"}):
        deliver(source.delete("s.jpg"))

    assert_gone(s3, buckets.resized, "s.jpg")


# ---- out of order, without versioning ----------------------------------------------------------


def test_out_of_order_events_ending_in_a_delete_leave_nothing(s3, buckets, source, deliver):
    upload = source.put("t.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    overwrite = source.put("t.jpg", source_bytes("RGB", (60, 80), "JPEG"))
    removal = source.delete("t.jpg")

    deliver(removal, upload, overwrite, upload)

    assert_gone(s3, buckets.resized, "t.jpg")


def test_out_of_order_events_ending_in_a_reupload_keep_the_reupload(s3, buckets, source, deliver):
    upload = source.put("t.jpg", source_bytes("RGB", (80, 60), "JPEG"))
    removal = source.delete("t.jpg")
    reupload = source.put("t.jpg", source_bytes("RGB", (60, 80), "JPEG"))

    deliver(reupload, removal, upload)

    assert_current(s3, buckets.resized, "t.jpg", reupload.etag)
