"""Storage port and its S3 adapter: the only module that knows boto3 and botocore.

A read takes the object as it is when read (the version the event names, if it names one) and
says which bytes it got: their ETag, version and size, which the thumbnails record. It does not
pin the event's ETag with If-Match: the Lambda console's test events and sam's generated ones
carry made-up ETags, and out-of-order delivery is the sequencer's job (pipeline.py). Writes are
one PutObject of in-memory bytes: S3 stores all of it or nothing, so a failure never leaves a
partial thumbnail, and nothing is ever written to /tmp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from create_thumbnail.errors import (
    ImageTooLarge,
    SourceMissing,
    StorageAccessDenied,
    StorageUnavailable,
    ThumbnailError,
    VersionMissing,
)
from create_thumbnail.events import ObjectRef

# Standard mode retries throttling (SlowDown, 503), 5xx and timeouts with backoff. A call that
# never answers costs at most 3 x (3 s + 10 s) plus ~3 s of backoff, ~42 s: inside the function's
# 60 s Timeout, so it ends as a typed TransientError, not as a killed invocation.
# total_max_attempts, not max_attempts: botocore reads the latter as *retries*, which made four
# attempts (~58 s worst case), as tests/integration/test_faults.py saw on the wire.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
)


@dataclass(frozen=True, slots=True)
class SourceObject:
    """What a read returned: the bytes and the identity of exactly those bytes."""

    data: bytes
    etag: str | None  # without quotes
    version_id: str | None  # None for an unversioned bucket
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-*, names lower-case


class Storage(Protocol):
    def read(self, ref: ObjectRef, max_bytes: int) -> SourceObject:
        """The object as it is now, or the version ref names. Raises ImageTooLarge before
        reading a body over max_bytes, SourceMissing for no such key, VersionMissing for no
        such version."""
        ...

    def write(
        self, bucket: str, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]
    ) -> None: ...

    def metadata(self, bucket: str, key: str) -> dict[str, str] | None:
        """An object's user metadata (x-amz-meta-*, names lower-case), or None if it does not exist."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Removes the object; removing one that is not there is not an error (S3's own rule)."""
        ...


def s3_client() -> Any:
    """The endpoint comes from the SDK's AWS_ENDPOINT_URL(_S3): moto locally, S3 when deployed."""
    return boto3.client("s3", config=CLIENT_CONFIG)


class S3Storage:
    def __init__(self, client: Any) -> None:
        self._client = client

    def read(self, ref: ObjectRef, max_bytes: int) -> SourceObject:
        request: dict[str, str] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            request["VersionId"] = ref.version_id
        try:
            response = self._client.get_object(**request)
            body = response["Body"]
            if response["ContentLength"] > max_bytes:
                body.close()
                raise ImageTooLarge(
                    f"object is {response['ContentLength']:,} bytes, over the limit of {max_bytes:,}"
                )
            with body:
                data = body.read()
        except ClientError as error:
            raise _read_error(error, ref.version_id) from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"reading s3://{ref.bucket}/{ref.key}: {error}") from error
        etag = str(response.get("ETag") or "").strip('"') or None
        return SourceObject(data, etag, response.get("VersionId") or None, dict(response.get("Metadata") or {}))

    def write(
        self, bucket: str, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]
    ) -> None:
        try:
            self._client.put_object(
                Bucket=bucket, Key=key, Body=data, ContentType=content_type, Metadata=dict(metadata)
            )
        except ClientError as error:
            raise _common_error(error, f"writing s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"writing s3://{bucket}/{key}: {error}") from error

    def metadata(self, bucket: str, key: str) -> dict[str, str] | None:
        """One HeadObject. A missing object answers 404 only with s3:ListBucket on the bucket;
        without it S3 says 403, which is reported as access denied, not taken for absence."""
        try:
            return dict(self._client.head_object(Bucket=bucket, Key=key)["Metadata"])
        except ClientError as error:
            code, status = _code(error)
            if code in ("404", "NoSuchKey", "NotFound") or status == 404:
                return None
            raise _common_error(error, f"checking s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"checking s3://{bucket}/{key}: {error}") from error


    def delete(self, bucket: str, key: str) -> None:
        try:
            self._client.delete_object(Bucket=bucket, Key=key)
        except ClientError as error:
            raise _common_error(error, f"deleting s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"deleting s3://{bucket}/{key}: {error}") from error


def _code(error: ClientError) -> tuple[str, int | None]:
    return (
        str(error.response.get("Error", {}).get("Code", "")),
        error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
    )


def _read_error(error: ClientError, version_id: str | None) -> ThumbnailError:
    """S3 answers a well-formed but unknown version with 404 NoSuchVersion, and one it could
    never have issued ("version") with 400 InvalidArgument; moto says NoSuchVersion to both."""
    code, status = _code(error)
    if version_id and (code == "NoSuchVersion" or (code == "InvalidArgument" and status == 400)):
        return VersionMissing(f"source has no version {version_id!r} ({code})")
    if code in ("NoSuchKey", "NoSuchBucket", "NotFound") or status == 404:
        return SourceMissing(f"source object is gone ({code or status})")
    return _common_error(error, "reading the source object")


def _common_error(error: ClientError, doing: str) -> ThumbnailError:
    code, status = _code(error)
    if code in ("AccessDenied", "AllAccessDisabled") or status == 403:
        return StorageAccessDenied(f"{doing}: access denied ({code}); check the function's role")
    return StorageUnavailable(f"{doing}: {code or 'error'} (HTTP {status})")
