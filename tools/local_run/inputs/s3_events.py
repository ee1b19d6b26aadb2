"""S3 event notifications built the way S3 builds them, from events/put.json as the template."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus

EVENTS_DIR = Path(__file__).resolve().parents[3] / "events"
# Beside the payloads, not one of them: the --env-vars file for sam local invoke.
ENV_VARS_FILE = EVENTS_DIR / "env.json"


def event_files() -> list[Path]:
    """Every payload in events/: what -e takes and the console's Test tab accepts."""
    return sorted(path for path in EVENTS_DIR.glob("*.json") if path != ENV_VARS_FILE)


def load_event(name: str) -> dict[str, Any]:
    """A payload from events/, as sam local invoke -e and the console would send it."""
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


@cache
def _put_record() -> dict[str, Any]:
    return load_event("put.json")["Records"][0]


def encode_key(key: str) -> str:
    """S3 form-encodes keys in notifications: space -> '+', '+' -> '%2B', '/' kept."""
    return quote_plus(key, safe="/")


def decode_key(key: str) -> str:
    """The inverse of encode_key: '+' is a space, '%2B' a plus."""
    return unquote_plus(key)


def put_record(bucket: str, key: str, size: int, etag: str, sequencer: str = "") -> dict[str, Any]:
    record = copy.deepcopy(_put_record())
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    obj.update(key=encode_key(key), size=size, eTag=etag.strip('"'))
    if sequencer:
        obj["sequencer"] = sequencer
    return record


def put_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def generated_put_event(
    bucket: str, key: str, size: int, etag: str | None = None, region: str = "us-east-1",
    when: datetime | None = None,
) -> dict[str, Any]:
    """One upload's notification as S3 sends it now: the key form-encoded (`sam local
    generate-event s3 put` writes %20 for a space, which S3 never does). Without an etag the
    field is left out, so the function reads whatever the key holds: a made-up ETag would make
    it refuse the object as changed since the event."""
    record = put_record(bucket, key, size, etag or "")
    record["awsRegion"] = region
    record["eventTime"] = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if not etag:
        del record["s3"]["object"]["eTag"]
    return put_event(record)


# ---- the same notification in the other envelopes, templated on events/ ---------------------------


def sns_event(notification: dict[str, Any]) -> dict[str, Any]:
    """An S3 notification as SNS delivers it to a subscribed function."""
    event = load_event("sns-s3.json")
    event["Records"][0]["Sns"]["Message"] = json.dumps(notification)
    return event


def sqs_event(*bodies: dict[str, Any] | str, via_sns: bool = False) -> dict[str, Any]:
    """S3 notifications (or raw strings, for poison) as SQS messages, optionally SNS-wrapped."""
    template = load_event("sqs-sns-s3.json" if via_sns else "sqs-s3.json")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        if via_sns and not isinstance(body, str):
            envelope = json.loads(template["body"])
            envelope["Message"] = json.dumps(body)
            body = envelope
        text = body if isinstance(body, str) else json.dumps(body)
        records.append({**template, "messageId": f"message-{index}", "body": text})
    return {"Records": records}


def eventbridge_event(bucket: str, key: str, size: int, etag: str, sequencer: str = "") -> dict[str, Any]:
    """S3's EventBridge "Object Created": the key as it is, not form-encoded."""
    event = load_event("eventbridge-object-created.json")
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"].update(key=key, size=size, etag=etag.strip('"'))
    if sequencer:
        event["detail"]["object"]["sequencer"] = sequencer
    return event
