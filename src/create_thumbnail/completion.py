"""Completion events: one EventBridge event per record, so the rest of the application learns
that thumbnails exist (or were removed, or could not be made) without polling the bucket.

    Source "create-thumbnail", DetailType and detail:
    "Thumbnails Created"  the manifest (manifest.py), whether or not it is also written
    "Thumbnails Removed"  {"source": {"bucket", "key"}, "removed": [keys]}
    "Thumbnails Failed"   {"source": {"bucket", "key"}, "error", "reason", "retryable",
                           "removed": [keys] when the object that failed replaced an image}

A skipped or duplicate record tells nothing new and sends nothing, unless thumbnails were
removed (an image overwritten by an empty object): that is a "Thumbnails Removed". Sending is best effort: the
thumbnails are what matters, so PutEvents failures are retried, then counted and logged, never
raised. The entries are built here from the report (pure); EventBridgePublisher is the only part
that knows boto3.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from create_thumbnail.errors import TransientError
from create_thumbnail.pipeline import Outcome, Report
from create_thumbnail.storage import CLIENT_CONFIG

SOURCE = "create-thumbnail"
BATCH = 10  # PutEvents takes at most 10 entries a call
ATTEMPTS = 3  # for the entries EventBridge answers with an error


def completion_entries(report: Report, bus: str) -> list[dict[str, Any]]:
    return [entry for outcome in report.outcomes if (entry := _entry(outcome, bus)) is not None]


def _entry(outcome: Outcome, bus: str) -> dict[str, Any] | None:
    source = {"bucket": outcome.bucket, "key": outcome.key}
    if outcome.status == "created" and outcome.manifest is not None:
        detail_type, detail = "Thumbnails Created", outcome.manifest
    elif outcome.status in ("failed", "retryable"):
        error = type(outcome.error).__name__ if outcome.error is not None else None
        detail_type, detail = "Thumbnails Failed", {"source": source, "error": error, "reason": outcome.reason,
                                                    "retryable": isinstance(outcome.error, TransientError)}  # fmt: skip
        if outcome.removed:  # an image replaced by something that is not one: its thumbnails went
            detail["removed"] = list(outcome.removed)
    elif outcome.removed and outcome.status != "duplicate":  # removed, or replaced by an empty object
        detail_type, detail = "Thumbnails Removed", {"source": source, "removed": list(outcome.removed)}
    else:
        return None
    resources = [f"arn:aws:s3:::{outcome.bucket}/{outcome.key}"] if outcome.bucket and outcome.key else []
    return {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, ensure_ascii=False),
            "EventBusName": bus, "Resources": resources}  # fmt: skip


def events_client() -> Any:
    """The endpoint comes from the SDK's AWS_ENDPOINT_URL(_EVENTS): moto locally."""
    return boto3.client("events", config=CLIENT_CONFIG)


class EventBridgePublisher:
    def __init__(self, client: Any, pause_s: float = 0.2) -> None:
        self._client = client
        self._pause_s = pause_s

    def publish(self, entries: Sequence[dict[str, Any]]) -> int:
        """Sends entries in batches of ten; returns how many could not be sent."""
        return sum(self._send(list(entries[start : start + BATCH])) for start in range(0, len(entries), BATCH))

    def _send(self, batch: list[dict[str, Any]]) -> int:
        for attempt in range(ATTEMPTS):
            try:
                response = self._client.put_events(Entries=batch)
            except (ClientError, BotoCoreError):  # botocore already retried the call
                return len(batch)
            results = response.get("Entries", [])
            batch = [entry for entry, result in zip(batch, results, strict=False) if result.get("ErrorCode")]
            if not batch:
                return 0
            if attempt + 1 < ATTEMPTS:
                time.sleep(self._pause_s * (attempt + 1))
        return len(batch)
