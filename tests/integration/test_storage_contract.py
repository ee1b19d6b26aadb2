"""The same checks against the in-memory fake and the S3 adapter on moto's server, so the fake
the unit tests rely on behaves as S3 does: the current object, versions and delete markers,
ETags, and conditional writes and deletes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from create_thumbnail.errors import ImageTooLarge, StorageUnavailable, WriteConflict
from create_thumbnail.storage import S3Storage, Stored, s3_client
from tests.fakes import InMemoryStorage


class S3Harness:
    """S3Storage plus the setup a test needs, on the session's moto server."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self.storage = S3Storage(s3_client())
        self.bucket = f"contract-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=self.bucket)

    def versioned(self) -> None:
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})

    def add(self, key: str, data: bytes) -> Stored:
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        return Stored(response["ETag"].strip('"'), len(data), response.get("VersionId"))

    def remove(self, key: str) -> str | None:
        return self.s3.delete_object(Bucket=self.bucket, Key=key).get("VersionId")

    def remove_version(self, key: str, version_id: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def get(self, key: str) -> tuple[bytes, str, dict[str, str]]:
        response = self.s3.get_object(Bucket=self.bucket, Key=key)
        return response["Body"].read(), response["ContentType"], response["Metadata"]


class FakeHarness:
    def __init__(self) -> None:
        self.storage = InMemoryStorage()
        self.bucket = "contract-fake"

    def versioned(self) -> None:
        self.storage.versioned.add(self.bucket)

    def add(self, key: str, data: bytes) -> Stored:
        return self.storage.add(self.bucket, key, data).stored()

    def remove(self, key: str) -> str | None:
        return self.storage.remove(self.bucket, key)

    def remove_version(self, key: str, version_id: str) -> None:
        self.storage.remove_version(self.bucket, key, version_id)

    def get(self, key: str) -> tuple[bytes, str, dict[str, str]]:
        stored = self.storage.objects[(self.bucket, key)]
        return stored.data, stored.content_type, dict(stored.metadata)


@pytest.fixture(params=["fake", "s3"])
def harness(request, s3_endpoint):
    if request.param == "fake":
        return FakeHarness()
    return S3Harness(request.getfixturevalue("s3"))


def test_open_says_which_object_it_is_before_reading_it(harness):
    added = harness.add("dir/a b+c.jpg", b"\xff\xd8\xffdata")
    with harness.storage.open(harness.bucket, "dir/a b+c.jpg") as opened:
        assert (opened.stored.etag, opened.stored.size, opened.stored.version_id) == (added.etag, 7, None)
        assert opened.read(max_bytes=100) == b"\xff\xd8\xffdata"


def test_open_of_a_missing_object_is_none(harness):
    assert harness.storage.open(harness.bucket, "nope.jpg") is None
    assert harness.storage.head(harness.bucket, "nope.jpg") is None


def test_open_after_an_overwrite_is_the_newer_object(harness):
    harness.add("a.jpg", b"first")
    newer = harness.add("a.jpg", b"second")
    with harness.storage.open(harness.bucket, "a.jpg") as opened:
        assert (opened.read(100), opened.stored.etag) == (b"second", newer.etag)


def test_a_body_over_the_byte_limit_is_refused_unread(harness):
    harness.add("a.jpg", b"x" * 101)
    with harness.storage.open(harness.bucket, "a.jpg") as opened, pytest.raises(ImageTooLarge, match="101 bytes"):
        opened.read(max_bytes=100)


def test_a_head_is_read_once_and_the_rest_follows_it(harness):
    data = bytes(range(256)) * 4000
    harness.add("clip.mp4", data)
    with harness.storage.open(harness.bucket, "clip.mp4") as opened:
        assert opened.head(1000) == data[:1000]
        assert opened.head(10) == data[:10]  # kept, not read again
        assert opened.read(len(data)) == data


def test_a_range_is_read_only_of_the_object_that_was_opened(harness):
    """If-Match on the ranged GET: a video's demuxer never reads bytes of the object's successor,
    nor of nothing once it is deleted."""
    data = bytes(range(256)) * 4000
    stored = harness.add("clip.mp4", data)
    assert harness.storage.read_range(harness.bucket, "clip.mp4", 1000, 5000, stored.etag) == data[1000:5000]
    assert harness.storage.read_range(harness.bucket, "clip.mp4", len(data) - 5, len(data), stored.etag) == data[-5:]
    harness.add("clip.mp4", data[::-1])
    with pytest.raises(WriteConflict):
        harness.storage.read_range(harness.bucket, "clip.mp4", 0, 10, stored.etag)
    harness.remove("clip.mp4")
    with pytest.raises(WriteConflict):
        harness.storage.read_range(harness.bucket, "clip.mp4", 0, 10, stored.etag)


def test_versions_delete_markers_and_undeletes_decide_what_is_current(harness):
    harness.versioned()
    first = harness.add("a.jpg", b"first")
    second = harness.add("a.jpg", b"second")
    assert harness.storage.head(harness.bucket, "a.jpg") == Stored(second.etag, 6, second.version_id, {})
    marker = harness.remove("a.jpg")
    assert harness.storage.open(harness.bucket, "a.jpg") is None  # the delete marker is latest
    assert harness.storage.head(harness.bucket, "a.jpg") is None
    harness.remove_version("a.jpg", marker)  # undelete
    assert harness.storage.head(harness.bucket, "a.jpg").version_id == second.version_id
    harness.remove_version("a.jpg", second.version_id)  # the current version, for good
    assert harness.storage.head(harness.bucket, "a.jpg").version_id == first.version_id
    harness.remove_version("a.jpg", first.version_id)
    assert harness.storage.head(harness.bucket, "a.jpg") is None


def test_write_stores_bytes_content_type_and_metadata_and_returns_the_etag(harness):
    etag = harness.storage.write(harness.bucket, "256x256/a b.jpg", b"thumb", "image/jpeg", {"source-key": "a%20b.jpg"})
    assert harness.get("256x256/a b.jpg") == (b"thumb", "image/jpeg", {"source-key": "a%20b.jpg"})
    assert harness.storage.head(harness.bucket, "256x256/a b.jpg") == Stored(etag, 5, None, {"source-key": "a%20b.jpg"})
    document = harness.storage.get(harness.bucket, "256x256/a b.jpg")
    assert (document.data, document.stored.etag) == (b"thumb", etag)
    assert harness.storage.get(harness.bucket, "nope.json") is None


def test_cache_control_is_stored_and_answered_on_head_and_get(harness):
    etag = harness.storage.write(harness.bucket, "256x256/a.jpg", b"thumb", "image/jpeg", {"source-key": "a.jpg"},
                                 cache_control="public, max-age=300")  # fmt: skip
    assert harness.storage.head(harness.bucket, "256x256/a.jpg") == Stored(
        etag, 5, None, {"source-key": "a.jpg"}, "public, max-age=300"
    )
    assert harness.storage.get(harness.bucket, "256x256/a.jpg").stored.cache_control == "public, max-age=300"
    harness.storage.write(harness.bucket, "256x256/a.jpg", b"thumb", "image/jpeg", {}, if_match=etag)
    assert harness.storage.head(harness.bucket, "256x256/a.jpg").cache_control is None  # a write replaces it


def test_conditional_writes_succeed_only_over_what_was_read(harness):
    put = harness.storage.write
    first = put(harness.bucket, "m.json", b"1", "application/json", {}, if_absent=True)
    with pytest.raises(WriteConflict):
        put(harness.bucket, "m.json", b"2", "application/json", {}, if_absent=True)
    second = put(harness.bucket, "m.json", b"2", "application/json", {}, if_match=first)
    with pytest.raises(WriteConflict):
        put(harness.bucket, "m.json", b"3", "application/json", {}, if_match=first)
    with pytest.raises(WriteConflict):  # If-Match over an object that is gone
        put(harness.bucket, "gone.json", b"3", "application/json", {}, if_match=second)
    assert harness.get("m.json")[0] == b"2"


def test_conditional_deletes_remove_only_the_object_with_that_etag(harness):
    etag = harness.storage.write(harness.bucket, "t.jpg", b"thumb", "image/jpeg", {})
    with pytest.raises(WriteConflict):
        harness.storage.delete(harness.bucket, "t.jpg", if_match="0" * 32)
    assert harness.storage.head(harness.bucket, "t.jpg") is not None
    harness.storage.delete(harness.bucket, "t.jpg", if_match=etag)
    assert harness.storage.head(harness.bucket, "t.jpg") is None
    harness.storage.delete(harness.bucket, "t.jpg", if_match=etag)  # gone already: not an error
    harness.storage.delete(harness.bucket, "t.jpg")


def test_write_to_a_missing_bucket_is_transient_on_s3(s3_endpoint):
    """A missing destination bucket is the deployment's problem: retry once it is fixed."""
    storage = S3Storage(s3_client())
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        storage.write(f"missing-{uuid.uuid4().hex[:8]}", "k.jpg", b"x", "image/jpeg", {})
