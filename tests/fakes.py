"""In-memory Storage with S3's semantics for what the lifecycle relies on: the current object,
versions and delete markers, ETags, and conditional writes and deletes. The contract test in
tests/integration/test_storage_contract.py runs the same checks against S3Storage on moto, so
this fake cannot drift from the real adapter."""

from __future__ import annotations

import hashlib
import io
import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_run.inputs.s3_events import put_record

from create_thumbnail.errors import ThumbnailError, WriteConflict
from create_thumbnail.storage import Document, Opened, Stored


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    content_type: str = "binary/octet-stream"
    metadata: Mapping[str, str] = field(default_factory=dict)
    version_id: str | None = None  # as in S3: None unless the bucket is versioned
    cache_control: str | None = None

    @property
    def etag(self) -> str:
        return hashlib.md5(self.data).hexdigest()  # noqa: S324 - S3's ETag for a single-part upload

    def stored(self) -> Stored:
        return Stored(self.etag, len(self.data), self.version_id, dict(self.metadata), self.cache_control)


@dataclass(frozen=True)
class DeleteMarker:
    version_id: str


class InMemoryStorage:
    def __init__(self) -> None:
        # The current object of every key; a versioned bucket keeps every version in history too.
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.history: dict[tuple[str, str], list[StoredObject | DeleteMarker]] = {}
        self.versioned: set[str] = set()
        # (operation, bucket, key) -> what that call raises: GET, HEAD, PUT or DELETE
        self.failures: dict[tuple[str, str, str], ThumbnailError] = {}
        # (operation, bucket, key) -> what happens just before that call, once: another
        # invocation's step, or a user's upload, landing between two of ours
        self.before: dict[tuple[str, str, str], Callable[[], object]] = {}
        self.requests: Counter[str] = Counter()  # GET, HEAD, PUT, DELETE, as S3 bills them
        self.reads = 0  # source bodies read
        self.ranged_bytes = 0  # bytes read by ranged GETs (a video's)
        self._versions = itertools.count(1)

    # ---- what a test does to the source bucket, as a user would ----------------------------

    def add(self, bucket: str, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> StoredObject:
        """Stores an upload (with its x-amz-meta-*): a new version in a versioned bucket."""
        version = f"v{next(self._versions)}" if bucket in self.versioned else None
        stored = StoredObject(data, metadata=dict(metadata or {}), version_id=version)
        self._put(bucket, key, stored)
        return stored

    def upload(self, bucket: str, key: str, data: bytes) -> dict[str, Any]:
        """Stores an upload and returns the record S3 would send for it (its ETag and size)."""
        stored = self.add(bucket, key, data)
        record = put_record(bucket, key, len(data), stored.etag)
        if stored.version_id:
            record["s3"]["object"]["versionId"] = stored.version_id
        return record

    def remove(self, bucket: str, key: str) -> str | None:
        """DeleteObject without a version: gone, or hidden under a new delete marker (whose
        version id is returned)."""
        self.objects.pop((bucket, key), None)
        if bucket not in self.versioned:
            return None
        marker = DeleteMarker(f"v{next(self._versions)}")
        self.history.setdefault((bucket, key), []).append(marker)
        return marker.version_id

    def remove_version(self, bucket: str, key: str, version_id: str) -> None:
        """DeleteObject with a VersionId: that version or delete marker is gone for good, and
        the latest one left, if it is not a marker, is current again."""
        versions = [v for v in self.history.get((bucket, key), []) if v.version_id != version_id]
        self.history[(bucket, key)] = versions
        latest = versions[-1] if versions else None
        if isinstance(latest, StoredObject):
            self.objects[(bucket, key)] = latest
        else:
            self.objects.pop((bucket, key), None)

    def keys(self, bucket: str) -> list[str]:
        return sorted(key for b, key in self.objects if b == bucket)

    # ---- the Storage port -------------------------------------------------------------------------

    def open(self, bucket: str, key: str) -> Opened | None:
        self._request("GET", bucket, key)
        stored = self.objects.get((bucket, key))
        if stored is None:
            return None

        body = io.BytesIO(stored.data)

        def read(size: int) -> bytes:
            if body.tell() == 0:  # a body begun is a body read, whole or its head
                self.reads += 1
            return body.read(size)

        return Opened(stored.stored(), read)

    def read_range(self, bucket: str, key: str, start: int, end: int, etag: str) -> bytes:
        self._request("GET", bucket, key)
        stored = self.objects.get((bucket, key))
        if stored is None or stored.stored().etag != etag:
            raise WriteConflict(f"s3://{bucket}/{key} changed or went away while it was read")
        self.ranged_bytes += end - start
        return stored.data[start:end]

    def head(self, bucket: str, key: str) -> Stored | None:
        self._request("HEAD", bucket, key)
        stored = self.objects.get((bucket, key))
        return None if stored is None else stored.stored()

    def get(self, bucket: str, key: str) -> Document | None:
        self._request("GET", bucket, key)
        stored = self.objects.get((bucket, key))
        return None if stored is None else Document(stored.data, stored.stored())

    def write(
        self, bucket: str, key: str, data: bytes, content_type: str, metadata: Mapping[str, str],
        *, if_match: str | None = None, if_absent: bool = False, cache_control: str | None = None,
    ) -> str:
        self._request("PUT", bucket, key)
        current = self.objects.get((bucket, key))
        if (if_match is not None and (current is None or current.etag != if_match)) or (if_absent and current):
            raise WriteConflict(f"s3://{bucket}/{key} changed since it was read (PreconditionFailed)")
        stored = StoredObject(data, content_type, dict(metadata), cache_control=cache_control)
        self._put(bucket, key, stored)
        return stored.etag

    def delete(self, bucket: str, key: str, *, if_match: str | None = None) -> None:
        self._request("DELETE", bucket, key)
        current = self.objects.get((bucket, key))
        if if_match is not None and current is not None and current.etag != if_match:
            raise WriteConflict(f"s3://{bucket}/{key} changed since it was read (PreconditionFailed)")
        self.objects.pop((bucket, key), None)

    def _put(self, bucket: str, key: str, stored: StoredObject) -> None:
        self.objects[(bucket, key)] = stored
        if bucket in self.versioned:
            self.history.setdefault((bucket, key), []).append(stored)

    def _request(self, operation: str, bucket: str, key: str) -> None:
        if (interloper := self.before.pop((operation, bucket, key), None)) is not None:
            interloper()
        self.requests[operation] += 1
        if (operation, bucket, key) in self.failures:
            raise self.failures[(operation, bucket, key)]
