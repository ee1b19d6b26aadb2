"""The same checks against the in-memory fake and the S3 adapter on moto's server, so the fake
the unit tests rely on behaves as S3 does."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from create_thumbnail.errors import ImageTooLarge, SourceMissing, StorageUnavailable, VersionMissing
from create_thumbnail.events import ObjectRef
from create_thumbnail.storage import S3Storage, s3_client
from tests.fakes import InMemoryStorage


class S3Harness:
    """S3Storage plus the setup a test needs, on the session's moto server."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self.storage = S3Storage(s3_client())
        self.bucket = f"contract-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=self.bucket)

    def add(self, key: str, data: bytes) -> ObjectRef:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        head = self.s3.head_object(Bucket=self.bucket, Key=key)
        return ObjectRef(self.bucket, key, etag=head["ETag"].strip('"'), size=head["ContentLength"])

    def get(self, key: str) -> tuple[bytes, str, dict[str, str]]:
        response = self.s3.get_object(Bucket=self.bucket, Key=key)
        return response["Body"].read(), response["ContentType"], response["Metadata"]


class FakeHarness:
    def __init__(self) -> None:
        self.storage = InMemoryStorage()
        self.bucket = "contract-fake"

    def add(self, key: str, data: bytes) -> ObjectRef:
        return self.storage.add(self.bucket, key, data)

    def get(self, key: str) -> tuple[bytes, str, dict[str, str]]:
        stored = self.storage.objects[(self.bucket, key)]
        return stored.data, stored.content_type, dict(stored.metadata)


@pytest.fixture(params=["fake", "s3"])
def harness(request, s3_endpoint):
    if request.param == "fake":
        return FakeHarness()
    return S3Harness(request.getfixturevalue("s3"))


def test_read_returns_the_bytes_and_their_etag(harness):
    ref = harness.add("dir/a b+c.jpg", b"\xff\xd8\xffdata")
    source = harness.storage.read(ref, max_bytes=100)
    assert (source.data, source.etag, source.version_id) == (b"\xff\xd8\xffdata", ref.etag, None)


def test_read_of_missing_object_is_source_missing(harness):
    with pytest.raises(SourceMissing):
        harness.storage.read(ObjectRef(harness.bucket, "nope.jpg", etag="abc"), max_bytes=100)


def test_read_after_overwrite_returns_the_newer_bytes_and_says_so(harness):
    """The event's ETag is a claim, not a condition: the read says which bytes it got."""
    ref = harness.add("a.jpg", b"first")
    newer = harness.add("a.jpg", b"second")
    source = harness.storage.read(ref, max_bytes=100)
    assert (source.data, source.etag) == (b"second", newer.etag)


@pytest.mark.parametrize("version_id", ["version", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"])
def test_read_of_an_unknown_version_is_version_missing(harness, version_id):
    """A made-up version ID (the Go and Rust runtimes' sample events) and a deleted one alike."""
    ref = harness.add("a.jpg", b"data")
    with pytest.raises(VersionMissing, match=version_id):
        harness.storage.read(replace(ref, version_id=version_id), max_bytes=100)


def test_read_over_the_byte_limit_is_too_large(harness):
    ref = harness.add("a.jpg", b"x" * 101)
    with pytest.raises(ImageTooLarge, match="101 bytes"):
        harness.storage.read(ref, max_bytes=100)


def test_write_stores_bytes_content_type_and_metadata(harness):
    harness.storage.write(harness.bucket, "256x256/a.jpg", b"thumb", "image/jpeg", {"source-key": "a.jpg"})
    assert harness.get("256x256/a.jpg") == (b"thumb", "image/jpeg", {"source-key": "a.jpg"})


def test_metadata_of_a_missing_object_is_none(harness):
    assert harness.storage.metadata(harness.bucket, "256x256/nope.jpg") is None


def test_metadata_is_what_was_written(harness):
    written = {"source-etag": "abc", "source-size": "12", "source-key": "a%20b.jpg"}
    harness.storage.write(harness.bucket, "256x256/a b.jpg", b"thumb", "image/jpeg", written)
    assert harness.storage.metadata(harness.bucket, "256x256/a b.jpg") == written


def test_write_to_a_missing_bucket_is_transient_on_s3(s3_endpoint):
    """A missing destination bucket is the deployment's problem: retry once it is fixed."""
    storage = S3Storage(s3_client())
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        storage.write(f"missing-{uuid.uuid4().hex[:8]}", "k.jpg", b"x", "image/jpeg", {})
