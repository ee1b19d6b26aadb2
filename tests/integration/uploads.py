"""Setting up and reading back S3 state on moto, the way S3 itself would announce it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from local_run.inputs.s3_events import put_record
from local_run.shared import environment


def upload(s3: Any, bucket: str, key: str, data: bytes) -> dict[str, Any]:
    """Puts the object and returns the record S3 would send for it (real ETag and size)."""
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    head = s3.head_object(Bucket=bucket, Key=key)
    return put_record(bucket, key, head["ContentLength"], head["ETag"])


def keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


@contextmanager
def configured(values: Mapping[str, str]) -> Iterator[None]:
    """The function redeployed with these settings: its first-invocation wiring built again."""
    from create_thumbnail import app

    with environment(values):
        app.wiring.cache_clear()
        yield
    app.wiring.cache_clear()
