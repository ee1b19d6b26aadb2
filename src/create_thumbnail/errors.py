"""Errors typed by what the caller should do about them, not by where they came from.

A PermanentError concerns one object and retrying cannot help: the handler logs it, counts it
and goes on. A TransientError may go away (throttling, a 5xx, a dropped connection, a policy
being fixed): the handler finishes the other records and then raises, so that Lambda's
asynchronous retries get another go. A ConfigError means the deployment itself is wrong.
"""

from __future__ import annotations


class ThumbnailError(Exception):
    """Base of every error about one source object."""


class PermanentError(ThumbnailError):
    """Retrying cannot help: log, count, skip."""


class NotAnImage(PermanentError):
    """The decoder said the bytes are not an image it can read (text named .jpg, corrupt,
    truncated): its own error is the cause. Nothing else is ever made one (readers/decoding.py)."""


class EncryptedDocument(NotAnImage):
    """A PDF that needs a password to be opened: there is none to give, so it is read as
    nothing (one with only a permissions password opens, and is rendered)."""


class ImageTooLarge(PermanentError):
    """Too many pixels or bytes to decode safely within the function's memory."""


class NoUsablePreview(PermanentError):
    """A camera RAW whose embedded JPEG previews are absent, or all smaller than a box needs:
    only a demosaic of its sensor data could make that thumbnail, and the function ships none
    (imaging/readers/raw.py). Its bytes may be sound, so it is not NotAnImage; the same RAW
    fails the same way until its boxes fit a preview it has."""


class ReadLimitExceeded(ImageTooLarge):
    """A video's poster frame could not be reached within the bytes a source may be read for
    (MAX_VIDEO_READ_BYTES): its index or its first frames are too far apart or too large."""


class RecursionRefused(PermanentError):
    """The event came from the destination bucket: writing there would re-trigger us."""


class DestinationKeyTooLong(PermanentError):
    """The size prefix pushes the key past S3's 1024-byte limit."""


class SharedDestination(PermanentError):
    """The destination already holds the thumbnails of the same key in another source bucket:
    two buckets feed one destination, and their keys would overwrite each other's."""


class InvalidRecord(PermanentError):
    """A record lacks a field S3 always sends (bucket name, object key)."""


class TransientError(ThumbnailError):
    """Retrying may help: raise once the other records are done."""


class StorageUnavailable(TransientError):
    """S3 throttled, failed with a 5xx, or could not be reached, even after botocore's retries."""


class DeadlineExceeded(TransientError):
    """Too little of the invocation's time was left to start this record: it is left for the
    retry rather than cut off half-way by Lambda's timeout."""


class WriteConflict(TransientError):
    """A conditional write or delete found the object changed since it was read: another
    invocation is reconciling the same key. The lifecycle starts over; only when it keeps
    happening does the record fail, to be retried."""


class UnexpectedError(TransientError):
    """Anything our code or a library raised that is none of the above: a bug, or a library
    that changed, never taken for bad input. The record is retried (it may be a passing
    fault, and a fixed deployment should get the event), its traceback is logged, it has a
    metric of its own, and after the retries the event reaches the failed-events queue."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        super().__init__(f"{type(error).__name__}: {error}")


class ImagingFailed(TransientError):
    """libvips failed on pixels we had already decoded or made: resampling a rendition or
    writing a PNG thumbnail. The source was read, so this is not NotAnImage; it is ours or
    libvips' (its out-of-memory, a thread it could not start, a bug), so the record is retried,
    and it is counted under its own name with libvips' message, the pyvips.Error as its cause."""


class StorageAccessDenied(TransientError):
    """S3 said 403. With s3:ListBucket granted this is the deployment (a policy, a KMS key),
    not a missing object, so the event must survive to be retried once the policy is fixed."""


class ConfigError(Exception):
    """The function's configuration is wrong; the message names the environment variable."""


class InvalidEvent(ValueError):
    """The payload is not an S3 notification at all, so there is nothing to retry with."""


class RetryableRecordsFailed(Exception):
    """Raised after every record was tried, when some failed transiently: Lambda's async
    retries, then the failure destination, get the whole event again. Records that succeeded
    cost a GetObject and a HeadObject per thumbnail on the retry: they are found up to date."""

    def __init__(self, failures: list[tuple[str, str, TransientError]]) -> None:
        self.failures = failures
        listed = "; ".join(f"s3://{bucket}/{key}: {error}" for bucket, key, error in failures[:5])
        more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"{len(failures)} record(s) failed and may succeed on retry: {listed}{more}")
