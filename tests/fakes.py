"""In-memory Storage with S3's semantics for what the pipeline relies on. The contract test in
tests/integration/test_storage_contract.py runs the same checks against S3Storage on moto, so
this fake cannot drift from the real adapter."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local_run.inputs.s3_events import put_record

from create_thumbnail.errors import ImageTooLarge, SourceMissing, ThumbnailError, VersionMissing
from create_thumbnail.events import ObjectRef
from create_thumbnail.storage import SourceObject


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    content_type: str = "binary/octet-stream"
    metadata: Mapping[str, str] = field(default_factory=dict)
    version_id: str | None = None  # as in S3: None unless the bucket is versioned

    @property
    def etag(self) -> str:
        return hashlib.md5(self.data).hexdigest()  # noqa: S324 - S3's ETag for a single-part upload


class InMemoryStorage:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredObject] = {}
        # (operation, bucket, key) -> what that call raises: read, write, metadata or delete
        self.failures: dict[tuple[str, str, str], ThumbnailError] = {}
        self.reads = 0
        self.heads = 0

    def add(self, bucket: str, key: str, data: bytes, metadata: Mapping[str, str] | None = None) -> ObjectRef:
        """Stores an upload (with its x-amz-meta-*) and returns the ref its event would carry."""
        stored = StoredObject(data, metadata=dict(metadata or {}))
        self.objects[(bucket, key)] = stored
        return ObjectRef(bucket, key, etag=stored.etag, size=len(data))

    def upload(self, bucket: str, key: str, data: bytes) -> dict[str, Any]:
        """Stores an upload and returns the record S3 would send for it (its ETag and size)."""
        ref = self.add(bucket, key, data)
        return put_record(bucket, key, len(data), ref.etag or "")

    def read(self, ref: ObjectRef, max_bytes: int) -> SourceObject:
        """Only the current version is kept: any other version is unknown, as a deleted one is."""
        self.reads += 1
        self._fail_if_told("read", ref.bucket, ref.key)
        stored = self.objects.get((ref.bucket, ref.key))
        if ref.version_id and (stored is None or stored.version_id != ref.version_id):
            raise VersionMissing(f"source has no version {ref.version_id!r} (NoSuchVersion)")
        if stored is None:
            raise SourceMissing("source object is gone (NoSuchKey)")
        if len(stored.data) > max_bytes:
            raise ImageTooLarge(f"object is {len(stored.data):,} bytes, over the limit of {max_bytes:,}")
        return SourceObject(stored.data, stored.etag, stored.version_id, dict(stored.metadata))

    def write(
        self, bucket: str, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]
    ) -> None:
        self._fail_if_told("write", bucket, key)
        self.objects[(bucket, key)] = StoredObject(data, content_type, dict(metadata))

    def metadata(self, bucket: str, key: str) -> dict[str, str] | None:
        self.heads += 1
        self._fail_if_told("metadata", bucket, key)
        stored = self.objects.get((bucket, key))
        return None if stored is None else dict(stored.metadata)

    def delete(self, bucket: str, key: str) -> None:
        self._fail_if_told("delete", bucket, key)
        self.objects.pop((bucket, key), None)

    def keys(self, bucket: str) -> list[str]:
        return sorted(key for b, key in self.objects if b == bucket)

    def _fail_if_told(self, operation: str, bucket: str, key: str) -> None:
        if (operation, bucket, key) in self.failures:
            raise self.failures[(operation, bucket, key)]
