"""Setting up and reading back S3 state on moto, the way S3 itself would announce it."""

from __future__ import annotations

from typing import Any

from local_run.inputs.s3_events import put_record


def upload(s3: Any, bucket: str, key: str, data: bytes) -> dict[str, Any]:
    """Puts the object and returns the record S3 would send for it (real ETag and size)."""
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    head = s3.head_object(Bucket=bucket, Key=key)
    return put_record(bucket, key, head["ContentLength"], head["ETag"])


def keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
