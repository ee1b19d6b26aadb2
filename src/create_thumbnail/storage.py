"""Storage port and its S3 adapter: the only module that knows boto3 and botocore.

What the lifecycle (lifecycle.py) needs of S3, and nothing more: the object as it is now (its
identity first, its body only if wanted), small documents (the manifest) with their ETag, HEADs,
and writes and deletes that can carry a condition (If-Match: ETag, If-None-Match: *). A failed
condition is a WriteConflict: another invocation changed the object since we read it. Writes are
one PutObject of in-memory bytes: S3 stores all of it or nothing, so a failure never leaves a
partial thumbnail, and nothing is ever written to /tmp.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from create_thumbnail.errors import ImageTooLarge, StorageAccessDenied, StorageUnavailable, ThumbnailError, WriteConflict

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
# A manifest is a few KB; anything this large under its name is not one of ours.
DOCUMENT_BYTES = 1 << 20
_ABSENT = ("404", "NoSuchKey", "NotFound")
# 412: the condition failed. 409: S3 was still applying a concurrent conditional write to the key.
_CONFLICT = ("PreconditionFailed", "ConditionalRequestConflict")


@dataclass(frozen=True, slots=True)
class Stored:
    """What S3 says about an object, enough to tell one version of it from another."""

    etag: str  # without quotes
    size: int
    version_id: str | None = None  # None for an unversioned bucket
    metadata: Mapping[str, str] = field(default_factory=dict)  # x-amz-meta-*, names lower-case
    cache_control: str | None = None  # what S3 sends as Cache-Control on a GET; None: no header


@dataclass(frozen=True, slots=True)
class Document:
    """A small object read whole (a manifest), with the ETag a conditional write names."""

    data: bytes
    stored: Stored


class Opened:
    """An object as GetObject answered: its identity at once, its body read only if wanted (a
    duplicate never reads it), and then either whole or only its first bytes (a video, whose
    demuxer reads the rest in ranges). Close it, or use it as a context manager."""

    def __init__(self, stored: Stored, read: Callable[[int], bytes], close: Callable[[], None] = lambda: None) -> None:
        """read(n): up to n more bytes of the body, fewer only at its end; read(-1): the rest."""
        self.stored = stored
        self._read = read
        self._close = close
        self._head = b""

    def head(self, size: int) -> bytes:
        """The body's first size bytes (all of a shorter one), read once and kept for read()."""
        while len(self._head) < min(size, self.stored.size):
            more = self._read(size - len(self._head))
            if not more:
                break
            self._head += more
        return self._head[:size]

    def read(self, max_bytes: int) -> bytes:
        """Raises ImageTooLarge, before reading a byte, for a body over max_bytes."""
        if self.stored.size > max_bytes:
            raise ImageTooLarge(f"object is {self.stored.size:,} bytes, over the limit of {max_bytes:,}")
        return self._head + self._read(-1)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Storage(Protocol):
    def open(self, bucket: str, key: str) -> Opened | None:
        """The key's current object, or None: no such key, or its latest version is a delete
        marker. Never a version the caller names: only what is current counts."""
        ...

    def head(self, bucket: str, key: str) -> Stored | None: ...

    def get(self, bucket: str, key: str) -> Document | None:
        """A small object, read whole, or None."""
        ...

    def read_range(self, bucket: str, key: str, start: int, end: int, etag: str) -> bytes:
        """Bytes [start, end) of the object, on the condition that it is still the one with that
        ETag: WriteConflict if it has changed or gone since (the lifecycle starts over)."""
        ...

    def write(
        self, bucket: str, key: str, data: bytes, content_type: str, metadata: Mapping[str, str],
        *, if_match: str | None = None, if_absent: bool = False, cache_control: str | None = None,
    ) -> str:
        """Stores the object and returns its ETag. if_match: only over the object with that
        ETag; if_absent: only if there is none. Raises WriteConflict when the condition fails.
        cache_control: stored with the object, and sent by S3 (and a CDN in front of it) on
        every GET."""
        ...

    def delete(self, bucket: str, key: str, *, if_match: str | None = None) -> None:
        """Removes the object; one that is not there is not an error (S3's own rule). if_match:
        only the object with that ETag, else WriteConflict."""
        ...


def s3_client() -> Any:
    """The endpoint comes from the SDK's AWS_ENDPOINT_URL(_S3): moto locally, S3 when deployed."""
    return boto3.client("s3", config=CLIENT_CONFIG)


class S3Storage:
    def __init__(self, client: Any) -> None:
        self._client = client
        # S3 has taken If-Match on DeleteObject since September 2025; an S3 that answers
        # NotImplemented (LocalStack, older compatible stores) gets a HEAD and a plain delete.
        self._conditional_deletes = True

    def open(self, bucket: str, key: str) -> Opened | None:
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _absent(error):
                return None
            raise _error(error, f"reading s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"reading s3://{bucket}/{key}: {error}") from error
        body = response["Body"]
        return Opened(_stored(response), lambda size: _read_body(body, bucket, key, size), body.close)

    def head(self, bucket: str, key: str) -> Stored | None:
        """A missing object answers 404 only with s3:ListBucket on the bucket; without it S3
        says 403, which is reported as access denied, not taken for absence."""
        try:
            return _stored(self._client.head_object(Bucket=bucket, Key=key))
        except ClientError as error:
            if _absent(error):
                return None
            raise _error(error, f"checking s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"checking s3://{bucket}/{key}: {error}") from error

    def read_range(self, bucket: str, key: str, start: int, end: int, etag: str) -> bytes:
        doing = f"reading bytes {start}-{end - 1} of s3://{bucket}/{key}"
        try:
            response = self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}",
                                               IfMatch=f'"{etag}"')  # fmt: skip
        except ClientError as error:
            if _conflict(error) or _absent(error):
                raise WriteConflict(f"{doing}: the object changed or went away while it was read") from error
            raise _error(error, doing) from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"{doing}: {error}") from error
        data = _read_body(response["Body"], bucket, key, -1)
        if len(data) != end - start:  # S3 answers a range past the end with what there is
            raise WriteConflict(f"{doing}: {len(data)} bytes came back; the object is not the size it was")
        return data

    def get(self, bucket: str, key: str) -> Document | None:
        opened = self.open(bucket, key)
        if opened is None:
            return None
        with opened:
            return Document(opened.read(DOCUMENT_BYTES), opened.stored)

    def write(
        self, bucket: str, key: str, data: bytes, content_type: str, metadata: Mapping[str, str],
        *, if_match: str | None = None, if_absent: bool = False, cache_control: str | None = None,
    ) -> str:
        request: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data, "ContentType": content_type,
                                   "Metadata": dict(metadata)}  # fmt: skip
        if cache_control is not None:
            request["CacheControl"] = cache_control
        if if_match is not None:
            request["IfMatch"] = f'"{if_match}"'
        elif if_absent:
            request["IfNoneMatch"] = "*"
        try:
            return str(self._client.put_object(**request)["ETag"]).strip('"')
        except ClientError as error:
            # If-Match over an object that is gone: S3 answers 404, and that is a conflict too.
            if _conflict(error) or (if_match is not None and _absent(error)):
                raise WriteConflict(f"s3://{bucket}/{key} changed since it was read ({_code(error)[0]})") from error
            raise _error(error, f"writing s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"writing s3://{bucket}/{key}: {error}") from error

    def delete(self, bucket: str, key: str, *, if_match: str | None = None) -> None:
        request = {"Bucket": bucket, "Key": key}
        if if_match is not None and not self._conditional_deletes:
            stored = self.head(bucket, key)
            if stored is None:
                return
            if stored.etag != if_match:
                raise WriteConflict(f"s3://{bucket}/{key} changed since it was read (ETag)")
        elif if_match is not None:
            request["IfMatch"] = f'"{if_match}"'
        try:
            self._client.delete_object(**request)
        except ClientError as error:
            code, status = _code(error)
            if "IfMatch" in request and (code == "NotImplemented" or status == 501):
                self._conditional_deletes = False
                return self.delete(bucket, key, if_match=if_match)
            if _absent(error):
                return
            if _conflict(error):
                raise WriteConflict(f"s3://{bucket}/{key} changed since it was read ({code})") from error
            raise _error(error, f"deleting s3://{bucket}/{key}") from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"deleting s3://{bucket}/{key}: {error}") from error
        return None


def _stored(response: Mapping[str, Any]) -> Stored:
    return Stored(
        etag=str(response.get("ETag") or "").strip('"'),
        size=int(response.get("ContentLength") or 0),
        version_id=response.get("VersionId") or None,
        metadata=dict(response.get("Metadata") or {}),
        cache_control=response.get("CacheControl") or None,
    )


def _read_body(body: Any, bucket: str, key: str, size: int) -> bytes:
    """size bytes of the body (-1: the rest, and the body is closed)."""
    try:
        if size >= 0:
            return body.read(size)
        with body:
            return body.read()
    except BotoCoreError as error:
        raise StorageUnavailable(f"reading s3://{bucket}/{key}: {error}") from error


def _code(error: ClientError) -> tuple[str, int | None]:
    return (
        str(error.response.get("Error", {}).get("Code", "")),
        error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
    )


def _absent(error: ClientError) -> bool:
    code, status = _code(error)
    return code in _ABSENT or status == 404


def _conflict(error: ClientError) -> bool:
    code, status = _code(error)
    return code in _CONFLICT or status in (409, 412)


def _error(error: ClientError, doing: str) -> ThumbnailError:
    code, status = _code(error)
    if code in ("AccessDenied", "AllAccessDisabled") or status == 403:
        return StorageAccessDenied(f"{doing}: access denied ({code}); check the function's role")
    return StorageUnavailable(f"{doing}: {code or 'error'} (HTTP {status})")
